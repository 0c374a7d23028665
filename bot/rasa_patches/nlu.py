"""Corrections of Rasa's NLU components, carried by classes that config.yml names."""
from __future__ import annotations

from bot.rasa_patches.guard import Correction, Kind, Target

CORRECTIONS = (
    Correction(7, "the spaCy pipeline loaded once", Kind.SPEED, (
        Target("rasa.nlu.utils.spacy_utils:SpacyNLP.load_model", "2e68d488b5c7a4f0"),
        Target("rasa.nlu.utils.spacy_utils:SpacyNLP.create", "59142d79b0abc241"),
    ), carrier="bot.rasa_ext.spacy_nlp.SpacyNLP (config.yml)"),
)
