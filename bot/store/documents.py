"""Documents staff keep current in the console: added, replaced, retired and restored, with
their history.

The files in ``data/documents`` stay the base (``bot.documents.catalogue``). A document stored
here with the id of a file's document replaces it; a new id adds one; ``retired`` hides either
from the answers until it is restored. Every change is a new row (``DocumentVersion``): the
newest row of a document is its state, the older ones its history, so nothing is rewritten.

Every process answering from documents asks ``version()`` (one cheap query: the newest row's
id) every few seconds and rebuilds its index when it changed (``bot.documents.answer``), so a
document added in the console is answered from within a minute, without a restart.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.documents.catalogue import KINDS
from bot.store import db
from bot.store.models import DocumentVersion

ADD, REPLACE, RETIRE, RESTORE, FILE = "add", "replace", "retire", "restore", "file"
ACTIONS = (ADD, REPLACE, RETIRE, RESTORE, FILE)
#: What the text of a version was extracted from.
ORIGINS = ("txt", "html", "pdf", "paste")
#: The most characters of a document's text (a 5 MB PDF gives far less text than this).
MAX_TEXT = 2_000_000
MAX_TITLE = 255
MAX_SECTIONS = 200
ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
HTTPS = re.compile(r"^https://[^\s<>\"]+$")
DEFAULT_PUBLISHER = "Køge Kommune"
#: The form's fields and their Danish names (the console's error messages name them).
LABELS = {
    "title": "Titel", "title_en": "Titel på engelsk", "publisher": "Udgiver", "source": "Kilde (link)",
    "verified": "Kontrolleret (dato)", "kind": "Slags", "sections": "Afsnit", "text": "Tekst", "file": "Fil",
}
#: Danish names of the kinds (catalogue.KINDS).
KIND_LABELS = {"policy_draft": "Udkast til politik", "policy": "Politik", "article": "Artikel"}


class DocumentFormError(ValueError):
    """Values that cannot be stored; ``problems`` maps each field to a Danish message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Meta:
    """What staff give about a document besides its text."""

    title: str
    source: str
    verified: dt.date
    kind: str
    title_en: str = ""
    publisher: str = DEFAULT_PUBLISHER
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stored:
    """One version of a document (the newest one is its state)."""

    id: int
    doc_id: str
    action: str
    retired: bool
    author: str
    created_at: dt.datetime
    text: str | None = None  # None: the file's version
    kind: str | None = None
    title: str | None = None
    title_en: str | None = None
    publisher: str | None = None
    source: str | None = None
    verified: dt.date | None = None
    sections: tuple[str, ...] = ()
    origin: str | None = None
    filename: str | None = None
    comment: str | None = None

    @property
    def meta(self) -> Meta | None:
        if self.text is None or not (self.title and self.source and self.verified and self.kind):
            return None
        return Meta(title=self.title, source=self.source, verified=self.verified, kind=self.kind,
                    title_en=self.title_en or "", publisher=self.publisher or DEFAULT_PUBLISHER,
                    sections=self.sections)


def check(values: dict[str, Any], today: dt.date | None = None) -> Meta:
    """The metadata of a form, cleaned; ``DocumentFormError`` lists what is wrong (in Danish)."""
    today = today or dt.date.today()
    text = {k: str(values.get(k) or "").strip() for k in ("title", "title_en", "publisher", "source",
                                                           "verified", "kind")}
    problems: dict[str, str] = {}
    for field in ("title", "title_en", "publisher"):
        if len(text[field]) > MAX_TITLE:
            problems[field] = f"må højst være {MAX_TITLE} tegn"
    if not text["title"]:
        problems["title"] = "skal udfyldes"
    if not text["source"]:
        problems["source"] = "skal udfyldes: linket til dokumentet, som svarene henviser til"
    elif not HTTPS.match(text["source"]) or len(text["source"]) > 1000:
        problems["source"] = "skal være et link, der begynder med https://"
    verified = None
    if not text["verified"]:
        problems["verified"] = "skal udfyldes: den dag, teksten sidst blev sammenholdt med kilden"
    else:
        try:
            verified = dt.date.fromisoformat(text["verified"])
        except ValueError:
            problems["verified"] = "skal være en dato (ÅÅÅÅ-MM-DD)"
        else:
            if verified > today:
                problems["verified"] = "må ikke ligge i fremtiden"
    if text["kind"] not in KINDS:
        problems["kind"] = "skal vælges: " + ", ".join(KIND_LABELS[k].lower() for k in KINDS)
    sections = tuple(dict.fromkeys(line.strip() for line in str(values.get("sections") or "").splitlines()
                                   if line.strip()))
    if len(sections) > MAX_SECTIONS:
        problems["sections"] = f"højst {MAX_SECTIONS} afsnit"
    elif any(len(s) > MAX_TITLE for s in sections):
        problems["sections"] = f"en afsnitstitel må højst være {MAX_TITLE} tegn"
    if problems:
        raise DocumentFormError(problems)
    assert verified is not None
    return Meta(title=text["title"], source=text["source"], verified=verified, kind=text["kind"],
                title_en=text["title_en"], publisher=text["publisher"] or DEFAULT_PUBLISHER, sections=sections)


def check_sections(text: str, sections: tuple[str, ...]) -> None:
    """Every section title must be a line of the text (a line equal to it starts the section)."""
    lines = {line.strip() for line in text.splitlines()}
    absent = [s for s in sections if s not in lines]
    if absent:
        names = ", ".join(f"»{s}«" for s in absent[:5]) + (" …" if len(absent) > 5 else "")
        raise DocumentFormError({"sections": "skal hver stå som en linje for sig i teksten; det gør "
                                             f"{names} ikke. Ret titlen, eller lad feltet stå tomt, så "
                                             "afsnittene findes ud fra overskrifterne."})


def _stored(row: DocumentVersion) -> Stored:
    return Stored(id=row.id, doc_id=row.doc_id, action=row.action, retired=bool(row.retired), author=row.author,
                  created_at=row.created_at, text=row.text, kind=row.kind, title=row.title,
                  title_en=row.title_en, publisher=row.publisher, source=row.source, verified=row.verified,
                  sections=tuple(json.loads(row.sections)) if row.sections else (), origin=row.origin,
                  filename=row.filename, comment=row.comment)


def version(url: str | None = None, engine: sa.engine.Engine | None = None) -> int:
    """The documents' version: the newest row's id (0: none). One cheap query."""
    query = sa.select(sa.func.max(DocumentVersion.id))
    if engine is not None:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)
    with db.session(url) as s:
        return int(s.scalar(query) or 0)


def current(url: str | None = None, engine: sa.engine.Engine | None = None) -> dict[str, Stored]:
    """doc_id -> the newest version of every document stored here."""
    newest = sa.select(sa.func.max(DocumentVersion.id)).group_by(DocumentVersion.doc_id)
    query = sa.select(DocumentVersion).where(DocumentVersion.id.in_(newest))
    if engine is not None:
        with Session(engine) as s:
            return {row.doc_id: _stored(row) for row in s.scalars(query)}
    with db.session(url) as s:
        return {row.doc_id: _stored(row) for row in s.scalars(query)}


def get(doc_id: str, url: str | None = None) -> Stored | None:
    """The newest version of one document, or None."""
    query = (sa.select(DocumentVersion).where(DocumentVersion.doc_id == doc_id)
             .order_by(DocumentVersion.id.desc()).limit(1))
    with db.session(url) as s:
        row = s.scalars(query).first()
        return _stored(row) if row else None


def history(doc_id: str | None = None, limit: int = 100, url: str | None = None) -> list[Stored]:
    """Versions, newest first (of one document, or all)."""
    query = sa.select(DocumentVersion).order_by(DocumentVersion.id.desc()).limit(limit)
    if doc_id:
        query = query.where(DocumentVersion.doc_id == doc_id)
    with db.session(url) as s:
        return [_stored(r) for r in s.scalars(query)]


def _write(state: Stored, url: str | None) -> Stored:
    if state.action not in ACTIONS:
        raise ValueError(f"unknown action {state.action!r}")
    if not ID.match(state.doc_id):
        raise ValueError(f"not a document id: {state.doc_id!r}")
    if state.text is not None and len(state.text) > MAX_TEXT:
        raise DocumentFormError({"text": f"er for lang (højst {MAX_TEXT:,} tegn)".replace(",", ".")})
    with db.session(url) as s:
        row = DocumentVersion(
            doc_id=state.doc_id, action=state.action, kind=state.kind, title=state.title, title_en=state.title_en,
            publisher=state.publisher, source=state.source, verified=state.verified,
            sections=json.dumps(list(state.sections), ensure_ascii=False) if state.sections else None,
            text=state.text, origin=state.origin, filename=(state.filename or None) and state.filename[:255],
            retired=state.retired, author=state.author[:64], comment=(state.comment or None) and state.comment[:255])
        s.add(row)
        s.flush()
        return _stored(row)


def save(doc_id: str, meta: Meta, text: str, author: str, *, origin: str = "paste", filename: str | None = None,
         comment: str | None = None, url: str | None = None) -> Stored:
    """Store a new version of ``doc_id``'s text and metadata: ``add`` when it has none here
    yet, else ``replace`` (a retired document stays retired)."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    before = get(doc_id, url)
    return _write(Stored(
        id=0, doc_id=doc_id, action=REPLACE if before else ADD, retired=bool(before and before.retired),
        author=author, created_at=dt.datetime.now(), text=text, kind=meta.kind, title=meta.title,
        title_en=meta.title_en or None, publisher=meta.publisher, source=meta.source, verified=meta.verified,
        sections=meta.sections, origin=origin, filename=filename, comment=comment), url)


def set_retired(doc_id: str, retired: bool, author: str, comment: str | None = None,
                url: str | None = None) -> Stored:
    """Retire (hide from the answers) or restore a document, of the files or stored here."""
    before = get(doc_id, url) or Stored(id=0, doc_id=doc_id, action=ADD, retired=False, author=author,
                                        created_at=dt.datetime.now())
    return _write(replace(before, action=RETIRE if retired else RESTORE, retired=retired, author=author,
                          comment=comment), url)


def back_to_file(doc_id: str, author: str, url: str | None = None) -> Stored:
    """A document of the files answers from its file again (the stored text is set aside)."""
    before = get(doc_id, url)
    return _write(Stored(id=0, doc_id=doc_id, action=FILE, retired=bool(before and before.retired), author=author,
                         created_at=dt.datetime.now(), comment="tilbage til filens tekst"), url)
