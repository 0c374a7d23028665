"""The wrong-topic rate: how often the assistant gives a factual answer (a written answer or a
quote) about another topic than the message asks about, on the held-out sets (``tests/nlu``).
A clarification, "I don't know" or "not understood" is not a wrong answer; an answer to an
out-of-scope message is. An answer given as the closest the assistant has ("I'm not sure I
understood; this is the closest I have", ``routing.CLOSEST``) is counted apart, as hedged, and
neither right nor wrong; how many of those were about the right topic is printed beside.

``python -m tools.wrong_topic [--model models/koege.tar.gz] [--thresholds 0.5,0.7,0.9]
[--hedges 0,0.6,0.7]``: the trained model parses each set once; each message then goes through
the dialogue's own decision (``actions/routing.route``, with the documents) for each threshold of
intent confidence below which an answer is checked against the documents (``routing.CONFIDENT``),
and for each below which an answer nothing else supports is hedged (``routing.HEDGE``).
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from actions import routing
from bot import knowledge
from bot.documents.questions import SETS
from bot.settings import ROOT

HELDOUT = sorted((ROOT / "tests" / "nlu").glob("heldout*.yml"))
#: The documents' question sets (unseen, fresh): questions on the policy and the article, and
#: questions the documents do not answer.
DOCUMENT_SETS = [path for name, path in SETS.items() if name != "tuning"]
OUT_OF_SCOPE = "out_of_scope"
#: The topic of a quote of a passage no intent covers, given to an out-of-scope message: a factual
#: answer all the same, and a wrong one for a message that is out of scope.
QUOTE_WITHOUT_TOPIC = "quote_without_topic"


class Hedged(tuple):
    """The topics of an answer given as the closest the assistant has (``routing.CLOSEST``)."""

    __slots__ = ()


@dataclass
class Outcome:
    messages: int = 0
    right: int = 0  # a factual answer about the message's topic
    wrong: int = 0  # a factual answer about another topic
    abstained: int = 0  # clarification, "I don't know", "not understood"
    hedged: int = 0  # the closest answer, said to be unsure (``Hedged``)
    hedged_right: int = 0  # of those, about the message's topic

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.messages if self.messages else 0.0

    def row(self, name: str) -> str:
        return (f"{name:<28} {self.messages:>5} {self.right / self.messages:>8.1%} "
                f"{self.wrong_rate:>8.1%} {self.abstained / self.messages:>10.1%} "
                f"{self.hedged / self.messages:>7.1%} {self.hedged_right:>4}/{self.hedged:<4}")


HEADER = (f"{'set':<28} {'msgs':>5} {'right':>8} {'wrong':>8} {'abstained':>10} {'hedged':>7} "
          f"{'right of hedged':>15}")


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


def focus_areas(path: Path) -> list[int | None]:
    """The focus area each question of ``document_questions(path)`` asks about (None: the
    article, or a question the documents do not answer), in the same order."""
    from bot.documents import questions

    loaded = questions.load(path)
    return [q.focus_area for q in (*loaded.questions, *loaded.english)] + [None] * len(loaded.unknown)


def right_per_focus_area(path: Path, model: Path, kb: knowledge.Knowledge | None = None,
                         ) -> dict[int, tuple[int, int]]:
    """Per focus area of the policy: (questions the assistant answers with that area's content —
    a quote from it, or the written answer of an intent its section names, not hedged —
    questions asked)."""
    kb = kb or knowledge.default()
    pairs = document_questions(path)
    parses = parse_all(model, [t for t, _ in pairs])
    found: dict[int, tuple[int, int]] = {}
    for (text, gold), parse, area in zip(pairs, parses, focus_areas(path), strict=True):
        if area is None:
            continue
        topics = answered_topics(text, parse, kb) or ()
        right, asked = found.get(area, (0, 0))
        found[area] = (right + (not isinstance(topics, Hedged) and bool(gold & set(topics))), asked + 1)
    return dict(sorted(found.items()))


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


def answered_topics(text: str, parse: dict, kb: knowledge.Knowledge, confident: float = routing.CONFIDENT,
                    hedge: float = routing.HEDGE) -> tuple[str, ...] | None:
    """What the assistant answers ``text`` with, given the NLU's ``parse``: the topics of a
    factual answer (a written answer or a quote; ``Hedged`` when given as the closest the
    assistant has), ``()`` when it abstains (a clarification, "I don't know", "not understood"),
    None when another action answers (a greeting, a booking) or the quote is of a passage no
    intent covers (no topic to compare with)."""
    intent = (parse.get("intent") or {}).get("name")
    if intent == routing.OUT_OF_SCOPE:  # answered only when the documents name what it asks about
        decision = routing.out_of_scope(text, language_of(text), kb)
        if decision is None:
            return None
        if decision.kind in routing.NO_ANSWER:  # "ask that municipality"
            return ()
        return tuple(decision.topics) or (QUOTE_WITHOUT_TOPIC,)
    if intent == routing.CAPABILITIES:  # "hvad er DBD?" taken, unsure, for "what can you do?"
        decision = routing.capabilities(text, language_of(text), parse, kb)
        return None if decision is None else (tuple(decision.topics) or (QUOTE_WITHOUT_TOPIC,))
    if intent not in kb.entries and intent != routing.FALLBACK:
        return None
    decision = routing.route(text, language_of(text), parse, kb, confident=confident, hedge=hedge)
    if decision.topics:
        return Hedged(decision.topics) if decision.kind == routing.CLOSEST else tuple(decision.topics)
    if decision.kind in routing.NO_ANSWER:
        return ()
    return None  # a quote of a passage no intent covers: not counted either way


def intent_topics(intent: str, kb: knowledge.Knowledge) -> tuple[str, ...] | None:
    """The same for an intent classifier alone (the baselines of ``tools.nlu_eval``): the
    predicted intent's written answer, ``()`` for Rasa's fallback, None for other intents."""
    if intent == routing.FALLBACK:
        return ()
    return (intent,) if intent in kb.entries else None


def tally(golds: list[frozenset[str]], answers: list[tuple[str, ...] | None]) -> Outcome:
    """Right, wrong, abstained and hedged answers: a factual answer is wrong when none of its
    topics is one the message may be answered with (an answer to an out-of-scope message is
    wrong); a hedged one is counted apart, with how many of those were about the right topic."""
    result = Outcome()
    for gold, topics in zip(golds, answers, strict=True):
        result.messages += 1
        if topics is None:
            continue
        if isinstance(topics, Hedged):
            result.hedged += 1
            result.hedged_right += bool(gold & set(topics))
        elif not topics:
            result.abstained += 1
        elif gold & set(topics):
            result.right += 1
        else:
            result.wrong += 1
    return result


def outcome(pairs: list[tuple[str, frozenset[str]]], parses: list[dict], confident: float,
            kb: knowledge.Knowledge, hedge: float = routing.HEDGE) -> Outcome:
    return tally([gold for _, gold in pairs],
                 [answered_topics(text, parse, kb, confident, hedge)
                  for (text, _), parse in zip(pairs, parses, strict=True)])


def measure(model: Path, thresholds: list[tuple[float, float]]) -> dict[tuple[float, float], dict[str, Outcome]]:
    """Per pair of thresholds (``routing.CONFIDENT``, ``routing.HEDGE``), the outcome per set."""
    sets = {path.stem: examples(path) for path in HELDOUT}
    sets.update({f"documents/{path.stem}": document_questions(path) for path in DOCUMENT_SETS if path.exists()})
    texts = [t for pairs in sets.values() for t, _ in pairs]
    parses = parse_all(model, texts)
    kb = knowledge.default()
    found: dict[tuple[float, float], dict[str, Outcome]] = {}
    for pair in thresholds:
        start, found[pair] = 0, {}
        for name, pairs in sets.items():
            found[pair][name] = outcome(pairs, parses[start:start + len(pairs)], pair[0], kb, pair[1])
            start += len(pairs)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "koege.tar.gz")
    parser.add_argument("--thresholds", default=f"0,0.5,0.7,0.8,{routing.CONFIDENT},0.95,1.01")
    parser.add_argument("--hedges", default=str(routing.HEDGE),
                        help="thresholds of routing.HEDGE to try, each with routing.CONFIDENT")
    args = parser.parse_args(argv)
    hedges = sorted({float(x) for x in args.hedges.split(",")})
    thresholds = sorted({(float(x), routing.HEDGE) for x in args.thresholds.split(",")}
                        | {(routing.CONFIDENT, h) for h in hedges})
    for path in DOCUMENT_SETS:
        if path.exists():
            areas = right_per_focus_area(path, args.model)
            print(f"{path.name}: answered with the focus area's content, per focus area: "
                  + ", ".join(f"{area}: {right}/{asked}" for area, (right, asked) in areas.items()))
    for (confident, hedge), per_set in measure(args.model, thresholds).items():
        mark = "  (routing's own)" if (confident, hedge) == (routing.CONFIDENT, routing.HEDGE) else ""
        print(f"\nintent answers checked against the documents below confidence {confident}, "
              f"hedged below {hedge}{mark}")
        print(HEADER)
        for name, result in per_set.items():
            print(result.row(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
