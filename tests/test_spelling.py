"""Misspelt words read as the known word one edit away (bot/nlp/spelling.py) in the intent classifier."""
from __future__ import annotations

import random

import pytest

from bot.nlp.spelling import Speller, one_edit
from tools.spelling_cv import misspell

SPELLER = Speller.of("tilladelse tilladelse udeservering skilt banken banken banken banker "
                     "butikken facaden".split())


@pytest.mark.parametrize(("typed", "meant"), [
    ("tilladdelse", "tilladelse"),   # a letter doubled
    ("tiladelse", "tilladelse"),     # a letter dropped
    ("tilladelsr", "tilladelse"),    # a letter replaced
    ("tilladlese", "tilladelse"),    # two neighbours swapped
    ("udeservring", "udeservering"),
    ("bankex", "banken"),            # "banken" three times as frequent as "banker"
])
def test_a_misspelt_word_is_read_as_the_known_word_one_edit_away(typed, meant):
    assert SPELLER.suggest(typed) == meant


@pytest.mark.parametrize("typed", [
    "tilladelse",   # known
    "skit",         # too short: one edit from a four-letter word reaches too many
    "tilldelsee",   # two edits
    "tilladelse2",  # not a word
])
def test_known_short_and_distant_words_are_left_alone(typed):
    assert SPELLER.suggest(typed) is None


def test_two_equally_likely_words_are_not_guessed_between():
    assert Speller.of(["banken", "banker"]).suggest("bankex") is None


def test_one_edit_is_symmetric_and_exact():
    assert one_edit("tilladelse", "tilladdelse") and one_edit("tilladdelse", "tilladelse")
    assert one_edit("facaden", "facdaen") and not one_edit("facaden", "fcadaen")
    assert not one_edit("skilt", "skilt") and not one_edit("skilt", "skiltene")


def test_a_danish_word_the_training_data_lack_is_not_corrected_into_one_it_has(danish_nlp):
    """"butikker" is Danish (the lexicon knows it) though training only saw "butikken"; "butiken"
    is a slip. Without the lexicon both would be read as "butikken"."""
    from bot.nlp.ensemble import lexicon, with_corrections

    known = lexicon(danish_nlp)
    assert with_corrections("f", ["vores", "butiken"], SPELLER, known) == "f | butikken"
    assert with_corrections("f", ["vores", "butikker"], SPELLER, known) == "f"
    assert with_corrections("f", ["vores", "butikker"], SPELLER, None) == "f | butikken"
    assert with_corrections("f", ["vores", "butiken"], None, known) == "f"


def test_the_measurement_misspells_about_every_third_long_word_and_keeps_the_rest():
    text = "Hvordan soger jeg om tilladelse til udeservering foran restauranten?"
    written = text.lower().strip("?").split()
    typed = [misspell(text, random.Random(seed)).split() for seed in range(200)]
    assert all(len(words) == len(written) for words in typed)
    long_words = [w for w in written if len(w) >= 5]
    slips = sum(a != b for words in typed for a, b in zip(words, written, strict=True))
    untouched_short = all(a == b for words in typed for a, b in zip(words, written, strict=True) if len(b) < 5)
    assert untouched_short and 0.2 < slips / (len(typed) * len(long_words)) < 0.4
