"""The assistant's database: migrations and feedback, on SQLite and on PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.store import db, feedback

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        name = "koege_test_" + uuid.uuid4().hex[:8]
        admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    db.migrate(url)
    yield url
    db.engine(url).dispose()
    if request.param == "postgresql":
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_migrations_create_the_tables_and_can_run_twice(url):
    db.migrate(url)
    tables = set(sa.inspect(db.engine(url)).get_table_names())
    assert {"bookings", "notifications", "feedback", "alembic_version"} <= tables


def test_feedback_is_stored_and_listed_newest_first(url):
    feedback.record("web-1", "SMV:Grøn giver op til 300.000 kr.", "up", url=url)
    feedback.record("web-1", "Svar", "down", comment="forkert beløb", url=url)
    rows = feedback.recent(url=url)
    assert [(r.rating, r.comment) for r in rows] == [("down", "forkert beløb"), ("up", None)]


def test_feedback_with_an_unknown_rating_is_refused(url):
    with pytest.raises(ValueError):
        feedback.record("web-1", "Svar", "meh", url=url)
