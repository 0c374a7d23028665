"""The staff console's append-only audit log: sign-ins, transcript views, annotations,
exports, edits and erasures. Rows are only ever added (the database refuses UPDATE and
DELETE on ``audit_log``); ``detail`` never holds message texts or other personal data."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from bot.store import db
from bot.store.models import AuditEntry

#: Actions and their Danish label in the console's audit page.
ACTIONS = {
    "sign_in": "Logget ind",
    "sign_in_failed": "Forkert adgangskode",
    "sign_in_refused": "Log ind afvist (låst eller deaktiveret)",
    "locked": "Konto låst",
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
    "erase": "Samtale slettet",
    "staff_add": "Medarbejder oprettet",
    "staff_disable": "Medarbejder deaktiveret",
    "staff_password": "Adgangskode skiftet",
    "handover_claim": "Samtale taget",
    "handover_reply": "Svar til bruger",
    "handover_hand_back": "Givet tilbage til chatbotten",
    "handover_close": "Samtale afsluttet",
    "handover_timeout": "Ingen tog samtalen (opringning tilbudt)",
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


def record(actor: str, action: str, target: str | None = None, detail: str | None = None,
           url: str | None = None) -> None:
    """Append one line."""
    with db.session(url) as s:
        s.add(AuditEntry(actor=actor[:64], action=action[:32], target=(target or None) and target[:255],
                         detail=detail))


def recent(limit: int = 200, offset: int = 0, actor: str | None = None, action: str | None = None,
           url: str | None = None) -> list[Line]:
    """The newest lines first, optionally of one actor or action."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    with db.session(url) as s:
        return [Line(r.id, r.at, r.actor, r.action, r.target, r.detail) for r in s.scalars(query)]


def count(action: str, target: str | None = None, url: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    with db.session(url) as s:
        return int(s.scalar(query) or 0)
