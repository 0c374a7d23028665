"""Failures first: the conversations that need a look (fallbacks, clarifications, low
confidence, negative feedback, abandoned bookings, requests for a person), newest first,
not yet reviewed unless asked.

Below them, the questions the assistant answered with a quote from a document, grouped by
document and passage with their counts, most frequent first: a passage quoted again and again
is a topic that deserves a written answer (``data/knowledge``, the content page) and training
examples (mark the message in its transcript)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from aiohttp import web

from bot.console.keys import DB_URL, INDEX
from bot.console.render import blocking, render, with_query
from bot.console.views.conversations import badges
from bot.documents import catalogue
from bot.documents.passages import Passage, split
from bot.store import documents as stored_documents
from bot.store.conversations import CHANNEL_LABELS, LOW_CONFIDENCE, Facts, Summary

REASONS = [
    ("fallback", "Fallback eller afklaring"),
    ("lav", "Lav sikkerhed"),
    ("negativ", "Negativ feedback"),
    ("afbrudt", "Afbrudt booking"),
    ("person", "Bad om en person"),
]
LIMIT = 200
#: How many documents, passages per document and example questions per passage are shown.
TOP_DOCUMENTS, TOP_PASSAGES, EXAMPLES = 10, 10, 3


@dataclass
class QuotedPassage:
    id: str
    passage: Passage | None  # None: no longer in the document (a new version, or retired)
    count: int = 0
    examples: list[tuple[str, str]] = field(default_factory=list)  # (question, sender id), newest first


@dataclass
class QuotedDocument:
    id: str
    title: str
    count: int = 0
    passages: list[QuotedPassage] = field(default_factory=list)


def passages_by_id(url: str | None = None) -> tuple[dict[str, Passage], dict[str, str]]:
    """Every passage of every document (the files' and the console's, retired ones too) by id,
    and the documents' titles by id."""
    files = catalogue.load_documents()
    stored = stored_documents.current(url)
    every = {doc_id: replace(state, retired=False) for doc_id, state in stored.items()}  # retired ones too
    documents = catalogue.live_documents(files, every)
    return {p.id: p for d in documents for p in split(d)}, {d.id: d.title for d in documents}


def quoted(summaries: list[Summary], url: str | None = None) -> list[QuotedDocument]:
    """The questions answered with a quote from a document, grouped by document and passage,
    most frequent first (``summaries``: newest conversation first)."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[tuple[str, str]]] = {}
    documents: dict[str, str] = {}
    for summary in summaries:
        for line in reversed(summary.messages):
            if line.passage:
                counts[line.passage] += 1
                documents[line.passage] = line.document or line.passage.split("/")[0]
                found = examples.setdefault(line.passage, [])
                if len(found) < EXAMPLES:
                    found.append((line.text, summary.sender_id))
    if not counts:
        return []
    passages, titles = passages_by_id(url)
    grouped: dict[str, QuotedDocument] = {}
    for passage_id, n in counts.most_common():
        doc_id = documents[passage_id]
        group = grouped.setdefault(doc_id, QuotedDocument(doc_id, titles.get(doc_id, doc_id)))
        group.count += n
        group.passages.append(QuotedPassage(passage_id, passages.get(passage_id), n, examples[passage_id]))
    found = sorted(grouped.values(), key=lambda g: (-g.count, g.title))[:TOP_DOCUMENTS]
    for group in found:
        group.passages = group.passages[:TOP_PASSAGES]
    return found


def reasons(summary: Summary, facts: Facts) -> list[str]:
    sid = summary.sender_id
    found = []
    if summary.failed:
        found.append("fallback")
    if summary.low_confidence(LOW_CONFIDENCE):
        found.append("lav")
    if sid in facts.negative:
        found.append("negativ")
    if summary.form_started and not summary.booked and sid not in facts.bookings:
        found.append("afbrudt")
    if summary.person:
        found.append("person")
    return found


async def page(request: web.Request) -> web.Response:
    wanted = request.query.get("grund", "")
    wanted = wanted if wanted in dict(REASONS) else ""
    everything = request.query.get("alle") == "1"
    facts = await blocking(Facts.load, request.app[DB_URL])
    summaries = await blocking(request.app[INDEX].summaries)
    counts = dict.fromkeys(dict(REASONS), 0)
    rows = []
    for summary in summaries:
        if not everything and summary.sender_id in facts.reviewed:
            continue
        found = reasons(summary, facts)
        for reason in found:
            counts[reason] += 1
        if found and (not wanted or wanted in found):
            rows.append({"s": summary, "reasons": found, "badges": badges(summary, facts)})
    query = {k: v for k, v in (("grund", wanted), ("alle", "1" if everything else "")) if v}
    documents = await blocking(quoted, summaries, request.app[DB_URL])
    return await render(request, "triage.html", {
        "documents": documents, "quoted_total": sum(d.count for d in documents),
        "title": "Triage", "rows": rows[:LIMIT], "total": len(rows), "limit": LIMIT, "reasons": REASONS,
        "labels": dict(REASONS), "counts": counts, "wanted": wanted, "everything": everything,
        "channels": CHANNEL_LABELS, "back": with_query("/triage", query),
        "tab_url": lambda reason: with_query("/triage", {k: v for k, v in (
            ("grund", reason), ("alle", "1" if everything else "")) if v}),
        "toggle_url": with_query("/triage", {k: v for k, v in (
            ("grund", wanted), ("alle", "" if everything else "1")) if v}),
    })
