"""Questions whether the municipality has something (bot/nlp/asked_things.py)."""
from __future__ import annotations

import pytest

from bot.nlp.asked_things import asked_thing, stem, unknown_thing


@pytest.mark.parametrize(("question", "thing"), [
    ("Har kommunen et mentorprogram for kvindelige iværksættere?", "et mentorprogram"),
    ("Har Køge Kommune en lånegaranti for nystartede virksomheder?", "en lånegaranti"),
    ("Findes der en kommunal pulje til at renovere butiksfacader i bymidten?", "en kommunal pulje"),
    ("er der et iværksætterhus eller kontorfællesskab", "et iværksætterhus eller kontorfællesskab"),
    ("Tilbyder I nogen kurser?", "nogen kurser"),
    ("Hvad er SMV:Digital?", None),
    ("Kan vi få et virksomhedsbesøg?", None),  # a request, not whether one exists
])
def test_the_thing_asked_about_is_read_with_its_article(question, thing):
    assert asked_thing(question) == thing


def test_only_a_thing_no_known_word_names_is_unknown():
    knows = {stem("netværk"), stem("kontorfællesskaber"), stem("puljen")}.__contains__
    assert unknown_thing("Har kommunen et mentorprogram for kvindelige iværksættere?", knows) == "et mentorprogram"
    assert unknown_thing("Findes der et netværk for producenter?", knows) is None
    assert unknown_thing("Findes der en kommunal pulje til facader?", knows) is None  # "puljen" is known
    # one known alternative is enough: the answer may be about it
    assert unknown_thing("er der et iværksætterhus eller kontorfællesskab", knows) is None
    assert unknown_thing("har I en app?", knows) is None  # too short to say anything


def test_words_are_compared_folded_and_without_inflection():
    assert stem("Programmet") == "programm" and stem("puljer") == stem("puljen") == "pulj"
    assert stem("Æblerne") == "aebl"
