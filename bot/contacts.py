"""Match a user's words to the unit that handles them ("who do I talk to about noise?")."""
from __future__ import annotations

from bot.knowledge import GENERAL_CONTACT, Contact, Knowledge
from bot.nlp.keywords import Span, spans
from bot.nlp.normalize import words


def _inside_longer(span: Span, others: list[Span]) -> bool:
    """Whether ``span`` lies within a longer one: its words belong to that phrase ("miljø" in
    "teknik og miljø" names the administration, not the environment department)."""
    return any(o[0] <= span[0] and span[1] <= o[1] and o[1] - o[0] > span[1] - span[0] for o in others)


def match(text: str, kb: Knowledge, limit: int = 3) -> list[Contact]:
    """The units whose keywords fit ``text`` best (several when they fit equally well).

    Each unit scores its keywords found in ``text``, except those inside a longer keyword found
    there. Of the best, a unit that is part of another (``part_of``) is more specific and wins
    over that one ("grøn omstilling i teknik og miljø" is the team, not the whole administration)."""
    tokens = words(text)
    found = {c.id: spans(c.keywords, tokens) for c in kb.contacts.values()}
    every = [span for unit_spans in found.values() for span in unit_spans]
    scores = {unit: sum(not _inside_longer(s, every) for s in unit_spans) for unit, unit_spans in found.items()}
    best = max(scores.values(), default=0)
    if not best:
        return []
    tied = [kb.contacts[unit] for unit, score in scores.items() if score == best]
    wholes = {c.part_of for c in tied}
    return [c for c in tied if c.id not in wholes][:limit]


def general(kb: Knowledge) -> Contact:
    return kb.contacts[GENERAL_CONTACT]
