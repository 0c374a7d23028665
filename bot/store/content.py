"""Corrections of answers and contacts made in the staff console, with their history.

The YAML files in ``data/knowledge`` stay the home of the facts; an edit here overrides one
answer's (or contact's) fields on every instance without retraining: the action server's
``bot.knowledge.default()`` asks ``version()`` every few seconds and applies ``overrides()``
when it changed. Every edit keeps who, when and the values before and after; a rollback is
a new edit back to an earlier edit's "before" values, so the history is never rewritten.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.store import db
from bot.store.models import ContentEdit

ANSWER, CONTACT = "answer", "contact"
KINDS = (ANSWER, CONTACT)
#: The fields staff may change, per kind (flat names, as in the console's forms).
FIELDS = {
    ANSWER: ("text_da", "text_en", "source", "more_sources", "verified"),
    CONTACT: ("email", "phone", "address", "url", "source", "verified"),
}
LABELS = {
    "text_da": "Tekst (dansk)", "text_en": "Tekst (engelsk)", "source": "Kilde (link)",
    "more_sources": "Flere kilder (ét link pr. linje, til sætninger kilden ikke dækker)",
    "verified": "Kontrolleret (dato)", "email": "E-mail", "phone": "Telefon", "address": "Adresse",
    "url": "Link",
}
REQUIRED = {"text_da", "text_en", "source", "verified"}
MAX_TEXT = 4000
URL = re.compile(r"^https?://[^\s<>\"]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ]{8,16}$")

Values = dict[str, str]


class ContentError(ValueError):
    """Values that cannot be published; ``problems`` maps each field to a Danish message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Edit:
    id: int
    kind: str
    key: str
    before: Values | None
    after: Values | None  # None: back to the file's values
    author: str
    comment: str | None
    created_at: dt.datetime

    def changed(self) -> list[tuple[str, str, str]]:
        """(field, before, after) for each field that changed."""
        before, after = self.before or {}, self.after or {}
        return [(f, before.get(f, ""), after.get(f, "")) for f in FIELDS[self.kind]
                if before.get(f, "") != after.get(f, "")]


def check(kind: str, values: dict[str, Any], today: dt.date | None = None) -> Values:
    """The values of a form, cleaned; ``ContentError`` lists what is wrong."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    today = today or dt.date.today()
    cleaned: Values = {}
    problems: dict[str, str] = {}
    for field in FIELDS[kind]:
        text = str(values.get(field) or "").strip().replace("\r\n", "\n")
        if field == "more_sources":
            text = "\n".join(text.split())
        cleaned[field] = text
        if not text:
            if field in REQUIRED:
                problems[field] = "skal udfyldes"
            continue
        if len(text) > MAX_TEXT:
            problems[field] = f"må højst være {MAX_TEXT} tegn"
        elif field in ("source", "url") and not URL.match(text):
            problems[field] = "skal være et link, der begynder med https:// eller http://"
        elif field == "more_sources" and not all(URL.match(line) for line in text.split()):
            problems[field] = "skal være links, der begynder med https:// eller http://, ét pr. linje"
        elif field == "email" and not EMAIL.match(text):
            problems[field] = "er ikke en e-mailadresse"
        elif field == "phone" and not PHONE.match(text):
            problems[field] = "skal være et telefonnummer (cifre og mellemrum, evt. +45)"
        elif field == "verified":
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                problems[field] = "skal være en dato (ÅÅÅÅ-MM-DD)"
            else:
                if day > today:
                    problems[field] = "må ikke ligge i fremtiden"
    if problems:
        raise ContentError(problems)
    return cleaned


def _load(text: str | None) -> Values | None:
    return None if text is None else json.loads(text)


def _edit(row: ContentEdit) -> Edit:
    return Edit(row.id, row.kind, row.key, _load(row.before), _load(row.after), row.author, row.comment,
                row.created_at)


def version(url: str | None = None, engine: sa.engine.Engine | None = None) -> int:
    """The content version: the newest edit's id (0: none). One cheap query."""
    query = sa.select(sa.func.max(ContentEdit.id))
    if engine is not None:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)
    with db.session(url) as s:
        return int(s.scalar(query) or 0)


def overrides(url: str | None = None, engine: sa.engine.Engine | None = None) -> dict[tuple[str, str], Values]:
    """(kind, key) -> values of every item whose newest edit overrides the file."""
    newest = sa.select(sa.func.max(ContentEdit.id)).group_by(ContentEdit.kind, ContentEdit.key)
    query = sa.select(ContentEdit.kind, ContentEdit.key, ContentEdit.after).where(ContentEdit.id.in_(newest))
    if engine is not None:
        with engine.connect() as connection:
            rows = list(connection.execute(query))
    else:
        with db.session(url) as s:
            rows = list(s.execute(query))
    return {(kind, key): json.loads(after) for kind, key, after in rows if after is not None}


def edit(kind: str, key: str, before: Values | None, after: Values | None, author: str,
         comment: str | None = None, url: str | None = None) -> Edit:
    """Record a change; ``after`` None returns the item to its file's values."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    with db.session(url) as s:
        row = ContentEdit(kind=kind, key=key, author=author, comment=(comment or None) and comment[:255],
                          before=None if before is None else json.dumps(before, ensure_ascii=False),
                          after=None if after is None else json.dumps(after, ensure_ascii=False))
        s.add(row)
        s.flush()
        return _edit(row)


def get(edit_id: int, url: str | None = None) -> Edit | None:
    with db.session(url) as s:
        row = s.get(ContentEdit, edit_id)
        return _edit(row) if row else None


def history(kind: str | None = None, key: str | None = None, limit: int = 200,
            url: str | None = None) -> list[Edit]:
    """Edits, newest first (of one item, or all)."""
    query = sa.select(ContentEdit).order_by(ContentEdit.id.desc()).limit(limit)
    if kind:
        query = query.where(ContentEdit.kind == kind)
    if key:
        query = query.where(ContentEdit.key == key)
    with db.session(url) as s:
        return [_edit(r) for r in s.scalars(query)]


def rollback(edit_id: int, current: Values | None, author: str, url: str | None = None) -> Edit:
    """Undo edit ``edit_id``: a new edit from ``current`` back to that edit's "before"."""
    target = get(edit_id, url)
    if target is None:
        raise LookupError(edit_id)
    return edit(target.kind, target.key, current, target.before, author,
                comment=f"rullet tilbage til før ændring #{target.id}", url=url)
