"""Shared fixtures: the knowledge base, and real Rasa SDK trackers for running actions."""
from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import knowledge
from bot.store import db

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def kb() -> knowledge.Knowledge:
    return knowledge.load()


def make_tracker(text: str, intent: str | None = None, language: str = "da",
                 entities: list[dict[str, Any]] | None = None,
                 ranking: list[tuple[str, float]] | None = None) -> Tracker:
    """A tracker whose latest user message is ``text``, as Rasa sends it to the action server."""
    ranking = ranking or ([(intent, 0.9)] if intent else [])
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": ranking[0][1] if ranking else 0.0},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": entities or [],
    }
    return Tracker(
        sender_id="test-user", slots={"language": language}, latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest}], paused=False,
        followup_action=None, active_loop={}, latest_action_name="action_listen",
    )


DOMAIN: dict[str, Any] = yaml.safe_load((Path(__file__).resolve().parent.parent / "domain.yml").read_text())


def call(result: Any) -> Any:
    """The result of an action method, awaited if it is a coroutine (as the action server does)."""
    return asyncio.run(result) if inspect.isawaitable(result) else result


def rendered(messages: list[dict[str, Any]], tracker: Tracker | None = None) -> str:
    """What the user reads: each message's text, or its domain response filled as Rasa fills it
    (from the tracker's slots and the values the action gave)."""
    from bot import wording

    slots = dict(tracker.slots) if tracker is not None else {}
    lang = slots.get("language") or "da"
    lines = []
    for message in messages:
        if message.get("response"):
            values = {k: v for k, v in message.items() if k not in ("text", "buttons", "response")}
            lines.append(wording.text(message["response"], lang, **{**slots, **values}))
        else:
            lines.append(message.get("text") or "")
    return "\n".join(lines)


def responses(messages: list[dict[str, Any]]) -> list[str | None]:
    """The domain responses the action uttered, in order (None for a plain text)."""
    return [m.get("response") for m in messages]


def all_buttons(messages: list[dict[str, Any]], lang: str = "da") -> list[dict[str, Any]]:
    """Every button the user sees: the action's own and its responses' (as Rasa adds them)."""
    from bot import wording

    found = []
    for message in messages:
        if message.get("response"):
            found += wording.message(message["response"], lang)["buttons"]
        found += message.get("buttons") or []
    return found


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A migrated, empty database of the assistant: a SQLite file in ``folder``, or a fresh
    PostgreSQL database on the local server (127.0.0.1:5432), dropped afterwards."""
    if kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'bot.db'}"
        db.migrate(url)
        yield url
        db.engine(url).dispose()
        return
    name = "koege_test_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    try:
        db.migrate(url)
        yield url
    finally:
        db.engine(url).dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    with database(request.param, tmp_path) as url:
        yield url


ACTIONS_NOW = dt.datetime(2026, 11, 23, 9, 0)  # a Monday


@pytest.fixture
def action_environment(tmp_path, monkeypatch):
    """What the booking actions need: a fresh database, a running fake CVR register (yielded)
    and a fixed 'now' (ACTIONS_NOW)."""
    from actions import visit_form
    from bot import cvr, limits
    from tests.fakes.cvr_register import FakeCvrRegister

    limits.reset()  # every test starts with no messages, look-ups or bookings counted

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    db.migrate(url)
    monkeypatch.setattr(visit_form, "now", lambda: ACTIONS_NOW)
    with FakeCvrRegister() as register:
        for name, value in (("CVR_API_URL", register.url), ("CVR_API_USER", register.user),
                            ("CVR_API_PASSWORD", register.password), ("CVR_API_RETRIES", "0")):
            monkeypatch.setenv(name, value)
        cvr.default_client.cache_clear()
        yield register
    cvr.default_client.cache_clear()
