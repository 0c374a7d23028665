"""Conversation logs are deleted after the retention period, and on request."""
from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.store import retention

DAY = 86400


def _store(path, sender: str, age_days: float) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    tracker = DialogueStateTracker.from_events(
        sender, [UserUttered("min mail er anne@example.dk", timestamp=time.time() - age_days * DAY)])
    asyncio.run(store.save(tracker))


def _senders(engine) -> list[str]:
    with engine.connect() as c:
        return sorted(r[0] for r in c.execute(sa.text("SELECT sender_id FROM events")))


def test_purge_deletes_only_events_older_than_the_retention_period(tmp_path, monkeypatch):
    db = tmp_path / "tracker.db"
    monkeypatch.setenv("TRACKER_URL", f"sqlite:///{db}")
    monkeypatch.setenv("RETENTION_DAYS", "30")
    _store(db, "old", 31)
    _store(db, "new", 29)
    assert retention.purge() == 1
    assert _senders(sa.create_engine(retention.tracker_url())) == ["new"]


def test_erase_deletes_one_conversation(tmp_path, monkeypatch):
    db = tmp_path / "tracker.db"
    monkeypatch.setenv("TRACKER_URL", f"sqlite:///{db}")
    _store(db, "a", 1)
    _store(db, "b", 1)
    assert retention.erase("a") == 1
    assert _senders(sa.create_engine(retention.tracker_url())) == ["b"]


def test_purge_before_anything_is_stored_does_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert retention.purge() == 0


def test_bookings_and_feedback_are_kept_only_for_the_retention_period(db_url):
    import datetime as dt

    from bot.booking import service
    from bot.store import db as store_db
    from bot.store import feedback
    from bot.store.models import Booking, Notification

    def visit(day: dt.datetime, email: str) -> None:
        service.book(service.VisitRequest(
            sender_id=email, company_name="Firma", contact_name="Anne", email=email, phone="20 12 34 56",
            topic="t", slot_start=day), url=db_url)

    now = dt.datetime(2026, 11, 22, 12, 0)
    visit(now - dt.timedelta(days=40), "old@example.dk")
    visit(now - dt.timedelta(days=10), "recent@example.dk")
    feedback.record("web-1", "svar", "up", url=db_url)
    deleted = retention.purge_bot_data(days=30, now=now, url=db_url)
    with store_db.session(db_url) as s:
        emails = list(s.scalars(sa.select(Booking.email)))
        notifications = s.scalar(sa.select(sa.func.count()).select_from(Notification))
    assert emails == ["recent@example.dk"]
    assert notifications == 1
    assert deleted == 2  # the old booking and its notification; today's feedback is kept
