"""Dialogue actions: clarifying unclear messages, privacy notice, out of scope. (Asking for a
person: ``actions/handover.py``.)"""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import routing
from actions.common import kb, language
from actions.knowledge_answers import respond, say_elsewhere, say_factual
from bot import settings


class ActionClarify(Action):
    """For messages no intent answers with confidence (and Rasa's core fallback): a quote from the
    municipality's documents when a passage answers the question, else the closest topics as
    buttons, else an honest "I don't know" with a person: never a guess (``actions/routing.py``)."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await respond(dispatcher, tracker)
        return []


class ActionPrivacy(Action):
    """What is stored and for how long (the retention setting)."""

    def name(self) -> str:
        return "action_privacy"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_privacy", days=settings.retention_days())
        return []


class ActionOutOfScope(Action):
    """Out of scope (``routing.out_of_scope``): a message about another municipality is sent
    there; one that names something the municipality's documents name and that they answer gets
    that answer ("hvad er DBD?"); a citizen matter is sent to koege.dk/Borgerservice; anything
    else gets an honest "I can't help with that" and what the assistant can do."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text, lang = tracker.latest_message.get("text") or "", language(tracker)
        decision = await asyncio.to_thread(routing.out_of_scope, text, lang, kb())
        if decision is not None and decision.kind == routing.ELSEWHERE:
            say_elsewhere(dispatcher, decision.municipality)
            return []
        if decision is not None and say_factual(dispatcher, decision, lang):
            return []
        citizen = routing.citizen_matter(text, kb())
        dispatcher.utter_message(response="utter_out_of_scope_citizen" if citizen else "utter_out_of_scope")
        return []


class ActionBotCapabilities(Action):
    """What the assistant can help with — unless the NLU was unsure and the message names
    something the municipality's documents name and answer ("hvad er DBD?";
    ``routing.capabilities``): then that answer."""

    def name(self) -> str:
        return "action_bot_capabilities"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text, lang = tracker.latest_message.get("text") or "", language(tracker)
        decision = await asyncio.to_thread(routing.capabilities, text, lang, tracker.latest_message, kb())
        if decision is None or not say_factual(dispatcher, decision, lang):
            dispatcher.utter_message(response="utter_bot_capabilities")
        return []
