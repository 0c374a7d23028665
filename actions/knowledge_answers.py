"""Answers topic questions from the sourced knowledge base (``data/knowledge``)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, language
from actions.dialogue import ActionClarify


class ActionAnswerKnowledge(Action):
    """Replies with the knowledge entry for the latest intent: text, source link, buttons."""

    def name(self) -> str:
        return "action_answer_knowledge"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        knowledge = kb()
        if intent not in knowledge.entries:  # e.g. a rule without an entry: ask instead
            return ActionClarify().run(dispatcher, tracker, domain)
        text, buttons = knowledge.answer(intent, language(tracker))
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
