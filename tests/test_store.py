"""The assistant's database: migrations and feedback, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.store import db, feedback


def test_migrations_create_the_tables_and_can_run_twice(db_url):
    db.migrate(db_url)
    tables = set(sa.inspect(db.engine(db_url)).get_table_names())
    assert {"bookings", "notifications", "feedback", "alembic_version"} <= tables


def test_feedback_is_stored_and_listed_newest_first(db_url):
    feedback.record("web-1", "SMV:Grøn giver op til 300.000 kr.", "up", url=db_url)
    feedback.record("web-1", "Svar", "down", comment="forkert beløb", url=db_url)
    rows = feedback.recent(url=db_url)
    assert [(r.rating, r.comment) for r in rows] == [("down", "forkert beløb"), ("up", None)]


def test_feedback_with_an_unknown_rating_is_refused(db_url):
    with pytest.raises(ValueError):
        feedback.record("web-1", "Svar", "meh", url=db_url)
