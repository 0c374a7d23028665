"""End to end: `python -m bot.cli run` (what `make run` starts) answers on the REST channel
(tests/conftest.py's ``shared_stack``), stores the conversation, and stops every process on
Ctrl-C (a stack of its own)."""
from __future__ import annotations

import re
import sqlite3
import uuid

import pytest
import requests

from bot import wording
from tests.support import rest
from tests.support.stack import BotStack


@pytest.fixture(scope="module")
def bot(shared_stack: BotStack) -> BotStack:
    return shared_stack


def test_hej_gets_the_danish_greeting_with_the_automated_assistant_notice(bot):
    text, buttons = bot.say("Hej")
    assert "digitale assistent" in text and "chatbot" in text
    assert {"/ask_grants_overview", "/ask_contact"} <= {b["payload"] for b in buttons}


def test_noise_contact_question_gives_the_environment_unit(bot, kb):
    text, _ = bot.say("Hvem skal jeg kontakte om støj fra min virksomhed?")
    assert kb.contacts["miljoe"].email in text


def test_grant_question_is_answered_with_amount_and_source(bot, kb):
    text, _ = bot.say("hvor meget kan man få i smv grøn?")
    assert "300.000" in text
    assert kb.entries["ask_grant_smv_groen"].source in text


def test_a_factual_answer_is_one_rest_message_with_its_parts(bot, kb):
    """The whole answer in one message's text (for clients that read only that), and its parts in
    ``custom.answer`` for clients that lay them out (bot/answers.py)."""
    reply = rest.post(bot.rasa, uuid.uuid4().hex, "hvad er smv grøn?")
    [message] = reply.json()
    parts = message["custom"]["answer"]
    assert message["text"] == parts["body"] + "\n\n" + "\n".join(parts["footer"])
    assert "300.000" in parts["body"] and message["buttons"]
    assert [c["name"] for c in parts["contacts"]] == ["Erhvervshus Sjælland"]
    entry = kb.entries["ask_grant_smv_groen"]
    assert parts["source"] == {"url": entry.source, "title": "danskindustri.dk", "verified": entry.verified.isoformat(),
                               "verified_text": wording.format_date(entry.verified, "da"),
                               "more": [{"url": entry.more_sources[0], "title": "plastcenter.dk"}]}
    assert parts["footer"][-1].startswith("Kilder: [danskindustri.dk](") and parts["language"] == "da"
    assert "Torvet 1" not in message["text"]


def test_whether_erhvervshus_sjaelland_is_part_of_the_municipality_is_answered(bot, kb):
    """#24's example: the question got a description of the Erhvervshus that did not answer it."""
    text, _ = bot.say("er erhvervshus sjælland en del af kommunen?")
    assert "ikke en del af Køge Kommune" in text and "tværkommunale" in text
    assert kb.entries["ask_erhvervshus"].source in text
    english, _ = bot.say("Is Erhvervshus Sjælland part of Køge Municipality?")
    assert "not part of Køge Municipality" in english


def test_what_the_policy_says_about_solar_panels_is_quoted_from_the_policy(bot):
    text, _ = bot.say("står der noget om solceller i erhvervspolitikken?")
    assert "indsats 3" in text and "solceller" in text and "citat" in text


def test_dbd_which_no_topic_covers_is_answered_from_the_policy(bot):
    text, _ = bot.say("hvad er DBD?")
    assert "Digital Bygnings Data" in text and "citat" in text


def test_english_question_gets_an_english_answer(bot):
    text, buttons = bot.say("What grants are there for green transition?")
    # A direct answer, or (the question fits the grants overview and SMV:Grøn about equally)
    # the "did you mean" question: either way in English, with English topic buttons.
    assert re.search(r"^Sources?: \[", text, re.M) or text.startswith(wording.text("utter_clarify", "en")), text
    assert "Kilde" not in text and all(b["title"] != "Tal med en medarbejder" for b in buttons)


def test_citizen_question_is_deflected_honestly(bot):
    text, _ = bot.say("Hvornår bliver mit skrald hentet derhjemme?")
    assert "desværre" in text and "koege.dk" in text


def test_conversation_is_stored_in_the_sqlite_tracker_store(bot):
    sender = "store-" + uuid.uuid4().hex
    bot.say("Hej", sender)
    with sqlite3.connect(bot.tracker) as db:
        count = db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]
    assert count > 0


@pytest.mark.slow
def test_ctrl_c_stops_every_process(tmp_path):
    with BotStack(tmp_path) as bot:  # its own: the shared stack goes on
        assert bot.stop() == 0
    for url in (bot.rasa, bot.web, f"http://127.0.0.1:{bot.action_port}/health"):
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)
