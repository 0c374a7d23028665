"""Corrections of Rasa's SQL tracker store (the conversations), found by profiling the Rasa
process (``docs/performance.md``).

2. **SQLite commits without a full sync per message.** In its default journal mode every SQLite
   commit syncs the database file and a rollback journal (15 % of the process). Every SQLite
   connection of the process is put in write-ahead-log mode with ``synchronous = NORMAL``
   (``bot.store.db.fast_sqlite``): a crash loses nothing; a power cut can lose the last
   messages, never corrupt the file. PostgreSQL is not affected.
3. **The SQLite tracker store keeps its connections.** SQLAlchemy 1.4 gives a SQLite file no
   pool: the store opened and closed a connection for every read and save, and closing the last
   one checkpoints the log (7 %). Rasa's own ``create_engine_kwargs`` gives SQLite a small pool,
   and PostgreSQL ``pool_pre_ping`` (no dead connection after a database restart).
6. **A conversation that cannot be read fails the message instead of starting a new one.**
   Rasa's ``FailSafeTrackerStore.retrieve`` logs an error and returns nothing when the database
   does not answer, and Rasa took the message for the first of a new, empty conversation (a
   booking's "ja" answered as small talk). ``retrieve`` and ``retrieve_full_tracker`` now let
   the error through: the message fails, the channel apologises, and it works once the database
   is back. (Saving still falls back to memory: the answer has been given by then.)
14. **The SQL tracker store's statements are built once.** Rasa builds ORM queries for every read
   and save and loads whole ORM objects to read one column (SQLAlchemy: 16 % of the process). The
   same statements are built once per store in SQLAlchemy Core: the ``data`` of the latest
   session's events (the latest ``SessionStarted`` by the same subquery), their count, and one
   multi-row insert of the new events. Same rows, same order (by ``id``), SQLite and PostgreSQL.
"""
from __future__ import annotations

from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, on_restore, replace, wrap


def _tracker_engine_kwargs(original: Any) -> Any:
    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        """Rasa's options, and for a SQLite file a pool of connections kept open."""
        import sqlalchemy as sa

        kwargs = original(url)
        parsed = sa.engine.make_url(str(url)) if not isinstance(url, sa.engine.URL) else url
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            kwargs = {**kwargs, "poolclass": sa.pool.QueuePool, "pool_size": 5, "max_overflow": 10,
                      "connect_args": {"check_same_thread": False, "timeout": 30}}
        elif parsed.get_backend_name() == "postgresql":
            kwargs = {**kwargs, "pool_pre_ping": True}  # patch 6: no dead connection after a restart
        return kwargs

    create_engine_kwargs.__wrapped__ = original  # type: ignore[attr-defined]
    return create_engine_kwargs


async def _retrieve(self: Any, sender_id: str) -> Any:
    """``FailSafeTrackerStore.retrieve`` without the fail-safe: an error is raised, not taken
    for a conversation that does not exist yet."""
    return await self._tracker_store.retrieve(sender_id)


async def _retrieve_full_tracker(self: Any, sender_id: str) -> Any:
    return await self._tracker_store.retrieve_full_tracker(sender_id)


def _statements(store: Any) -> dict[str, Any]:
    """The store's statements (built on first use): the ``data`` of the latest session's events
    and of all events (by ``id``), the latest session's event count, and the insert."""
    kept = store.__dict__.get("_koege_statements")
    if kept is None:
        import sqlalchemy as sa
        from rasa.shared.core.events import SessionStarted

        events = store.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (sa.select(sa.func.max(events.c.timestamp))
                         .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
                         .scalar_subquery())
        latest = sa.and_(events.c.sender_id == sender,
                         sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        kept = store.__dict__["_koege_statements"] = {
            "latest": sa.select(events.c.data).where(latest).order_by(events.c.id),
            "all": sa.select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id),
            "count": sa.select(sa.func.count()).select_from(events).where(latest),
            "insert": events.insert(),
        }
    return kept


async def _sql_retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    """``SQLTrackerStore._retrieve`` with the statements of :func:`_statements`."""
    import json

    from rasa.shared.core.trackers import DialogueStateTracker

    statement = _statements(self)["all" if fetch_events_from_all_sessions else "latest"]
    with self.session_scope() as session:
        rows = session.execute(statement, {"sender_id": sender_id}).scalars().all()
    events = [json.loads(data) for data in rows]
    if self.domain and events:
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    return None


async def _sql_save(self: Any, tracker: Any) -> None:
    """``SQLTrackerStore.save``: the events not stored yet, in one insert."""
    import itertools
    import json

    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    await self.stream_events(tracker)
    statements = _statements(self)
    with self.session_scope() as session:
        stored = session.execute(statements["count"], {"sender_id": tracker.sender_id}).scalar()
        rows = []
        for event in itertools.islice(tracker.events, stored, len(tracker.events)):
            data = event.as_dict()
            rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name,
                         "timestamp": data.get("timestamp"),
                         "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                         "action_name": data.get("name"), "data": json.dumps(data)})
        if rows:
            session.execute(statements["insert"], rows)
        session.commit()


def _install_2() -> None:
    import sqlalchemy as sa

    from bot.store import db

    if not sa.event.contains(sa.engine.Engine, "connect", db.fast_sqlite):
        db.fast_sqlite_everywhere()
        on_restore(lambda: sa.event.remove(sa.engine.Engine, "connect", db.fast_sqlite))


def _install_3() -> None:
    from rasa.core import tracker_store

    wrap(tracker_store, "create_engine_kwargs", _tracker_engine_kwargs)


def _install_6() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    replace(FailSafeTrackerStore, "retrieve", _retrieve)
    replace(FailSafeTrackerStore, "retrieve_full_tracker", _retrieve_full_tracker)


def _install_14() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    replace(SQLTrackerStore, "_retrieve", _sql_retrieve)
    replace(SQLTrackerStore, "save", _sql_save)


CORRECTIONS = (
    Correction(2, "SQLite commits without a full sync per message", Kind.SPEED, (
        Target("rasa.core.tracker_store:SQLTrackerStore.__init__", "64e704d159dfa35b"),
    ), _install_2),
    Correction(3, "the SQLite tracker store keeps its connections", Kind.SPEED, (
        Target("rasa.core.tracker_store:create_engine_kwargs", "dff5f092362096da"),
    ), _install_3),
    Correction(6, "a conversation that cannot be read fails the message", Kind.BEHAVIOUR, (
        Target("rasa.core.tracker_store:FailSafeTrackerStore.retrieve", "35d77318b0cc7977"),
        Target("rasa.core.tracker_store:FailSafeTrackerStore.retrieve_full_tracker", "5272a6be0919b511"),
    ), _install_6),
    Correction(14, "the SQL tracker store's statements built once", Kind.SPEED, (
        Target("rasa.core.tracker_store:SQLTrackerStore._retrieve", "c8adbf6f4b61ddd1"),
        Target("rasa.core.tracker_store:SQLTrackerStore.save", "57165e46eab3de08"),
        Target("rasa.core.tracker_store:SQLTrackerStore._event_query", "cd44f7901b860bfd"),
        Target("rasa.core.tracker_store:SQLTrackerStore._additional_events", "d22f99eb863acb07"),
    ), _install_14),
)
