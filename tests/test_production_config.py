"""The production configuration on this machine's services: SQL tracker store and the
assistant's database on PostgreSQL (127.0.0.1:5432), Redis lock store (127.0.0.1:6379) and
two Rasa workers sharing them (tests/conftest.py's ``production_stack``)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.support.stack import BotStack


@pytest.fixture(scope="module")
def bot(production_stack: BotStack) -> tuple[BotStack, str]:
    return production_stack, production_stack.env["TRACKER_URL"]


def conversation(stack: BotStack) -> tuple[str, str, str]:
    sender = "prod-" + uuid.uuid4().hex[:8]
    first, _ = stack.say("Jeg vil gerne booke et virksomhedsbesøg", sender)
    second, _ = stack.say("ved ikke", sender)  # only right if this worker sees the first turn
    return first, second, sender


def test_conversations_on_two_workers_share_state_in_postgres(bot):
    stack, tracker_url = bot
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: conversation(stack), range(12)))
    for first, second, _ in results:
        assert "CVR-nummer" in first
        assert "Hvad hedder virksomheden" in second
    engine = sa.create_engine(tracker_url)
    with engine.connect() as c:
        senders = {r[0] for r in c.execute(sa.text("SELECT DISTINCT sender_id FROM events"))}
    engine.dispose()
    assert {sender for *_, sender in results} <= senders
