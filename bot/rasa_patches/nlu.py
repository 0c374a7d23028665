"""Corrections of Rasa's NLU components.

7. **The spaCy pipeline is loaded once.** Rasa's graph has two ``SpacyNLP`` nodes (the one that
   provides the model and the one that processes messages), and each loaded the model: with
   the Danish lemma table that was the pipeline twice in the Rasa process. ``SpacyNLP.load_model``
   keeps the loaded pipeline per name (it is only read afterwards).
"""
from __future__ import annotations

from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, wrap


def _load_spacy_once(original: Any) -> Any:
    cached: dict[str, Any] = {}

    def load_model(spacy_model_name: str) -> Any:
        """Rasa's ``SpacyNLP.load_model``, once per model name in this process."""
        if spacy_model_name not in cached:
            cached[spacy_model_name] = original(spacy_model_name)
        return cached[spacy_model_name]

    load_model.__wrapped__ = original  # type: ignore[attr-defined]
    return staticmethod(load_model)


def _install_7() -> None:
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    wrap(SpacyNLP, "load_model", _load_spacy_once)


CORRECTIONS = (
    Correction(7, "the spaCy pipeline loaded once", Kind.SPEED, (
        Target("rasa.nlu.utils.spacy_utils:SpacyNLP.load_model", "2e68d488b5c7a4f0"),
    ), _install_7),
)
