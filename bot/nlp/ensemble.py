"""A Rasa intent classifier that blends DIET with a character-n-gram linear SVM.

On our held-out Danish set a TF-IDF char-n-gram linear SVM and DIET make different mistakes:
the SVM is robust to typos and unseen compounds, DIET to word order and context. This
component runs after ``DIETClassifier`` (with ``ranking_length: 0`` so that every intent has
a DIET confidence). It trains the SVM on each example's folded text plus its folded lemmas
(so "tilladelser", "tilladelse" and "tilladelse" without æ/ø/å share n-grams), turns the SVM's
decision values into probabilities with a softmax, and sets the message's intent to the
weighted average of both distributions. ``FallbackClassifier`` then sees the blended
confidences. `make nlu-eval` measured the blend against both parts and the baselines.
"""
from __future__ import annotations

import logging
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from bot.nlp.normalize import fold

logger = logging.getLogger(__name__)
MODEL_FILE = "char_ngram_model.joblib"


def features_text(message: Message) -> str:
    """The folded text followed by its folded lemmas (from SpacyTokenizer)."""
    tokens = message.get("text_tokens") or []
    lemmas = " ".join(t.lemma or t.text for t in tokens)
    return f"{fold(message.get(TEXT) or '')} | {fold(lemmas)}"


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = scores * temperature
    scaled -= scaled.max()
    exp = np.exp(scaled)
    return exp / exp.sum()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CharNgramEnsembleClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "weight": 0.5,        # share of the SVM in the blend
            "temperature": 10.0,  # softmax temperature for the SVM's decision values
            "min_ngram": 2,
            "max_ngram": 5,
            "C": 1.0,             # inverse regularisation of the SVM
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Pipeline | None = None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CharNgramEnsembleClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = training_data.intent_examples
        self.model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", sublinear_tf=True,
                            ngram_range=(self.config["min_ngram"], self.config["max_ngram"])),
            LinearSVC(C=self.config["C"]),
        )
        self.model.fit([features_text(m) for m in examples], [m.get(INTENT) for m in examples])
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CharNgramEnsembleClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except ValueError:
            logger.warning("No trained char-n-gram model found; DIET's ranking is used alone.")
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        weight = self.config["weight"]
        labels = list(self.model.classes_)
        for message in messages:
            if not message.get(TEXT):
                continue
            scores = self.model.decision_function([features_text(message)])[0]
            own = softmax(scores, self.config["temperature"])
            diet = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY) or []}
            blended = {
                label: weight * float(p) + (1 - weight) * diet.get(label, 0.0)
                for label, p in zip(labels, own, strict=True)
            }
            ranking = sorted(({"name": n, "confidence": c} for n, c in blended.items()),
                             key=lambda r: r["confidence"], reverse=True)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:10], add_to_output=True)
        return messages



