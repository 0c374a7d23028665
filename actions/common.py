"""Small helpers the actions share: the conversation's language and the knowledge base."""
from __future__ import annotations

from rasa_sdk import Tracker

from bot import knowledge

DEFAULT_LANGUAGE = "da"
#: The response that offers a person (with the "Tal med en medarbejder" button).
ASK_HUMAN = "utter_offer_human"


def language(tracker: Tracker) -> str:
    """The language to answer in: the ``language`` slot, Danish by default."""
    value = tracker.get_slot("language")
    return value if value in knowledge.LANGUAGES else DEFAULT_LANGUAGE


def kb() -> knowledge.Knowledge:
    return knowledge.default()


def failed_in_a_row(tracker: Tracker, times: int = 2) -> bool:
    """Whether the assistant's last ``times`` replies were "did you mean …?"/"not understood"."""
    replies = [e.get("name") for e in tracker.events
               if e.get("event") == "action" and e.get("name") not in (None, "action_listen", "action_handover")]
    return len(replies) >= times and all(name == "action_clarify" for name in replies[-times:])
