"""The knowledge base: every answer sourced, dated, bilingual, and only known contact data."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from bot import knowledge

ROOT = Path(__file__).resolve().parent.parent
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\d.,])(?:\+45\s?)?\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?![\d.,])")


def _all_answer_texts(kb: knowledge.Knowledge) -> list[str]:
    texts = []
    for intent in kb.entries:
        for lang in knowledge.LANGUAGES:
            texts.append(kb.answer(intent, lang)[0])
    return texts


def test_every_entry_has_source_url_verified_date_and_both_languages(kb):
    assert len(kb.entries) >= 30
    for entry in kb.entries.values():
        assert entry.source.startswith(("https://", "http://")), entry.id
        assert isinstance(entry.verified, dt.date) and entry.verified <= dt.date.today(), entry.id
        for lang in knowledge.LANGUAGES:
            assert entry.text[lang].strip() and entry.title[lang].strip(), (entry.id, lang)
        assert entry.text["da"] != entry.text["en"], entry.id


def test_every_answer_ends_with_its_source_link(kb):
    for intent, entry in kb.entries.items():
        for lang in knowledge.LANGUAGES:
            text, _ = kb.answer(intent, lang)
            assert text.splitlines()[-1].startswith(("Læs mere: ", "Read more: "))
            assert entry.source in text.splitlines()[-1]
            assert entry.verified.isoformat() in text


def test_answers_are_short(kb):
    for entry in kb.entries.values():
        assert len(entry.text["da"].split()) <= 80, entry.id


def test_answers_mention_only_phone_numbers_and_emails_from_the_contact_data(kb):
    known_emails = {c.email.lower() for c in kb.contacts.values() if c.email}
    known_phones = {re.sub(r"\D", "", c.phone) for c in kb.contacts.values() if c.phone}
    for text in _all_answer_texts(kb) + [c.card(lang) for c in kb.contacts.values() for lang in ("da", "en")]:
        for email in EMAIL.findall(text):
            assert email.lower() in known_emails, email
        for phone in PHONE.findall(text):
            assert re.sub(r"\D", "", phone)[-8:] in known_phones, phone


def test_entry_texts_hold_no_contact_data_of_their_own(kb):
    """E-mails and phone numbers live only in contacts.yml (one home for each fact)."""
    for entry in kb.entries.values():
        for lang in knowledge.LANGUAGES:
            assert not EMAIL.search(entry.text[lang]), entry.id
            assert not PHONE.search(entry.text[lang]), entry.id


def test_the_phone_check_finds_an_unknown_number(kb):
    assert PHONE.findall("Ring på 12 34 56 78") and "12345678" not in {
        re.sub(r"\D", "", c.phone) for c in kb.contacts.values() if c.phone}


def test_every_contact_is_sourced_and_dated(kb):
    for contact in kb.contacts.values():
        assert contact.source.startswith("http"), contact.id
        assert contact.verified <= dt.date.today()
        assert set(contact.name) == {"da", "en"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("source", None, "missing source"),
        ("verified", None, "missing verified"),
        ("verified", "last week", "not a date"),
        ("text", {"da": "Kun dansk."}, "text needs exactly"),
    ],
)
def test_a_broken_entry_is_rejected(tmp_path, field, value, message):
    entry = {
        "id": "x", "intent": "ask_x", "title": {"da": "X", "en": "X"},
        "text": {"da": "Tekst.", "en": "Text."}, "source": "https://example.org",
        "verified": "2026-01-01",
    }
    entry[field] = value
    (tmp_path / "x.yml").write_text(yaml.safe_dump({"entries": [entry]}))
    with pytest.raises(knowledge.KnowledgeError, match=message):
        knowledge.load(tmp_path)


def test_a_button_to_an_unknown_intent_is_rejected(tmp_path):
    entry = {
        "id": "x", "intent": "ask_x", "title": {"da": "X", "en": "X"},
        "text": {"da": "Tekst.", "en": "Text."}, "source": "https://example.org",
        "verified": "2026-01-01", "buttons": [{"intent": "ask_nothing"}],
    }
    (tmp_path / "x.yml").write_text(yaml.safe_dump({"entries": [entry]}))
    with pytest.raises(knowledge.KnowledgeError, match="unknown intent"):
        knowledge.load(tmp_path)


def test_an_answer_with_a_missing_fact_routes_to_the_general_contact_and_a_person(kb):
    text, buttons = kb.answer("ask_welcome_letter", "da")  # the letter's text must come from Køge
    assert kb.entries["ask_welcome_letter"].missing
    assert "Torvet 1, 4600 Køge" in text
    assert "/request_human" in [b["payload"] for b in buttons]


def test_an_answer_without_missing_facts_has_no_extra_contact(kb):
    text, buttons = kb.answer("ask_markedsmodningsfonden", "da")
    assert not kb.entries["ask_markedsmodningsfonden"].missing
    assert "/request_human" not in [b["payload"] for b in buttons]
