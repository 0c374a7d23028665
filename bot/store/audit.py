"""The staff console's append-only audit log: sign-ins, transcript views, annotations,
exports, edits and erasures. Rows are only ever added (the database refuses UPDATE and
DELETE on ``audit_log``); ``detail`` never holds message texts or other personal data.

A line about a conversation names it by a pseudonym, never by its sender id (which is
personal data, e.g. ``telegram:<chat id>``, and could not be erased from an append-only
table): ``pseudonym(sender_id)``, an HMAC-SHA256 keyed with ``AUDIT_KEY`` (kept in
``STATE_DIR/audit-key`` when not set). Callers pass the sender id as ``conversation=``; the
same key finds a conversation's lines again (``recent(conversation=...)``), also after the
conversation was erased. Other targets (booking and callback references, staff names,
content keys) are not about a user and stay readable.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa

from bot import settings
from bot.store import db
from bot.store.models import AuditEntry

#: Actions and their Danish label in the console's audit page.
ACTIONS = {
    "sign_in": "Logget ind",
    "sign_in_failed": "Forkert adgangskode",
    "sign_in_refused": "Log ind afvist (låst eller deaktiveret)",
    "locked": "Log ind standset fra én adresse (for mange forkerte forsøg)",
    "sign_out": "Logget ud",
    "view_transcript": "Læst samtale",
    "review": "Gennemgang",
    "tags": "Mærker",
    "note": "Note",
    "annotate": "Markeret besked",
    "unannotate": "Fjernet markering",
    "export_nlu": "Eksport af NLU-data",
    "export_story": "Eksport af teststory",
    "export_bookings": "Eksport af bookinger",
    "booking_follow_up": "Booking opfølgning",
    "content_edit": "Indhold rettet",
    "content_rollback": "Indhold rullet tilbage",
    "content_writeback": "Indhold skrevet til filer",
    "document_add": "Dokument tilføjet",
    "document_replace": "Dokument: ny version",
    "document_retire": "Dokument trukket tilbage",
    "document_restore": "Dokument gendannet",
    "document_file": "Dokument: filens tekst igen",
    "erase": "Samtale slettet",
    "staff_add": "Medarbejder oprettet",
    "staff_disable": "Medarbejder deaktiveret",
    "staff_password": "Adgangskode skiftet",
    "handover_claim": "Samtale taget",
    "handover_reply": "Svar til bruger",
    "handover_hand_back": "Givet tilbage til chatbotten",
    "handover_close": "Samtale afsluttet",
    "handover_timeout": "Ingen tog samtalen (opringning tilbudt)",
    "handover_idle": "Givet tilbage: medarbejderen svarede ikke længere",
    "handover_user_end": "Brugeren afsluttede samtalen med medarbejderen",
    "callback_status": "Opringning opfølgning",
    "staffed_hours": "Bemanding ændret",
}


@dataclass(frozen=True)
class Line:
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    detail: str | None

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def about_conversation(self) -> bool:
        """Whether ``target`` is a conversation's pseudonym (not its sender id)."""
        return bool(self.target and self.target.startswith(PSEUDONYM_PREFIX))


#: The start of every conversation pseudonym in ``target``.
PSEUDONYM_PREFIX = "samtale:"


def audit_key() -> bytes:
    """The key of the pseudonyms: the same for every process and every start."""
    return settings.kept_secret("AUDIT_KEY", "audit-key").encode()


def pseudonym(sender_id: str, key: bytes | None = None) -> str:
    """The audit log's name for a conversation: ``samtale:`` and 32 hex digits of the
    HMAC-SHA256 of its sender id (128 bits: no two conversations share one in practice)."""
    digest = hmac.new(key or audit_key(), sender_id.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:32]


def record(actor: str, action: str, target: str | None = None, detail: str | None = None,
           url: str | None = None, *, conversation: str | None = None) -> None:
    """Append one line. A line about a conversation gives its sender id as ``conversation``
    (stored as its pseudonym, also where ``detail`` would repeat it); ``target`` is for
    what is not personal (a booking reference, a staff name, an answer's key)."""
    if conversation is not None:
        if target is not None:
            raise ValueError("give either a target or a conversation, not both")
        target = pseudonym(conversation)
        if conversation and detail and conversation in detail:
            detail = detail.replace(conversation, target)
    with db.session(url) as s:
        s.add(AuditEntry(actor=actor[:64], action=action[:32], target=(target or None) and target[:255],
                         detail=detail))


def recent(limit: int = 200, offset: int = 0, actor: str | None = None, action: str | None = None,
           url: str | None = None, conversation: str | None = None) -> list[Line]:
    """The newest lines first, optionally of one actor, action or conversation (sender id)."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if conversation:
        query = query.where(AuditEntry.target == pseudonym(conversation))
    with db.session(url) as s:
        return [Line(r.id, r.at, r.actor, r.action, r.target, r.detail) for r in s.scalars(query)]


def count(action: str, target: str | None = None, url: str | None = None, conversation: str | None = None) -> int:
    """How many lines of ``action`` there are, optionally about one target or conversation."""
    query = sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if conversation is not None:
        query = query.where(AuditEntry.target == pseudonym(conversation))
    with db.session(url) as s:
        return int(s.scalar(query) or 0)
