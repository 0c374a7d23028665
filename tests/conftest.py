"""Shared fixtures: the knowledge base, and real Rasa SDK trackers for running actions."""
from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import knowledge


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


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()
