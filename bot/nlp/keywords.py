"""Tolerant keyword matching for short lists of topic words.

Matches the way people write: æ/ø/å or ae/oe/aa, inflections ("skiltet"), compounds
("støjgener", "tilbygningen") and small typos ("udeserveing").
"""
from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

from bot.nlp.normalize import fold, words

#: Keywords at least this long also match inside a compound ("udeservering" in "udeserveringstilladelse").
COMPOUND_MIN = 7
#: Shorter keywords match exactly, or (from 4 letters) with an inflection ending of at most this many letters.
MAX_ENDING = 3
#: Similarity for a typo, for words of at least TYPO_MIN letters.
TYPO_RATIO = 0.86
TYPO_MIN = 5


def _hit(keyword: str, tokens: list[str], joined: str) -> bool:
    key = fold(keyword)
    if " " in key:
        return f" {key} " in f" {joined} "
    for token in tokens:
        if token == key:
            return True
        if len(key) >= COMPOUND_MIN and key in token:
            return True
        if len(key) >= 4 and token.startswith(key) and len(token) - len(key) <= MAX_ENDING:
            return True
    return len(key) >= TYPO_MIN and _typo_of(key, tokens)


def _typo_of(key: str, tokens: list[str]) -> bool:
    """Whether a token of at least TYPO_MIN letters is ``key`` with a small typo. The key's
    matcher is built once for all tokens, and ``ratio`` is computed only where its cheap upper
    bounds (lengths, then letters) reach TYPO_RATIO: the same answers as ``ratio`` alone."""
    matcher = SequenceMatcher(None)
    matcher.set_seq2(key)
    for token in tokens:
        if len(token) < TYPO_MIN:
            continue
        matcher.set_seq1(token)
        if (matcher.real_quick_ratio() >= TYPO_RATIO and matcher.quick_ratio() >= TYPO_RATIO
                and matcher.ratio() >= TYPO_RATIO):
            return True
    return False


def count_hits(keywords: Iterable[str], text: str) -> int:
    """How many of ``keywords`` occur in ``text``."""
    tokens = words(text)
    joined = " ".join(tokens)
    return sum(_hit(k, tokens, joined) for k in keywords)
