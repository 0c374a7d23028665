"""Issue 13: the green 2030 topics, the "are you a person?" disclosure, and what the training
data teaches about both (checked with the blend's char-n-gram SVM, which trains in seconds)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot import answers, wording
from bot.nlp.ensemble import features_with, knowledge_sentences, make_svm
from tools.nlu_eval import examples

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "https://connectkoege.dk/koegeomraadet-som-baeredygtigt-kraftcenter-i-2030/"
GREEN = ("ask_green_2030", "ask_handletank", "ask_green_start")


@pytest.mark.parametrize("intent", GREEN)
def test_green_topics_are_answered_from_the_primary_source_with_status_unknown(kb, intent):
    entry = kb.entries[intent]
    assert entry.source == SOURCE  # Connect Køge's own article, not a news reprint
    assert entry.verified == dt.date(2026, 12, 1) and entry.time_sensitive
    assert entry.missing, "what Køge must still confirm (is it still running?)"
    for lang in ("da", "en"):
        answer, buttons = kb.answer(intent, lang)
        text = answers.text(answer)
        assert "Grøn Omstilling" in text and "Connect Køge" in text
        assert "/request_human" in [b["payload"] for b in buttons]
        assert "(connectkoege.dk)" not in text and "[connectkoege.dk](" + SOURCE + ")" in text


def test_the_70_percent_goal_is_the_handletanks_and_neutrality_is_before_2050(kb):
    for lang, tank in (("da", "Handletank"), ("en", "Handletank")):
        text = kb.entries["ask_green_2030"].text[lang]
        assert "70 %" in text and "2050" in text and "2020" in text
        sentence = next(s for s in text.split(". ") if "70 %" in s)
        assert tank in sentence  # the source gives the 70 % as the Handletank's goal, not the climate plan's


def test_status_unknown_is_said_and_routed(kb):
    assert "Vi ved ikke, om Handletanken mødes i dag" in kb.entries["ask_handletank"].text["da"]
    assert "We do not know whether the programmes run now" in kb.entries["ask_green_start"].text["en"]
    answer, buttons = kb.answer("ask_green_start", "da")
    assert "Erhvervshus Sjælland" in answers.text(answer) and "/ask_grant_smv_groen" in [b["payload"] for b in buttons]


def test_green_contact_has_no_invented_phone_or_email(kb):
    contact = kb.contacts["gron_omstilling"]
    assert contact.email is None and contact.phone is None and contact.missing


@pytest.mark.parametrize(("lang", "words"), [("da", ("chatbot", "ikke et menneske")),
                                             ("en", ("chatbot", "not a person"))])
def test_the_bot_challenge_answer_says_it_is_a_chatbot_and_offers_a_person(lang, words):
    answer = wording.message("utter_bot_challenge", lang)
    assert all(w in answer["text"] for w in words)
    assert [b["payload"] for b in answer["buttons"]] == ["/request_human"]


def test_held_out_sets_cover_the_new_intents_and_the_disclosure():
    heldout = examples(ROOT / "tests/nlu/heldout.yml")
    assert ("Er jeg i kontakt med et rigtigt menneske?", "bot_challenge") in heldout
    assert ("Hvad er Handletanken?", "ask_handletank") in heldout
    for intent in GREEN:
        assert sum(i == intent for _, i in heldout) >= 10
    style = examples(ROOT / "tests/nlu/heldout_style.yml")
    assert len(style) >= 150 and {i for _, i in style} == {i for _, i in heldout}


@pytest.fixture(scope="module")
def svm(danish_nlp):
    """The blend's SVM (features and knowledge sentences as in bot/nlp/ensemble.py) on data/nlu."""
    nlp = danish_nlp
    train = examples(ROOT / "data/nlu")
    known = {i for _, i in train}
    train += [(t, i) for t, i in knowledge_sentences(ROOT / "data/knowledge") if i in known]
    model = make_svm().fit([features_with(nlp, t) for t, _ in train], [i for _, i in train])
    return lambda text: model.predict([features_with(nlp, text)])[0]


@pytest.mark.parametrize(("text", "intent"), [
    ("Er jeg i kontakt med et rigtigt menneske?", "bot_challenge"),
    ("er du et menneske?", "bot_challenge"),
    ("am I talking to a real person?", "bot_challenge"),
    ("is this AI?", "bot_challenge"),
    ("taler jeg med et menneske", "bot_challenge"),
    ("jeg vil tale med et menneske", "request_human"),
    ("I want to talk to a person", "request_human"),
    ("Hvad er Handletanken?", "ask_handletank"),
    ("hvornår skal Køge være CO2-neutral?", "ask_green_2030"),
    ("hvordan kommer vi i gang med grøn omstilling?", "ask_green_start"),
])
def test_the_training_data_tells_these_apart(svm, text, intent):
    assert svm(text) == intent
