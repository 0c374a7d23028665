"""Measurements of the document answers (``bot.documents``); figures in ``docs/documents.md``.

``compare``: ranking methods over the same passages and words, on the TUNING set: TF-IDF
(scikit-learn) and BM25 (``bm25s``, when installed) on lemmas with and without compound parts,
TF-IDF on character n-grams of the lemmas, and a blend. For each: the right focus area or section in first
place, and the most right answers a threshold on (score, coverage) allows while refusing every
unknown question (optimistic for every method alike: the thresholds are fitted per method).
``calibrate``: for the project's method (and BM25 with ``bm25s``), how many answers are right,
wrong and refused for thresholds around the chosen ones (``bot.documents.answer``), on the
TUNING set.
``evaluate --set tuning|unseen|fresh|fresh2|…`` (every ``tests/documents/fresh*.yml``):
``best_answer`` on a set: right, wrong and refused answers, unknowns refused, index build time
and query time. The unseen and fresh sets are for checking only, never for choosing.

    python -m tools.documents_eval compare
    python -m tools.documents_eval calibrate
    python -m tools.documents_eval evaluate --set unseen
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from bot.documents import answer as answering
from bot.documents.index import PassageIndex
from bot.documents.passages import DOCUMENT, all_passages
from bot.documents.questions import SETS, Question, QuestionSet, load

Scorer = Callable[[list[str]], np.ndarray]


def _methods(index: PassageIndex) -> dict[str, tuple[Scorer, bool]]:
    """name -> (score function over the question's tokens, whether tokens include compound parts).
    The BM25 rows need ``bm25s`` (not a dependency of the project: ``pip install bm25s==0.3.16``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    with_parts = index.tokens
    lemmas = [index.analyzer.tokens(p.search_text, compounds=False) for p in index.passages]

    def bm25(tokens: list[list[str]]) -> Scorer:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index([t or ["\x00"] for t in tokens], show_progress=False)
        vocabulary = retriever.vocab_dict

        def score(query: list[str]) -> np.ndarray:
            known = [t for t in query if t in vocabulary]
            return retriever.get_scores(known) if known else np.zeros(len(tokens))
        return score

    def tfidf(tokens: list[list[str]]) -> Scorer:
        vectorizer = TfidfVectorizer(analyzer=lambda x: x, sublinear_tf=True)
        matrix = vectorizer.fit_transform(tokens)
        return lambda query: (matrix @ vectorizer.transform([query]).T).toarray().ravel()

    def chars(tokens: list[list[str]]) -> Scorer:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        matrix = vectorizer.fit_transform([" ".join(t) for t in tokens])
        return lambda query: (matrix @ vectorizer.transform([" ".join(query)]).T).toarray().ravel()

    word_tfidf, char_tfidf = tfidf(with_parts), chars(lemmas)
    methods: dict[str, tuple[Scorer, bool]] = {}
    if _has_bm25s():
        methods |= {"BM25, lemmas": (bm25(lemmas), False),
                    "BM25, lemmas + compound parts": (bm25(with_parts), True)}
    return methods | {
        "TF-IDF, lemmas": (tfidf(lemmas), False),
        "TF-IDF, lemmas + compound parts (project)": (index.scores, True),
        "TF-IDF, char 3-5-grams of lemmas": (char_tfidf, False),
        "TF-IDF blend: words + char n-grams": (lambda q: 0.5 * word_tfidf(q) + 0.5 * char_tfidf(q), True),
    }


def _has_bm25s() -> bool:
    try:
        import bm25s  # noqa: F401
    except ImportError:
        print("(bm25s is not installed: the BM25 rows are left out; pip install bm25s==0.3.16)")
        return False
    return True


def _tokens(index: PassageIndex, text: str, language: str, parts: bool) -> tuple[list, list[str]]:
    terms = index.analyzer.terms(text, language)
    tokens = [f for t in terms for f in (t.forms() if parts else (t.lemma, *t.also(t.lemma)))]
    return terms, tokens


def compare(questions: QuestionSet) -> None:
    index = PassageIndex(all_passages())
    documents = np.array([p.kind == DOCUMENT for p in index.passages])
    print(f"TUNING set: {len(questions.questions)} questions, {len(questions.unknown)} unknowns; "
          f"{int(documents.sum())} document passages")
    for name, (scorer, parts) in _methods(index).items():
        rows = []  # (is a question, right, score, coverage)
        for item in [*questions.questions, *questions.unknown]:
            text = item.text if isinstance(item, Question) else item
            terms, tokens = _tokens(index, text, "da", parts)
            scores = np.where(documents, scorer(tokens), -1.0)
            best = int(np.argmax(scores))
            right = isinstance(item, Question) and item.answered_by(index.passages[best])
            rows.append((isinstance(item, Question), right, float(scores[best]),
                         index.coverage(terms, best)[0]))
        first = sum(r[1] for r in rows)
        fitted = _best_and_rule(rows)
        print(f"  {name:42s} first place {first}/{len(questions.questions)}; refusing every unknown: "
              f"{fitted[0]} right, {fitted[1]} wrong")


def _best_and_rule(rows: list[tuple[bool, bool, float, float]]) -> tuple[int, int]:
    """The most (right - wrong) answers of a rule score >= a and coverage >= c that accepts no
    unknown question."""
    best = (0, 0)
    for a, c in itertools.product(sorted({r[2] for r in rows}), sorted({r[3] for r in rows})):
        accepted = [r for r in rows if r[2] >= a and r[3] >= c]
        if any(not r[0] for r in accepted):
            continue
        right = sum(r[1] for r in accepted)
        if right - (len(accepted) - right) > best[0] - best[1]:
            best = (right, len(accepted) - right)
    return best


def _run(index: PassageIndex, questions: QuestionSet, include_knowledge: bool = False) -> dict:
    """best_answer over a set: counts and timings."""
    counts = {"right": 0, "wrong": 0, "refused": 0, "knowledge": 0, "unknown_refused": 0, "english_right": 0}
    wrong, refused, knowledge, accepted_unknown, times = [], [], [], [], []
    for q in [*questions.questions, *questions.english]:
        started = time.perf_counter()
        result = answering.best_answer(q.text, q.language, include_knowledge=include_knowledge, index=index)
        times.append(time.perf_counter() - started)
        if isinstance(result, answering.NoAnswer):
            counts["refused"] += q.language == "da"
            refused.append(q.text)
        elif result.kind == "knowledge":
            counts["knowledge"] += q.language == "da"
            knowledge.append(f"{q.text} -> {result.passage_id}")
        elif q.answered_by(next(p for p in index.passages if p.id == result.passage_id)):
            counts["right" if q.language == "da" else "english_right"] += 1
        else:
            counts["wrong"] += q.language == "da"
            wrong.append(f"{q.text} -> {result.passage_id}")
    for text in questions.unknown:
        started = time.perf_counter()
        result = answering.best_answer(text, "da", include_knowledge=include_knowledge, index=index)
        times.append(time.perf_counter() - started)
        if isinstance(result, answering.NoAnswer):
            counts["unknown_refused"] += 1
        else:
            accepted_unknown.append(f"{text} -> {result.passage_id}")
    return {**counts, "wrong_list": wrong, "refused_list": refused, "knowledge_list": knowledge,
            "accepted_unknown": accepted_unknown, "times": times}


class Bm25Index(PassageIndex):
    """The same passages, words and coverage, ranked by BM25 (``bm25s``, Lucene's variant with
    its default k1 = 1.5, b = 0.75) instead of TF-IDF."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        import bm25s

        super().__init__(*args, **kwargs)
        self._retriever = bm25s.BM25()
        self._retriever.index([t or ["\x00"] for t in self.tokens], show_progress=False)

    def scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        return self._retriever.get_scores(known) if known else np.zeros(len(self.passages))


#: Thresholds tried by ``calibrate``: the score's scale differs (TF-IDF cosine, BM25 unbounded).
GRIDS = {"TF-IDF (project)": (0.05, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3), "BM25": (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)}


def calibrate(questions: QuestionSet) -> None:
    passages = all_passages()
    names = ("MIN_SCORE", "MIN_COVERAGE", "MIN_MARGIN")
    saved = {k: getattr(answering, k) for k in names}
    print(f"right / wrong / refused of {len(questions.questions)} questions; unknowns refused of "
          f"{len(questions.unknown)} (TUNING set, documents only)")
    try:
        for (method, grid), cls in zip(GRIDS.items(), (PassageIndex, Bm25Index), strict=True):
            if cls is Bm25Index and not _has_bm25s():
                continue
            index = cls(passages)
            print(f"{method}: MIN_SCORE MIN_COVERAGE MIN_MARGIN")
            for values in itertools.product(grid, (0.55, 0.6, 0.65, 0.7, 0.75), (0.0, 0.1, 0.2)):
                for name, value in zip(names, values, strict=True):
                    setattr(answering, name, value)
                r = _run(index, replace(questions, english=()))
                chosen = " <- chosen" if cls is PassageIndex and values == tuple(saved.values()) else ""
                print(f"  {values[0]:5.2f} {values[1]:5.2f} {values[2]:4.1f}: {r['right']:3d} / {r['wrong']:2d} / "
                      f"{r['refused']:2d}; unknowns refused {r['unknown_refused']}{chosen}")
    finally:
        for k, v in saved.items():
            setattr(answering, k, v)


def evaluate(questions: QuestionSet, name: str) -> None:
    from bot.documents.analysis import default_analyzer

    started = time.perf_counter()
    default_analyzer()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    passages = all_passages()
    index = PassageIndex(passages)
    total = time.perf_counter() - started
    print(f"{name}: {len(passages)} passages; spaCy pipeline loaded in {loaded:.2f} s; index built in "
          f"{index.build_seconds:.2f} s ({total:.2f} s with reading the documents and the knowledge base)")
    for include_knowledge in (False, True):
        r = _run(index, questions, include_knowledge)
        n, u = len(questions.questions), len(questions.unknown)
        print(f"\n  {'documents and knowledge base' if include_knowledge else 'documents only'}:")
        print(f"    right {r['right']}/{n} ({r['right'] / n:.0%}), wrong {r['wrong']}, refused {r['refused']}, "
              f"a knowledge entry's written answer {r['knowledge']}; "
              f"unknowns refused {r['unknown_refused']}/{u}; English right {r['english_right']}/"
              f"{len(questions.english)}")
        times = sorted(r["times"])
        print(f"    query time: median {statistics.median(times) * 1000:.1f} ms, "
              f"max {times[-1] * 1000:.1f} ms")
        for label, items in (("wrong", r["wrong_list"]), ("refused", r["refused_list"]),
                             ("knowledge entry", r["knowledge_list"]), ("unknown answered", r["accepted_unknown"])):
            for item in items:
                print(f"    {label}: {item}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("compare", "calibrate", "evaluate"))
    parser.add_argument("--set", choices=tuple(SETS), default="tuning")
    args = parser.parse_args(argv)
    if args.command != "evaluate" and args.set != "tuning":
        parser.error("compare and calibrate use the tuning set only")
    questions = load(SETS[args.set])
    {"compare": lambda: compare(questions), "calibrate": lambda: calibrate(questions),
     "evaluate": lambda: evaluate(questions, args.set)}[args.command]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
