"""Small helpers the actions share: the conversation's language and the knowledge base."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from rasa_sdk import Tracker

from bot import knowledge, settings

DEFAULT_LANGUAGE = "da"
#: The response that offers a person (with the "Tal med en medarbejder" button).
ASK_HUMAN = "utter_offer_human"


def language(tracker: Tracker) -> str:
    """The language to answer in: the ``language`` slot, Danish by default."""
    value = tracker.get_slot("language")
    return value if value in knowledge.LANGUAGES else DEFAULT_LANGUAGE


def kb() -> knowledge.Knowledge:
    return knowledge.default()


@lru_cache(maxsize=1)
def local_domain() -> dict[str, Any]:
    """domain.yml as the action server has it (the same release as the model's)."""
    return yaml.safe_load((settings.ROOT / "domain.yml").read_text(encoding="utf-8"))


def domain_of(domain: dict[str, Any] | None) -> dict[str, Any]:
    """The domain Rasa sent, or the local one. endpoints.yml enables Rasa's selective domain:
    the domain (about 100 KB of JSON) is sent only to ``validate_*`` actions, not with every
    call, so the others read its slots and forms from the local file."""
    return domain if domain and (domain.get("slots") or domain.get("forms")) else local_domain()


def failed_in_a_row(tracker: Tracker, times: int = 2) -> bool:
    """Whether the assistant's last ``times`` replies were "did you mean …?"/"not understood"."""
    replies = [e.get("name") for e in tracker.events
               if e.get("event") == "action" and e.get("name") not in (None, "action_listen", "action_handover")]
    return len(replies) >= times and all(name == "action_clarify" for name in replies[-times:])
