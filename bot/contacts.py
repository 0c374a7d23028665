"""Match a user's words to the unit that handles them ("who do I talk to about noise?").

Matching is tolerant of how people write: æ/ø/å or ae/oe/aa, inflections ("skiltet"),
compounds ("støjgener", "tilbygningen") and small typos ("udeserveing").
"""
from __future__ import annotations

from difflib import SequenceMatcher

from bot.knowledge import Contact, Knowledge
from bot.nlp.normalize import fold, words

#: The contact used when no unit fits.
GENERAL_CONTACT = "koege_kommune"
#: Keywords at least this long also match inside a compound ("udeservering" in "udeserveringstilladelse").
COMPOUND_MIN = 7
#: Keywords shorter than that match exactly or with an inflection ending of at most this many letters.
MAX_ENDING = 3
#: Similarity for a typo ("udeserveing" ~ "udeservering"), for words of at least TYPO_MIN letters.
TYPO_RATIO = 0.86
TYPO_MIN = 5


def _keyword_hits(keyword: str, tokens: list[str], text: str) -> bool:
    key = fold(keyword)
    if " " in key:
        return f" {key} " in f" {text} "
    for token in tokens:
        if token == key:
            return True
        if len(key) >= COMPOUND_MIN and key in token:
            return True
        if len(key) >= 4 and token.startswith(key) and len(token) - len(key) <= MAX_ENDING:
            return True
        if (len(key) >= TYPO_MIN and len(token) >= TYPO_MIN
                and SequenceMatcher(None, token, key).ratio() >= TYPO_RATIO):
            return True
    return False


def match(text: str, kb: Knowledge, limit: int = 3) -> list[Contact]:
    """The units whose keywords fit ``text`` best (several when they fit equally well)."""
    tokens = words(text)
    joined = " ".join(tokens)
    scored: list[tuple[int, Contact]] = []
    for contact in kb.contacts.values():
        score = sum(_keyword_hits(k, tokens, joined) for k in contact.keywords)
        if score:
            scored.append((score, contact))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [contact for score, contact in scored if score == best][:limit]


def general(kb: Knowledge) -> Contact:
    return kb.contacts[GENERAL_CONTACT]
