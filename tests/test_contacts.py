"""Matching a user's words to the unit that handles them."""
from __future__ import annotations

import pytest

from bot import contacts


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("Hvem kan jeg kontakte om støj fra min virksomhed?", "miljoe"),
        ("hvem tager sig af larm og lugt fra en fabrik", "miljoe"),
        ("hvem skal jeg skrive til om stoej", "miljoe"),  # no ø
        ("Hvem skal jeg skrive til om udeservering?", "tmf"),
        ("hvem handler udeserveing", "tmf"),  # typo
        ("hvem godkender skiltet på facaden", "tmf"),  # inflection
        ("Who do I contact about a building permit?", "byggesag"),
        ("hvem behandler min byggesag om en tilbygning", "byggesag"),
        ("vi mangler lærlinge, hvem kan hjælpe", "jobcenter"),
        ("hvem har stadepladser på torvet", "parkering"),
        ("kontakt til erhvervshuset", "erhvervshus_sjaelland"),
    ],
)
def test_a_topic_finds_its_unit(kb, text, unit):
    assert [c.id for c in contacts.match(text, kb)] == [unit]


def test_two_topics_give_several_units(kb):
    found = {c.id for c in contacts.match("hvem tager sig af byggesagen og skiltet", kb)}
    assert found == {"byggesag", "tmf"}


@pytest.mark.parametrize("text", ["Hvad er kommunens adresse?", "hvem kan hjælpe mig", "vejledning"])
def test_no_topic_finds_nothing(kb, text):
    assert contacts.match(text, kb) == []


def test_general_contact_is_the_town_hall(kb):
    assert "Torvet 1, 4600 Køge" in contacts.general(kb).card("da")


def test_the_typo_check_gives_the_same_answers_as_difflibs_ratio_alone(kb):
    """The typo check skips ``ratio`` only where its upper bounds already fall short: every
    keyword against every word of the training data gives the answer of ``ratio`` itself."""
    from difflib import SequenceMatcher

    from bot.nlp import keywords
    from bot.nlp.normalize import fold, words
    from tools.nlu_eval import TRAIN_DATA, examples

    tokens = sorted({w for text, _ in examples(TRAIN_DATA) for w in words(text) if len(w) >= keywords.TYPO_MIN})[::2]
    keys = sorted({fold(k) for c in kb.contacts.values() for k in c.keywords
                   if " " not in k and len(fold(k)) >= keywords.TYPO_MIN})
    similar = 0
    for key in keys:
        for token in tokens:
            expected = SequenceMatcher(None, token, key).ratio() >= keywords.TYPO_RATIO
            assert (keywords._typo_of(key, [token]) is not None) == expected, (key, token)
            similar += expected
    assert similar > 20, similar  # the comparison covers typos, not only misses


@pytest.mark.parametrize("text", ["hvad laver grøn omstilling teamet i teknik og miljø",
                                  "hvem er grøn omstilling i teknik- og miljøforvaltningen"])
def test_a_unit_named_inside_the_unit_it_belongs_to_is_found_alone(kb, text):
    """#24: the team's question got three units to choose from (the administration, the
    environment department for the "miljø" of "teknik og miljø", and the team)."""
    assert [c.id for c in contacts.match(text, kb)] == ["gron_omstilling"]


def test_a_word_inside_a_longer_keyword_counts_for_that_keyword_only(kb):
    assert [c.id for c in contacts.match("hvem sidder i teknik og miljø", kb)] == ["tmf"]  # not Miljøafdelingen too


def test_a_part_of_an_unknown_unit_is_refused(tmp_path):
    from bot import knowledge

    (tmp_path / "contacts.yml").write_text(
        "contacts:\n  - {id: a, name: {da: A, en: A}, handles: {da: x, en: x}, source: 'https://koege.dk',"
        " verified: 2026-11-22, part_of: nowhere}\n", encoding="utf-8")
    with pytest.raises(knowledge.KnowledgeError, match="nowhere"):
        knowledge.load(tmp_path)


def test_a_hyphenated_keyword_is_found_as_written():
    """"e-mail" and "co2-neutral" are two words to the tokenizer; they matched nothing before."""
    from bot.nlp.keywords import count_hits

    assert count_hits(["e-mail"], "jeg vil ændre min e-mail") == 1
    assert count_hits(["co2-neutral"], "hvornår bliver kommunen CO2-neutral?") == 1
    assert count_hits(["co2-neutral"], "co2 er ikke neutral") == 0


def test_the_team_is_found_when_the_administration_is_named_in_english(kb):
    text = "what does the green transition team in the technical and environmental administration do"
    assert [c.id for c in contacts.match(text, kb)] == ["gron_omstilling"]
