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

import yaml

from bot import answers, settings, wording
from bot.answers import long_date, site_name, source_link  # noqa: F401 - also used as knowledge.*

LANGUAGES = answers.LANGUAGES
#: The municipality's general contact: the way to reach its units that have no direct line yet.
GENERAL_CONTACT = "koege_kommune"
#: Contact card lines (domain.yml): "E-mail: {email}", "Telefon: {phone}", "Adresse: {address}",
#: and the note shown when a unit has neither e-mail nor phone yet. A card ends with the source
#: line of answers ("Kilde: [koege.dk](https://…) (kontrolleret 22. november 2026)").
CARD_EMAIL = "utter_knowledge_card_email"
CARD_PHONE = "utter_knowledge_card_phone"
CARD_ADDRESS = "utter_knowledge_card_address"
NOT_YET_KNOWN = "utter_knowledge_card_no_direct_contact"


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
    municipal: bool = False  # a unit of Køge Kommune: reached through the general contact when it has no line
    part_of: str | None = None  # the unit this one belongs to (its id): the look-up prefers the part
    more_sources: tuple[str, ...] = ()  # the sources of fields ``source`` does not back

    def item(self, lang: str) -> answers.Contact:
        """The contact as it stands under an answer."""
        return answers.Contact(name=self.name[lang], email=self.email, phone=self.phone,
                               phone_hours=self.phone_hours[lang] if self.phone_hours else None,
                               address=self.address, url=self.url)

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
        more = tuple(u for u in (self.source, *self.more_sources) if u != url)
        lines.append(answers.source_line(answers.Source(url, self.verified, title, more=more), lang))
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
    more_sources: tuple[str, ...] = ()  # the sources of sentences ``source`` does not back


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

    def answer(self, intent: str, lang: str) -> tuple[answers.Answer, list[dict]]:
        """The answer and its buttons for a topic intent, in ``lang``."""
        entry = self.entries[intent]
        buttons = [self.button(intent, lang) for intent in entry.buttons]
        if entry.missing and "request_human" in self.labels and "request_human" not in entry.buttons:
            buttons.append(self.button("request_human", lang))  # Køge has still to supply a fact
        title = entry.source_title if entry.titled_source == entry.source else None
        return answers.Answer(
            body=entry.text[lang].strip(),
            source=answers.Source(entry.source, entry.verified, title, more=entry.more_sources),
            language=lang, contacts=tuple(c.item(lang) for c in self.contacts_for(entry))), buttons

    def said(self, intent: str, lang: str) -> str:
        """What the answer to ``intent`` tells the user: its text and contact lines, not its
        source line (whose date is no answer to "when")."""
        answer, _ = self.answer(intent, lang)
        return "\n".join([answer.body, *(answers.contact_line(c, lang) for c in answer.contacts)])

    def contacts_for(self, entry: Entry) -> list[Contact]:
        """The contacts under an answer: the entry's own, in its order and once each. When Køge
        has still to supply a fact (``missing``) and the topic is the municipality's (one of its
        units is named) but none of them has a direct line yet, the units that cannot be reached
        give way to the municipality's general contact. A topic only others handle (a national
        grant through Erhvervshus Sjælland) never gets the municipality's address."""
        contacts = [self.contacts[contact_id] for contact_id in dict.fromkeys(entry.contacts)]
        general = self.contacts.get(GENERAL_CONTACT)
        if not entry.missing or general is None or any(c.email or c.phone for c in contacts):
            return contacts
        if not any(c.municipal or c.id == GENERAL_CONTACT for c in contacts):
            return contacts
        kept = [c for c in contacts if c.address and c.id != GENERAL_CONTACT]
        return [*kept, general]


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


def _urls(values: Any, where: str) -> tuple[str, ...]:
    """A list of links (``more_sources``), as ``source``: https:// (or http:// where a site has no other)."""
    if isinstance(values, str) or not all(isinstance(v, str) and v.startswith(("https://", "http://"))
                                          for v in values):
        raise KnowledgeError(f"{where}: more_sources must be a list of links (https://, or http://)")
    return tuple(values)


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
                   "keywords": tuple(raw.get("keywords", ())), "titled_source": raw["source"],
                   "more_sources": _urls(raw.get("more_sources") or (), where)}
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
                more_sources=_urls(raw.get("more_sources") or (), where),
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
    for contact in kb.contacts.values():
        if contact.part_of is not None and contact.part_of not in kb.contacts:
            raise KnowledgeError(f"contact {contact.id}: part of unknown contact {contact.part_of!r}")


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
                "source": entry.source, "more_sources": "\n".join(entry.more_sources),
                "verified": entry.verified.isoformat()}
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
                more_sources=(tuple(values["more_sources"].split()) if "more_sources" in values
                              else entry.more_sources),
                verified=_date(values.get("verified") or entry.verified, f"override {key}"))
        elif kind == "contact" and key in contacts:
            contact = contacts[key]
            contacts[key] = replace(
                contact, email=values.get("email") or None, phone=values.get("phone") or None,
                address=values.get("address") or None, url=values.get("url") or None,
                source=values.get("source") or contact.source,
                verified=_date(values.get("verified") or contact.verified, f"override {key}"))
    return Knowledge(entries=entries, contacts=contacts, labels=kb.labels, citizen_words=kb.citizen_words)
