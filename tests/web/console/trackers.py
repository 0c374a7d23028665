"""Conversations written to a tracker store by Rasa's own ``SQLTrackerStore``, for the
console's unit tests (the browser tests talk to the real assistant instead)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


@dataclass
class Say:
    """A user message and what followed it."""

    text: str
    intent: str
    confidence: float = 0.9
    ranking: list[tuple[str, float]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reply: str = "Svar"
    slots: dict[str, object] = field(default_factory=dict)
    form: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)  # the reply's, as an action sets it


def store(url: str) -> SQLTrackerStore:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=parsed.database)
    return SQLTrackerStore(Domain.empty(), dialect="postgresql", host=parsed.host, port=parsed.port,
                           db=parsed.database, username=parsed.username)


def events(turns: list[Say], channel: str = "rest", start: float | None = None) -> list[Event]:
    now = start if start is not None else time.time() - 600
    found: list[Event] = [ActionExecuted("action_session_start", timestamp=now)]
    for i, turn in enumerate(turns):
        t = now + 10 * (i + 1)
        ranking = turn.ranking or [(turn.intent, turn.confidence)]
        parse = {"text": turn.text, "intent": {"name": turn.intent, "confidence": turn.confidence},
                 "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking], "entities": []}
        found.append(UserUttered(turn.text, intent=parse["intent"], parse_data=parse, input_channel=channel,
                                 timestamp=t))
        for j, action in enumerate(turn.actions):
            found.append(ActionExecuted(action, policy="RulePolicy", confidence=1.0, timestamp=t + 0.1 + j / 100))
        if turn.form:
            found.append(ActiveLoop(turn.form, timestamp=t + 0.5))
        for name, value in turn.slots.items():
            found.append(SlotSet(name, value, timestamp=t + 0.6))
        found.append(BotUttered(turn.reply, data={"buttons": [{"title": "Ja", "payload": "/affirm"}]},
                                metadata=turn.metadata or None, timestamp=t + 0.7))
        found.append(ActionExecuted("action_listen", timestamp=t + 0.8))
    return found


def save(url: str, sender: str, turns: list[Say], channel: str = "rest", start: float | None = None) -> None:
    tracker_store = store(url)
    tracker = DialogueStateTracker.from_events(sender, events(turns, channel, start))
    asyncio.run(tracker_store.save(tracker))
    tracker_store.engine.dispose()


def sample(url: str, start: float | None = None) -> dict[str, str]:
    """Five conversations covering the filters; returns their roles -> sender ids."""
    ids = {"good": "good-1", "fallback": "fallback-1", "person": "person-1", "booking": "telegram:42",
           "abandoned": "web-sid-9"}
    save(url, ids["good"], [Say("Hvad er moms?", "ask_vat", 0.95, actions=["action_answer_knowledge"])], start=start)
    save(url, ids["fallback"], [
        Say("kan i hjælpe med parkering af lastbiler", "nlu_fallback", 0.35,
            ranking=[("nlu_fallback", 0.35), ("ask_road_use", 0.31), ("ask_mobility", 0.28)],
            actions=["action_clarify"]),
        Say("min mail er anne@example.dk", "ask_contact", 0.5, actions=["action_contact_lookup"]),
    ], start=start)
    save(url, ids["person"], [Say("jeg vil tale med en person", "request_human", 0.97,
                                  actions=["action_handover"])], start=start)
    save(url, ids["booking"], [
        Say("book et besøg", "book_visit", 0.92, actions=["visit_form"], form="visit_form"),
        Say("ja", "affirm", 0.99, actions=["action_book_visit"], slots={"company_cvr": "29189374",
                                                                        "email": "anne@example.dk"}),
    ], channel="telegram", start=start)
    save(url, ids["abandoned"], [Say("kan I komme ud til os", "book_visit", 0.88, actions=["visit_form"],
                                     form="visit_form")], channel="socketio", start=start)
    return ids


def append(url: str, sender: str, turns: list[Say], channel: str = "rest") -> None:
    """More messages in an existing conversation (as Rasa adds them)."""
    tracker_store = store(url)
    tracker = asyncio.run(tracker_store.retrieve(sender))
    for event in events(turns, channel, start=time.time())[1:]:
        tracker.update(event)
    asyncio.run(tracker_store.save(tracker))
    tracker_store.engine.dispose()
