"""The intent classifier that blends DIET with a char-n-gram SVM that also reads the knowledge base."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.ensemble import CharNgramEnsembleClassifier, knowledge_sentences

KNOWLEDGE = Path("data/knowledge")
# Three topics taught with a few everyday phrasings that never mention fees or processing times.
TRAINING = {
    "ask_building_permit": ["jeg vil bygge en tilbygning", "hvordan søger jeg om at bygge",
                            "byggetilladelse til en lagerhal", "må vi bygge en ny hal"],
    "ask_business_waste": ["hvad gør vi med affaldet", "affald fra virksomheden",
                           "hvem henter vores skrald", "regler for erhvervsaffald"],
    "ask_signs": ["må vi sætte et skilt op", "reklameskilt på facaden", "banner ved butikken",
                  "regler for skilte"],
}
# Words found only in the building-permit entry's answer ("sagsbehandlingstid", "timepris").
KNOWLEDGE_ONLY_QUESTION = "hvor lang er sagsbehandlingstiden og hvad er timeprisen"


@pytest.fixture(scope="module")
def spacy_model(danish_nlp) -> SpacyModel:
    return SpacyModel(model=danish_nlp, model_name=str(danish_nlp.path))


def train(tmp_path: Path, spacy_model: SpacyModel, knowledge_dir: str) -> CharNgramEnsembleClassifier:
    config = {**CharNgramEnsembleClassifier.get_default_config(), "knowledge_dir": knowledge_dir}
    storage = tmp_path / (knowledge_dir.replace("/", "_") or "none")
    storage.mkdir()
    component = CharNgramEnsembleClassifier.create(
        config, LocalModelStorage(storage), Resource("ensemble"),
        ExecutionContext(GraphSchema({}), "test"))
    examples = [Message(data={TEXT: text, INTENT: intent})
                for intent, texts in TRAINING.items() for text in texts]
    component.train(TrainingData(training_examples=examples), spacy_model)
    return component


def svm_score(component: CharNgramEnsembleClassifier, text: str, intent: str) -> float:
    scores = component.model.decision_function([f"{text} | "])[0]
    return float(scores[list(component.model.classes_).index(intent)])


def test_every_entry_contributes_its_titles_and_answer_sentences_in_both_languages(kb):
    pairs = knowledge_sentences(KNOWLEDGE)
    for entry in kb.entries.values():
        for lang in ("da", "en"):
            assert (entry.title[lang], entry.intent) in pairs
    topic_pairs = [(text, intent) for text, intent in pairs if intent != "out_of_scope"]
    assert all(text.strip() and intent in kb.entries for text, intent in topic_pairs)
    assert len(topic_pairs) > 4 * len(kb.entries)  # titles plus several sentences per language


def test_citizen_words_are_examples_of_out_of_scope(kb):
    pairs = knowledge_sentences(KNOWLEDGE)
    assert {("kørekort", "out_of_scope"), ("daginstitution", "out_of_scope")} <= set(pairs)
    assert len([p for p in pairs if p[1] == "out_of_scope"]) == len(kb.citizen_words)


def test_knowledge_sentences_teach_words_the_training_examples_lack(tmp_path, spacy_model):
    with_knowledge = train(tmp_path, spacy_model, str(KNOWLEDGE))
    without = train(tmp_path, spacy_model, "")
    assert (svm_score(with_knowledge, KNOWLEDGE_ONLY_QUESTION, "ask_building_permit")
            > svm_score(without, KNOWLEDGE_ONLY_QUESTION, "ask_building_permit"))
    message = Message(data={TEXT: KNOWLEDGE_ONLY_QUESTION, INTENT_RANKING_KEY: [
        {"name": intent, "confidence": 1 / len(TRAINING)} for intent in TRAINING]})
    [parsed] = with_knowledge.process([message])
    assert parsed.get(INTENT)["name"] == "ask_building_permit"
    assert sum(r["confidence"] for r in parsed.get(INTENT_RANKING_KEY)) == pytest.approx(1.0)


def test_only_intents_in_the_training_data_are_learnt_from_the_knowledge_base(tmp_path, spacy_model):
    component = train(tmp_path, spacy_model, str(KNOWLEDGE))
    assert set(component.model.classes_) == set(TRAINING)


def test_a_changed_knowledge_file_or_training_code_changes_the_fingerprint(tmp_path, monkeypatch):
    """Rasa's training cache sees only the NLU data and the configuration: without this it would
    reuse a classifier trained on an older knowledge base or by older code."""
    from bot.nlp import ensemble

    (tmp_path / "grants.yml").write_text("entries: []\n")
    config = {"knowledge_dir": str(tmp_path)}
    before = CharNgramEnsembleClassifier.fingerprint_addon(config)
    (tmp_path / "grants.yml").write_text("entries: []\n# changed\n")
    assert CharNgramEnsembleClassifier.fingerprint_addon(config) != before
    without_knowledge = CharNgramEnsembleClassifier.fingerprint_addon({"knowledge_dir": ""})
    assert without_knowledge not in (None, before)

    code = tmp_path / "spelling.py"
    code.write_text(ensemble.TRAINING_CODE[1].read_text())
    monkeypatch.setattr(ensemble, "TRAINING_CODE", (*ensemble.TRAINING_CODE[:1], code, *ensemble.TRAINING_CODE[2:]))
    assert CharNgramEnsembleClassifier.fingerprint_addon({"knowledge_dir": ""}) == without_knowledge
    code.write_text(code.read_text().replace("MIN_LENGTH = 5", "MIN_LENGTH = 4"))
    assert CharNgramEnsembleClassifier.fingerprint_addon({"knowledge_dir": ""}) != without_knowledge


def test_features_outside_rasas_graph_equal_those_inside(tmp_path, spacy_model):
    """The evaluation (tools/nlu_eval.py) and the knowledge sentences featurise texts with
    ``features_with``; inside Rasa the same texts go through SpacyNLP and SpacyTokenizer."""
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    from bot.nlp.ensemble import features_text, features_with

    context, storage = ExecutionContext(GraphSchema({}), "test"), LocalModelStorage(tmp_path)
    spacy_nlp = SpacyNLP.create({**SpacyNLP.get_default_config(), "model": spacy_model.model_name,
                                 "case_sensitive": False}, storage, Resource("nlp"), context)
    tokenizer = SpacyTokenizer.create(SpacyTokenizer.get_default_config(), storage, Resource("tok"), context)
    texts = ["Må vi sætte et Skilt op på facaden?", "byggetilladelser til lagerhaller", "Hvad er Handletanken"]
    messages = tokenizer.process(spacy_nlp.process([Message(data={TEXT: t}) for t in texts], spacy_model))
    assert [features_text(m) for m in messages] == [features_with(spacy_model.model, t) for t in texts]


def test_the_blend_is_a_probability_distribution_weighted_towards_the_svm():
    import numpy as np

    from bot.nlp.ensemble import blend, softmax_rows

    svm = softmax_rows(np.array([[1.0, 0.0, -1.0], [0.2, 0.1, 0.0]]), temperature=10.0)
    assert np.allclose(svm.sum(axis=1), 1.0) and svm[0, 0] > 0.99
    diet = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    mixed = blend(svm, diet, weight=0.8)
    assert np.allclose(mixed.sum(axis=1), 1.0)
    assert mixed[0].argmax() == 0  # a confident SVM wins over a confident DIET at weight 0.8


def test_a_misspelt_word_counts_as_the_word_meant_in_the_loaded_model(tmp_path, spacy_model):
    """The speller is saved with the model, and the loaded classifier reads "skilr" as the
    training word "skilt": more confidence in the signs topic than without the speller."""
    from rasa.nlu.tokenizers.tokenizer import Token

    trained = train(tmp_path, spacy_model, "")
    loaded = CharNgramEnsembleClassifier.load(trained.config, trained._model_storage, trained._resource,
                                              ExecutionContext(GraphSchema({}), "test"))
    speller = loaded.speller
    assert speller is not None and speller.suggest("skilr") == "skilt"
    loaded.setting = dataclasses.replace(loaded.setting, temperature=1.0)  # confidences not saturated

    def signs_confidence(text: str) -> float:
        tokens = [Token(word, text.index(word), lemma=word) for word in text.split()]
        message = Message(data={TEXT: text, "text_tokens": tokens, INTENT_RANKING_KEY: [
            {"name": name, "confidence": 1 / len(TRAINING)} for name in TRAINING]})
        [parsed] = loaded.process([message], spacy_model)
        return {r["name"]: r["confidence"] for r in parsed.get(INTENT_RANKING_KEY)}["ask_signs"]

    for typed in ("skilr", "reklamesklit"):
        loaded.speller = speller
        with_speller = signs_confidence(typed)
        loaded.speller = None
        assert with_speller > signs_confidence(typed) + 0.03
