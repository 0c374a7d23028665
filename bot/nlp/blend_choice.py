"""The blend's settings chosen at training time, by cross-validation on the training data itself.

``CharNgramEnsembleClassifier`` blends DIET's intent distribution with a char-n-gram SVM's. How
much each should count depends on the data: with many examples per intent DIET adds what the
SVM misses; with few, DIET is weak and the blend is better left to the SVM. So the settings
config.yml does not fix (the project fixes the temperature and C and lets the weight, the SVM's
share, be chosen) are chosen at training time: the training examples are split into ``folds``;
for each fold DIET (the pipeline's own DIET settings, ``epochs`` epochs) and the SVM are
trained on the other folds and predict this one; every setting of ``GRID`` is then scored on
all out-of-fold predictions by macro-F1. The configured default (``default_weight``) is kept
unless another setting beats it by more than one standard error; otherwise the best is taken.
Weight 1.0, the SVM alone, is in the grid, so where DIET clearly does not help (few examples,
another domain) the SVM alone is chosen; on a tie the setting closer to the SVM wins.

DIET's out-of-fold training is the cost: ``folds`` trainings on part of the data (about a
minute on the project's data on 2 cores with half of DIET's epochs).
"""
from __future__ import annotations

import itertools
import logging
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

GRID = {
    "weight": (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    # One temperature: it sets how peaked the blended confidences are, which the fallback's
    # threshold (config.yml) and routing.CONFIDENT are measured against; macro-F1 barely moves
    # with it (two trainings on data/nlu chose 5 and 20 for 0.002).
    "temperature": (10.0,),
    "C": (0.5, 1.0, 2.0),
}
#: Fewer training examples than this: no cross-validation, the SVM alone.
MIN_EXAMPLES = 30


@dataclass(frozen=True)
class Setting:
    weight: float
    temperature: float
    C: float


@dataclass(frozen=True)
class Choice:
    """The chosen setting, its out-of-fold macro-F1, and the SVM alone's (for the log and tests)."""

    setting: Setting
    macro_f1: float
    svm_alone_f1: float
    folds: int


def grid(fixed: dict[str, float | None] | None = None) -> dict[str, tuple[float, ...]]:
    """``GRID`` with the settings ``fixed`` gives (config.yml's) as their only value."""
    fixed = fixed or {}
    return {name: (float(fixed[name]),) if fixed.get(name) is not None else values  # type: ignore[arg-type]
            for name, values in GRID.items()}


def settings(fixed: dict[str, float | None] | None = None) -> list[Setting]:
    chosen = grid(fixed)
    return [Setting(*values) for values in itertools.product(chosen["weight"], chosen["temperature"], chosen["C"])]


def standard_error(gold: Sequence[str], one: Sequence[str], other: Sequence[str]) -> float:
    """The standard error of the difference between two classifiers' scores on the same
    examples (McNemar's: the square root of the examples only one of them gets right, over all)."""
    discordant = sum((a == g) != (b == g) for g, a, b in zip(gold, one, other, strict=True))
    return float(np.sqrt(discordant) / max(len(gold), 1))


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0))


def choose(gold: Sequence[str], labels: Sequence[str], diet: np.ndarray, svm: dict[float, np.ndarray],
           folds: int = 0, fixed: dict[str, float | None] | None = None,
           prior: Setting | None = None) -> Choice:
    """The best setting for out-of-fold DIET probabilities ``diet`` (rows: examples, columns:
    ``labels``) and SVM decision values per C (the settings in ``fixed`` not searched); ties go
    to the higher SVM weight, then to the middle of the grid's temperatures and Cs.

    ``prior`` (the configured default) is kept unless the best setting beats it by more than one
    standard error: differences below that are noise of the folds and of DIET's training (on
    ``data/nlu`` weights 0.4-1.0 lie within 0.003 of each other, and two trainings on the same
    data chose 0.6 and 0.7), and a weight that moves with noise moves the confidences the
    fallback threshold is measured on."""
    from bot.nlp.ensemble import blend, softmax_rows

    def predict(s: Setting) -> list[str]:
        mixed = blend(softmax_rows(svm[s.C], s.temperature), diet, s.weight)
        return [labels[i] for i in mixed.argmax(axis=1)]

    scored = [(round(macro_f1(gold, predict(s)), 6), s.weight, -abs(s.temperature - 10.0), -abs(s.C - 1.0), s)
              for s in settings(fixed)]
    best = max(scored, key=lambda row: row[:4])
    kept = [row for row in scored if row[-1] == prior]
    if kept and best[0] - kept[0][0] <= standard_error(gold, predict(best[-1]), predict(prior)):
        best = kept[0]
    svm_alone = max(row[0] for row in scored if row[-1].weight == 1.0)
    return Choice(best[-1], best[0], svm_alone, folds)


def out_of_fold(examples: Sequence[Any], intents: Sequence[str], folds: int,
                train_svm: Callable[[Sequence[int], float], Any], svm_features: Sequence[str],
                train_diet: Callable[[Sequence[int], Path], Callable[[Sequence[int]], list[dict[str, float]]]],
                seed: int = 0, Cs: Sequence[float] = GRID["C"]) -> tuple[list[str], np.ndarray, dict[float, np.ndarray]]:
    """Labels, DIET's out-of-fold probabilities and the SVM's out-of-fold decision values for
    each C of ``Cs``. ``train_svm(indices, C)`` fits an SVM on those examples (plus whatever it
    adds); ``train_diet(indices, directory)`` trains DIET on them and returns a predictor of indices."""
    from sklearn.model_selection import StratifiedKFold

    labels = sorted(set(intents))
    diet = np.zeros((len(examples), len(labels)))
    svm = {C: np.zeros((len(examples), len(labels))) for C in Cs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # intents with fewer examples than folds: fine, they train
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(intents)), intents))
    with tempfile.TemporaryDirectory() as tmp:
        for number, (train_idx, test_idx) in enumerate(splits):
            predict = train_diet(train_idx, Path(tmp) / f"fold{number}")
            for row, ranking in zip(test_idx, predict(test_idx), strict=True):
                diet[row] = [ranking.get(label, 0.0) for label in labels]
            for C in Cs:
                model = train_svm(train_idx, C)
                values = model.decision_function([svm_features[i] for i in test_idx])
                columns = [labels.index(c) for c in model.classes_]
                values = np.atleast_2d(values)
                if values.shape[1] == 1:  # two classes: one decision value
                    values = np.hstack([-values, values])
                filled = np.full((len(test_idx), len(labels)), values.min() - 1.0)
                filled[:, columns] = values
                svm[C][test_idx] = filled
    return labels, diet, svm
