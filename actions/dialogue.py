"""Dialogue actions: clarifying unclear messages, privacy notice, out of scope. (Asking for a
person: ``actions/handover.py``.)"""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ASK_HUMAN, failed_in_a_row, kb, language
from actions.knowledge_answers import answer_topic, say_quote
from bot import documents, metrics, settings
from bot.nlp.keywords import count_hits

#: Intents never offered as "did you mean" topics.
NOT_TOPICS = {"nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny",
              "bot_challenge", "request_human"}  # the person button is added after the topics
MIN_CONFIDENCE = 0.05
MAX_CHOICES = 3
MAIN_MENU = ["ask_business_service", "ask_grants_overview", "ask_contact", "book_visit"]

class ActionClarify(Action):
    """For messages no intent answers with confidence (and Rasa's core fallback): a quote from the
    municipality's documents when a passage answers the question (``bot.documents``), else the
    closest topics as buttons, else an honest "I don't know" with a person: never a guess."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language(tracker)
        text = tracker.latest_message.get("text") or ""
        knowledge = kb()
        ranking = tracker.latest_message.get("intent_ranking") or []
        choices = [
            item["name"] for item in ranking
            if item.get("name") not in NOT_TOPICS
            and item.get("confidence", 0) >= MIN_CONFIDENCE
            and (item["name"] in knowledge.entries or item["name"] in knowledge.labels)
        ][:MAX_CHOICES]
        found = await asyncio.to_thread(documents.best_answer, text, lang) if text.strip() else None
        # one word ("støtte?") names a topic rather than asks a question: the topics to choose from
        if isinstance(found, documents.DocumentAnswer) and not (choices and found.words < 2):
            metrics.DOCUMENT_ANSWERS.labels(found.kind).inc()
            if found.kind == "knowledge" and answer_topic(dispatcher, found.intent, lang):
                return []
            if found.kind == "document":
                say_quote(dispatcher, found)
                return []
        metrics.FALLBACKS.inc()
        if choices:
            buttons = [knowledge.button(i, lang) for i in choices]
            buttons.append(knowledge.button("request_human", lang))
            dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        elif isinstance(found, documents.NoAnswer) and found.reason != documents.NO_MATCH:
            # a question the documents come close to but do not answer: say so, offer a person
            dispatcher.utter_message(response="utter_document_unknown")
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
