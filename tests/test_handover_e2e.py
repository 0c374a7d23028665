"""Human handover end to end on the REST channel, against the whole running assistant
(``python -m bot.cli run``: Rasa, action server, staff console, notification sender) with a
test clock (``HANDOVER_CLOCK``: a Saturday, outside the staffed hours) and a real local SMTP
server: the chatbot disclosure, a callback request from the question to staff's e-mail and
the console, and a queued conversation nobody claims being offered the callback."""
from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa

from bot.handover import schedule
from bot.store import db
from bot.store.models import CallbackRequest, Handover
from tests.console_session import ConsoleSession, add_staff, wait_for_console
from tests.support.process import wait_until
from tests.support.stack import BotStack

SATURDAY_10 = "2026-12-05T10:00"

pytestmark = pytest.mark.slow  # a running stack


@pytest.fixture(scope="module")
def world(tmp_path_factory, smtp):
    """A stack of its own: a Saturday clock, staff's own address, a claim time-out of 3 s."""
    folder = tmp_path_factory.mktemp("handover")
    with BotStack(folder, HANDOVER_CLOCK=SATURDAY_10, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port),
                  STAFF_EMAIL="erhverv@koege.test", HANDOVER_CLAIM_MINUTES="0.05") as stack:
        wait_for_console(stack)
        add_staff(stack.env, "anne", "admin")
        yield stack, smtp


def _handovers(stack: BotStack, sender: str) -> list[Handover]:
    with db.session(stack.database) as s:
        return list(s.scalars(sa.select(Handover).where(Handover.sender_id == sender)))


def _bot_lines(stack: BotStack, sender: str) -> list[dict]:
    token = stack.api_token
    tracker = requests.get(f"{stack.rasa}/conversations/{sender}/tracker", params={"token": token}, timeout=30).json()
    return [e for e in tracker["events"] if e["event"] == "bot"]


@pytest.mark.parametrize(("question", "expected"), [
    ("er du et menneske?", "ikke et menneske"),
    ("Er jeg i kontakt med et rigtigt menneske?", "ikke et menneske"),
    ("am I talking to a real person?", "not a person"),
])
def test_asking_whether_it_is_a_person_gets_the_disclosure_not_a_handover(world, question, expected):
    stack, _ = world
    sender = f"disclosure-{abs(hash(question))}"
    text, buttons = stack.say(question, sender)
    assert expected in text and "chatbot" in text.lower()
    assert "/request_human" in [b["payload"] for b in buttons], "a person is offered"
    assert _handovers(stack, sender) == []


def test_outside_staffed_hours_a_callback_request_is_stored_mailed_and_shown_to_staff(world):
    stack, smtp = world
    sender = "rest-callback"
    text, buttons = stack.say("kan jeg tale med et menneske", sender)
    assert "ingen medarbejder ved chatten lige nu" in text
    assert "/request_callback" in [b["payload"] for b in buttons]
    assert "Hvad er dit navn" in stack.say("/request_callback", sender)[0]
    assert "telefonnummer eller hvilken e-mailadresse" in stack.say("Anne Hansen", sender)[0]
    assert "hverken et dansk telefonnummer" in stack.say("ved ikke", sender)[0]
    assert "CVR-nummer" in stack.say("20 12 34 56", sender)[0]
    assert "Hvad drejer det sig om" in stack.say("ingen", sender)[0]
    assert "Hvornår passer det dig bedst" in stack.say("Vi vil bygge en ny hal og har brug for råd", sender)[0]
    text, buttons = stack.say("i morgen formiddag", sender)
    assert "20 12 34 56" in text and [b["payload"] for b in buttons] == ["/affirm", "/deny"]
    text, _ = stack.say("/affirm", sender)
    with db.session(stack.database) as s:
        row = s.scalars(sa.select(CallbackRequest).where(CallbackRequest.sender_id == sender)).one()
    assert row.reference in text and row.phone == "20 12 34 56" and row.cvr is None
    assert row.time_window == "i morgen formiddag" and row.status == "new"
    mail = wait_until(lambda: [m for m in smtp.messages if row.reference in (m["Subject"] or "")], 60,
                      "staff's e-mail", interval=0.5)[0]
    assert mail["To"] == "erhverv@koege.test"
    assert "Anne Hansen" in mail.get_payload(decode=True).decode()
    staff = ConsoleSession(stack.console)
    staff.sign_in("anne")
    page = staff.get("/opringninger").text
    assert row.reference in page and "Anne Hansen" in page
    # the assistant answers again after the request
    assert "SMV:Grøn" in stack.say("hvad er smv grøn?", sender)[0]


def test_a_queued_conversation_nobody_claims_is_offered_the_callback(world):
    stack, _ = world
    schedule.save(schedule.Schedule.from_mapping({"weekdays": {"sat": ["09:00", "12:00"]}}), "anne",
                  stack.database)  # staff opened the chat on Saturdays (the console's Bemanding page)
    sender = "rest-queue"
    text, _ = stack.say("jeg vil gerne tale med en medarbejder", sender)
    assert "nummer 1 i køen" in text
    assert stack.say("hallo, er der nogen?", sender) == ("", []), "the assistant is paused while waiting"
    wait_until(lambda: _handovers(stack, sender)[0].status == "timed_out", 60, "the claim time-out", interval=0.5)
    wait_until(lambda: any(e.get("metadata", {}).get("utter_action") == "utter_handover_no_one"
                           for e in _bot_lines(stack, sender)), 30, "the callback offer", interval=0.5)
    assert "SMV:Grøn" in stack.say("hvad er smv grøn?", sender)[0], "the assistant answers again"
    # the console's audit log has the time-out
    staff = ConsoleSession(stack.console)
    staff.sign_in("anne")
    page = staff.get(f"/revision?samtale={sender}").text  # found by its pseudonym, not its sender id
    assert "<td>Ingen tog samtalen (opringning tilbudt)</td>" in page and sender not in page.split("<table")[1]
