"""The wrong-topic rate: how often the assistant gives a factual answer (a written answer or a
quote) about another topic than the message asks about, on the held-out sets (``tests/nlu``).
A clarification, "I don't know" or "not understood" is not a wrong answer; an answer to an
out-of-scope message is.

``python -m tools.wrong_topic [--model models/koege.tar.gz] [--thresholds 0.5,0.7,0.9]``:
the trained model parses each set once; each message then goes through the dialogue's own
decision (``actions/routing.route``, with the documents) for each threshold of intent
confidence below which an answer is checked against the documents (``routing.CONFIDENT``).
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from actions import routing
from bot import knowledge
from bot.settings import ROOT

HELDOUT = sorted((ROOT / "tests" / "nlu").glob("heldout*.yml"))
#: The documents' question sets (unseen, fresh): questions on the policy and the article, and
#: questions the documents do not answer.
DOCUMENT_SETS = [ROOT / "tests" / "documents" / "questions.yml", ROOT / "tests" / "documents" / "fresh.yml"]
OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Outcome:
    messages: int = 0
    right: int = 0  # a factual answer about the message's topic
    wrong: int = 0  # a factual answer about another topic
    abstained: int = 0  # clarification, "I don't know", "not understood"

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.messages if self.messages else 0.0

    def row(self, name: str) -> str:
        return (f"{name:<28} {self.messages:>5} {self.right / self.messages:>8.1%} "
                f"{self.wrong_rate:>8.1%} {self.abstained / self.messages:>10.1%}")


HEADER = f"{'set':<28} {'msgs':>5} {'right':>8} {'wrong':>8} {'abstained':>10}"


def examples(path: Path) -> list[tuple[str, frozenset[str]]]:
    """(text, the topics a right answer may be about) of a Rasa NLU file."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), frozenset({m.get("intent")})) for m in load_data(str(path)).intent_examples]


def document_questions(path: Path) -> list[tuple[str, frozenset[str]]]:
    """(text, topics) of a documents' question set: the intents that cover the section that
    answers it (``data/documents``); a question the documents do not answer has none."""
    from bot.documents import catalogue, questions

    sections = {(d.id, s.number or s.title): s.intents for d in catalogue.load_documents() for s in d.sections}
    loaded = questions.load(path)
    found = []
    for q in (*loaded.questions, *loaded.english):
        keys = [q.focus_area] if q.focus_area else list(q.sections)
        found.append((q.text, frozenset(i for k in keys for i in sections.get((q.document, k), ()))))
    return found + [(text, frozenset({OUT_OF_SCOPE})) for text in loaded.unknown]


def parse_all(model: Path, texts: list[str]) -> list[dict]:
    """What the trained model makes of each text, with the corrections production runs (kept in
    ``var/`` for the model file and texts, so trying thresholds again takes seconds)."""
    import asyncio
    import hashlib
    import json
    import logging

    digest = hashlib.sha256(json.dumps([str(model), model.stat().st_mtime, texts]).encode()).hexdigest()[:16]
    cache = ROOT / "var" / f"wrong-topic-parses-{digest}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    from bot import rasa_patches

    rasa_patches.apply()
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))

    async def run() -> list[dict]:
        return [await agent.parse_message(t) for t in texts]

    parses = [{"intent": p.get("intent"), "intent_ranking": p.get("intent_ranking")} for p in asyncio.run(run())]
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(json.dumps(parses), encoding="utf-8")
    return parses


def language_of(text: str) -> str:
    """The rough language guess the evaluation needs (the dialogue keeps a slot)."""
    return "en" if re.search(r"\b(the|what|how|is|can|i|do|you|my|where|who)\b", text.lower()) else "da"


def outcome(pairs: list[tuple[str, frozenset[str]]], parses: list[dict], confident: float,
            kb: knowledge.Knowledge) -> Outcome:
    result = Outcome()
    for (text, gold), parse in zip(pairs, parses, strict=True):
        result.messages += 1
        intent = (parse.get("intent") or {}).get("name")
        if intent not in kb.entries and intent != routing.FALLBACK:
            continue  # another action answers it (a greeting, a booking, a contact card): no topic answer
        decision = routing.route(text, language_of(text), parse, kb, confident=confident)
        if not decision.topics:
            if decision.kind in (routing.CLARIFY, routing.UNKNOWN, routing.NOT_UNDERSTOOD):
                result.abstained += 1
            continue
        if gold & set(decision.topics):
            result.right += 1
        else:
            result.wrong += 1
    return result


def measure(model: Path, thresholds: list[float]) -> dict[float, dict[str, Outcome]]:
    sets = {path.stem: examples(path) for path in HELDOUT}
    sets.update({f"documents/{path.stem}": document_questions(path) for path in DOCUMENT_SETS if path.exists()})
    texts = [t for pairs in sets.values() for t, _ in pairs]
    parses = parse_all(model, texts)
    kb = knowledge.default()
    found: dict[float, dict[str, Outcome]] = {}
    for confident in thresholds:
        start, found[confident] = 0, {}
        for name, pairs in sets.items():
            found[confident][name] = outcome(pairs, parses[start:start + len(pairs)], confident, kb)
            start += len(pairs)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "koege.tar.gz")
    parser.add_argument("--thresholds", default=f"0,0.5,0.7,0.8,{routing.CONFIDENT},0.95,1.01")
    args = parser.parse_args(argv)
    thresholds = sorted({float(x) for x in args.thresholds.split(",")})
    for confident, per_set in measure(args.model, thresholds).items():
        mark = "  (routing.CONFIDENT)" if confident == routing.CONFIDENT else ""
        print(f"\nintent answers checked against the documents below confidence {confident}{mark}")
        print(HEADER)
        for name, result in per_set.items():
            print(result.row(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
