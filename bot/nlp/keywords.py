"""Tolerant keyword matching for short lists of topic words.

Matches the way people write: æ/ø/å or ae/oe/aa, inflections ("skiltet"), compounds
("støjgener", "tilbygningen") and small typos ("udeserveing").
"""
from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

from bot.nlp.normalize import words

#: Keywords at least this long also match inside a compound ("udeservering" in "udeserveringstilladelse").
COMPOUND_MIN = 7
#: Shorter keywords match exactly, or (from 4 letters) with an inflection ending of at most this many letters.
MAX_ENDING = 3
#: Similarity for a typo, for words of at least TYPO_MIN letters.
TYPO_RATIO = 0.86
TYPO_MIN = 5


#: Where a keyword stands in a text: its first token and the token after its last.
Span = tuple[int, int]


@lru_cache(maxsize=4096)
def _words(keyword: str) -> tuple[str, ...]:
    return tuple(words(keyword))


def _span(keyword: str, tokens: list[str]) -> Span | None:
    """Where ``keyword`` first occurs among the folded ``tokens`` (None: nowhere)."""
    parts = _words(keyword)
    if not parts:
        return None
    if len(parts) > 1:  # a phrase ("teknik- og miljøforvaltningen", "co2-neutral"): its words in a row
        return next(((i, i + len(parts)) for i in range(len(tokens) - len(parts) + 1)
                     if tuple(tokens[i:i + len(parts)]) == parts), None)
    key = parts[0]
    for i, token in enumerate(tokens):
        if token == key:
            return i, i + 1
        if len(key) >= COMPOUND_MIN and key in token:
            return i, i + 1
        if len(key) >= 4 and token.startswith(key) and len(token) - len(key) <= MAX_ENDING:
            return i, i + 1
    typo = _typo_of(key, tokens) if len(key) >= TYPO_MIN else None
    return None if typo is None else (typo, typo + 1)


def _typo_of(key: str, tokens: list[str]) -> int | None:
    """The index of the first token of at least TYPO_MIN letters that is ``key`` with a small
    typo (None: none is). The key's matcher is built once for all tokens, and ``ratio`` is
    computed only where its cheap upper bounds (lengths, then letters) reach TYPO_RATIO: the
    same answers as ``ratio`` alone."""
    matcher = SequenceMatcher(None)
    matcher.set_seq2(key)
    for i, token in enumerate(tokens):
        if len(token) < TYPO_MIN:
            continue
        matcher.set_seq1(token)
        if (matcher.real_quick_ratio() >= TYPO_RATIO and matcher.quick_ratio() >= TYPO_RATIO
                and matcher.ratio() >= TYPO_RATIO):
            return i
    return None


def spans(keywords: Iterable[str], tokens: list[str]) -> list[Span]:
    """Where each of ``keywords`` that occurs stands among ``tokens`` (``words`` of a text)."""
    return [span for span in (_span(k, tokens) for k in keywords) if span is not None]


def count_hits(keywords: Iterable[str], text: str) -> int:
    """How many of ``keywords`` occur in ``text``."""
    return len(spans(keywords, words(text)))
