"""Answers topic questions from the sourced knowledge base (``data/knowledge``)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, language
from actions.dialogue import ActionClarify


def answer_topic(dispatcher: CollectingDispatcher, intent: str | None, lang: str) -> bool:
    """Utter the knowledge entry for ``intent`` (text, source link, buttons); False if none."""
    knowledge = kb()
    if intent not in knowledge.entries:
        return False
    text, buttons = knowledge.answer(intent, lang)
    dispatcher.utter_message(text=text, buttons=buttons, kind="answer")
    return True


class ActionAnswerKnowledge(Action):
    """Replies with the knowledge entry for the latest intent."""

    def name(self) -> str:
        return "action_answer_knowledge"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not answer_topic(dispatcher, intent, language(tracker)):
            return ActionClarify().run(dispatcher, tracker, domain)  # no entry: ask instead
        return []
