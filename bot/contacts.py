"""Match a user's words to the unit that handles them ("who do I talk to about noise?")."""
from __future__ import annotations

from bot.knowledge import GENERAL_CONTACT, Contact, Knowledge
from bot.nlp.keywords import count_hits


def match(text: str, kb: Knowledge, limit: int = 3) -> list[Contact]:
    """The units whose keywords fit ``text`` best (several when they fit equally well)."""
    scored = [(count_hits(c.keywords, text), c) for c in kb.contacts.values()]
    scored = [(score, c) for score, c in scored if score]
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [contact for score, contact in scored if score == best][:limit]


def general(kb: Knowledge) -> Contact:
    return kb.contacts[GENERAL_CONTACT]
