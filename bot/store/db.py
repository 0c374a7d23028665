"""Engine and sessions for the assistant's database (``BOT_DATABASE_URL``).

SQLite by default (a file under ``var/``), PostgreSQL by URL. The schema is managed by
Alembic migrations (``bot/store/migrations``); ``migrate()`` brings a database up to date.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bot import settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(url: str | None = None) -> sa.engine.URL:
    """The configured URL; a relative SQLite path is relative to the project folder."""
    parsed = sa.engine.make_url(url or settings.get("BOT_DATABASE_URL"))
    if parsed.get_backend_name() == "sqlite" and parsed.database and not parsed.database.startswith("/"):
        path = settings.ROOT / parsed.database
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    return parsed


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def fast_sqlite(dbapi_connection, _record=None) -> None:  # noqa: ANN001
    """A SQLite connection in write-ahead-log mode with ``synchronous = NORMAL``: a commit
    appends to the log instead of syncing the file and a journal (several processes can still
    read and write; a crash loses nothing, a power cut at most the last commits)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine(url: str | None = None) -> sa.engine.Engine:
    """The engine for ``url`` (default: the setting), one per database per process."""
    return _engine(database_url(url).render_as_string(hide_password=False))


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.engine.Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        created = sa.create_engine(parsed, future=True, connect_args={"timeout": 30})
        sa.event.listen(created, "connect", _enable_sqlite_foreign_keys)
        sa.event.listen(created, "connect", fast_sqlite)
        return created
    return sa.create_engine(parsed, future=True, pool_pre_ping=True)


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back on an exception."""
    factory = sessionmaker(bind=engine(url), future=True, expire_on_commit=False)
    with factory() as s, s.begin():
        yield s


def migrate(url: str | None = None) -> None:
    """Apply every Alembic migration to the database (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).render_as_string(hide_password=False))
    command.upgrade(config, "head")
