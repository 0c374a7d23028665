"""Dialogue actions: clarifying unclear messages, privacy notice, out of scope. (Asking for a
person: ``actions/handover.py``.)"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ASK_HUMAN, failed_in_a_row, kb, language
from bot import metrics, settings
from bot.nlp.keywords import count_hits

#: Intents never offered as "did you mean" topics.
NOT_TOPICS = {"nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny",
              "bot_challenge", "request_human"}  # the person button is added after the topics
MIN_CONFIDENCE = 0.05
MAX_CHOICES = 3
MAIN_MENU = ["ask_business_service", "ask_grants_overview", "ask_contact", "book_visit"]

class ActionClarify(Action):
    """For unclear messages: offers the closest topics as buttons instead of guessing."""

    def name(self) -> str:
        return "action_clarify"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language(tracker)
        knowledge = kb()
        metrics.FALLBACKS.inc()
        ranking = tracker.latest_message.get("intent_ranking") or []
        choices = [
            item["name"] for item in ranking
            if item.get("name") not in NOT_TOPICS
            and item.get("confidence", 0) >= MIN_CONFIDENCE
            and (item["name"] in knowledge.entries or item["name"] in knowledge.labels)
        ][:MAX_CHOICES]
        if choices:
            buttons = [knowledge.button(i, lang) for i in choices]
            buttons.append(knowledge.button("request_human", lang))
            dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        else:
            buttons = [knowledge.button(i, lang) for i in MAIN_MENU + ["request_human"]]
            dispatcher.utter_message(response="utter_not_understood", buttons=buttons)
        if failed_in_a_row(tracker, 1):  # the second failed answer in a row: offer a person
            dispatcher.utter_message(response=ASK_HUMAN)
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
    """Out of scope: a citizen matter is sent to koege.dk/Borgerservice, anything else gets an
    honest "I can't help with that" and what the assistant can do."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        citizen = count_hits(kb().citizen_words, text) > 0
        dispatcher.utter_message(response="utter_out_of_scope_citizen" if citizen else "utter_out_of_scope")
        return []
