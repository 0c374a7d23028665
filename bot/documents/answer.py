"""An answer from the documents: the best passage, quoted briefly, or an honest "I don't know".

``best_answer(question, language)`` is what the dialogue calls when no intent is confident and
for questions about the policy's content. It returns

* ``DocumentAnswer`` of kind ``document``: a verbatim quote of the best passage (at most
  ``QUOTE_MAX_SENTENCES`` sentences and ``QUOTE_MAX_CHARS`` characters, cut at sentence
  boundaries) and a note that it is a quote (from a draft, for the policy; in Danish, for an
  English question), as one answer (``bot.answers``) whose footer names the document and section
  ("Uddrag af Køge Kommunes udkast til erhvervspolitik 2024, indsats 4 (…)") and the source with
  its date; the same facts as fields;
* ``DocumentAnswer`` of kind ``knowledge``: a knowledge-base entry matches best, and the
  dialogue should give that entry's written answer (``intent``; ``text`` already holds it);
* ``NoAnswer``: no passage is good enough; the text says so and offers a person.

When is a passage good enough (``decide``)? The thresholds were calibrated on the tuning
questions (``tests/documents/tuning.yml``) and checked on the unseen set
(``tests/documents/questions.yml``) and a fresh one; the figures and the order of events are in
``docs/documents.md``:

* its score (TF-IDF cosine) is at least ``MIN_SCORE`` (a question made of common words finds
  nothing);
* it covers at least ``MIN_COVERAGE`` of the question's weight (``bot.documents.index``): a
  question whose main word the passage lacks ("hvad koster …", "hvornår er det næste …") is
  refused even when the rest matches;
* it has every name the question uses (a word with a capital inside the sentence: "Connect
  Køge", "Bækgårdsvej"): a passage about something else that shares the question's other words
  is not an answer;
* a question that asks for a detail (an amount, a price, a date, opening hours, an address, a
  phone number, names …; ``bot.nlp.asked_facts``) needs a passage that holds one: the best of
  those that do, when it meets the rules above too (the passage that names the companies of a
  meeting may match a little less than the one that describes the meeting);
* margin rule: unless it covers at least ``CLEAR_COVERAGE``, its score is at least
  ``MIN_MARGIN`` (relative) above the best passage of another section that also covers
  ``MIN_COVERAGE``: two sections that answer about equally well mean the words did not decide.

Nothing of the question is logged: only passage ids, scores and the reason of a refusal.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import answers, knowledge, wording
from bot.documents.catalogue import live_documents, load_documents
from bot.documents.index import Hit, PassageIndex
from bot.documents.passages import DOCUMENT, KNOWLEDGE, Passage, all_passages
from bot.documents.text import QUOTE_MAX_CHARS, QUOTE_MAX_SENTENCES, quote
from bot.nlp import asked_facts

logger = logging.getLogger(__name__)

#: The calibrated thresholds (see the module's docstring and docs/documents.md).
MIN_SCORE = 0.12
MIN_COVERAGE = 0.7
CLEAR_COVERAGE = 0.8
MIN_MARGIN = 0.1

LANGUAGES = ("da", "en")
#: Reasons of a refusal, for the staff console's statistics.
NO_MATCH = "no_match"  # no passage shares a word with the question
WEAK_MATCH = "weak_match"  # the best passage scores or covers too little
AMBIGUOUS = "ambiguous"  # two sections answer about equally well
NO_FACT = "no_fact"  # a detail is asked for (an amount, a date, a phone number …) the passage does not hold


@dataclass(frozen=True)
class DocumentAnswer:
    """A passage good enough to answer with, as text and as fields."""

    text: str  # the whole reply as text (``answers.text(answer)``)
    kind: str  # "document" (a quote) or "knowledge" (give the entry's written answer: ``intent``)
    language: str
    passage_id: str
    document_id: str
    document_title: str
    document_kind: str
    source_url: str
    verified: dt.date
    score: float
    coverage: float
    words: int = 0  # the question's content words (one word is a topic rather than a question)
    topics: tuple[str, ...] = ()  # the intents whose written answers are about the same topic
    answer: answers.Answer | None = None  # the one message: quote and note, with document, section, source
    quote: str = ""  # the passage's own words, verbatim
    note: str = ""  # "Det er et citat fra udkastet …"
    section: str | None = None  # the section's label in ``language``
    section_title: str | None = None  # as the document writes it
    focus_area: int | None = None  # the policy's focus area ("indsats") number
    heading: str | None = None
    item: int | None = None
    page: int | None = None
    intent: str | None = None
    buttons: tuple[dict[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class NoAnswer:
    """No passage is good enough: "I don't know" and the offer of a person."""

    text: str
    language: str
    reason: str
    buttons: tuple[dict[str, str], ...] = ()
    best_passage_id: str | None = None  # the best (refused) passage, for review
    score: float = 0.0
    coverage: float = 0.0


def decide(hits: Sequence[Hit], question: str = "") -> tuple[Hit | None, str]:
    """The hit to answer ``question`` with and "", or None and the reason of the refusal."""
    if not hits:
        return None, NO_MATCH
    if not _good(hits[0]):
        return None, WEAK_MATCH
    kinds = asked_facts.asked(question)
    if kinds:  # only passages that hold the detail answer it, and compete
        hits = [h for h in hits if all(kind.held(question, h.passage.text) for kind in kinds)]
        if not hits or not _good(hits[0]):
            return None, NO_FACT
    best = hits[0]
    if best.coverage < CLEAR_COVERAGE:
        rival = next((h for h in hits[1:] if _unit(h.passage) != _unit(best.passage)
                      and h.coverage >= MIN_COVERAGE), None)
        if rival is not None and best.score - rival.score < MIN_MARGIN * best.score:
            return None, AMBIGUOUS
    return best, ""


def _good(hit: Hit) -> bool:
    """Whether a passage matches the question well enough to answer it (the first three rules)."""
    return hit.score >= MIN_SCORE and hit.coverage >= MIN_COVERAGE and hit.names_found


def _unit(passage: Passage) -> tuple[str, str | None]:
    """What one answer is about: a document's section, or a knowledge entry."""
    return passage.document_id, passage.section.title if passage.section else None


# --- the index of this process ----------------------------------------------------------------

#: How often (seconds) ``default_index()`` asks the database whether staff changed documents
#: (one cheap query); a change rebuilds the index (about a second) while the old one answers.
DOCUMENT_CHECK_SECONDS = 5.0
_live: dict[str, Any] = {"index": None, "version": None, "checked": float("-inf"), "building": False,
                         "files": None}
_index_lock = threading.Lock()


def default_index() -> PassageIndex:
    """The index over the documents (``data/documents`` with the staff console's additions,
    replacements and retirements, ``bot.store.documents``) and the knowledge base's files.

    Built once per process (about a second, plus loading the spaCy pipeline if nothing loaded it
    yet); at most every ``DOCUMENT_CHECK_SECONDS`` it asks the assistant's database for the
    documents' version and rebuilds when it changed, so a document staff add is answered from
    within seconds on every instance, without a restart. While one thread rebuilds, the others
    answer from the index they had. When the database cannot be read, the last index stays."""
    with _index_lock:
        index = _live["index"]
        if index is not None:
            if _live["building"] or time.monotonic() - _live["checked"] < DOCUMENT_CHECK_SECONDS:
                return index
            _live["building"] = True
    if index is None:
        with _build_lock:  # the first build: everyone waits for it
            if _live["index"] is None:
                _refresh()
            return _live["index"]
    try:
        _refresh()
    finally:
        with _index_lock:
            _live["building"] = False
    return _live["index"]


_build_lock = threading.Lock()


def _refresh() -> None:
    """Build the index when none is built or the documents' version changed."""
    found = _stored_version()
    index, known = _live["index"], _live["version"]
    if index is not None and (found is None or found == known):
        with _index_lock:
            _live["checked"] = time.monotonic()
        return
    stored = _stored_documents() if found else {}
    if stored is None:  # the database went away between the two queries
        if index is not None:
            return
        stored, found = {}, None
    if _live["files"] is None:
        _live["files"] = load_documents()
    built = PassageIndex(all_passages(documents=live_documents(_live["files"], stored)))
    logger.info("document index built: %d passages, documents version %s, %.1f s", len(built.passages), found,
                built.build_seconds)
    with _index_lock:
        _live.update(index=built, version=found, checked=time.monotonic())


def _stored_version() -> int | None:
    """The documents' version in the assistant's database; None when it cannot be read."""
    import sqlalchemy as sa

    from bot.store import db
    from bot.store import documents as stored_documents

    url = db.database_url()
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return 0  # nothing stored yet (and no empty database file created)
    try:
        return stored_documents.version(engine=db.engine())
    except sa.exc.SQLAlchemyError:
        return None  # no documents table yet, or the database is away: keep what we have


def _stored_documents() -> dict | None:
    import sqlalchemy as sa

    from bot.store import db
    from bot.store import documents as stored_documents

    try:
        return stored_documents.current(engine=db.engine())
    except sa.exc.SQLAlchemyError:
        return None


def reset_default_index() -> None:
    """Forget the built index and the files read (the next call reads and builds again)."""
    with _index_lock:
        _live.update(index=None, version=None, checked=float("-inf"), building=False, files=None)


# --- the answer ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _search(index: PassageIndex, question: str, language: str, kinds: frozenset[str]) -> tuple[Hit, ...]:
    """``index.search``, remembered for the latest questions: the dialogue asks for the best
    answer and then for the topics of the same message (``actions/routing.py``), one search. A
    rebuilt index is another key."""
    return tuple(index.search(question, language, kinds=kinds))


def best_answer(question: str, language: str = "da", *, include_knowledge: bool = True,
                index: PassageIndex | None = None) -> DocumentAnswer | NoAnswer:
    """The best passage for ``question`` as an answer in ``language`` ("da" or "en"), or
    ``NoAnswer``. ``include_knowledge=False`` searches the documents only (questions about
    what a document says)."""
    language = language if language in LANGUAGES else "da"
    index = index or default_index()
    kinds = frozenset({DOCUMENT, KNOWLEDGE} if include_knowledge else {DOCUMENT})
    hits = _search(index, question, language, kinds)
    chosen, reason = decide(hits, question)
    if chosen is None:
        best = hits[0] if hits else None
        logger.debug("document answer refused (%s): best %s score %.2f coverage %.2f", reason,
                     best.passage.id if best else None, best.score if best else 0.0,
                     best.coverage if best else 0.0)
        return no_answer(language, reason, best)
    logger.debug("document answer: %s score %.2f coverage %.2f", chosen.passage.id, chosen.score,
                 chosen.coverage)
    if chosen.passage.kind == KNOWLEDGE:
        return _knowledge_answer(chosen, language)
    return _quote_answer(chosen, question, language, index)


@dataclass(frozen=True)
class TopicMatch:
    """One of the best passages for a question: the topics (intents) it is about, and how much of
    the question it covers (``bot.documents.index``)."""

    topics: tuple[str, ...]
    coverage: float


def topic_matches(question: str, language: str = "da", index: PassageIndex | None = None) -> list[TopicMatch]:
    """The topics of the best passages for ``question`` (documents and knowledge entries), the
    one that covers most of it first: the documents' opinion of what it is about, good enough to
    answer with or not (the dialogue compares it with the NLU's, ``actions/routing.py``)."""
    language = language if language in LANGUAGES else "da"
    index = index or default_index()
    return [TopicMatch(_topics(hit.passage), hit.coverage)
            for hit in _search(index, question, language, frozenset({DOCUMENT, KNOWLEDGE}))]


def _topics(passage: Passage) -> tuple[str, ...]:
    """The intents whose written answers are about what ``passage`` says."""
    if passage.kind == KNOWLEDGE:
        return (passage.intent,) if passage.intent else ()
    return passage.section.intents if passage.section else ()


def names(question: str, language: str = "da", index: PassageIndex | None = None) -> tuple[str, ...]:
    """The names ``question`` uses (words written with a capital inside the sentence: "DBD",
    "Stevnsvejen", "Campus Køge"), as the index's folded lemmas."""
    index = index or default_index()
    return tuple(term.lemma for term in index.analyzer.terms(question, language) if term.name)


def no_answer(language: str, reason: str, best: Hit | None = None) -> NoAnswer:
    return NoAnswer(
        text=wording.text("utter_document_unknown", language), language=language, reason=reason,
        buttons=tuple(wording.message("utter_document_unknown", language)["buttons"]),
        best_passage_id=best.passage.id if best else None,
        score=best.score if best else 0.0, coverage=best.coverage if best else 0.0,
    )


def _relevance(question: str, language: str, index: PassageIndex) -> Callable[[str], float]:
    """A sentence's weight for the question: the idf of the question's words it contains."""
    terms = index.analyzer.terms(question, language)

    def weight(sentence: str) -> float:
        found = set(index.analyzer.tokens(sentence))
        return sum(index.idf(t.lemma) for t in terms
                   if any(form in found for form in (t.lemma, *t.parts, *t.also(t.lemma))))

    return weight


def _quote_answer(hit: Hit, question: str, language: str, index: PassageIndex) -> DocumentAnswer:
    passage = hit.passage
    section = passage.section.label[language] if passage.section else None
    cited_as = (passage.cited_as or {}).get(language) or passage.title
    words = quote(passage.text, _relevance(question, language, index),
                  max_sentences=QUOTE_MAX_SENTENCES, max_chars=QUOTE_MAX_CHARS)
    quoted = wording.text("utter_document_quote", language, quote=words)
    note = wording.text(f"utter_document_note_{passage.document_kind}", language,
                        publisher=passage.publisher)
    link_title = passage.title if language == "da" else (passage.title_en or passage.title)
    answer = answers.Answer(
        body=f"{quoted}\n\n{note}", language=language,
        source=answers.Source(passage.source, passage.verified, title=link_title),
        quote=answers.Quote(cited_as, section=section))
    return DocumentAnswer(
        text=answers.text(answer), kind=DOCUMENT, language=language,
        passage_id=passage.id, document_id=passage.document_id, document_title=passage.title,
        document_kind=passage.document_kind, source_url=passage.source, verified=passage.verified,
        score=hit.score, coverage=hit.coverage, words=len(hit.matched) + len(hit.missing),
        topics=_topics(passage), answer=answer, quote=words, note=note,
        section=section, section_title=passage.section.title if passage.section else None,
        focus_area=passage.focus_area, heading=passage.heading, item=passage.item, page=passage.page,
    )


def _knowledge_answer(hit: Hit, language: str) -> DocumentAnswer:
    passage = hit.passage
    kb = knowledge.default()
    answer, buttons = kb.answer(passage.intent, language) if passage.intent in kb.entries else (None, [])
    text = answers.text(answer) if answer else ""
    entry = kb.entries.get(passage.intent)
    return DocumentAnswer(
        text=text, kind=KNOWLEDGE, language=language, passage_id=passage.id,
        document_id=passage.document_id,
        document_title=entry.title[language] if entry else passage.title,
        document_kind=KNOWLEDGE, source_url=entry.source if entry else passage.source,
        verified=entry.verified if entry else passage.verified, score=hit.score,
        coverage=hit.coverage, words=len(hit.matched) + len(hit.missing), topics=(passage.intent,),
        answer=answer, intent=passage.intent,
        buttons=tuple(buttons),
    )
