"""Language detection decides whether the assistant answers in Danish or English."""
from __future__ import annotations

import pytest

from bot.nlp.language import detect


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What grants are there for green transition?", "en"),
        ("Who do I contact about a building permit?", "en"),
        ("Hello", "en"),
        ("Hvad er MitID Erhverv?", "da"),
        ("tilskud til digitalisering af min forretnig", "da"),
        ("Jeg vil gerne tale med en person", "da"),
        ("hej", "da"),
        ("next tuesday at 10", "en"),
        ("don't know", "en"),
        ("på torsdag kl. 10", "da"),
        ("thx, bye", "en"),
        ("cheers", "en"),
        ("ok thanks, bye!", "en"),
        ("tak, bye", "da"),
        ("hej hej", "da"),
        # names are written with æ/ø/å in English too
        ("Is Erhvervshus Sjælland part of Køge Municipality?", "en"),
        ("Are there plots at Bækgårdsvej in Borup?", "en"),
        ("Hvad sker der i Køge Nord?", "da"),
        ("grøn omstilling i Køge", "da"),
    ],
)
def test_detects_language(text, expected):
    assert detect(text) == expected


@pytest.mark.parametrize("text", ["ok", "29189374", "anne@example.dk"])
def test_no_signal_keeps_the_conversation_language(text):
    assert detect(text) is None


def test_a_telegram_command_takes_the_users_language_from_telegram():
    from actions.language import ValidatePredefinedSlots
    from tests.conftest import make_tracker

    tracker = make_tracker("/book_visit", "book_visit")
    tracker.latest_message["metadata"] = {"telegram": {"language_code": "en-GB", "chat_type": "private"}}
    tracker.events[-1]["text"] = "/book_visit"
    found = ValidatePredefinedSlots().extract_language(None, tracker, {})
    assert found == {"language": "en"}
    tracker.events.insert(0, {"event": "user", "text": "hej med dig"})  # the user has written Danish
    assert ValidatePredefinedSlots().extract_language(None, tracker, {}) == {}
