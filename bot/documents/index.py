"""The search index over passages: TF-IDF over Danish lemmas and compound parts, and coverage.

Each passage is indexed as its document title, section title, heading and text
(``Passage.search_text``) in the words of ``bot.documents.analysis``. A question is scored by
the cosine of TF-IDF vectors (scikit-learn) and, for the best passages, by its *coverage*: the
share of the question's words that the passage contains, each word weighted by the square root
of its idf among the passages (a compound counts by the weighted share of its parts found; one
that other passages use as it is, only by all its parts; a synonym or derived form a little less
than the word itself). The score ranks; coverage says whether the passage is about what was asked
("hvad koster en erhvervsgrund i Køge Nord?" finds Køge Nord's business land, but not "koster").
``bot.documents.answer`` turns both into an answer or a refusal.

Why these words and this library, measured on ``tests/documents/tuning.yml`` (``python -m
tools.documents_eval compare`` and ``calibrate``; figures in ``docs/documents.md``): compound
parts lift the right focus area or section in first place from 37-38/45 (lemmas alone) to 42/45;
character n-grams rank worse (39/45). BM25 (``bm25s``) and TF-IDF rank alike (42/45), and with
the answer rule both give the same answers on the tuning, unseen and fresh sets; so the index
uses scikit-learn, which the project already has, rather than a new dependency.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.documents.analysis import Analyzer, Term, default_analyzer
from bot.documents.passages import Passage

#: Among the best passages by score, prefer one that has every name of the question ("Connect
#: Køge"), then the one that covers more of the question, then the higher score. Measured: one
#: more right answer on the tuning set at the same thresholds, no unknown accepted.
RERANK = True
#: A word found as a synonym, a derived form or an English word's Danish counterpart counts a
#: little less than the word itself, so that the passage with the question's own word wins.
ALTERNATIVE_SHARE = 0.95
#: Coverage weighs a word by the square root of its idf: the idf itself lets one rare word
#: ("forbedre") outweigh the rest of the question; no weight lets a common word ("Køge") count as
#: much as the topic.
IDF_POWER = 0.5
#: How many passages by score are looked at (and reranked).
LIMIT = 5


@dataclass(frozen=True)
class Hit:
    """A passage found for a question: its score (TF-IDF cosine) and how much of the question it covers."""

    passage: Passage
    score: float
    coverage: float
    matched: tuple[str, ...]  # the question's words (lemmas) found in the passage
    missing: tuple[str, ...]  # those not found
    names_found: bool = True  # every name of the question ("Connect Køge") is in the passage


class PassageIndex:
    """Passages, searchable by question. Build once; ``search`` is thread-safe."""

    def __init__(self, passages: Sequence[Passage], analyzer: Analyzer | None = None) -> None:
        started = time.perf_counter()
        self.analyzer = analyzer or default_analyzer()
        self.passages = list(passages)
        self.tokens = [self.analyzer.tokens(p.search_text) for p in self.passages]
        self._sets = [frozenset(t) for t in self.tokens]
        self._vectorizer = TfidfVectorizer(analyzer=_as_is, sublinear_tf=True)
        self._matrix = self._vectorizer.fit_transform(self.tokens)
        self._vocabulary = self._vectorizer.vocabulary_
        frequency = Counter(word for s in self._sets for word in s)
        n = len(self.passages)
        self._idf = {w: _idf(n, df) for w, df in frequency.items()}
        self._unseen_idf = _idf(n, 0)
        self.build_seconds = time.perf_counter() - started

    def idf(self, word: str) -> float:
        """How rare ``word`` is among the passages (a word no passage has: the rarest)."""
        return self._idf.get(word, self._unseen_idf)

    def coverage(self, terms: Sequence[Term], passage_index: int) -> tuple[float, tuple[str, ...], tuple[str, ...]]:
        """(share of the question's weight found in the passage, words found, words missing)."""
        found = self._sets[passage_index]
        have = total = 0.0
        matched: list[str] = []
        missing: list[str] = []
        for term in terms:
            weight = self.idf(term.lemma) ** IDF_POWER
            if term.lemma in found:
                share = 1.0
            elif any(w in found for w in term.also(term.lemma)):
                share = ALTERNATIVE_SHARE
            elif term.parts:
                # A compound (or hyphenated word) by its parts: the share of their weight found,
                # or for a word that other passages use as it is ("Stevnsvejen"), all or nothing
                # (not "vej" in "vejareal").
                weights = [self.idf(p) ** IDF_POWER for p in term.parts]
                found_weight = sum(w * (1.0 if p in found else ALTERNATIVE_SHARE)
                                   for p, w in zip(term.parts, weights, strict=True)
                                   if p in found or any(a in found for a in term.also(p)))
                share = found_weight / sum(weights)
                if term.lemma in self._idf and share < 1.0:
                    share = 0.0
            else:
                share = 0.0
            have += weight * share
            total += weight
            (matched if share >= 0.5 else missing).append(term.lemma)
        return (have / total if total else 0.0), tuple(matched), tuple(missing)

    def contains(self, term: Term, passage_index: int) -> bool:
        """Whether the passage has ``term``: the word, a word it stands for, or all its parts."""
        found = self._sets[passage_index]
        return (term.lemma in found or any(w in found for w in term.also(term.lemma))
                or bool(term.parts) and all(p in found for p in term.parts))

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """The score (TF-IDF cosine, 0 to 1) of every passage for the question's tokens."""
        known = [t for t in tokens if t in self._vocabulary]
        if not known:
            return np.zeros(len(self.passages))
        return (self._matrix @ self._vectorizer.transform([known]).T).toarray().ravel()

    def search(self, question: str, language: str = "da", *, kinds: Collection[str] | None = None,
               limit: int = LIMIT) -> list[Hit]:
        """The best passages for ``question``, best first: only passages of ``kinds`` (if given),
        and of knowledge entries only the text in the question's language."""
        terms = self.analyzer.terms(question, language)
        tokens = [form for term in terms for form in term.forms()]
        scores = self.scores(tokens)
        order = np.argsort(-scores, kind="stable")
        hits: list[Hit] = []
        for i in order:
            passage = self.passages[int(i)]
            if kinds is not None and passage.kind not in kinds:
                continue
            if passage.language not in (None, language):
                continue
            if scores[i] <= 0:
                break
            coverage, matched, missing = self.coverage(terms, int(i))
            names = all(self.contains(term, int(i)) for term in terms if term.name)
            hits.append(Hit(passage, float(scores[i]), coverage, matched, missing, names))
            if len(hits) == limit:
                break
        if RERANK:
            hits.sort(key=lambda h: (h.names_found, round(h.coverage, 2), h.score), reverse=True)
        return hits


def _as_is(tokens: list[str]) -> list[str]:
    """The analyzer of the vectorizer: the tokens are already words of the index."""
    return tokens


def _idf(n: int, df: int) -> float:
    """Inverse document frequency as BM25 (Lucene) weighs it, for coverage."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
