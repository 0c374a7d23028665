"""The knowledge base: every answer sourced, dated, bilingual, and only known contact data."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from bot import answers, knowledge

ROOT = Path(__file__).resolve().parent.parent
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\d.,])(?:\+45\s?)?\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?![\d.,])")


def _text(kb: knowledge.Knowledge, intent: str, lang: str) -> str:
    """The answer as its message's text: the body and the footer."""
    return answers.text(kb.answer(intent, lang)[0])


def _all_answer_texts(kb: knowledge.Knowledge) -> list[str]:
    return [_text(kb, intent, lang) for intent in kb.entries for lang in knowledge.LANGUAGES]


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


def test_every_answer_ends_with_short_source_links_and_a_long_date(kb):
    """One source ("Kilde: …"), or with ``more_sources`` at most three ("Kilder: …, … og …")."""
    for intent, entry in kb.entries.items():
        assert len(entry.more_sources) <= 2, intent
        for lang, start, date in (("da", ("Kilde: ", "Kilder: "), DANISH_DATE),
                                  ("en", ("Source: ", "Sources: "), ENGLISH_DATE)):
            last = _text(kb, intent, lang).splitlines()[-1]
            assert last.startswith(start[bool(entry.more_sources)]), (intent, last)
            links = MARKDOWN_LINK.findall(last)
            assert [url for _, url in links] == [u.replace("(", "%28").replace(")", "%29")
                                                 for u in (entry.source, *entry.more_sources)]
            assert all(len(text) <= 40 and "://" not in text for text, _ in links), links
            assert date.search(last), last
            assert entry.verified.isoformat() not in last


def test_the_link_text_is_the_source_title_or_the_site_name(kb):
    text = _text(kb, "ask_grant_smv_groen", "da")
    assert "Kilder: [danskindustri.dk](https://www.danskindustri.dk/" in text
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
    assert _text(kb, "ask_x", "da").endswith(
        "Kilde: [Eksempel](https://www.example.org/long/path) (kontrolleret 22. november 2026)")
    assert _text(kb, "ask_x", "en").endswith(
        "Source: [Eksempel](https://www.example.org/long/path) (checked 22 November 2026)")
    changed = knowledge.apply_overrides(kb, {("answer", "ask_x"): {"source": "https://other.dk/page"}})
    assert _text(changed, "ask_x", "da").splitlines()[-1].startswith("Kilde: [other.dk](https://other.dk/page)")


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
    assert card[-1].startswith("Kilde: [koege.dk](https://www.koege.dk/") and DANISH_DATE.search(card[-1])
    english = kb.contacts["koege_kommune"].card("en").splitlines()
    assert "Address: Torvet 1, 4600 Køge" in english
    assert english[-1].startswith("Source: [koege.dk](") and ENGLISH_DATE.search(english[-1])


def test_a_contact_card_names_the_sources_of_what_its_source_does_not_back(kb):
    """What Grøn Omstilling does comes from the green-2030 article, its address from sn.dk."""
    card = kb.contacts["gron_omstilling"].card("da").splitlines()
    assert card[-1].startswith("Kilder: [sn.dk](https://sn.dk/") and "og [connectkoege.dk](https://connectkoege.dk/" in card[-1]
    for contact in kb.contacts.values():
        assert len(contact.more_sources) <= 2 and contact.source not in contact.more_sources, contact.id


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
        ("more_sources", "https://example.org/b", "more_sources must be a list"),
        ("more_sources", ["ftp://example.org/b"], "more_sources must be a list of links"),
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
    answer, buttons = kb.answer("ask_welcome_letter", "da")  # the letter's text must come from Køge
    assert kb.entries["ask_welcome_letter"].missing
    assert [c.name for c in answer.contacts] == ["Køge Kommune"]  # the business service has no line yet
    assert "Kontakt: Køge Kommune, Torvet 1, 4600 Køge" in answers.footer(answer)
    assert "/request_human" in [b["payload"] for b in buttons]


def test_a_grant_others_run_gets_their_contact_not_the_municipalitys_address(kb):
    """SMV:Grøn is a national scheme: Erhvervshus Sjælland is the one to ask. The municipality's
    address under it would read as if Køge ran the scheme."""
    for intent in ("ask_grant_smv_groen", "ask_grant_smv_digital", "ask_grant_export", "ask_erhvervshus"):
        answer, buttons = kb.answer(intent, "da")
        assert kb.entries[intent].missing, intent
        assert [c.name for c in answer.contacts] == ["Erhvervshus Sjælland"], intent
        assert "Torvet 1" not in answers.text(answer), intent
        assert "/request_human" in [b["payload"] for b in buttons]  # a person can still help


def test_a_municipal_topic_names_each_contact_once(kb):
    answer, _ = kb.answer("ask_business_service", "da")  # erhvervsservice (no line yet) and Køge Kommune
    assert [c.name for c in answer.contacts] == ["Køge Kommune"]
    green, _ = kb.answer("ask_green_2030", "en")  # a municipal unit with an address, and Connect Køge
    assert [c.name for c in green.contacts][-1] == "Køge Municipality"
    assert len({c.name for c in green.contacts}) == len(green.contacts)


def test_the_contacts_under_answers_are_the_entries_own_or_the_general_one(kb):
    """Never invented: every contact under an answer is one of contacts.yml, with its own data."""
    by_name = {(c.name[lang], lang): c for c in kb.contacts.values() for lang in knowledge.LANGUAGES}
    for intent, entry in kb.entries.items():
        for lang in knowledge.LANGUAGES:
            for item in kb.answer(intent, lang)[0].contacts:
                contact = by_name[(item.name, lang)]
                assert contact.id in entry.contacts or contact.id == knowledge.GENERAL_CONTACT, (intent, contact.id)
                assert (item.email, item.phone, item.address) == (contact.email, contact.phone, contact.address)


def test_an_answer_without_missing_facts_has_no_extra_contact(kb):
    answer, buttons = kb.answer("ask_markedsmodningsfonden", "da")
    assert not kb.entries["ask_markedsmodningsfonden"].missing
    assert answer.contacts == ()
    assert "/request_human" not in [b["payload"] for b in buttons]
