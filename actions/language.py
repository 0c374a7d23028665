"""Sets the ``language`` slot from every user message (Rasa's slot-mapping validation hook)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from actions.common import domain_of
from bot.nlp.language import detect


def channel_language(tracker: Tracker) -> str | None:
    """The user's language as the channel reports it (Telegram's ``language_code``), only at
    the start of a conversation: once the user has written, their own words decide."""
    if any(e.get("event") == "user" and not (e.get("text") or "").startswith("/") for e in tracker.events):
        return None
    code = ((tracker.latest_message.get("metadata") or {}).get("telegram") or {}).get("language_code") or ""
    return "en" if code.lower().startswith("en") else None


class ValidatePredefinedSlots(ValidationAction):
    """``action_validate_slot_mappings``: runs after each user message."""

    def domain_slots(self, domain: dict[str, Any]) -> list[str]:
        return super().domain_slots(domain_of(domain))  # Rasa sends no domain to this action

    def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/"):  # a button payload or command says nothing about the language,
            found = channel_language(tracker)  # but the channel may know the user's (Telegram)
        else:
            found = detect(text)
        return {"language": found} if found and found != tracker.get_slot("language") else {}
