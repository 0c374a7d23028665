"""The conversations' store: Rasa's SQL tracker store, named in endpoints.yml
(``type: bot.rasa_ext.tracker_store.TrackerStore``), with four corrections found by profiling
the Rasa process (``docs/performance.md``; numbers as in ``bot.rasa_patches``):

2. **SQLite commits without a full sync per message.** In its default journal mode every
   SQLite commit syncs the database file and a rollback journal (15 % of the process). This
   store's own SQLite connections are put in write-ahead-log mode with ``synchronous = NORMAL``
   (``bot.store.db.fast_sqlite``): a crash loses nothing; a power cut can lose the last
   messages, never corrupt the file. PostgreSQL is not affected.
3. **The SQLite store keeps its connections.** SQLAlchemy 1.4 gives a SQLite file no pool: Rasa
   opened and closed a connection for every read and save, and closing the last one
   checkpoints the log (7 %). This store's engine has a small pool for a SQLite file, and
   ``pool_pre_ping`` for PostgreSQL (no dead connection after a database restart).
14. **Statements built once.** Rasa builds ORM queries for every read and save and loads whole
   ORM objects to read one column (SQLAlchemy: 16 % of the process). The same statements are
   built once per store in SQLAlchemy Core: the ``data`` of the latest session's events (the
   latest ``SessionStarted`` by the same subquery), their count, and one multi-row insert of the
   new events. Same rows, same order (by ``id``), SQLite and PostgreSQL.
6. **A conversation that cannot be read fails the message instead of starting a new one.**
   Rasa wraps every tracker store in a ``FailSafeTrackerStore`` whose ``retrieve`` logs an error
   and returns nothing when the database does not answer, and Rasa took the message for the
   first of a new, empty conversation (a booking's "ja" answered as small talk).
   ``ReadingFailsTrackerStore`` lets the error through: the message fails, the channel
   apologises, and it works once the database is back (saving still falls back to memory: the
   answer has been given by then). Rasa has no setting for the wrapper, so the channel
   blueprint (``bot.rasa_ext.server``) puts it in place once the model is loaded
   (``use_in``), and refuses to start when Rasa could not build this store.

``RASA_CORRECTIONS`` turns 2, 3 and 14 off (Rasa's own engine, queries and save); 6 is always on.
"""
from __future__ import annotations

import itertools
import json
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import rasa_patches
from bot.store import db

#: The stores built in this process (normally one): the start-up check's evidence that Rasa
#: built this class and did not fall back to its in-memory store.
BUILT: list[TrackerStore] = []


class TrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with corrections 2, 3 and 14 (those selected by ``RASA_CORRECTIONS``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        rasa_patches.check_carried(2, 3, 6, 14)
        super().__init__(*args, **kwargs)
        self._statements = _Statements(self.SQLEvent.__table__) if rasa_patches.enabled(14) else None
        fast, pooled = rasa_patches.enabled(2), rasa_patches.enabled(3)
        if fast or pooled:
            self._rebuild_engine(fast=fast, pooled=pooled)
        BUILT.append(self)

    def _rebuild_engine(self, *, fast: bool, pooled: bool) -> None:
        """Rasa's engine (its tables are created by now), with a pool and/or fast SQLite."""
        url = self.engine.url
        kwargs = create_engine_kwargs(url)
        sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        if pooled and sqlite_file:
            kwargs = {**kwargs, "poolclass": sa.pool.QueuePool, "pool_size": 5, "max_overflow": 10,
                      "connect_args": {"check_same_thread": False, "timeout": 30}}
        elif pooled and url.get_backend_name() == "postgresql":
            kwargs = {**kwargs, "pool_pre_ping": True}
        self.engine.dispose()
        self.engine = sa.create_engine(url, **kwargs)
        if fast and sqlite_file:
            sa.event.listen(self.engine, "connect", db.fast_sqlite)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if self._statements is None:
            return await super().retrieve(sender_id)
        return self._read(sender_id, self._statements.latest)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        if self._statements is None:
            return await super().retrieve_full_tracker(sender_id)
        return self._read(sender_id, self._statements.all)

    def _read(self, sender_id: str, statement: Any) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).scalars().all()
        events = [json.loads(data) for data in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """The events not stored yet, in one insert."""
        if self._statements is None:
            return await super().save(tracker)
        await self.stream_events(tracker)
        with self.session_scope() as session:
            stored = session.execute(self._statements.count, {"sender_id": tracker.sender_id}).scalar()
            rows = []
            for event in itertools.islice(tracker.events, stored, len(tracker.events)):
                data = event.as_dict()
                rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name,
                             "timestamp": data.get("timestamp"),
                             "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                             "action_name": data.get("name"), "data": json.dumps(data)})
            if rows:
                session.execute(self._statements.insert, rows)
            session.commit()
        return None


class _Statements:
    """Correction 14's statements over the events table: the ``data`` of the latest session's
    events and of all events (by ``id``), the latest session's event count, and the insert."""

    def __init__(self, events: sa.Table) -> None:
        sender = sa.bindparam("sender_id")
        session_start = (sa.select(sa.func.max(events.c.timestamp))
                         .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
                         .scalar_subquery())
        latest = sa.and_(events.c.sender_id == sender,
                         sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        self.latest = sa.select(events.c.data).where(latest).order_by(events.c.id)
        self.all = sa.select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id)
        self.count = sa.select(sa.func.count()).select_from(events).where(latest)
        self.insert = events.insert()


class ReadingFailsTrackerStore(FailSafeTrackerStore):
    """Rasa's fail-safe wrapper without the fail-safe on reading (correction 6): an error is
    raised, not taken for a conversation that does not exist yet."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tracker_store.retrieve_full_tracker(sender_id)


class NotThisStore(RuntimeError):
    """Rasa runs on another store than the one endpoints.yml names (it could not build it)."""


def use_in(agent: Any) -> None:
    """Check that ``agent`` (Rasa's loaded agent) keeps its conversations in this store, then
    give it the store's reading-fails wrapper (correction 6). ``NotThisStore`` when Rasa fell
    back to its in-memory store (e.g. the class could not be imported): conversations would be
    lost at every restart, so the server must not run."""
    if not BUILT:
        raise NotThisStore(
            f"Rasa keeps the conversations in {type(agent.tracker_store).__name__}, not in "
            f"{TrackerStore.__module__}.{TrackerStore.__name__} as endpoints.yml says: the class "
            "could not be built (see the warning above); the server does not start.")
    if type(agent.tracker_store) is not ReadingFailsTrackerStore:
        wrapped = ReadingFailsTrackerStore(BUILT[-1])
        agent.tracker_store = wrapped
        if agent.processor is not None:
            agent.processor.tracker_store = wrapped
