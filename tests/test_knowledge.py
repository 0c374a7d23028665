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


DANISH_DATE = re.compile(r"\(kontrolleret \d{1,2}\. (januar|februar|marts|april|maj|juni|juli|august|"
                         r"september|oktober|november|december) \d{4}\)$")
ENGLISH_DATE = re.compile(r"\(checked \d{1,2} (January|February|March|April|May|June|July|August|"
                          r"September|October|November|December) \d{4}\)$")
MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def test_every_answer_ends_with_a_short_source_link_and_a_long_date(kb):
    for intent, entry in kb.entries.items():
        for lang, start, date in (("da", "Læs mere: ", DANISH_DATE), ("en", "Read more: ", ENGLISH_DATE)):
            last = kb.answer(intent, lang)[0].splitlines()[-1]
            assert last.startswith(start), (intent, last)
            [(text, url)] = MARKDOWN_LINK.findall(last)
            assert url == entry.source.replace("(", "%28").replace(")", "%29")
            assert len(text) <= 40 and "://" not in text, text
            assert date.search(last), last
            assert entry.verified.isoformat() not in last


def test_the_link_text_is_the_source_title_or_the_site_name(kb):
    text, _ = kb.answer("ask_grant_smv_groen", "da")
    assert "Læs mere: [danskindustri.dk](https://www.danskindustri.dk/" in text
    assert knowledge.site_name("https://koege.dk/virksomhed/x") == "koege.dk"
    assert knowledge.source_link("https://www.koege.dk/a", "Køge Kommune") == "[Køge Kommune](https://www.koege.dk/a)"
    assert knowledge.source_link("https://example.org/a_(b) c") == "[example.org](https://example.org/a_%28b%29%20c)"
    assert knowledge.source_link("https://x.dk/", "[odd] title") == "[(odd) title](https://x.dk/)"


def test_a_source_title_from_the_file_is_the_link_text_until_staff_change_the_source(tmp_path):
    entry = {
        "id": "x", "intent": "ask_x", "title": {"da": "X", "en": "X"},
        "text": {"da": "Tekst.", "en": "Text."}, "source": "https://www.example.org/long/path",
        "source_title": "Eksempel", "verified": "2026-11-22",
    }
    (tmp_path / "x.yml").write_text(yaml.safe_dump({"entries": [entry]}))
    kb = knowledge.load(tmp_path)
    assert kb.answer("ask_x", "da")[0].endswith(
        "Læs mere: [Eksempel](https://www.example.org/long/path) (kontrolleret 22. november 2026)")
    assert kb.answer("ask_x", "en")[0].endswith(
        "Read more: [Eksempel](https://www.example.org/long/path) (checked 22 November 2026)")
    changed = knowledge.apply_overrides(kb, {("answer", "ask_x"): {"source": "https://other.dk/page"}})
    assert changed.answer("ask_x", "da")[0].splitlines()[-1].startswith("Læs mere: [other.dk](https://other.dk/page)")


@pytest.mark.parametrize(("day", "lang", "expected"), [
    (dt.date(2026, 11, 22), "da", "22. november 2026"),
    (dt.date(2026, 11, 22), "en", "22 November 2026"),
    (dt.date(2027, 5, 1), "da", "1. maj 2027"),
    (dt.date(2027, 5, 1), "en", "1 May 2027"),
])
def test_dates_are_written_in_long_form(day, lang, expected):
    assert knowledge.long_date(day, lang) == expected


def test_contact_cards_end_with_a_short_source_link_and_their_labels_come_from_the_domain(kb):
    card = kb.contacts["parkering"].card("da").splitlines()
    assert card[1:3] == ["E-mail: parkering@koege.dk", "Telefon: 56 67 25 50 (Se telefontiderne på kommunens side)"]
    assert card[-1].startswith("Læs mere: [koege.dk](https://www.koege.dk/") and DANISH_DATE.search(card[-1])
    english = kb.contacts["koege_kommune"].card("en").splitlines()
    assert "Address: Torvet 1, 4600 Køge" in english
    assert english[-1].startswith("Read more: [koege.dk](") and ENGLISH_DATE.search(english[-1])


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
