"""What the assistant does with a message that asks about a topic: one decision, used by the
actions (``actions/knowledge_answers.py``, ``actions/dialogue.py``) and measured by
``python -m tools.wrong_topic`` (the wrong-topic rate), so the figure is of what users get.

- A message about another municipality ("udeservering hos Københavns Kommune", "vi ligger i
  Roskilde"; ``bot.nlp.places.other_municipality``): that it is answered by that municipality,
  never Køge's answer as if it applied there (ELSEWHERE).
- The business policy's overview (``POLICY_OVERVIEW``) for a message that asks what the policy
  says about something ("hvad siger erhvervspolitikken om solceller?"): whatever the confidence,
  the documents' answer about it when they find one (the topic's written answer, or a quote of
  the policy's focus area); the overview answers "what is the business policy?" and its status.
- A message the NLU takes for out of scope that names something the documents name, other than
  the municipality's places ("hvad er DBD?"): the documents' answer when they have one
  (``out_of_scope``; else, and for a citizen matter, the out-of-scope answer).
- The same for a message the NLU takes for "what can you do?" with less confidence than
  ``UNSURE`` ("hvad er DBD?"; ``capabilities``).
- An intent with a written answer (``data/knowledge``) and confidence of at least
  ``CONFIDENT``: that answer — unless the message asks for a detail the answer does not hold
  (an amount, a price, a date, opening hours, an address, a phone number …;
  ``bot.nlp.asked_facts``): then a passage that holds it, or "I don't know <the detail>" before
  the topic's answer (NO_FACT), never an answer that reads as if it answered the question.
  The same when it asks whether the municipality has something that nothing the assistant knows
  names ("har kommunen et mentorprogram …?"; ``bot.nlp.asked_things``, ``known``): "I don't
  know of <it>" before the topic's answer (NO_FACT, ``THING``). And when a passage that no
  written answer covers (a document staff added) answers the question clearly and far better
  than the intent's own answer: that passage (``uncovered``).
- Less confident: the documents are asked too (``bot.documents``). When a passage answers the
  question and is about another topic than the intent (``DocumentAnswer.topics``), the
  passage's answer is given instead; when it agrees, the intent's (two readings agree, however
  low the confidence); when nothing answers, the intent's — unless the confidence is below
  ``UNSURE`` and the NLU found two or more topics close: then those, to choose from.
- Below ``HEDGE``, when no passage answers and the documents do not agree either, the intent's
  answer is given as the closest the assistant has, not as the answer (CLOSEST): "I'm not sure I
  understood; this is the closest I have", with the other close topics and a person as buttons.
  Most confident wrong answers to questions written by people who never saw the training data
  lie in this band (docs/documents.md).
- Below ``SURE``, the documents' opinion is asked as well (``disagreement``): when the passage
  that covers most of the message is clearly about another topic than the intent (it covers at
  least ``DISAGREE_COVERAGE`` of it, and ``DISAGREE_MARGIN`` more than any passage about the
  intent), the intent and that topic are offered to choose from instead of the intent's answer —
  two readings of the message, and nothing decides between them.
- At any confidence, the NLU's runner-up is weighed too (``runner_up``): when the NLU gives the
  next-best topic at least ``RUNNER_UP`` and the passage that covers most of the message is about
  that topic, not the intent (it covers at least ``RUNNER_UP_COVERAGE`` of it and
  ``DISAGREE_MARGIN`` more than any passage about the intent), the two are offered to choose
  from: two of the three readings point away from the intent ("Passer kommunen på de gamle huse
  … det er jo det turisterne kommer for": tourism, with the town centre the runner-up and the
  documents' reading).
- No intent (``nlu_fallback``) or one without a written answer: a passage that answers the
  question; else the topics the NLU found closest, to choose from; else "I don't know" and a
  person when the documents came close, or "not understood" and the menu when nothing matched.
  One word ("støtte?") names a topic rather than asks a question: with topics to choose from,
  they are offered instead of a passage, unless the word is a name the documents use ("hvad er
  DBD?").
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import documents
from bot.documents.index import PassageIndex
from bot.knowledge import Knowledge
from bot.nlp import asked_facts, asked_things
from bot.nlp.keywords import count_hits
from bot.nlp.normalize import fold
from bot.nlp.places import NAME_WORDS, other_municipality
from bot.settings import ROOT

#: Below this intent confidence an intent's written answer is checked against the documents.
#: Chosen with ``python -m tools.wrong_topic`` (the wrong-topic rate on the held-out sets and the
#: documents' question sets; docs/documents.md): the fewest wrong answers on both together. 0.8
#: until 2026-12-06; after the content changes of 2026-12-07 every threshold from 0.6 to 0.75
#: gives 35 wrong answers on all sets, 0.8 gives 36 (two more on heldout_style2, one fewer on
#: the documents' questions): one message apart, so it is chosen again when the model changes.
CONFIDENT = 0.75
#: Below this confidence, when no passage answers either, the topics the NLU found closest are
#: offered instead of the intent's answer (two or more to choose from). Chosen with the same
#: tool on 2026-12-07: from 0 to 0.5 it turns 9 wrong answers on all sets into clarifications
#: and 4 right ones; 0.55 one more of each; 0.6 three wrong and eight right (docs/documents.md).
UNSURE = 0.5
#: Below this confidence an intent's written answer is also compared with the documents' opinion
#: of the topic (``disagreement``), with these two thresholds. Chosen with ``python -m
#: tools.wrong_topic`` on 2026-12-07 (docs/documents.md): 0.8 / 0.5 / 0.1 turn 7 wrong answers of
#: all sets into a choice and 1 right one; 0.9 turns 2 more wrong ones and 6 more right ones;
#: coverage 0.4 2 more wrong and 5 more right; no margin 1 more wrong and 4 more right.
SURE = 0.8
#: Below this confidence an intent's answer that nothing else supports is given as the closest
#: the assistant has (CLOSEST), not as the answer. Chosen with ``python -m tools.wrong_topic
#: --hedges`` (docs/documents.md): 0.7 on the model whose blend weight was 0.8; the model
#: retrained on 2026-12-07 at night chose 0.6, whose confidences run lower, and there 0.7 hedges
#: 85 answers on all sets, 78 of them right, for 7 wrong ones, and 0.55 hedges 6 (3 right) for 3
#: wrong ones. So it is chosen again whenever training chooses another weight: the model of
#: 2026-12-07, late (focus area 1's examples), chose 0.8 again, and there, on every set but the
#: blind fresh12, 0.55 hedges 5 answers (1 right) for 4 wrong ones, 0.6 15 (7 right) for 8,
#: 0.65 21 (12 right) for 9 and 0.7 34 (25 right) for 9. The model of 2026-12-08 (weight 0.8
#: again), on every set but the blind fresh17 and fresh18: 0.55 hedges 5 (1 right) for 4 wrong
#: ones, 0.6 11 (5 right) for 6, 0.65 23 (16 right) for 7 and 0.7 39 (28 right) for 11; its
#: last retrain (weight 0.8), on every set but fresh19 and fresh20: 0.55 hedges 9 (3 right) for 6,
#: 0.6 12 (5 right) for 7, 0.65 22 (13 right) for 9 and 0.7 39 (29 right) for 10.
HEDGE = 0.6
DISAGREE_COVERAGE = 0.5
DISAGREE_MARGIN = 0.1
#: The NLU's runner-up with at least this confidence, read by the documents as what the message is
#: about with at least ``RUNNER_UP_COVERAGE``, makes the intent's answer a choice (``runner_up``).
#: Chosen with ``python -m tools.wrong_topic`` on 2026-12-08 on every set but the blind fresh23 to
#: fresh26 (docs/documents.md): 0.15 / 0.3 turn 5 wrong answers into a choice and no right one;
#: 0.12 one more wrong one and 2 right ones, 0.1 3 right ones, 0.2 and above only 1 wrong one;
#: coverage from 0.2 to 0.35 gives the same answers. On the model retrained with that morning's
#: examples (every set but fresh31 to fresh34), which gets most of those right by itself: 0.15
#: 2 wrong ones and no right one, 0.1 one more wrong one and 2 right ones.
RUNNER_UP = 0.15
RUNNER_UP_COVERAGE = 0.3
#: How much more of a question a document's passage must cover than the written answer of a
#: confident intent to answer instead of it (``uncovered``).
UNCOVERED_MARGIN = 0.3
#: Intents never offered as "did you mean" topics.
NOT_TOPICS = frozenset({"nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny",
                        "bot_challenge", "request_human"})  # the person button is added after the topics
MIN_CONFIDENCE = 0.05
#: The intent whose written answer is an overview of the business policy (its ten focus areas).
POLICY_OVERVIEW = "ask_business_policy"
#: The kinds of document the overview stands for (``data/documents/*.yml``, the console's form).
POLICY_KINDS = frozenset({"policy", "policy_draft"})
FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
#: The intent that asks what the assistant can do ("hvad kan du?").
CAPABILITIES = "bot_capabilities"
#: Names that do not make a question the documents' (every passage is about Køge), folded.
PLACES = frozenset(fold(word) for word in NAME_WORDS)
MAX_CHOICES = 3

TOPIC, DOCUMENT, CLARIFY, UNKNOWN, NOT_UNDERSTOOD = "topic", "document", "clarify", "unknown", "not_understood"
NO_FACT = "no_fact"
ELSEWHERE = "elsewhere"
#: The intent's answer as the closest the assistant has, with ``choices`` (the other close topics).
CLOSEST = "closest"
#: The routes that give no factual answer: a choice, "I don't know" (of the topic or of a detail
#: before the topic's answer), "not understood", or the other municipality to ask.
NO_ANSWER = frozenset({CLARIFY, UNKNOWN, NOT_UNDERSTOOD, NO_FACT, ELSEWHERE})
#: The ``fact`` of a NO_FACT route for a thing the assistant has never heard of (``asked_things``).
THING = "thing"
#: The NLU's training examples: words the assistant knows besides its answers and documents.
TRAINING_DATA = ROOT / "data" / "nlu"


@dataclass(frozen=True)
class Route:
    """``kind``: give the written answer of ``intent`` (TOPIC; as the closest the assistant has,
    with ``choices`` beside it: CLOSEST), quote ``answer`` (DOCUMENT; with ``intent`` the
    overview the quote's document belongs to), offer
    ``choices`` (CLARIFY), say "I don't know" (UNKNOWN) or "not understood" (NOT_UNDERSTOOD), or
    say that the detail asked for (``fact``, an ``asked_facts.Kind``'s name) is not known before
    what the written answer of ``intent`` says (NO_FACT), or that another ``municipality``
    answers it (ELSEWHERE)."""

    kind: str
    intent: str | None = None
    answer: documents.DocumentAnswer | None = None
    choices: tuple[str, ...] = field(default_factory=tuple)
    from_documents: bool = False  # the documents decided (a quote, or the entry a passage matched)
    fact: str | None = None  # NO_FACT: the kind of detail asked for
    thing: str | None = None  # NO_FACT of a THING: what was asked for ("et mentorprogram")
    municipality: str | None = None  # ELSEWHERE: the other municipality asked about

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics a factual answer is about (empty: no factual answer)."""
        if self.kind in (TOPIC, CLOSEST) and self.intent:
            return (self.intent,)
        if self.kind == DOCUMENT and self.answer:  # a quote of the policy is also about the policy
            return (*self.answer.topics, *((self.intent,) if self.intent else ()))
        return ()


@functools.lru_cache(maxsize=1)
def _training_text(folder: Path = TRAINING_DATA) -> str:
    """The NLU's training examples (``data/nlu``), folded, as one text ('' without the folder)."""
    texts = []
    for path in sorted(folder.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or ():
            texts.append(str(item.get("examples") or ""))
    return fold(" ".join(texts).lower())


@functools.lru_cache(maxsize=2)
def _passages_text(index: PassageIndex) -> str:
    """The passages of ``index`` (kept for the live index and the one before it), folded."""
    return fold(" ".join(p.text for p in index.passages).lower())


def known(stem: str) -> bool:
    """Whether the assistant knows a word (``asked_things.stem``): it occurs in the documents'
    or the written answers' passages (the live index, with the console's documents) or in the
    NLU's training examples."""
    return stem in _passages_text(documents.default_index()) or stem in _training_text()


def choices(ranking: list[dict[str, Any]], knowledge: Knowledge) -> tuple[str, ...]:
    """The closest topics of the NLU's ranking that have an answer or a button."""
    return tuple(
        item["name"] for item in ranking
        if item.get("name") not in NOT_TOPICS
        and item.get("confidence", 0) >= MIN_CONFIDENCE
        and (item["name"] in knowledge.entries or item["name"] in knowledge.labels)
    )[:MAX_CHOICES]


def _from_documents(found: documents.DocumentAnswer) -> Route:
    if found.kind == "knowledge":
        return Route(TOPIC, intent=found.intent, from_documents=True)
    return Route(DOCUMENT, answer=found, from_documents=True)


def policy_content(found: documents.DocumentAnswer | documents.NoAnswer | None) -> Route | None:
    """For a message the NLU takes for the business policy's overview, and what the documents
    found for it (``found``): the answer about what it asks of the policy's content, when it says
    more than the overview (a written answer of another topic, or a quote of the policy; two
    content words or more: "erhvervspolitikken" alone asks for the overview). None: give the
    overview, whose written answer also covers the policy's status ("hvornår blev den
    vedtaget?")."""
    if not isinstance(found, documents.DocumentAnswer) or found.words < 2 or POLICY_OVERVIEW in found.topics:
        return None
    if found.kind == "knowledge":
        return _from_documents(found)
    if found.document_kind in POLICY_KINDS:  # a quote of the policy is about the policy too
        return Route(DOCUMENT, intent=POLICY_OVERVIEW, answer=found, from_documents=True)
    return None


def citizen_matter(text: str, knowledge: Knowledge) -> bool:
    """Whether the message is about a citizen's matter (``citizen_words``: koege.dk and
    Borgerservice answer it, never the business service's documents)."""
    return count_hits(knowledge.citizen_words, text) > 0


def names_something(text: str, lang: str) -> bool:
    """Whether the message names something the documents name, other than the municipality's
    places ("DBD", "Stevnsvejen"; not "Køge")."""
    return any(name not in PLACES for name in documents.names(text, lang))


def out_of_scope(text: str, lang: str, knowledge: Knowledge) -> Route | None:
    """For a message the NLU takes for out of scope: ELSEWHERE when it is about another
    municipality (before the documents: "hvad siger Roskilde Kommune om DBD?" is not Køge's DBD);
    else the documents' answer when the message names something they name ("hvad er DBD?", "hvad
    sker der med Stevnsvejen?"; not only a place of the municipality) and a passage or written
    answer answers it. None (the out-of-scope answer): a citizen matter, no such name, or no
    answer."""
    elsewhere = other_municipality(text)
    if elsewhere is not None:
        return Route(ELSEWHERE, municipality=elsewhere)
    if citizen_matter(text, knowledge) or not names_something(text, lang):
        return None
    found = documents.best_answer(text, lang)
    return _from_documents(found) if isinstance(found, documents.DocumentAnswer) else None


def confidence_of(parse: dict[str, Any]) -> float:
    """The confidence of the NLU's best intent in ``parse`` (0 without one)."""
    return float((parse.get("intent") or {}).get("confidence") or 0.0)


def capabilities(text: str, lang: str, parse: dict[str, Any], knowledge: Knowledge) -> Route | None:
    """For a message the NLU takes for "what can you do?" (``CAPABILITIES``; its ``parse``): below
    ``UNSURE``, the documents' answer when the message names something they name and answer, as
    for out of scope ("hvad er DBD?" reads like "hvad er du?" to a classifier that has never seen
    "DBD"). None: the list of what the assistant can do."""
    if confidence_of(parse) >= UNSURE:
        return None
    decision = out_of_scope(text, lang, knowledge)
    return decision if decision is not None and decision.kind != ELSEWHERE else None


def _intent_coverage(matches: list[documents.TopicMatch], intent: str) -> float:
    """How much of the message the best passage about ``intent`` covers (0 without one)."""
    return max((m.coverage for m in matches if intent in m.topics), default=0.0)


def _documents_reading(text: str, lang: str, intent: str, coverage: float) -> documents.TopicMatch | None:
    """The passage that covers most of ``text`` when it is clearly about another topic than
    ``intent``: it covers at least ``coverage`` of it and ``DISAGREE_MARGIN`` more than any
    passage about ``intent``; None when the documents agree or do not decide."""
    matches = documents.topic_matches(text, lang)
    if not matches or intent in matches[0].topics or matches[0].coverage < coverage:
        return None
    return matches[0] if matches[0].coverage - _intent_coverage(matches, intent) >= DISAGREE_MARGIN else None


def _offered(topic: str, intent: str, knowledge: Knowledge) -> bool:
    """Whether ``topic`` may be offered beside ``intent``: another topic with an answer or a button."""
    return topic != intent and topic not in NOT_TOPICS and (topic in knowledge.entries or topic in knowledge.labels)


def disagreement(text: str, lang: str, intent: str, knowledge: Knowledge) -> tuple[str, ...]:
    """The topics the documents take ``text`` to be about when they clearly disagree with the
    NLU's ``intent`` (see the module's docstring); empty when they agree or do not decide."""
    reading = _documents_reading(text, lang, intent, DISAGREE_COVERAGE)
    return tuple(t for t in reading.topics if _offered(t, intent, knowledge)) if reading else ()


def runner_up(text: str, lang: str, intent: str, ranking: list[dict[str, Any]], knowledge: Knowledge) -> str | None:
    """The NLU's next-best topic after ``intent`` (its ``ranking``), when it has at least
    ``RUNNER_UP`` and the documents read ``text`` as about it rather than the intent (at least
    ``RUNNER_UP_COVERAGE``); None otherwise. Two of three readings then point away from the
    intent, and the user is asked which was meant."""
    second = next((item for item in ranking if item.get("name") != intent), None)
    if second is None or float(second.get("confidence") or 0.0) < RUNNER_UP:
        return None
    name = second.get("name")
    if not _offered(name, intent, knowledge):
        return None
    reading = _documents_reading(text, lang, intent, RUNNER_UP_COVERAGE)
    return name if reading is not None and name in reading.topics else None


def uncovered(text: str, lang: str, intent: str, found: documents.DocumentAnswer | documents.NoAnswer | None) -> bool:
    """Whether a document's passage answers ``text`` that the written answer of ``intent`` does
    not cover: a quote of a passage no written answer covers (a document staff added in the
    console, or a section that names no intent), which covers at least ``CLEAR_COVERAGE`` of the
    question and ``UNCOVERED_MARGIN`` more than the intent's own answer does ("hvornår er der
    ladestandere til elcykler ved Ølby Station?" after staff added a notice about them: the
    mobility answer says nothing of chargers). A passage that a written answer covers is left to
    the NLU when it is confident: measured on the held-out sets, letting those overrule it turned
    six right answers into wrong ones for two the other way (docs/documents.md)."""
    if not isinstance(found, documents.DocumentAnswer) or found.kind == "knowledge" or found.words < 2:
        return False
    if found.topics or found.coverage < documents.CLEAR_COVERAGE:
        return False
    return found.coverage - _intent_coverage(documents.topic_matches(text, lang), intent) >= UNCOVERED_MARGIN


def _or_choice(text: str, lang: str, intent: str, parse: dict[str, Any], knowledge: Knowledge,
               closest: tuple[str, ...] = (), hedge: float = 0.0) -> Route:
    """The written answer of ``intent``, or, when the documents read the message as about another
    topic (below ``SURE``; at any confidence when that topic is the NLU's runner-up), the two to
    choose from; below ``hedge``, the answer as the closest the assistant has, beside the other
    ``closest`` topics."""
    confidence = confidence_of(parse)
    other = disagreement(text, lang, intent, knowledge) if confidence < SURE else ()
    if not other:
        second = runner_up(text, lang, intent, parse.get("intent_ranking") or [], knowledge)
        other = (second,) if second else ()
    if other:
        return Route(CLARIFY, choices=(intent, *other)[:MAX_CHOICES])
    if confidence < hedge:
        return Route(CLOSEST, intent=intent, choices=tuple(c for c in closest if c != intent)[:MAX_CHOICES - 1])
    return Route(TOPIC, intent=intent)


def route(text: str, lang: str, parse: dict[str, Any], knowledge: Knowledge, confident: float = CONFIDENT,
          hedge: float = HEDGE) -> Route:
    """The decision for a message ``text`` and the NLU's ``parse`` (intent, intent_ranking);
    ``confident``, ``hedge``: the thresholds (``CONFIDENT``, ``HEDGE``; the evaluation tries others)."""
    elsewhere = other_municipality(text)
    if elsewhere is not None:
        return Route(ELSEWHERE, municipality=elsewhere)
    intent = (parse.get("intent") or {}).get("name")
    confidence = confidence_of(parse)
    found = documents.best_answer(text, lang) if intent == POLICY_OVERVIEW and text.strip() else None
    content = policy_content(found) if found is not None else None
    if content is not None:
        return content
    has_answer = intent in knowledge.entries
    # most messages ask for no detail: the answer's text is only built for those that do
    asks_detail = has_answer and bool(asked_facts.asked(text))
    unknown = asked_facts.missing(text, knowledge.said(intent, lang)) if asks_detail else None
    thing = asked_things.unknown_thing(text, known) if has_answer and unknown is None and lang == "da" else None
    if thing is not None:  # "har kommunen et mentorprogram?": nothing the assistant knows names one
        return Route(NO_FACT, intent=intent, fact=THING, thing=thing)
    if found is None:  # asked once: the policy's overview has asked already
        found = documents.best_answer(text, lang) if text.strip() else None
    if has_answer and confidence >= confident and unknown is None:
        if uncovered(text, lang, intent, found):  # a document answers what the written answer does not
            return _from_documents(found)
        return _or_choice(text, lang, intent, parse, knowledge)
    if has_answer:
        if isinstance(found, documents.DocumentAnswer) and found.words >= 2 and (
                intent not in found.topics or unknown is not None):  # a passage holds the detail asked
            return _from_documents(found)
        closest = choices(parse.get("intent_ranking") or [], knowledge)
        # here a passage that answers is about the intent's topic: the documents agree with the NLU
        agrees = isinstance(found, documents.DocumentAnswer) and found.words >= 2
        if confidence < UNSURE and len(closest) >= 2 and not agrees:  # unsure which topic, and nothing else answers
            return Route(CLARIFY, choices=closest)
        if unknown is not None:  # "hvad koster en stadeplads?": the topic's answer has no price
            return Route(NO_FACT, intent=intent, fact=unknown.name)
        return _or_choice(text, lang, intent, parse, knowledge, closest, 0.0 if agrees else hedge)
    closest = choices(parse.get("intent_ranking") or [], knowledge)
    if isinstance(found, documents.DocumentAnswer) and not (
            closest and found.words < 2 and not names_something(text, lang)):
        return _from_documents(found)
    if closest:
        return Route(CLARIFY, choices=closest)
    if isinstance(found, documents.NoAnswer) and found.reason != documents.NO_MATCH:
        return Route(UNKNOWN)
    return Route(NOT_UNDERSTOOD)
