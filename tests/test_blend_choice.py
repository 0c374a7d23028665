"""The blend's settings are chosen from out-of-fold predictions on the training data itself
(bot/nlp/blend_choice.py): the SVM alone where DIET does not help, DIET's share where it does."""
from __future__ import annotations

import numpy as np

from bot.nlp import blend_choice

LABELS = ["a", "b", "c"]


def _one_hot(indices: list[int], strength: float = 1.0) -> np.ndarray:
    rows = np.full((len(indices), len(LABELS)), (1 - strength) / len(LABELS))
    for row, index in enumerate(indices):
        rows[row, index] += strength
    return rows


def _case(diet_right: bool, svm_right: bool) -> blend_choice.Choice:
    rng = np.random.default_rng(0)
    gold_idx = [i % 3 for i in range(60)]
    noise = list(rng.integers(0, 3, size=60))
    diet = _one_hot(gold_idx if diet_right else noise)
    svm_values = (_one_hot(gold_idx if svm_right else noise) - 0.5) * 2  # decision values in [-1, 1]
    return blend_choice.choose([LABELS[i] for i in gold_idx], LABELS, diet, {C: svm_values for C in (0.5, 1.0, 2.0)})


def test_where_diet_is_no_better_than_chance_the_svm_alone_is_chosen():
    choice = _case(diet_right=False, svm_right=True)
    assert choice.setting.weight == 1.0 and choice.macro_f1 == choice.svm_alone_f1 == 1.0


def test_where_only_diet_is_right_diets_share_wins():
    choice = _case(diet_right=True, svm_right=False)
    assert choice.setting.weight <= 0.5 and choice.macro_f1 == 1.0 > choice.svm_alone_f1


def test_the_choice_is_never_below_the_svm_alone_on_the_same_predictions():
    for diet_right in (True, False):
        for svm_right in (True, False):
            choice = _case(diet_right, svm_right)
            assert choice.macro_f1 >= choice.svm_alone_f1
