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
