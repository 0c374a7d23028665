"""Rasa's ``SpacyNLP``, named in config.yml (``bot.rasa_ext.spacy_nlp.SpacyNLP``), with
correction 7 (``bot.rasa_patches``; ``RASA_CORRECTIONS`` turns it off).

7. **The spaCy pipeline is loaded once.** Rasa's graph has two ``SpacyNLP`` nodes (the one that
   provides the model and the one that processes messages), and each loaded the model: with the
   Danish lemma table that was the pipeline twice in the Rasa process. ``load_model`` keeps the
   loaded pipeline per name (it is only read afterwards).

The class keeps Rasa's name: the recipe finds the model provider of ``SpacyTokenizer`` and the
other spaCy components by the class name ``SpacyNLP``.
"""
from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP

from bot import rasa_patches

#: spaCy pipelines loaded in this process, by name (correction 7).
_LOADED: dict[str, SpacyModel] = {}


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(RasaSpacyNLP):
    """``SpacyNLP`` that loads a pipeline once per process."""

    @staticmethod
    def load_model(spacy_model_name: str) -> SpacyModel:
        rasa_patches.check_carried(7)
        if not rasa_patches.enabled(7):
            return RasaSpacyNLP.load_model(spacy_model_name)
        if spacy_model_name not in _LOADED:
            _LOADED[spacy_model_name] = RasaSpacyNLP.load_model(spacy_model_name)
        return _LOADED[spacy_model_name]

    @classmethod
    def loaded(cls) -> dict[str, Any]:
        """The pipelines kept (for tests and the memory figures)."""
        return dict(_LOADED)
