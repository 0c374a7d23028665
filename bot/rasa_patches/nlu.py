"""Corrections of Rasa's NLU components, carried by classes that config.yml names: 7 by
``bot.rasa_ext.spacy_nlp.SpacyNLP``, 19 by ``bot.rasa_ext.diet_classifier.DIETClassifier`` (why
each exists: the class's module)."""
from __future__ import annotations

from bot.rasa_patches.guard import Correction, Kind, Target

CORRECTIONS = (
    Correction(7, "the spaCy pipeline loaded once", Kind.SPEED, (
        Target("rasa.nlu.utils.spacy_utils:SpacyNLP.load_model", "2e68d488b5c7a4f0"),
        Target("rasa.nlu.utils.spacy_utils:SpacyNLP.create", "59142d79b0abc241"),
    ), carrier="bot.rasa_ext.spacy_nlp.SpacyNLP (config.yml)"),
    Correction(19, "DIET's intent computed from the sentence features directly", Kind.SPEED, (
        Target("rasa.nlu.classifiers.diet_classifier:DIETClassifier._predict", "228b5091ebd1894b"),
        Target("rasa.nlu.classifiers.diet_classifier:DIETClassifier._create_model_data", "bd48d9672cd8abb3"),
        Target("rasa.nlu.classifiers.diet_classifier:DIET.batch_predict", "3892283de8939525"),
        Target("rasa.nlu.classifiers.diet_classifier:DIET._batch_predict_intents", "2cda35fe805f96c0"),
        Target("rasa.nlu.classifiers.diet_classifier:DIET.prepare_for_predict", "1188c112792151e1"),
        Target("rasa.utils.tensorflow.models:TransformerRasaModel._last_token", "e0a8f835c0922982"),
        Target("rasa.utils.tensorflow.rasa_layers:RasaSequenceLayer.call", "3217207e10e361d8"),
        Target("rasa.utils.tensorflow.rasa_layers:RasaFeatureCombiningLayer.call", "43596eec16258ce0"),
        Target("rasa.utils.tensorflow.rasa_layers:RasaFeatureCombiningLayer._combine_sentence_level_features",
               "92f2a7e869a3ad63"),
        Target("rasa.utils.tensorflow.rasa_layers:RasaFeatureCombiningLayer._concat_sequence_sentence_features",
               "88d0459fbe18f9d4"),
        Target("rasa.utils.tensorflow.rasa_layers:ConcatenateSparseDenseFeatures.call", "c1424885600a6269"),
        Target("rasa.utils.tensorflow.rasa_layers:ConcatenateSparseDenseFeatures._process_sparse_feature",
               "3b2e18fc65af17c5"),
        Target("rasa.utils.tensorflow.layers:DenseForSparse.call", "99a7e5e30148b563"),
        Target("rasa.utils.tensorflow.layers:Embed.call", "453572475f9509fd"),
        Target("rasa.utils.tensorflow.layers:DotProductLoss.sim", "68c643fe46a7dff6"),
        Target("rasa.utils.tensorflow.layers:DotProductLoss.get_similarities_and_confidences_from_embeddings",
               "e018306b6c16c1a1"),
        Target("rasa.shared.nlu.training_data.message:Message.get_sparse_features", "bc5b1f439be5f08e"),
        Target("rasa.shared.nlu.training_data.message:Message._filter_sparse_features", "1c95d665990050af"),
        Target("rasa.shared.nlu.training_data.message:Message._combine_features", "6f88fa43154948bd"),
        Target("rasa.shared.nlu.training_data.features:Features._combine_sparse_features", "9837d864e5983243"),
    ), carrier="bot.rasa_ext.diet_classifier.DIETClassifier (config.yml)"),
)
