"""Retention and erasure of personal data: conversation logs in Rasa's SQL tracker store,
and the assistant's own bookings and feedback.

Conversation logs hold personal data (names, e-mails, phone numbers, CVR numbers).
``purge`` deletes events older than the retention period (``RETENTION_DAYS``);
``purge_bot_data`` deletes bookings whose visit is more than that long ago (with their
notifications) and older feedback. ``erase_everywhere`` answers an erasure request (GDPR art.
17): it finds the user's conversations by sender id, booking reference or e-mail and deletes
their events, bookings, handovers, callback requests, queued and sent e-mails (outbox rows,
and the .eml files the development default wrote to ``MAIL_DROP_DIR``: those whose subject
names an erased booking's or callback request's reference) and feedback. ``purge_mail_drop``
deletes .eml files older than the retention period. Bookings are deleted,
not kept anonymised: staff have the visit in their calendar from the invitation already sent,
and a visit cancelled by erasure is not announced to anyone. ``erase(sender_id)`` is the
short form the console, the Telegram bridge and the command line share.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

import sqlalchemy as sa

from bot import settings
from bot.store import conversations, review

SECONDS_PER_DAY = 86400


def tracker_url() -> sa.engine.URL:
    """The SQLAlchemy URL of the tracker store (``TRACKER_URL``, as Rasa uses it)."""
    return conversations.tracker_url()


def _engine(engine: sa.engine.Engine | None) -> sa.engine.Engine:
    return engine or conversations.tracker_engine()


def purge(days: int | None = None, now: float | None = None,
          engine: sa.engine.Engine | None = None) -> int:
    """Delete events older than ``days`` (default: the retention setting). Returns the count."""
    days = settings.retention_days() if days is None else days
    cutoff = (now or time.time()) - days * SECONDS_PER_DAY
    engine = _engine(engine)
    events = conversations.events_table(engine)
    if events is None:
        return 0
    with engine.begin() as connection:
        return connection.execute(events.delete().where(events.c.timestamp < cutoff)).rowcount


def erase_events(sender_ids: set[str], engine: sa.engine.Engine | None = None) -> int:
    """Delete every event of these conversations. Returns the count."""
    engine = _engine(engine)
    events = conversations.events_table(engine)
    if events is None or not sender_ids:
        return 0
    with engine.begin() as connection:
        return connection.execute(events.delete().where(events.c.sender_id.in_(sender_ids))).rowcount


@dataclass
class ErasureReport:
    """What an erasure found and deleted."""

    conversations: set[str] = field(default_factory=set)
    events: int = 0
    bookings: int = 0
    notifications: int = 0
    feedback: int = 0
    reviews: int = 0  # the console's tags, notes and message marks
    handovers: int = 0  # handovers to a person and callback requests
    mail_files: int = 0  # .eml files in MAIL_DROP_DIR (the development default's "sent" e-mails)

    @property
    def total(self) -> int:
        return (self.events + self.bookings + self.notifications + self.feedback + self.reviews + self.handovers
                + self.mail_files)

    def summary(self) -> str:
        return (f"Erased {len(self.conversations)} conversation(s): {self.events} conversation events, "
                f"{self.bookings} bookings, {self.notifications} e-mails in the outbox, "
                f"{self.mail_files} e-mail files in the mail drop, "
                f"{self.feedback} ratings, {self.handovers} handovers and callback requests, and "
                f"{self.reviews} staff notes and marks.")


def erase_bot_data(sender_ids: set[str], reference: str | None = None, email: str | None = None,
                   url: str | None = None, references: set[str] | None = None) -> tuple[set[str], int, int, int]:
    """Delete the bookings (of these conversations, with this reference or this e-mail), their
    outbox rows and the conversations' feedback. Returns (the conversations the bookings
    belonged to, bookings, notifications, feedback deleted); the deleted bookings' references
    are added to ``references`` if given."""
    from bot.store import db
    from bot.store.models import Booking, Feedback, Notification

    plain = {"synchronize_session": False}
    with db.session(url) as s:
        matches = []
        if sender_ids:
            matches.append(Booking.sender_id.in_(sender_ids))
        if reference:
            matches.append(Booking.reference == reference.strip().upper())
        if email:
            matches.append(sa.func.lower(Booking.email) == email.strip().lower())
        found = list(s.execute(sa.select(Booking.id, Booking.sender_id, Booking.reference)
                               .where(sa.or_(*matches)))) if matches else []
        ids = [row.id for row in found]
        senders = {row.sender_id for row in found} | sender_ids
        if references is not None:
            references.update(row.reference for row in found if row.reference)
        notifications = s.execute(sa.delete(Notification).where(Notification.booking_id.in_(ids)),
                                  execution_options=plain).rowcount if ids else 0
        bookings = s.execute(sa.delete(Booking).where(Booking.id.in_(ids)), execution_options=plain).rowcount if ids else 0
        feedback = s.execute(sa.delete(Feedback).where(Feedback.sender_id.in_(senders)),
                             execution_options=plain).rowcount if senders else 0
    return senders, bookings, notifications, feedback


def erase_handovers(sender_ids: set[str], email: str | None = None,
                    url: str | None = None, references: set[str] | None = None) -> tuple[set[str], int, int]:
    """Delete the conversations' handovers and callback requests (also those given this
    e-mail) with their outbox rows. Returns (the conversations, rows deleted, outbox rows);
    the deleted callback requests' references are added to ``references`` if given."""
    from bot.store import db
    from bot.store.models import CallbackRequest, Handover, Notification

    plain = {"synchronize_session": False}
    with db.session(url) as s:
        matches = [CallbackRequest.sender_id.in_(sender_ids)] if sender_ids else []
        if email:
            matches.append(sa.func.lower(CallbackRequest.email) == email.strip().lower())
        found = list(s.execute(sa.select(CallbackRequest.id, CallbackRequest.sender_id, CallbackRequest.reference)
                               .where(sa.or_(*matches)))) if matches else []
        ids = [row.id for row in found]
        senders = sender_ids | {row.sender_id for row in found}
        if references is not None:
            references.update(row.reference for row in found)
        outbox = s.execute(sa.delete(Notification).where(Notification.callback_id.in_(ids)),
                           execution_options=plain).rowcount if ids else 0
        deleted = s.execute(sa.delete(CallbackRequest).where(CallbackRequest.id.in_(ids)),
                            execution_options=plain).rowcount if ids else 0
        if senders:
            deleted += s.execute(sa.delete(Handover).where(Handover.sender_id.in_(senders)),
                                 execution_options=plain).rowcount
    return senders, deleted, outbox


def erase_everywhere(sender_id: str | None = None, reference: str | None = None, email: str | None = None,
                     url: str | None = None, engine: sa.engine.Engine | None = None) -> ErasureReport:
    """Erase one user's data in every table, found by sender id, booking reference or e-mail."""
    references: set[str] = set()  # of the bookings and callback requests: their e-mails' subjects
    senders, bookings, notifications, feedback = erase_bot_data(
        {sender_id} if sender_id else set(), reference, email, url, references)
    report = ErasureReport(conversations=senders, bookings=bookings, notifications=notifications,
                           feedback=feedback)
    senders, report.handovers, outbox = erase_handovers(senders, email, url, references)
    report.notifications += outbox
    extra = senders - report.conversations  # found only by a callback request's e-mail
    if extra:
        _, bookings, notifications, feedback = erase_bot_data(extra, None, None, url, references)
        report.bookings, report.notifications = report.bookings + bookings, report.notifications + notifications
        report.feedback += feedback
    report.conversations = senders
    report.reviews = sum(review.erase(sender, url) for sender in senders)
    report.events = erase_events(senders, engine)
    report.mail_files = erase_mail_drop(references)
    return report


def erase(sender_id: str, engine: sa.engine.Engine | None = None, url: str | None = None) -> int:
    """Erase one conversation everywhere (events, bookings, outbox, feedback); the row count."""
    return erase_everywhere(sender_id=sender_id, url=url, engine=engine).total


def purge_bot_data(days: int | None = None, now: dt.datetime | None = None, url: str | None = None) -> int:
    """Delete bookings whose visit was more than ``days`` ago (and their notifications), and
    feedback older than that. Returns the number of rows deleted."""
    from bot.store import db
    from bot.store.models import Booking, CallbackRequest, Feedback, Handover, Notification, utcnow

    days = settings.retention_days() if days is None else days
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    with db.session(url) as s:
        old = sa.select(Booking.id).where(Booking.slot_start < cutoff)
        plain = {"synchronize_session": False}  # bulk deletes: no objects loaded in this session
        deleted = s.execute(sa.delete(Notification).where(Notification.booking_id.in_(old)),
                            execution_options=plain).rowcount
        deleted += s.execute(sa.delete(Booking).where(Booking.slot_start < cutoff), execution_options=plain).rowcount
        deleted += s.execute(sa.delete(Feedback).where(Feedback.created_at < cutoff),
                             execution_options=plain).rowcount
        old_callbacks = sa.select(CallbackRequest.id).where(CallbackRequest.created_at < cutoff)
        deleted += s.execute(sa.delete(Notification).where(Notification.callback_id.in_(old_callbacks)),
                             execution_options=plain).rowcount
        deleted += s.execute(sa.delete(CallbackRequest).where(CallbackRequest.created_at < cutoff),
                             execution_options=plain).rowcount
        deleted += s.execute(sa.delete(Handover).where(Handover.requested_at < cutoff),
                             execution_options=plain).rowcount
    return deleted


def _mail_files(folder: Path | None) -> list[Path]:
    if folder is None:
        from bot.booking.notify import mail_drop  # the writer of the files is their one home

        folder = mail_drop()
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def _subject(file: Path) -> str:
    """The decoded Subject of an .eml file ("" if it cannot be read)."""
    try:
        with file.open("rb") as handle:
            return str(BytesParser(policy=policy.default).parse(handle, headersonly=True)["Subject"] or "")
    except (OSError, ValueError):
        return ""


def erase_mail_drop(references: set[str], folder: Path | None = None) -> int:
    """Delete the .eml files about these bookings and callback requests: every e-mail of the
    outbox names its reference in the subject (``Virksomhedsbesøg booket: KB-2026-…``,
    ``Opringning ønsket: OR-2026-…``), and references are unique and random, so the subject
    finds a conversation's e-mails whatever the file is called. Returns how many."""
    if not references:
        return 0
    deleted = 0
    for file in _mail_files(folder):
        subject = _subject(file)
        if any(reference in subject for reference in references):
            file.unlink(missing_ok=True)
            deleted += 1
    return deleted


def purge_mail_drop(days: int | None = None, now: float | None = None, folder: Path | None = None) -> int:
    """Delete .eml files written more than ``days`` ago (by their modification time)."""
    days = settings.retention_days() if days is None else days
    cutoff = (now or time.time()) - days * SECONDS_PER_DAY
    deleted = 0
    for file in _mail_files(folder):
        try:
            if file.stat().st_mtime < cutoff:
                file.unlink()
                deleted += 1
        except FileNotFoundError:
            continue  # deleted meanwhile (an erasure)
    return deleted


def purge_expired() -> tuple[int, int]:
    """Everything past the retention period: (conversation events, rows of the assistant's own
    data, the console's notes and marks and the mail drop's .eml files included). The action
    server's periodic purge and the ``purge`` command both call this."""
    return purge(), purge_bot_data() + review.purge() + purge_mail_drop()
