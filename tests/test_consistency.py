"""Domain, training data, rules, knowledge and held-out test set agree with each other."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from tools.nlu_eval import examples

ROOT = Path(__file__).resolve().parent.parent


def _domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


def _rules() -> list[dict]:
    rules = []
    for path in (ROOT / "data/rules").glob("*.yml"):
        rules += yaml.safe_load(path.read_text())["rules"]
    return rules


#: Intents only buttons send ("/request_callback"): nobody types them, so they have no examples.
BUTTON_ONLY = {"request_callback"}


def test_training_data_and_domain_have_the_same_intents():
    trained = {i for _, i in examples(ROOT / "data/nlu")}
    assert trained == set(_domain()["intents"]) - BUTTON_ONLY


def test_button_only_intents_are_sent_by_buttons():
    text = (ROOT / "domain.yml").read_text(encoding="utf-8")
    for intent in BUTTON_ONLY:
        assert f'payload: "/{intent}"' in text


def test_every_intent_has_at_least_25_training_examples():
    counts = Counter(i for _, i in examples(ROOT / "data/nlu"))
    assert min(counts.values()) >= 25, counts.most_common()[-5:]


def test_held_out_set_covers_every_intent_with_at_least_10_messages():
    counts = Counter(i for _, i in examples(ROOT / "tests/nlu"))
    assert set(counts) == set(_domain()["intents"]) - BUTTON_ONLY
    assert min(counts.values()) >= 10
    assert sum(counts.values()) >= 400


def test_every_topic_rule_has_a_knowledge_entry_and_every_entry_a_rule(kb):
    answered = {
        rule["steps"][0]["intent"] for rule in _rules()
        if "intent" in rule["steps"][0] and rule["steps"][1].get("action") == "action_answer_knowledge"
    }
    assert answered == set(kb.entries)


def test_every_intent_has_a_rule():
    ruled = {step["intent"] for rule in _rules() for step in rule["steps"] if "intent" in step}
    assert set(_domain()["intents"]) <= ruled
