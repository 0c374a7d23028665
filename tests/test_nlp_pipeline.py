"""The Danish spaCy pipeline built from spacy.blank("da") for Rasa's SpacyNLP."""
from __future__ import annotations

import pytest
import spacy

from bot.nlp import pipeline


@pytest.fixture(scope="module")
def nlp(tmp_path_factory):
    out = tmp_path_factory.mktemp("spacy-da")
    pipeline.build(out)
    # Loaded the way Rasa loads it: by path, the custom component found by entry point.
    return spacy.load(out)


def test_saved_pipeline_has_lemmatizer_and_entity_ruler(nlp):
    assert nlp.lang == "da"
    assert nlp.pipe_names == ["koege_lemmatizer", "entity_ruler"]


def test_compact_table_answers_as_spacys_lookup_table(nlp):
    """Every 50th form of spaCy's own table (by hash) gets the lemma spaCy's table gives it."""
    from spacy.lookups import load_lookups

    spacys = load_lookups("da", ["lemma_lookup"]).get_table("lemma_lookup")
    compact = nlp.get_pipe("koege_lemmatizer").table
    assert len(compact) == len(spacys) > 500_000
    items = list(spacys.items())[::50]
    missing = object()
    for key, lemma in items:
        assert compact.get_by_key(key, missing) == lemma
    assert compact.get("ikke-et-dansk-ord-xyz", "fallback") == "fallback"
    assert compact.get("virksomheder", "") == "virksomhed"


def test_lemmas_are_danish_base_forms_folded_to_ascii(nlp):
    lemmas = [t.lemma_ for t in nlp("Byggetilladelser til virksomheder søges i Sjælland")]
    assert lemmas[0] == "byggetilladelse"  # capitalised word still lemmatised
    assert "virksomhed" in lemmas
    assert "sjaelland" in lemmas


def test_with_and_without_danish_letters_give_the_same_lemma(nlp):
    assert nlp("miljøgodkendelse")[0].lemma_ == nlp("miljoegodkendelse")[0].lemma_


@pytest.mark.parametrize(
    ("text", "label", "value"),
    [
        ("vores cvr er 29189374", "CVR", "29189374"),
        ("skriv til anne.jensen@example.dk tak", "EMAIL", "anne.jensen@example.dk"),
        ("ring på 20 12 34 56", "PHONE", "20 12 34 56"),
        ("ring på +45 2012 3456", "PHONE", "+45 2012 3456"),
        ("vi ligger i Køge Nord", "PLACE", "Køge Nord"),
        ("værksted i borup", "PLACE", "borup"),
    ],
)
def test_entity_patterns(nlp, text, label, value):
    assert (value, label) in [(e.text, e.label_) for e in nlp(text).ents]


def test_a_number_of_seven_digits_is_no_cvr(nlp):
    assert not [e for e in nlp("ordre 1234567").ents if e.label_ == "CVR"]
