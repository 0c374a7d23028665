"""Sets the ``language`` slot from every user message (Rasa's slot-mapping validation hook)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from bot.nlp.language import detect


class ValidatePredefinedSlots(ValidationAction):
    """``action_validate_slot_mappings``: runs after each user message."""

    def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/"):  # a button payload says nothing about the language
            return {}
        found = detect(text)
        return {"language": found} if found and found != tracker.get_slot("language") else {}
