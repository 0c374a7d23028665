"""The knowledge base: sourced answers, contacts and button labels from ``data/knowledge``.

``data/knowledge`` is the one place staff change facts. Every answer entry has Danish and
English text, a source URL and a ``verified`` date; every e-mail address, phone number,
postal address and opening hour lives in ``contacts.yml`` and is rendered from there.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from babel.dates import format_date

from bot import settings, wording

LANGUAGES = ("da", "en")
#: The municipality's general contact, used wherever a specific one is not known yet.
GENERAL_CONTACT = "koege_kommune"
#: The last line of every answer and contact card: "Læs mere: [koege.dk](https://…) (kontrolleret
#: 22. november 2026)". Wording in domain.yml; the link is markdown, which the web widget and the
#: Telegram bridge show as a link with the text only, and plain-text channels show with the URL.
READ_MORE = "utter_knowledge_source"
#: Contact card lines (domain.yml): "E-mail: {email}", "Telefon: {phone}", "Adresse: {address}",
#: and the note shown when a unit has neither e-mail nor phone yet.
CARD_EMAIL = "utter_knowledge_card_email"
CARD_PHONE = "utter_knowledge_card_phone"
CARD_ADDRESS = "utter_knowledge_card_address"
NOT_YET_KNOWN = "utter_knowledge_card_no_direct_contact"
#: "Kontakt: {unit}, {how}" at the end of a topic answer.
CONTACT_LINE = "utter_knowledge_contact_line"
#: Long dates as Danish and English readers write them: "22. november 2026", "22 November 2026".
DATE_PATTERN = {"da": "d. MMMM y", "en": "d MMMM y"}


def long_date(day: dt.date, lang: str) -> str:
    """``day`` in the long form of ``lang`` (Danish month names in lower case)."""
    return format_date(day, DATE_PATTERN[lang], locale=lang)


def site_name(url: str) -> str:
    """The host of ``url`` without "www." ("koege.dk", "sn.dk")."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def source_link(url: str, title: str | None = None) -> str:
    """A markdown link whose text is ``title`` or the site's name; the URL's parentheses and
    spaces are escaped so that the link survives markdown renderers."""
    text = (title or site_name(url)).replace("[", "(").replace("]", ")")
    target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{text}]({target})"


def read_more(url: str, title: str | None, verified: dt.date, lang: str) -> str:
    """The source line that ends answers and contact cards, in ``lang``."""
    return wording.text(READ_MORE, lang, link=source_link(url, title), date=long_date(verified, lang))


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
    source_title: str | None = None  # link text for ``titled_source``; else the site's name
    titled_source: str | None = None  # the URL ``source_title`` names (staff may change ``source``)

    def line(self, lang: str) -> str:
        """One line for the end of a topic answer: the unit and how to reach it."""
        reach = [v for v in (self.email, self.phone) if v] or [v for v in (self.address,) if v]
        return wording.text(CONTACT_LINE, lang, unit=self.name[lang] + (f", {', '.join(reach)}" if reach else ""))

    def card(self, lang: str) -> str:
        """A short contact card: unit, what it handles, e-mail, phone, address, source."""
        lines = [f"{self.name[lang]}: {self.handles[lang]}."]
        if self.email:
            lines.append(wording.text(CARD_EMAIL, lang, email=self.email))
        if self.phone:
            hours = f" ({self.phone_hours[lang]})" if self.phone_hours else ""
            lines.append(wording.text(CARD_PHONE, lang, phone=self.phone) + hours)
        if self.address:
            lines.append(wording.text(CARD_ADDRESS, lang, address=self.address))
        if not (self.email or self.phone):
            lines.append(wording.text(NOT_YET_KNOWN, lang))
        url = self.url or self.source
        title = self.source_title if url == self.titled_source else None
        lines.append(read_more(url, title, self.verified, lang))
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
    source_title: str | None = None  # link text for ``titled_source``; else the site's name
    titled_source: str | None = None  # the URL ``source_title`` names (staff may change ``source``)


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
        title = entry.source_title if entry.titled_source == entry.source else None
        parts = [entry.text[lang].strip(), *(c.line(lang) for c in contacts),
                 read_more(entry.source, title, entry.verified, lang)]
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
                   "keywords": tuple(raw.get("keywords", ())), "titled_source": raw["source"]}
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
                source_title=raw.get("source_title"), titled_source=raw["source"],
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


#: How often (seconds) ``default()`` asks the database whether staff changed content.
CONTENT_CHECK_SECONDS = 2.0
_live: dict[str, Any] = {"files": None, "current": None, "version": None, "checked": float("-inf")}
_live_lock = threading.Lock()


def default() -> Knowledge:
    """The knowledge base from the configured folder (read once per process) with the staff
    console's corrections applied (``bot.store.content``).

    At most every ``CONTENT_CHECK_SECONDS`` it asks the assistant's database for the content
    version (one cheap query) and re-applies the overrides when it changed, so an edit is
    live on every instance within seconds, without retraining or a restart. When the
    database cannot be read, the last known content stays in use.
    """
    with _live_lock:
        if _live["files"] is None:
            _live["files"] = _live["current"] = load()
        now = time.monotonic()
        if now - _live["checked"] >= CONTENT_CHECK_SECONDS:
            _live["checked"] = now
            found = _content_overrides(_live["version"])
            if found is not None:
                _live["version"], overrides = found
                _live["current"] = apply_overrides(_live["files"], overrides)
        return _live["current"]


def _reset_default() -> None:
    """Forget the loaded files and overrides (tests; the next ``default()`` reads again)."""
    with _live_lock:
        _live.update(files=None, current=None, version=None, checked=float("-inf"))


default.cache_clear = _reset_default  # type: ignore[attr-defined]  # as when it was an lru_cache


def _content_overrides(known: int | None) -> tuple[int, dict[tuple[str, str], dict[str, str]]] | None:
    """(version, overrides) when the content version differs from ``known``; else None."""
    import sqlalchemy as sa

    from bot.store import content, db

    url = db.database_url()
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return None  # nothing stored yet (and no empty database file created)
    try:
        engine = db.engine()
        found = content.version(engine=engine)
        if found == known:
            return None
        return found, (content.overrides(engine=engine) if found else {})
    except sa.exc.SQLAlchemyError:
        return None  # no content table yet, or the database is away: keep what we have


def editable_values(kb: Knowledge, kind: str, key: str) -> dict[str, str]:
    """The fields staff may change of an answer (``kind`` "answer", ``key`` its intent) or a
    contact ("contact", its id), as text (the console's form and the edit history)."""
    if kind == "answer":
        entry = kb.entries[key]
        return {"text_da": entry.text["da"].strip(), "text_en": entry.text["en"].strip(),
                "source": entry.source, "verified": entry.verified.isoformat()}
    contact = kb.contacts[key]
    return {"email": contact.email or "", "phone": contact.phone or "", "address": contact.address or "",
            "url": contact.url or "", "source": contact.source, "verified": contact.verified.isoformat()}


def apply_overrides(kb: Knowledge, overrides: dict[tuple[str, str], dict[str, str]]) -> Knowledge:
    """A copy of ``kb`` with staff's corrections: (kind, key) -> field values (see
    ``editable_values``). Overrides of answers or contacts no longer in the files are ignored."""
    entries, contacts = dict(kb.entries), dict(kb.contacts)
    for (kind, key), values in overrides.items():
        if kind == "answer" and key in entries:
            entry = entries[key]
            entries[key] = replace(
                entry, text={"da": values.get("text_da") or entry.text["da"],
                             "en": values.get("text_en") or entry.text["en"]},
                source=values.get("source") or entry.source,
                verified=_date(values.get("verified") or entry.verified, f"override {key}"))
        elif kind == "contact" and key in contacts:
            contact = contacts[key]
            contacts[key] = replace(
                contact, email=values.get("email") or None, phone=values.get("phone") or None,
                address=values.get("address") or None, url=values.get("url") or None,
                source=values.get("source") or contact.source,
                verified=_date(values.get("verified") or contact.verified, f"override {key}"))
    return Knowledge(entries=entries, contacts=contacts, labels=kb.labels, citizen_words=kb.citizen_words)
