"""Typo correction against the words the classifier was trained on.

People chatting misspell ("tilladdelse", "udeservring", "erhvervhus"). A char-n-gram model
still shares most n-grams with the right word, but the n-grams around the slip are lost and
short words lose most of theirs. ``Speller`` knows the folded words of the training data and
their counts; a word of at least ``MIN_LENGTH`` letters that it does not know is read as the
known word one edit away (one letter deleted, inserted, replaced, or two neighbours swapped)
when there is exactly one such word, or one clearly more frequent than the others. The lookup
is SymSpell's symmetric-delete index: each known word is filed under itself and each of its
one-letter deletions, so a lookup is a handful of dictionary reads, not a scan.

The classifier keeps the words as written and adds the corrected ones (``correct``), so a word
it knows under another spelling gains its n-grams and nothing written is lost.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

#: Shorter words are left alone: one edit from a four-letter word reaches too many others.
MIN_LENGTH = 5
#: A correction is taken when its word is this many times more frequent than the next candidate.
DOMINANCE = 3


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is one deletion, insertion, replacement or adjacent swap away from ``a``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):
        return a[start:] == b[start + 1:]
    if a[start + 1:] == b[start + 1:]:
        return True
    return a[start:start + 2] == b[start:start + 2][::-1] and a[start + 2:] == b[start + 2:]


class Speller:
    """The known words of a training set (folded, as ``bot.nlp.normalize.words`` gives them)
    and how often each occurs."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = {w: n for w, n in counts.items() if w.isalpha()}
        self._index: dict[str, list[str]] = {}
        for word in self.counts:
            if len(word) >= MIN_LENGTH - 1:
                for key in {word, *_deletions(word)}:
                    self._index.setdefault(key, []).append(word)

    @classmethod
    def of(cls, words: Iterable[str]) -> Speller:
        """The speller of a text's words (each occurrence counts)."""
        return cls(Counter(words))

    def suggest(self, word: str) -> str | None:
        """The known word ``word`` is a typo of, or None (known, too short, or no clear match)."""
        if len(word) < MIN_LENGTH or word in self.counts or not word.isalpha():
            return None
        found = {known for key in (word, *_deletions(word)) for known in self._index.get(key, ())
                 if one_edit(word, known)}
        ranked = sorted(found, key=lambda w: (-self.counts[w], w))
        if not ranked:
            return None
        if len(ranked) > 1 and self.counts[ranked[0]] < DOMINANCE * self.counts[ranked[1]]:
            return None
        return ranked[0]

    def correct(self, words: Iterable[str]) -> list[str]:
        """The corrected forms of the misspelt ones among ``words``."""
        return [s for s in map(self.suggest, words) if s is not None]
