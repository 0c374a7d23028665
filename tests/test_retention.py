"""Conversation logs are deleted after the retention period, and on request."""
from __future__ import annotations

import asyncio
import time

import pytest
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


def _world(db_url: str, tracker: str, monkeypatch) -> dict[str, str]:
    """Two users with conversation events, a booking each (with e-mails in the outbox) and a rating."""
    import datetime as dt

    from bot.booking import service
    from bot.store import feedback

    monkeypatch.setenv("TRACKER_URL", tracker)
    monkeypatch.setenv("BOT_DATABASE_URL", db_url)
    references = {}
    for n, sender in enumerate(["annejensen", "bohansen"]):
        _store_at(tracker, sender)
        booking = service.book(service.VisitRequest(
            sender_id=sender, company_name="Firma", contact_name=sender.title(), email=f"{sender}@example.dk",
            phone="20 12 34 56", topic="t", slot_start=dt.datetime(2026, 12, 2 + n, 10, 30), send_copy=True),
            url=db_url)
        feedback.record(sender, "svar", "down", url=db_url)
        references[sender] = booking.reference
    return references


def _store_at(url: str, sender: str) -> None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=parsed.database)
    else:
        store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=parsed.host, port=parsed.port,
                                db=parsed.database, username=parsed.username)
    tracker = DialogueStateTracker.from_events(sender, [UserUttered(f"min mail er {sender}@example.dk")])
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def _left_of(sender: str, db_url: str, tracker: str) -> list[str]:
    """Every row of any table, in both databases, that still mentions ``sender``."""
    found = []
    for url in (db_url, tracker):
        engine = sa.create_engine(url)
        with engine.connect() as c:
            for table in sa.inspect(engine).get_table_names():
                for row in c.execute(sa.text(f'SELECT * FROM "{table}"')):
                    if sender in " ".join(str(v) for v in row):
                        found.append(f"{table}: {row}")
        engine.dispose()
    return found


@pytest.mark.parametrize("by", ["sender_id", "reference", "email"])
def test_erasure_leaves_nothing_of_the_conversation_in_any_table(db_url, by, monkeypatch):
    tracker = db_url if db_url.startswith("postgresql") else db_url.replace("bot.db", "tracker.db")
    references = _world(db_url, tracker, monkeypatch)
    assert _left_of("annejensen", db_url, tracker)  # bookings, outbox, feedback and events mention her
    key = {"sender_id": "annejensen", "reference": references["annejensen"], "email": "ANNEJENSEN@example.dk"}[by]
    report = retention.erase_everywhere(**{by: key}, url=db_url)
    assert report.conversations == {"annejensen"} and report.events >= 1 and report.bookings == 1
    assert report.notifications == 2 and report.feedback == 1
    assert _left_of("annejensen", db_url, tracker) == []
    assert _left_of("bohansen", db_url, tracker)  # the other user's data is untouched


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


def _mail_drop_world(db_url: str, tmp_path, monkeypatch) -> tuple[dict[str, str], str]:
    """``_world``, a callback request of annejensen, and every e-mail sent by the development
    default: .eml files in ``MAIL_DROP_DIR``. Returns (booking references, callback reference)."""
    from bot.booking import notify
    from bot.handover import callbacks

    tracker = db_url if db_url.startswith("postgresql") else db_url.replace("bot.db", "tracker.db")
    monkeypatch.setenv("MAIL_DROP_DIR", str(tmp_path / "mail"))
    monkeypatch.delenv("SMTP_HOST", raising=False)
    references = _world(db_url, tracker, monkeypatch)
    callback = callbacks.create(callbacks.CallbackDetails(
        sender_id="annejensen", name="Anne Jensen", topic="moms", time_window="i morgen", phone="20 12 34 56"),
        url=db_url)
    assert notify.send_pending(db_url) == 5  # two e-mails per booking, one to staff about the callback
    return references, callback.reference


def _mails(tmp_path) -> str:
    return "\n".join(f.read_bytes().decode("utf-8", "replace") for f in sorted((tmp_path / "mail").glob("*.eml")))


@pytest.mark.parametrize("by", ["sender_id", "reference", "email"])
def test_erasure_deletes_the_conversations_e_mail_files_of_the_development_default(db_url, tmp_path, by,
                                                                                    monkeypatch):
    references, callback = _mail_drop_world(db_url, tmp_path, monkeypatch)
    assert references["annejensen"] in _mails(tmp_path) and callback in _mails(tmp_path)
    key = {"sender_id": "annejensen", "reference": references["annejensen"], "email": "annejensen@example.dk"}[by]
    report = retention.erase_everywhere(**{by: key}, url=db_url)
    left = _mails(tmp_path)
    assert references["annejensen"] not in left and callback not in left and "annejensen" not in left
    assert references["bohansen"] in left and len(list((tmp_path / "mail").glob("*.eml"))) == 2
    assert report.mail_files == 3 and "3 e-mail files" in report.summary()


def test_the_periodic_purge_deletes_e_mail_files_older_than_the_retention_period(tmp_path, monkeypatch):
    import os

    from bot.store import db as store_db

    monkeypatch.setenv("MAIL_DROP_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("RETENTION_DAYS", "30")
    monkeypatch.setenv("TRACKER_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    store_db.migrate()
    (tmp_path / "mail").mkdir()
    for name, age in (("old.eml", 31), ("new.eml", 29)):
        file = tmp_path / "mail" / name
        file.write_text("Subject: Virksomhedsbesøg booket: KB-2026-7QH4KM\n\nanne@example.dk\n")
        os.utime(file, (time.time() - age * DAY,) * 2)
    (tmp_path / "mail" / "notes.txt").write_text("not an e-mail")
    os.utime(tmp_path / "mail" / "notes.txt", (time.time() - 99 * DAY,) * 2)
    assert retention.purge_expired() == (0, 1)  # what the action server runs every PURGE_INTERVAL_HOURS
    assert sorted(f.name for f in (tmp_path / "mail").iterdir()) == ["new.eml", "notes.txt"]
