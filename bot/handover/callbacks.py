"""Callback requests: "ring mig op" outside staffed hours, or by choice.

A request is stored with a reference for the user (``OR-2026-7QH4KM``) and, in the same
transaction, an e-mail to ``STAFF_EMAIL`` in the outbox (``bot.booking.notify`` sends it,
retrying while the mail server is down). Staff follow it up in the console: new, in
progress, done.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot import settings, wording
from bot.booking.service import new_reference
from bot.handover.schedule import TZ
from bot.store import db
from bot.store.models import CALLBACK_STATES, CallbackRequest, Notification, utcnow

PREFIX = "OR"  # opringning
#: Danish labels of the states, for the console.
STATES = {"new": "Ny", "in_progress": "I gang", "done": "Færdig"}
assert tuple(STATES) == CALLBACK_STATES
LIMITS = {"name": 255, "phone": 32, "email": 255, "topic": 1000, "time_window": 255}


class InvalidCallback(ValueError):
    """A field too long, or neither phone nor e-mail."""

    def __init__(self, field: str, limit: int = 0) -> None:
        super().__init__(field)
        self.field, self.limit = field, limit


@dataclass(frozen=True)
class CallbackDetails:
    sender_id: str
    name: str
    topic: str
    time_window: str
    phone: str | None = None
    email: str | None = None
    cvr: str | None = None
    language: str = "da"

    def check(self) -> None:
        if not (self.phone or self.email):
            raise InvalidCallback("contact")
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if value and len(value) > limit:
                raise InvalidCallback(name, limit)


def create(details: CallbackDetails, url: str | None = None, attempts: int = 3) -> CallbackRequest:
    """Store the request (the user has agreed to be contacted) and queue staff's e-mail."""
    details.check()
    for attempt in range(attempts):
        try:
            with db.session(url) as s:
                row = CallbackRequest(
                    reference=new_reference(dt.date.today().year, PREFIX), sender_id=details.sender_id,
                    name=details.name, phone=details.phone, email=details.email, cvr=details.cvr,
                    topic=details.topic, time_window=details.time_window, language=details.language,
                    consent_at=utcnow(), status="new")
                s.add(row)
                s.flush()
                s.add(Notification(callback_id=row.id, kind="staff_callback",
                                   recipient=settings.get("STAFF_EMAIL")))
            return row
        except IntegrityError:  # the random reference was taken: draw another
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def listing(status: str = "", url: str | None = None, limit: int = 200) -> list[CallbackRequest]:
    """Requests, open ones first (oldest first), then done ones (newest first)."""
    def query(done: bool) -> sa.Select:
        found = sa.select(CallbackRequest).where((CallbackRequest.status == "done") == done)
        if status:
            found = found.where(CallbackRequest.status == status)
        order = CallbackRequest.created_at.desc() if done else CallbackRequest.created_at
        return found.order_by(order).limit(limit)

    with db.session(url) as s:
        open_ = list(s.scalars(query(False)))
        return open_ + list(s.scalars(query(True).limit(max(0, limit - len(open_)))))


def set_status(callback_id: int, status: str, staff: str, url: str | None = None) -> tuple[CallbackRequest, str]:
    """(the request, its status before). ValueError for an unknown state or request."""
    if status not in STATES:
        raise ValueError(f"Ukendt status: {status}")
    with db.session(url) as s:
        row = s.get(CallbackRequest, callback_id)
        if row is None:
            raise ValueError("Ukendt opringning.")
        before = row.status
        if status != before:  # saving the same state again changes nothing (not its wait)
            row.status, row.handled_by = status, staff[:64]
    return row, before


def local(moment: dt.datetime) -> dt.datetime:
    """A stored UTC time as local time in Copenhagen (naive)."""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(TZ).replace(tzinfo=None)


def waited(row: CallbackRequest, now: dt.datetime | None = None) -> dt.timedelta:
    """How long the request has waited (until now, or until it was done)."""
    end = row.updated_at if row.status == "done" else (now or utcnow())
    return end - row.created_at


def email(notification: Notification, row: CallbackRequest) -> EmailMessage:
    """Staff's e-mail about a new request (Danish)."""
    mail = EmailMessage()
    mail["From"] = settings.get("MAIL_FROM")
    mail["To"] = notification.recipient
    mail["Subject"] = wording.text("utter_email_subject_callback", "da", reference=row.reference)
    how = ", ".join(x for x in (row.phone, row.email) if x)
    mail.set_content(wording.text(
        "utter_email_callback", "da", reference=row.reference, name=row.name, contact=how,
        cvr=row.cvr or "–", topic=row.topic, window=row.time_window,
        language="engelsk" if row.language == "en" else "dansk",
        when=wording.format_when(local(row.created_at), "da")))
    return mail
