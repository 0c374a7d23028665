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
            assert keywords._typo_of(key, [token]) == expected, (key, token)
            similar += expected
    assert similar > 20, similar  # the comparison covers typos, not only misses
