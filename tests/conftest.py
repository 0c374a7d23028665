"""Shared fixtures: the knowledge base, real Rasa SDK trackers for running actions, and the
running assistants the end-to-end tests share (one start each per test session).

Starting the assistant (``tests.support.stack.BotStack``: ``python -m bot.cli run``) costs a
model load per Rasa worker, the largest part of a test run. So every test that can share one
does, whichever file it is in:

- ``shared_stack``: ``make run``'s defaults (SQLite, e-mails into the mail drop, the real
  clock) with the fake CVR register, a page on another site allowed to embed the widget
  (``embed_origin``), JSON log lines (``LOG_FORMAT=json``) and rate limits high enough for
  the fuzz tests. The browser tests, the staff console's browser tests, the REST end-to-end
  tests, hardening, observability and fuzzing.
- ``staffed_stack``: a test clock inside the staffed hours (``STAFFED_CLOCK``), e-mail to the
  fake SMTP server (``smtp``), the Telegram bridge's secrets. The Telegram bridge, the live
  handover in two browsers, the booking end to end on SQLite.
- ``production_stack``: the production configuration on this machine's services: SQL tracker
  store and the assistant's database on PostgreSQL, Redis lock store and rate limits (Redis
  database ``PRODUCTION_REDIS_DB``), two Rasa workers; SMTP. Two workers behind the widget, the booking end to end
  on PostgreSQL.

Tests share a stack by talking as senders of their own and finding their own rows (a
reference, a sender id), never by counting everything. A test that needs other settings (the
handover's Saturday clock, ``RASA_CORRECTIONS``), or stops the stack, starts its own.
"""
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
import redis
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import knowledge
from bot.store import db
from tests.fakes.cvr_register import FakeCvrRegister
from tests.fakes.smtp_server import SmtpServer
from tests.support.stack import BotStack, free_port

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def kb() -> knowledge.Knowledge:
    return knowledge.load()


@pytest.fixture(scope="session")
def danish_nlp(tmp_path_factory):  # noqa: ANN201  (a spaCy Language)
    """The project's Danish spaCy pipeline (bot/nlp/pipeline.py), built for this test session."""
    import spacy

    from bot.nlp import pipeline

    out = tmp_path_factory.mktemp("spacy-da")
    pipeline.build(out)
    return spacy.load(out)


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


# ---- the running assistants the end-to-end tests share -------------------------------------

STAFFED_CLOCK = "2026-12-02T10:00"  # a Wednesday at 10: inside the staffed hours (HANDOVER_CLOCK)
TELEGRAM_PUSH_TOKEN = "push-token-for-tests-0123456789"
TELEGRAM_BRIDGE_TOKEN = "bridge-token-for-tests-0123456789"
PRODUCTION_REDIS_DB = "4"  # its own: the cluster tests take 5-14, test_limits 15, test_channels 3, test_rasa_ext 2


def cvr_settings(register: FakeCvrRegister) -> dict[str, str]:
    return {"CVR_API_URL": register.url, "CVR_API_USER": register.user, "CVR_API_PASSWORD": register.password}


def smtp_settings(smtp: SmtpServer) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)}


@pytest.fixture(scope="session")
def cvr_register() -> Iterator[FakeCvrRegister]:
    """The fake CVR register of the shared stacks (``mode = SLOW`` waits 30 s; set it back)."""
    with FakeCvrRegister(delay=30) as register:
        yield register


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """The mail server of the staffed and production stacks; find your mail by its subject."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def embed_origin() -> str:
    """Another site (a free port on 127.0.0.1) that embeds the widget; listed in ``RASA_CORS``."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory, embed_origin: str, cvr_register: FakeCvrRegister) -> Iterator[BotStack]:
    """The running assistant with ``make run``'s defaults (see the module's description)."""
    with BotStack(tmp_path_factory.mktemp("shared-stack"), origins=(embed_origin,), **cvr_settings(cvr_register),
                  LOG_FORMAT="json", RATE_LIMIT_MESSAGES="1000", RATE_LIMIT_CLIENT="1000") as stack:
        yield stack


@pytest.fixture(scope="session")
def staffed_stack(tmp_path_factory, cvr_register: FakeCvrRegister, smtp: SmtpServer) -> Iterator[BotStack]:
    """The running assistant inside the staffed hours, with SMTP and the Telegram bridge's secrets."""
    with BotStack(tmp_path_factory.mktemp("staffed-stack"), HANDOVER_CLOCK=STAFFED_CLOCK, **smtp_settings(smtp),
                  **cvr_settings(cvr_register), TELEGRAM_PUSH_TOKEN=TELEGRAM_PUSH_TOKEN,
                  TELEGRAM_BRIDGE_TOKEN=TELEGRAM_BRIDGE_TOKEN) as stack:
        yield stack


@pytest.fixture(scope="session")
def production_stack(tmp_path_factory, cvr_register: FakeCvrRegister, smtp: SmtpServer) -> Iterator[BotStack]:
    """Two Rasa workers sharing PostgreSQL (tracker store, the assistant's database) and Redis
    (lock store, rate limits, the socket.io client manager); ``env["TRACKER_URL"]`` is the
    tracker store."""
    folder = tmp_path_factory.mktemp("production-stack")
    redis.Redis(host="127.0.0.1", port=6379).ping()  # fails loudly when Redis is not running
    with database("postgresql", folder / "t") as tracker_url, database("postgresql", folder / "b") as bot_url:
        with BotStack(folder, TRACKER_URL=tracker_url, BOT_DATABASE_URL=bot_url, RASA_WORKERS="2",
                      LOCK_STORE_TYPE="redis", RATE_LIMIT_STORE="redis", REDIS_HOST="127.0.0.1", REDIS_PORT="6379",
                      REDIS_DB=PRODUCTION_REDIS_DB, **smtp_settings(smtp), **cvr_settings(cvr_register)) as stack:
            yield stack


@pytest.fixture(scope="session")
def agent():
    """The trained model loaded in this process (``rasa.core.agent.load_agent``, as ``rasa run``
    loads it), for the tests that look inside it. Loaded once: leave it as you found it."""
    from rasa.core.agent import load_agent

    from tests.support.process import MODEL_LOADS
    from tests.support.stack import MODEL

    MODEL_LOADS["the agent fixture (in the test process)"] += 1
    return asyncio.run(load_agent(model_path=str(MODEL)))


#: Tests that use one of these are marked ``slow`` (they need the trained model and running servers).
MODEL_FIXTURES = {"shared_stack", "staffed_stack", "production_stack", "agent"}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter) -> None:
    """How many servers the run started (``tests.support.process``), and how many times the
    trained model was loaded: what a whole run's time mostly goes to."""
    from tests.support.process import MODEL_LOADS, STARTS

    if not STARTS and not MODEL_LOADS:
        return
    terminalreporter.write_sep("-", "servers started, model loads")
    for name, count in sorted(STARTS.items()):
        terminalreporter.write_line(f"{count:4d} × {name}")
    loads = ", ".join(f"{n} by {name}" for name, n in sorted(MODEL_LOADS.items()))
    terminalreporter.write_line(f"{sum(MODEL_LOADS.values()):4d} model loads" + (f": {loads}" if loads else ""))
