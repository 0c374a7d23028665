"""The knowledge base: sourced answers, contacts and button labels from ``data/knowledge``.

``data/knowledge`` is the one place staff change facts. Every answer entry has Danish and
English text, a source URL and a ``verified`` date; every e-mail address, phone number,
postal address and opening hour lives in ``contacts.yml`` and is rendered from there.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import settings

LANGUAGES = ("da", "en")
#: The municipality's general contact, used wherever a specific one is not known yet.
GENERAL_CONTACT = "koege_kommune"
READ_MORE = {"da": "Læs mere: {url} (kontrolleret {date})", "en": "Read more: {url} (verified {date})"}
CONTACT_LABELS = {
    "da": {"email": "E-mail", "phone": "Telefon", "address": "Adresse", "link": "Link"},
    "en": {"email": "E-mail", "phone": "Phone", "address": "Address", "link": "Link"},
}
CONTACT_LINE = {"da": "Kontakt", "en": "Contact"}
NOT_YET_KNOWN = {
    "da": "Direkte telefon og e-mail er endnu ikke oplyst her. Skriv til kommunen via den generelle kontakt, eller bed om at blive kontaktet.",
    "en": "A direct phone number and e-mail are not listed here yet. Use the general contact, or ask to be contacted.",
}


class KnowledgeError(ValueError):
    """A knowledge file is missing a required field or refers to something unknown."""


@dataclass(frozen=True)
class Contact:
    id: str
    name: dict[str, str]
    handles: dict[str, str]
    source: str
    verified: dt.date
    email: str | None = None
    phone: str | None = None
    phone_hours: dict[str, str] | None = None
    address: str | None = None
    url: str | None = None
    cvr: str | None = None
    missing: str | None = None
    keywords: tuple[str, ...] = ()

    def line(self, lang: str) -> str:
        """One line for the end of a topic answer: the unit and how to reach it."""
        reach = [v for v in (self.email, self.phone) if v] or [v for v in (self.address,) if v]
        label = CONTACT_LINE[lang]
        return f"{label}: {self.name[lang]}" + (f", {', '.join(reach)}" if reach else "")

    def card(self, lang: str) -> str:
        """A short contact card: unit, what it handles, e-mail, phone, address, source."""
        labels = CONTACT_LABELS[lang]
        lines = [f"{self.name[lang]}: {self.handles[lang]}."]
        if self.email:
            lines.append(f"{labels['email']}: {self.email}")
        if self.phone:
            hours = f" ({self.phone_hours[lang]})" if self.phone_hours else ""
            lines.append(f"{labels['phone']}: {self.phone}{hours}")
        if self.address:
            lines.append(f"{labels['address']}: {self.address}")
        if not (self.email or self.phone):
            lines.append(NOT_YET_KNOWN[lang])
        lines.append(READ_MORE[lang].format(url=self.url or self.source, date=self.verified.isoformat()))
        return "\n".join(lines)


@dataclass(frozen=True)
class Entry:
    id: str
    intent: str
    title: dict[str, str]
    text: dict[str, str]
    source: str
    verified: dt.date
    time_sensitive: bool = False
    contacts: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()  # intents
    missing: str | None = None


@dataclass
class Knowledge:
    entries: dict[str, Entry] = field(default_factory=dict)  # by intent
    contacts: dict[str, Contact] = field(default_factory=dict)  # by id
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # intent -> title
    citizen_words: tuple[str, ...] = ()  # mark an out-of-scope question as a citizen matter

    def title(self, intent: str, lang: str) -> str:
        if intent in self.entries:
            return self.entries[intent].title[lang]
        if intent in self.labels:
            return self.labels[intent][lang]
        raise KnowledgeError(f"no title for intent {intent!r}")

    def button(self, intent: str, lang: str) -> dict:
        return {"title": self.title(intent, lang), "payload": f"/{intent}"}

    def answer(self, intent: str, lang: str) -> tuple[str, list[dict]]:
        """The reply text and buttons for a topic intent, in ``lang``."""
        entry = self.entries[intent]
        contacts = [self.contacts[contact_id] for contact_id in entry.contacts]
        buttons = [self.button(intent, lang) for intent in entry.buttons]
        if entry.missing:  # Køge has still to supply a fact: route to the municipality and a person
            if not any(c.email or c.phone for c in contacts) and GENERAL_CONTACT in self.contacts:
                contacts = [c for c in contacts if c.address] + [self.contacts[GENERAL_CONTACT]]
            if "request_human" in self.labels and "request_human" not in entry.buttons:
                buttons.append(self.button("request_human", lang))
        parts = [entry.text[lang].strip(), *(c.line(lang) for c in contacts),
                 READ_MORE[lang].format(url=entry.source, date=entry.verified.isoformat())]
        return "\n\n".join(parts), buttons


def _require(raw: dict, keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if not raw.get(k)]
    if missing:
        raise KnowledgeError(f"{where}: missing {', '.join(missing)}")
    for key in ("title", "text", "name", "handles"):
        if key in raw and set(raw[key]) != set(LANGUAGES):
            raise KnowledgeError(f"{where}: {key} needs exactly {LANGUAGES}")


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as err:
        raise KnowledgeError(f"{where}: verified is not a date: {value!r}") from err


def load(directory: Path | None = None) -> Knowledge:
    """Read and check every file in the knowledge folder."""
    directory = directory or settings.knowledge_dir()
    kb = Knowledge()
    for path in sorted(directory.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in doc.get("contacts", []):
            where = f"{path.name}: contact {raw.get('id')}"
            _require(raw, ("id", "name", "handles", "source", "verified"), where)
            kb.contacts[raw["id"]] = Contact(
                **{**raw, "verified": _date(raw["verified"], where),
                   "keywords": tuple(raw.get("keywords", ()))}
            )
        for raw in doc.get("entries", []):
            where = f"{path.name}: entry {raw.get('id')}"
            _require(raw, ("id", "intent", "title", "text", "source", "verified"), where)
            if raw["intent"] in kb.entries:
                raise KnowledgeError(f"{where}: intent {raw['intent']} answered twice")
            kb.entries[raw["intent"]] = Entry(
                id=raw["id"], intent=raw["intent"], title=raw["title"], text=raw["text"],
                source=raw["source"], verified=_date(raw["verified"], where),
                time_sensitive=bool(raw.get("time_sensitive")),
                contacts=tuple(raw.get("contacts", ())),
                buttons=tuple(b["intent"] for b in raw.get("buttons", ())),
                missing=raw.get("missing"),
            )
        kb.labels.update(doc.get("labels", {}))
        kb.citizen_words += tuple(doc.get("citizen_words", ()))
    _check_references(kb)
    return kb


def _check_references(kb: Knowledge) -> None:
    for entry in kb.entries.values():
        for contact_id in entry.contacts:
            if contact_id not in kb.contacts:
                raise KnowledgeError(f"entry {entry.id}: unknown contact {contact_id!r}")
        for intent in entry.buttons:
            if intent not in kb.entries and intent not in kb.labels:
                raise KnowledgeError(f"entry {entry.id}: button to unknown intent {intent!r}")


@lru_cache(maxsize=1)
def default() -> Knowledge:
    """The knowledge base from the configured folder, loaded once per process."""
    return load()
