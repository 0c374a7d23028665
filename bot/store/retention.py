"""Retention and erasure of personal data: conversation logs in Rasa's SQL tracker store,
and the assistant's own bookings and feedback.

Conversation logs hold personal data (names, e-mails, phone numbers, CVR numbers).
``purge`` deletes events older than the retention period (``RETENTION_DAYS``);
``purge_bot_data`` deletes bookings whose visit is more than that long ago (with their
notifications) and older feedback; ``erase`` deletes one user's whole conversation (a GDPR
erasure request).
"""
from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from bot import settings

SECONDS_PER_DAY = 86400


def tracker_url() -> sa.engine.URL:
    """The SQLAlchemy URL of the tracker store (``TRACKER_URL``, as Rasa uses it)."""
    url = sa.engine.make_url(settings.get("TRACKER_URL"))
    if url.get_backend_name() == "sqlite" and url.database and not url.database.startswith("/"):
        url = url.set(database=str(settings.ROOT / url.database))  # relative to the project
    return url


def _events(engine: sa.engine.Engine) -> sa.Table | None:
    if not sa.inspect(engine).has_table("events"):
        return None  # nothing stored yet
    return sa.Table("events", sa.MetaData(), autoload_with=engine)


def purge(days: int | None = None, now: float | None = None,
          engine: sa.engine.Engine | None = None) -> int:
    """Delete events older than ``days`` (default: the retention setting). Returns the count."""
    days = settings.retention_days() if days is None else days
    cutoff = (now or time.time()) - days * SECONDS_PER_DAY
    engine = engine or sa.create_engine(tracker_url())
    events = _events(engine)
    if events is None:
        return 0
    with engine.begin() as connection:
        return connection.execute(events.delete().where(events.c.timestamp < cutoff)).rowcount


def erase(sender_id: str, engine: sa.engine.Engine | None = None) -> int:
    """Delete every event of one conversation. Returns the count."""
    engine = engine or sa.create_engine(tracker_url())
    events = _events(engine)
    if events is None:
        return 0
    with engine.begin() as connection:
        return connection.execute(events.delete().where(events.c.sender_id == sender_id)).rowcount


def purge_bot_data(days: int | None = None, now: dt.datetime | None = None, url: str | None = None) -> int:
    """Delete bookings whose visit was more than ``days`` ago (and their notifications), and
    feedback older than that. Returns the number of rows deleted."""
    from bot.store import db
    from bot.store.models import Booking, Feedback, Notification, utcnow

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
    return deleted


def purge_expired() -> tuple[int, int]:
    """Everything past the retention period: (conversation events, rows of the assistant's own
    data). The periodic purge of ``make run`` and the ``purge`` command both call this."""
    return purge(), purge_bot_data()
