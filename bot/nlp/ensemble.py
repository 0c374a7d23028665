"""A Rasa intent classifier that blends DIET with a character-n-gram linear SVM.

On our held-out Danish set a TF-IDF char-n-gram linear SVM and DIET make different mistakes:
the SVM is robust to typos and unseen compounds, DIET to word order and context. This
component runs after ``DIETClassifier`` (with ``ranking_length: 0`` so that every intent has
a DIET confidence). It trains the SVM on each example's folded text plus its folded lemmas
(so "tilladelser", "tilladelse" and "tilladelse" without æ/ø/å share n-grams), turns the SVM's
decision values into probabilities with a softmax, and sets the message's intent to the
weighted average of both distributions. ``FallbackClassifier`` then sees the blended
confidences.

The SVM also learns from the knowledge base: each entry's title and each sentence of its
answer, in Danish and English, is an extra example of the entry's intent, so topic words that
users rarely write in the NLU examples ("sagsbehandlingstid", "jordregulativ") still point to
the topic; and each citizen word ("kørekort", "daginstitution") is an example of out_of_scope.

Misspelt words ("tilladdelse") that neither the training data nor the Danish lexicon knows
also bring the n-grams of the known word one edit away (``bot.nlp.spelling``; what it gives on
misspelt messages, measured by ``python -m tools.spelling_cv``: README, *Architecture*).

The blend's settings (the SVM's share ``weight``, its softmax ``temperature`` and ``C``) are
chosen when the model is trained, by cross-validation on the training data itself
(``bot.nlp.blend_choice``; ``cv_folds``), so they fit whatever data the pipeline is given — many
examples per intent or few, this domain or another — and the SVM alone is chosen where DIET
does not help. A setting given in config.yml is fixed and only the others are chosen (the
project fixes the temperature and C, see config.yml).
`make nlu-cv` shows on subsamples of data/nlu and on another domain that the pipeline is never
below the SVM alone; `make nlu-eval` scores it on the held-out sets against both baselines.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from bot import knowledge
from bot.nlp import blend_choice
from bot.nlp.lemmas import LemmaTable
from bot.nlp.normalize import fold, words
from bot.nlp.spelling import Speller

logger = logging.getLogger(__name__)
MODEL_FILE = "char_ngram_model.joblib"
SETTING_FILE = "blend_setting.json"
SPELLER_FILE = "speller.json"
LEMMATIZER = "koege_lemmatizer"
DIET = "DIETClassifier"
OUT_OF_SCOPE = "out_of_scope"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
#: The code whose change changes what this component learns (the Makefile's TRAIN_FILES lists the
#: same files; `make nlu-eval`'s cache key reads this).
TRAINING_CODE = tuple(Path(__file__).parent / name
                      for name in ("ensemble.py", "spelling.py", "blend_choice.py", "normalize.py"))


def _features(text: str, lemmas: list[str]) -> str:
    return f"{fold(text)} | {fold(' '.join(lemmas))}"


def features_text(message: Message) -> str:
    """The folded text followed by its folded lemmas (from SpacyTokenizer)."""
    tokens = message.get("text_tokens") or []
    return _features(message.get(TEXT) or "", [t.lemma or t.text for t in tokens])


def _token_texts(message: Message) -> list[str]:
    return [t.text for t in message.get("text_tokens") or []]


def features_with(nlp: Any, text: str) -> str:
    """The same features for a text outside Rasa's graph (knowledge sentences, evaluation):
    lemmas from the spaCy pipeline on the lower-cased text, as ``SpacyNLP`` with
    ``case_sensitive: false`` and ``SpacyTokenizer`` produce them."""
    return features_and_tokens_with(nlp, text)[0]


def features_and_tokens_with(nlp: Any, text: str) -> tuple[str, list[str]]:
    """``features_with`` and the token texts (for ``with_corrections``) from one spaCy pass."""
    tokens = [t for t in nlp(text.lower()) if t.text.strip()]
    return _features(text, [t.lemma_ or t.text for t in tokens]), [t.text for t in tokens]


def lexicon(nlp: Any) -> LemmaTable | None:
    """The Danish word forms the project's spaCy pipeline knows (None for another pipeline)."""
    return nlp.get_pipe(LEMMATIZER).table if LEMMATIZER in getattr(nlp, "pipe_names", ()) else None


def with_corrections(features: str, tokens: list[str], speller: Speller | None,
                     known: LemmaTable | None) -> str:
    """``features`` followed by the corrections of the misspelt ``tokens``: words neither the
    Danish lexicon (``known``) nor the training data know, one edit from a word the latter does."""
    if speller is None:
        return features
    unknown = [fold(t) for t in tokens if t.isalpha() and (known is None or known.get(t, None) is None)]
    corrected = speller.correct(unknown)
    return f"{features} | {' '.join(corrected)}" if corrected else features


def make_svm(C: float = 1.0, min_ngram: int = 2, max_ngram: int = 5) -> Pipeline:
    """The char-n-gram TF-IDF + linear SVM on the features above."""
    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", sublinear_tf=True, ngram_range=(min_ngram, max_ngram)),
        LinearSVC(C=C),
    )


def softmax_rows(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of SVM decision values scaled by ``temperature``."""
    scaled = np.atleast_2d(scores) * temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def blend(svm_probabilities: np.ndarray, diet_probabilities: np.ndarray, weight: float) -> np.ndarray:
    """The weighted average of both distributions (same label order; ``weight`` is the SVM's share)."""
    return weight * svm_probabilities + (1 - weight) * diet_probabilities


def knowledge_sentences(directory: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs: each entry's titles and answer sentences in both languages, and
    each citizen word as an example of ``out_of_scope``."""
    kb = knowledge.load(directory)
    pairs = []
    for entry in kb.entries.values():
        for lang in knowledge.LANGUAGES:
            sentences = [entry.title[lang], *_SENTENCE_END.split(entry.text[lang])]
            pairs += [(sentence, entry.intent) for sentence in sentences if sentence.strip()]
    return pairs + [(word, OUT_OF_SCOPE) for word in kb.citizen_words]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True,
                          model_from="SpacyNLP")
class CharNgramEnsembleClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # The blend's settings: None = chosen at training time by cross-validation
            # (bot.nlp.blend_choice); a number fixes it.
            "weight": None,       # share of the SVM in the blend
            "temperature": None,  # softmax temperature for the SVM's decision values
            "C": None,            # inverse regularisation of the SVM
            "cv_folds": 3,
            # the weight kept unless cross-validation finds one better by more than one
            # standard error (bot.nlp.blend_choice.choose)
            "default_weight": 0.8,
            "cv_epochs": None,    # DIET's epochs in the folds; None: half of the pipeline DIET's
            "min_ngram": 2,
            "max_ngram": 5,
            "knowledge_dir": "data/knowledge",  # entry sentences and citizen words as examples; "" for none
            "spelling": True,  # misspelt words also read as the known word one edit away
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the knowledge base or the code that trains this component changes (Rasa's
        cache sees only the NLU data and the configuration, and would reuse a component trained
        by older code)."""
        digest = hashlib.sha256()
        for path in TRAINING_CODE:
            digest.update(path.name.encode() + path.read_bytes())
        directory = Path(config.get("knowledge_dir") or "")
        if config.get("knowledge_dir") and directory.is_dir():
            for path in sorted(directory.glob("*.yml")):
                digest.update(path.name.encode() + path.read_bytes())
        return digest.hexdigest()

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Pipeline | None = None, setting: blend_choice.Setting | None = None,
                 execution_context: ExecutionContext | None = None, speller: Speller | None = None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self._execution_context = execution_context
        self.model = model
        self.speller = speller
        self.setting = setting or self._fixed_setting()
        self.choice: blend_choice.Choice | None = None  # set by training with cross-validation

    def _fixed_setting(self) -> blend_choice.Setting:
        """The setting of config.yml, with the defaults (``default_weight``, temperature 10, C 1)
        where it gives none; cross-validation keeps it unless the data clearly favour another."""
        return blend_choice.Setting(
            weight=float(self.config["weight"] if self.config.get("weight") is not None
                         else self.config.get("default_weight") or 0.8),
            temperature=float(self.config["temperature"] if self.config.get("temperature") is not None else 10.0),
            C=float(self.config["C"] if self.config.get("C") is not None else 1.0))

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CharNgramEnsembleClassifier:
        return cls(config, model_storage, resource, execution_context=execution_context)

    def _diet(self) -> tuple[type, dict[str, Any]] | None:
        """The pipeline's DIET class (Rasa's or a subclass) and settings, from the training graph
        (None outside a pipeline)."""
        from rasa.nlu.classifiers.diet_classifier import DIETClassifier

        schema = self._execution_context.graph_schema if self._execution_context else None
        for node in (schema.nodes.values() if schema else ()):
            if isinstance(node.uses, type) and issubclass(node.uses, DIETClassifier) and node.fn == "train":
                return node.uses, {**node.uses.get_default_config(), **node.config}
        return None

    def _cross_validate(self, examples: list[Message], texts: list[str], intents: list[str],
                        extra: list[tuple[str, str]]) -> blend_choice.Choice | None:
        """The blend's setting chosen on out-of-fold predictions (None when it cannot be: no
        DIET in the pipeline, or too few examples)."""
        diet = self._diet()
        if diet is None or len(examples) < blend_choice.MIN_EXAMPLES or len(set(intents)) < 2:
            return None
        from rasa.engine.storage.local_model_storage import LocalModelStorage

        diet_class, diet_config = diet

        epochs = self.config["cv_epochs"] or max(1, int(diet_config.get("epochs", 100)) // 2)
        fold_config = {**diet_config, "epochs": epochs, "ranking_length": 0, "checkpoint_model": False,
                       "evaluate_on_number_of_examples": 0, "evaluate_every_number_of_epochs": -1}

        def train_diet(indices, directory: Path):  # noqa: ANN001, ANN202  (index arrays; a predictor)
            directory.mkdir(parents=True)
            diet = diet_class.create(fold_config, LocalModelStorage(directory), Resource("diet_fold"),
                                         self._execution_context)
            diet.train(TrainingData(training_examples=[examples[i] for i in indices]))

            def predict(test) -> list[dict[str, float]]:  # noqa: ANN001
                copies = [Message(data={TEXT: examples[i].get(TEXT)}, features=list(examples[i].features))
                          for i in test]
                diet.process(copies)
                return [{r["name"]: r["confidence"] for r in m.get(INTENT_RANKING_KEY) or []} for m in copies]
            return predict

        def train_svm(indices, C: float) -> Pipeline:  # noqa: ANN001
            fold_texts = [texts[i] for i in indices] + [t for t, _ in extra]
            fold_intents = [intents[i] for i in indices] + [i for _, i in extra]
            return make_svm(C, self.config["min_ngram"], self.config["max_ngram"]).fit(fold_texts, fold_intents)

        folds = int(self.config["cv_folds"])
        fixed = {k: self.config.get(k) for k in ("weight", "temperature", "C")}
        Cs = blend_choice.grid(fixed)["C"]
        labels, diet, svm = blend_choice.out_of_fold(examples, intents, folds, train_svm, texts, train_diet, Cs=Cs)
        return blend_choice.choose(intents, labels, diet, svm, folds, fixed=fixed, prior=self._fixed_setting())

    def train(self, training_data: TrainingData, model: SpacyModel) -> Resource:
        examples = training_data.intent_examples
        texts = [features_text(m) for m in examples]
        intents = [m.get(INTENT) for m in examples]
        extra: list[tuple[str, str]] = []
        if self.config["knowledge_dir"]:
            known = set(intents)
            extra = [(features_with(model.model, sentence), intent)
                     for sentence, intent in knowledge_sentences(Path(self.config["knowledge_dir"]))
                     if intent in known]
        fixed = all(self.config.get(k) is not None for k in ("weight", "temperature", "C"))
        if not fixed and int(self.config["cv_folds"] or 0) >= 2:
            self.choice = self._cross_validate(examples, texts, intents, extra)
            if self.choice is not None:
                self.setting = self.choice.setting  # config.yml's fixed settings were not searched
                logger.info("blend chosen by %d-fold cross-validation: %s (macro-F1 %.3f; SVM alone %.3f)",
                            self.choice.folds, self.setting, self.choice.macro_f1, self.choice.svm_alone_f1)
        if self.config["spelling"]:
            self.speller = Speller.of(w for text in [*texts, *(t for t, _ in extra)] for w in words(text))
            known = lexicon(model.model)
            texts = [with_corrections(text, _token_texts(m), self.speller, known)
                     for text, m in zip(texts, examples, strict=True)]
        self.model = make_svm(self.setting.C, self.config["min_ngram"], self.config["max_ngram"])
        self.model.fit(texts + [t for t, _ in extra], intents + [i for _, i in extra])
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.model, directory / MODEL_FILE)
            if self.speller is not None:
                (directory / SPELLER_FILE).write_text(json.dumps(self.speller.counts, ensure_ascii=False))
            (directory / SETTING_FILE).write_text(json.dumps(dataclasses.asdict(self.setting)))
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CharNgramEnsembleClassifier:
        setting, speller = None, None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
                if (directory / SETTING_FILE).exists():
                    setting = blend_choice.Setting(**json.loads((directory / SETTING_FILE).read_text()))
                if (directory / SPELLER_FILE).exists():
                    speller = Speller(json.loads((directory / SPELLER_FILE).read_text()))
        except ValueError:
            logger.warning("No trained char-n-gram model found; DIET's ranking is used alone.")
            model = None
        return cls(config, model_storage, resource, model, setting, execution_context, speller)

    def process(self, messages: list[Message], model: SpacyModel | None = None) -> list[Message]:
        """Blend the SVM's and DIET's rankings (``model``, passed by Rasa's graph, brings the lexicon
        that tells a misspelt word from a Danish word the training data lack)."""
        if self.model is None:
            return messages
        labels = list(self.model.classes_)
        known = lexicon(model.model) if model is not None and self.speller is not None else None
        for message in messages:
            if not message.get(TEXT):
                continue
            features = with_corrections(features_text(message), _token_texts(message), self.speller, known)
            scores = self.model.decision_function([features])
            own = softmax_rows(scores, self.setting.temperature)[0]
            diet = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY) or []}
            mixed = blend(own, np.array([diet.get(label, 0.0) for label in labels]), self.setting.weight)
            blended = {label: float(p) for label, p in zip(labels, mixed, strict=True)}
            ranking = sorted(({"name": n, "confidence": c} for n, c in blended.items()),
                             key=lambda r: r["confidence"], reverse=True)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:10], add_to_output=True)
        return messages
