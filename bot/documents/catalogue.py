"""The municipality's documents in ``data/documents``: one metadata file (``<id>.yml``) per
document beside its text.

The metadata gives what an answer must name: the title (Danish, and an English description
for English framing), how an answer cites it in each language, the publisher, the source URL and the date the text was last checked
against it, its kind (``policy_draft``, ``article``, …), and the outline: the titles of its
sections in order, with a number and the page they start on where the document has them. A
line of the text equal to a section title starts that section (``bot.documents.passages``).

The text is plain text as any extractor gives it (a cleaned copy of a web page or PDF):
blocks separated by blank lines, headings on lines of their own, list items as "1. …".

Staff keep documents current in the console (``bot.store.documents``): a stored document with
the id of a file's document replaces it, a new id adds one, a retired one is not answered from.
``live_documents`` merges the files with what is stored; ``stored_document`` builds one.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.settings import ROOT

logger = logging.getLogger(__name__)

DOCUMENTS_DIR = ROOT / "data" / "documents"
LANGUAGES = ("da", "en")
#: What kinds of document there are; the wording of an answer's introduction depends on it.
KINDS = ("policy_draft", "policy", "article")


class DocumentError(ValueError):
    """A document's metadata is incomplete or does not fit its text."""


@dataclass(frozen=True)
class Section:
    """One part of a document's outline (a focus area of the policy, a part of the article)."""

    title: str
    label: dict[str, str]  # how answers name it, by language ("indsats 4: …", "Om Connect Køge")
    number: int | None = None
    page: int | None = None
    #: the intents whose written answers (data/knowledge) cover this section: an intent answer
    #: and a quote from this section are about the same topic
    intents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    id: str
    kind: str
    title: str  # Danish, as the document names itself
    title_en: str
    cited_as: dict[str, str]  # how an answer names it, by language ("Køge Kommunes udkast til …")
    publisher: str
    source: str
    verified: dt.date
    sections: tuple[Section, ...]
    text: str
    language: str = "da"


def _label(raw: dict[str, Any], numbered: dict[str, str] | None) -> dict[str, str]:
    if raw.get("label"):
        return {lang: raw["label"][lang] for lang in LANGUAGES}
    if raw.get("number") is not None and numbered:
        return {lang: numbered[lang].format(number=raw["number"], title=raw["title"]) for lang in LANGUAGES}
    return {lang: raw["title"] for lang in LANGUAGES}


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as err:
        raise DocumentError(f"{where}: verified is not a date: {value!r}") from err


def load_document(meta_path: Path) -> Document:
    """One document from its metadata file and the text file it names."""
    where = meta_path.name
    raw = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    missing = [k for k in ("id", "kind", "title", "title_en", "cited_as", "publisher", "source", "verified",
                           "text") if not raw.get(k)]
    if missing:
        raise DocumentError(f"{where}: missing {', '.join(missing)}")
    if raw["kind"] not in KINDS:
        raise DocumentError(f"{where}: kind must be one of {KINDS}, not {raw['kind']!r}")
    if set(raw["cited_as"]) != set(LANGUAGES):
        raise DocumentError(f"{where}: cited_as needs exactly {LANGUAGES}")
    if not str(raw["source"]).startswith("https://"):
        raise DocumentError(f"{where}: source must be an https URL")
    numbered = raw.get("section_label")
    sections = tuple(
        Section(title=s["title"], label=_label(s, numbered), number=s.get("number"), page=s.get("page"),
                intents=tuple(s.get("intents") or ()))
        for s in raw.get("sections") or ()
    )
    text = (meta_path.parent / raw["text"]).read_text(encoding="utf-8")
    lines = {line.strip() for line in text.splitlines()}
    absent = [s.title for s in sections if s.title not in lines]
    if absent:
        raise DocumentError(f"{where}: section titles not found as lines of the text: {absent}")
    return Document(
        id=raw["id"], kind=raw["kind"], title=raw["title"], title_en=raw["title_en"],
        cited_as={lang: raw["cited_as"][lang] for lang in LANGUAGES}, publisher=raw["publisher"], source=raw["source"], verified=_date(raw["verified"], where),
        sections=sections, text=text, language=raw.get("language", "da"),
    )


def load_documents(directory: Path = DOCUMENTS_DIR) -> list[Document]:
    """Every document in ``directory`` (each ``*.yml`` is one document's metadata)."""
    documents = [load_document(path) for path in sorted(directory.glob("*.yml"))]
    ids = [d.id for d in documents]
    if len(ids) != len(set(ids)):
        raise DocumentError(f"{directory}: a document id is used twice: {ids}")
    return documents


def stored_document(doc_id: str, *, kind: str, title: str, source: str, verified: dt.date, text: str,
                    sections: tuple[str, ...] = (), title_en: str | None = None, publisher: str | None = None,
                    base: Document | None = None) -> Document:
    """A document staff stored in the console. ``base``: the file's document of the same id it
    replaces; its sections of the same title keep their number, page, label and intents, and
    its ``cited_as``, English title and publisher stay while the title is unchanged."""
    if kind not in KINDS:
        raise DocumentError(f"{doc_id}: kind must be one of {KINDS}, not {kind!r}")
    if not source.startswith("https://"):
        raise DocumentError(f"{doc_id}: source must be an https URL")
    lines = {line.strip() for line in text.splitlines()}
    absent = [title for title in sections if title not in lines]
    if absent:
        raise DocumentError(f"{doc_id}: section titles not found as lines of the text: {absent}")
    known = {s.title: s for s in base.sections} if base else {}
    same = base is not None and base.title == title
    title_en = title_en or (base.title_en if same else "") or title
    return Document(
        id=doc_id, kind=kind, title=title, title_en=title_en,
        cited_as=dict(base.cited_as) if same else {"da": title, "en": title_en},
        publisher=publisher or (base.publisher if base else "Køge Kommune"), source=source, verified=verified,
        sections=tuple(known.get(t) or Section(title=t, label={lang: t for lang in LANGUAGES}) for t in sections),
        text=text, language=base.language if base else "da",
    )


def live_documents(files: list[Document], stored: Mapping[str, Any]) -> list[Document]:
    """The documents answered from: the files' (``load_documents``), each replaced by its
    stored version (``bot.store.documents.Stored``) if it has one with a text, then the stored
    documents the files do not have; retired ones left out. A stored version that does not
    build (it was checked when it was saved) is logged and skipped: the file's stays."""
    found: list[Document] = []
    ids = {d.id for d in files}
    for document in files:
        state = stored.get(document.id)
        if state is not None and state.retired:
            continue
        found.append(build(state, document) if state is not None and state.text is not None else document)
    for doc_id, state in stored.items():
        if doc_id not in ids and not state.retired and state.text is not None:
            built = build(state, None)
            if built is not None:
                found.append(built)
    return found


def build(state: Any, base: Document | None) -> Document | None:
    """The document of a stored version with a text (``base``: the file's of the same id), or
    ``base`` when it does not build."""
    try:
        return stored_document(state.doc_id, kind=state.kind, title=state.title, source=state.source,
                               verified=state.verified, text=state.text, sections=tuple(state.sections),
                               title_en=state.title_en, publisher=state.publisher, base=base)
    except (DocumentError, TypeError, AttributeError) as err:
        logger.warning("stored document %s version %s not used: %s", state.doc_id, state.id, err)
        return base
