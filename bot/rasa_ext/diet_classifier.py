"""Rasa's ``DIETClassifier``, named in config.yml (``bot.rasa_ext.diet_classifier.DIETClassifier``),
with correction 19 (``bot.rasa_patches``; ``RASA_CORRECTIONS`` turns it off).

19. **DIET's intent prediction computed from the sentence features directly.** DIET was half of
   the NLU's time (3 ms of 5.7 per message): for one message Rasa builds a model-data set (deep
   copies and scipy ``hstack`` of every featurizer's sparse features, sequence and sentence), a
   Keras batch generator, and calls a ``tf.function`` whose argument checks and dispatch cost more
   than the arithmetic. With no transformer layers and no hidden text layers (config.yml), the
   intent depends on the sentence features alone: Rasa's layers put the sentence vector (sparse
   features times the ``sparse_to_dense`` kernel, plus bias) at the position after the last
   token and nothing mixes positions, so the intent scores are that vector through the text
   embedding, its similarity with every intent's embedding (computed once by the model) and a
   softmax. The same float32 arithmetic on the model's own weights, in numpy, gives the same
   confidences (tests/test_rasa_ext.py compares both on the held-out sets). Any other model —
   transformer or hidden layers, entities, dense features, ``rasa test``'s diagnostic data, a
   feature size the model was not trained on — goes through Rasa's own ``_predict``.

The class keeps Rasa's name: DIET's saved model files are named after the class.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier as RasaDIETClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import (
    COSINE,
    ENTITY_RECOGNITION,
    FEATURIZERS,
    INTENT_CLASSIFICATION,
    SOFTMAX,
)

from bot import rasa_patches

CORRECTION = 19


@dataclass(frozen=True)
class SentenceIntentModel:
    """DIET's intent scoring for a model whose intent depends on the sentence features only:
    the weights as numpy arrays (float32, as the model computes)."""

    sentence_kernel: np.ndarray  # (sparse sentence features, units)
    sentence_bias: np.ndarray | None
    embed_kernel: np.ndarray  # (units, embedding dimension)
    embed_bias: np.ndarray | None
    labels_embed: np.ndarray  # (intents, embedding dimension), normalised already for cosine
    cosine: bool
    softmax: bool

    def scores(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The intent scores (shape ``(1, 1, intents)``, as the model's ``i_scores``) of one
        message's sentence features, given as column indices and values."""
        vector = values.astype(np.float32) @ self.sentence_kernel[columns]
        if self.sentence_bias is not None:
            vector = vector + self.sentence_bias
        embedded = vector @ self.embed_kernel
        if self.embed_bias is not None:
            embedded = embedded + self.embed_bias
        if self.cosine:
            embedded = embedded / max(float(np.linalg.norm(embedded)), 1e-12)
        similarities = self.labels_embed @ embedded
        if self.softmax:
            exp = np.exp(similarities - similarities.max())
            similarities = exp / exp.sum()
        return similarities.astype(np.float32).reshape(1, 1, -1)


def _numpy(tensor: Any) -> np.ndarray | None:
    return None if tensor is None else np.asarray(tensor.numpy(), dtype=np.float32)


def sentence_intent_model(model: Any) -> SentenceIntentModel | None:
    """The numpy form of a trained ``DIET`` model, or None when its intent depends on more than
    the sparse sentence features (transformer or hidden layers, dimension-unifying layers,
    dense features)."""
    sequence_layer = model._tf_layers.get(f"sequence_layer.{TEXT}")
    if sequence_layer is None or sequence_layer._has_transformer:
        return None
    if sequence_layer._tf_layers[sequence_layer.FFNN]._ffn_layers:
        return None
    combining = sequence_layer._tf_layers[sequence_layer.FEATURE_COMBINING]
    if any(name.startswith("unify_dims") for name in combining._tf_layers):
        return None
    sentence = combining._tf_layers.get(f"sparse_dense.{FEATURE_TYPE_SENTENCE}")
    if sentence is None or set(sentence._tf_layers) - {
            sentence.SPARSE_TO_DENSE, sentence.SPARSE_DROPOUT, sentence.DENSE_DROPOUT}:
        return None  # dense sentence features, or a layer this form does not know
    dense = sentence._tf_layers.get(sentence.SPARSE_TO_DENSE)
    if dense is None or dense.activation not in (None, _linear()):
        return None
    embed = model._tf_layers[f"embed.{TEXT}"]._dense
    if embed.activation not in (None, _linear()) or embed.kernel.shape[0] != dense.units:
        return None  # (an input wider than the sparse part: dense features beside it)
    loss = model._tf_layers["loss.label"]
    if model.all_labels_embed is None:
        model.prepare_for_predict()
        model.prepared_for_prediction = True
    labels = _numpy(model.all_labels_embed)
    cosine = loss.similarity_type == COSINE
    if cosine:
        labels = labels / np.maximum(np.linalg.norm(labels, axis=-1, keepdims=True), 1e-12)
    return SentenceIntentModel(
        _numpy(dense.kernel), _numpy(dense.bias) if dense.use_bias else None,
        _numpy(embed.kernel), _numpy(embed.bias) if embed.use_bias else None,
        labels, cosine, loss.model_confidence == SOFTMAX)


def _linear() -> Any:
    import tensorflow as tf

    return tf.keras.activations.linear


def sentence_features(message: Message, featurizers: list[str]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(columns, values, width) of the message's sparse sentence features for ``TEXT``, side by
    side in the order Rasa's ``Message.get_sparse_features`` puts them; None without any, or
    with dense ones (this form does not use them)."""
    columns, values, width = [], [], 0
    for features in message.features:
        if features.attribute != TEXT or (featurizers and features.origin not in featurizers):
            continue
        if features.type != FEATURE_TYPE_SENTENCE:
            continue
        if not features.is_sparse():
            return None
        matrix = features.features.tocoo()
        columns.append(matrix.col + width)
        values.append(matrix.data)
        width += matrix.shape[-1]
    if not columns:
        return None
    return np.concatenate(columns), np.concatenate(values), width


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class DIETClassifier(RasaDIETClassifier):
    """``DIETClassifier`` whose intent prediction skips TensorFlow where the model allows it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        rasa_patches.check_carried(CORRECTION)
        super().__init__(*args, **kwargs)
        # True: to be made on first use; False: not selected, or the model does not allow it.
        self._direct: SentenceIntentModel | bool = rasa_patches.enabled(CORRECTION)

    def _direct_model(self) -> SentenceIntentModel | None:
        """The numpy form, made on first use; None when correction 19 is not selected or the
        model's intent depends on more than the sparse sentence features."""
        if self._direct is True:
            config = self.component_config
            usable = self.model is not None and config[INTENT_CLASSIFICATION] and not config[ENTITY_RECOGNITION]
            self._direct = (usable and sentence_intent_model(self.model)) or False
        return self._direct or None

    def _predict(self, message: Message) -> dict[str, Any] | None:
        direct = None if self._execution_context.should_add_diagnostic_data else self._direct_model()
        if direct is not None:
            found = sentence_features(message, self.component_config[FEATURIZERS])
            if found is not None and found[2] == direct.sentence_kernel.shape[0]:
                return {"i_scores": direct.scores(found[0], found[1])}
        return super()._predict(message)
