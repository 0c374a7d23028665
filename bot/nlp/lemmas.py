"""The Danish lemma table in three arrays instead of 553,000 Python objects.

spaCy's lookup lemmatizer keeps ``spacy-lookups-data``'s Danish table (553,116 word forms,
80,890 distinct lemmas) as a Python dictionary of hashes and strings: 101 MB of the process
once loaded. The same mapping is kept here as a sorted array of the forms' hashes (spaCy's own
64-bit string hash, so the table answers exactly what spaCy's would), an array of lemma
numbers and one list of the distinct lemmas: 2 MB loaded, the same answers.

``koege_lemmatizer`` is the pipeline component: it lemmatises every token (a capitalised word
is looked up as written, then in lower case), then folds æ/ø/å (``bot.nlp.normalize.fold``), so
that Rasa's featurizers, which read lemmas, see one form for both spellings.

No ``from __future__ import annotations`` here: spaCy reads the factory's annotations at run
time.
"""
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import numpy as np
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from bot.nlp.normalize import fold

LANGUAGE = "da"
TABLE = "lemma_lookup"
T = TypeVar("T")


class LemmaTable:
    """Word form -> lemma, looked up by spaCy's string hash."""

    def __init__(self, keys: np.ndarray, index: np.ndarray, lemmas: list[str]) -> None:
        self._keys, self._index, self._lemmas = keys, index, lemmas

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, str]]) -> "LemmaTable":
        """From (hash of a form, lemma) pairs, as in a spaCy lookups ``Table``."""
        numbers: dict[str, int] = {}
        pairs = sorted((key, numbers.setdefault(lemma, len(numbers))) for key, lemma in items)
        keys = np.fromiter((key for key, _ in pairs), dtype=np.uint64, count=len(pairs))
        index = np.fromiter((n for _, n in pairs), dtype=np.uint32, count=len(pairs))
        return cls(keys, index, list(numbers))

    @classmethod
    def danish(cls) -> "LemmaTable":
        """The Danish table of ``spacy-lookups-data`` (the one spaCy's lookup lemmatizer uses)."""
        from spacy.lookups import load_lookups

        return cls.from_items(load_lookups(LANGUAGE, [TABLE]).get_table(TABLE).items())

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, word: str, default: str) -> str:
        return self.get_by_key(get_string_id(word), default)

    def get_by_key(self, hashed: int, default: T) -> str | T:
        """The lemma of the form whose spaCy hash is ``hashed``, else ``default``."""
        key = np.uint64(hashed)
        i = int(self._keys.searchsorted(key))
        if i < len(self._keys) and self._keys[i] == key:
            return self._lemmas[self._index[i]]
        return default

    def save(self, folder: Path) -> None:
        if any("\n" in lemma for lemma in self._lemmas):
            raise ValueError("a lemma with a line break cannot be saved")
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "keys.npy", self._keys)
        np.save(folder / "index.npy", self._index)
        (folder / "lemmas.txt").write_text("\n".join(self._lemmas), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "LemmaTable":
        lemmas = (folder / "lemmas.txt").read_text(encoding="utf-8").split("\n")
        return cls(np.load(folder / "keys.npy"), np.load(folder / "index.npy"), lemmas)


class Lemmatizer:
    """Sets each token's lemma from the table, folded (see the module's docstring)."""

    def __init__(self) -> None:
        self.table = LemmaTable(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint32), [])

    def initialize(self, get_examples: object = None, *, nlp: Language | None = None) -> None:
        self.table = LemmaTable.danish()

    def lemma(self, text: str) -> str:
        lemma = self.table.get(text, text)
        if lemma == text:
            lower = text.lower()
            lemma = self.table.get(lower, lower)
        return fold(lemma)

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = self.lemma(token.text)
        return doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self.table.save(Path(path))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> "Lemmatizer":
        self.table = LemmaTable.load(Path(path))
        return self


@Language.factory("koege_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> "Lemmatizer":
    return Lemmatizer()
