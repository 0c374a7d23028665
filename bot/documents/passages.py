"""Documents as passages: a paragraph, or one item of a list with its heading, each knowing its
document, section (a focus area of the policy), heading, page, source URL and verified date.

``split`` takes plain text as any extractor gives it (``bot.documents.catalogue`` describes the
shape) and the document's outline, so an HTML or PDF extractor only has to deliver text. A
passage never crosses a section: a line equal to a section title of the outline starts the
next one. Without an outline every heading starts a section.

The knowledge base's entries (``bot.knowledge``) become passages too, of kind ``knowledge``
with their intent: the dialogue prefers the entry's written answer over a quote.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.documents.catalogue import Document, Section, load_documents
from bot.documents.text import sentences
from bot.nlp.normalize import fold

#: A passage of more sentences than this is cut into parts of at most this many.
MAX_SENTENCES = 4
#: A heading is a short line of its own, not ending like a sentence.
HEADING_MAX_CHARS = 90
HEADING_MAX_WORDS = 12
_LIST_ITEM = re.compile(r"^(\d{1,2})[.)]\s+(\S.*)$|^[-•*–]\s+(\S.*)$")
_SENTENCE_END = (".", "!", "?", ":", ";", ",")
#: Lines of a block shorter than this and without end punctuation are kept as lines (a
#: signature, an address), not joined into one paragraph.
SHORT_LINE = 50

DOCUMENT = "document"
KNOWLEDGE = "knowledge"


@dataclass(frozen=True)
class Passage:
    id: str
    kind: str  # DOCUMENT or KNOWLEDGE
    document_id: str
    document_kind: str  # the document's kind (policy_draft, article) or "knowledge"
    title: str  # the document's (Danish) title, or the knowledge entry's
    text: str  # verbatim
    source: str
    verified: dt.date
    section: Section | None = None
    heading: str | None = None  # "MÅL", "HANDLING", a sub-heading of the section
    item: int | None = None  # the number of a numbered list item ("handling 3")
    page: int | None = None
    intent: str | None = None  # knowledge passages: the intent whose written answer this is
    search_text: str = ""  # what the index reads: document title, section and heading with the text
    cited_as: dict[str, str] | None = None  # documents: how an answer names it, by language
    title_en: str | None = None
    publisher: str = ""
    language: str | None = None  # knowledge passages: "da" or "en" (a document's are for any question)

    @property
    def focus_area(self) -> int | None:
        """The section's number (the policy's focus area, "indsats"), if it has one."""
        return self.section.number if self.section else None


def _is_item(line: str) -> re.Match[str] | None:
    return _LIST_ITEM.match(line)


def _is_heading(line: str, rest: list[str]) -> bool:
    if (len(line) > HEADING_MAX_CHARS or len(line.split()) > HEADING_MAX_WORDS
            or line.endswith(_SENTENCE_END) or _is_item(line)):
        return False
    if not rest:
        return True
    following = rest[0]
    return bool(_is_item(following)) or following.endswith((".", "!", "?"))


def _join(lines: list[str]) -> str:
    if all(len(line) < SHORT_LINE and not line.endswith(_SENTENCE_END) for line in lines):
        return "\n".join(lines)
    return " ".join(lines)


def _chunks(lines: list[str]) -> Iterable[tuple[int | None, str]]:
    """(item number or None, text) for a block's lines: each list item, or the paragraph."""
    items: list[tuple[int | None, list[str]]] = []
    for line in lines:
        match = _is_item(line)
        if match:
            number = int(match.group(1)) if match.group(1) else None
            items.append((number, [match.group(2) or match.group(3)]))
        elif items:
            items[-1][1].append(line)
        else:
            items.append((None, [line]))
    for number, parts in items:
        yield number, _join(parts)


def _parts(text: str) -> list[str]:
    """The text, or its sentences in groups of at most MAX_SENTENCES (balanced)."""
    found = sentences(text)
    if len(found) <= MAX_SENTENCES:
        return [text]
    groups = -(-len(found) // MAX_SENTENCES)
    size = -(-len(found) // groups)
    return [" ".join(found[i:i + size]) for i in range(0, len(found), size)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def split(document: Document) -> list[Passage]:
    """The passages of ``document``, in reading order."""
    outline = {s.title: s for s in document.sections}
    section: Section | None = None
    heading: str | None = None
    counter: dict[str, int] = {}
    passages: list[Passage] = []
    for block in re.split(r"\n[ \t\u00a0]*\n", document.text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        while lines:
            if lines[0] in outline:
                section, heading = outline[lines[0]], None
            elif _is_heading(lines[0], lines[1:]):
                if not outline:
                    section = Section(title=lines[0], label={"da": lines[0], "en": lines[0]})
                    heading = None
                else:
                    heading = lines[0]
            else:
                break
            lines = lines[1:]
        for item, chunk in _chunks(lines):
            for part in _parts(chunk):
                key = "0" if section is None else str(section.number or slug(section.title))
                counter[key] = counter.get(key, 0) + 1
                context = " ".join(x for x in (document.title, section.title if section else "", heading or "") if x)
                passages.append(Passage(
                    id=f"{document.id}/{key}/{counter[key]}", kind=DOCUMENT, document_id=document.id,
                    document_kind=document.kind, title=document.title, text=part,
                    source=document.source, verified=document.verified, section=section,
                    heading=heading, item=item, page=section.page if section else None,
                    search_text=f"{context}\n{part}" if context else part,
                    cited_as=document.cited_as, title_en=document.title_en, publisher=document.publisher,
                ))
    return passages


def knowledge_passages(entries: Iterable) -> list[Passage]:
    """Two passages per knowledge entry (``bot.knowledge.Entry``), its Danish and its English title
    and text, each searched by questions in that language; the dialogue answers with the entry
    itself (``intent``)."""
    return [
        Passage(
            id=f"knowledge/{entry.id}/{lang}", kind=KNOWLEDGE, document_id=f"knowledge/{entry.id}",
            document_kind=KNOWLEDGE, title=entry.title["da"], text=entry.text[lang].strip(),
            source=entry.source, verified=entry.verified, intent=entry.intent, title_en=entry.title["en"],
            search_text=f"{entry.title[lang]}\n{entry.text[lang]}", language=lang,
        )
        for entry in entries for lang in ("da", "en")
    ]


def all_passages(*, knowledge_entries: Iterable | None = None, documents: list[Document] | None = None
                 ) -> list[Passage]:
    """Every document's passages, then the knowledge base's (``bot.knowledge.load()`` when
    ``knowledge_entries`` is not given)."""
    if knowledge_entries is None:
        from bot import knowledge

        knowledge_entries = knowledge.load().entries.values()
    found = [p for d in (documents if documents is not None else load_documents()) for p in split(d)]
    return found + knowledge_passages(knowledge_entries)
