"""Text normalisation shared by the NLU pipeline and the actions.

Danish users often type without æ/ø/å ("sjaelland", "tilladelse til skilt paa facaden").
Folding both spellings to one form lets "Sjælland" and "sjaelland" meet.
"""
from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"})
_NON_WORD = re.compile(r"[^\w@.+]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and spell æ/ø/å as ae/oe/aa (and strip other accents)."""
    text = text.lower().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Folded word tokens of a text (punctuation removed, e-mail addresses kept whole)."""
    return [w.strip(".") for w in _NON_WORD.split(fold(text)) if w.strip(".")]
