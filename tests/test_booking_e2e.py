"""A whole booking through the REST channel against the real Rasa server and action server,
with the CVR register and the mail server on loopback; then the booking is cancelled.
Runs with SQLite (tests/conftest.py's ``staffed_stack``) and with PostgreSQL (127.0.0.1:5432,
``production_stack``: two Rasa workers) as the assistant's database."""
from __future__ import annotations

import uuid
from email.message import Message

import pytest
import sqlalchemy as sa

from bot.store import db
from bot.store.models import Booking
from tests.fakes.smtp_server import SmtpServer
from tests.support.process import wait_until

MAIL_WAIT = 60

pytestmark = pytest.mark.slow  # a running stack


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, smtp):
    bot = request.getfixturevalue({"sqlite": "staffed_stack", "postgresql": "production_stack"}[request.param])
    assert bot.database.startswith(request.param)
    return {"bot": bot, "smtp": smtp, "url": bot.database}


def _wait_for_mail(smtp: SmtpServer, reference: str, count: int) -> list[Message]:
    """The e-mails about ``reference``, once there are ``count`` (the mail server is shared)."""
    def arrived() -> list[Message]:
        found = [m for m in smtp.messages if reference in (m["Subject"] or "")]
        return found if len(found) >= count else []

    return wait_until(arrived, MAIL_WAIT, f"{count} e-mails about {reference}", interval=0.5)


def test_booking_is_stored_mailed_with_ics_and_can_be_cancelled(world):
    bot, smtp, url = world["bot"], world["smtp"], world["url"]
    user = "e2e-" + uuid.uuid4().hex[:8]

    text, _ = bot.say("Jeg vil gerne booke et virksomhedsbesøg", user)
    assert "CVR-nummer" in text
    text, _ = bot.say("vores cvr er 29189374", user)
    assert "KØGE KOMMUNE" in text and "fulde navn" in text  # name and address from the register
    text, _ = bot.say("Anne Jensen", user)
    assert "e-mail" in text
    text, _ = bot.say("Hvem skal jeg kontakte om støj fra min virksomhed?", user)
    assert "miljoe@koege.dk" in text and "e-mail" in text  # answered, then the question again
    text, _ = bot.say("anne.jensen@example.dk", user)
    assert "telefon" in text
    text, _ = bot.say("20 12 34 56", user)
    assert "tale om" in text
    text, buttons = bot.say("Vi vil gerne tale om udvidelse af produktionen", user)
    assert "Hvornår" in text and buttons
    text, buttons = bot.say(buttons[0]["payload"], user)
    assert "anne.jensen@example.dk" in text and "Tjek" in text
    copy = next(b["payload"] for b in buttons if "send_copy" in b["payload"])
    text, _ = bot.say(copy, user)
    assert "booket" in text
    reference = next(word.strip(".") for word in text.split() if word.startswith("KB-"))

    with db.session(url) as s:
        row = s.scalars(sa.select(Booking).where(Booking.reference == reference)).one()
    assert (row.company_name, row.cvr, row.email, row.phone, row.status) == (
        "KØGE KOMMUNE", "29189374", "anne.jensen@example.dk", "20 12 34 56", "booked")

    mails = _wait_for_mail(smtp, reference, 2)  # staff and the user's copy
    staff = next(m for m in mails if m["To"] == "erhvervsservice@localhost")
    assert reference in staff["Subject"]
    ics = [p for p in staff.walk() if p.get_content_type() == "text/calendar"]
    assert ics and reference in ics[0].get_payload(decode=True).decode()

    text, _ = bot.say(f"jeg vil aflyse besøget {reference}", user)
    assert "e-mail" in text
    text, _ = bot.say("anne.jensen@example.dk", user)
    assert "aflyse" in text
    text, _ = bot.say("aflys", user)
    assert "aflyst" in text
    with db.session(url) as s:
        assert s.scalars(sa.select(Booking.status).where(Booking.reference == reference)).one() == "cancelled"
    mails = _wait_for_mail(smtp, reference, 4)
    assert any("aflyst" in m["Subject"] for m in mails)

    logs = bot.log.read_text() + (bot.folder / "rasa.log").read_text()
    for personal in ("anne.jensen@example.dk", "Anne Jensen", "20 12 34 56"):
        assert personal not in logs, "personal data in the application logs"


def test_afbryd_stores_nothing(world):
    bot, url = world["bot"], world["url"]
    user = "e2e-" + uuid.uuid4().hex[:8]
    bot.say("book et besøg", user)
    bot.say("ved ikke", user)
    text, buttons = bot.say("afbryd", user)
    assert "Vil du afbryde" in text and [b["payload"] for b in buttons] == ["/affirm", "/deny"]
    text, _ = bot.say("ja", user)
    assert "Intet er gemt" in text and "forstod jeg" not in text, text
    with db.session(url) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.sender_id == user)) == 0


def test_a_company_called_stop_and_shop_can_book(world):
    """The NLU reads "Stop & Shop ApS" as "stop" (0.98): the assistant asks before it drops
    anything, and after "no" the name is taken at that question."""
    bot = world["bot"]
    user = "e2e-" + uuid.uuid4().hex[:8]
    bot.say("book et besøg", user)
    text, _ = bot.say("ved ikke", user)
    assert "hedder" in text, text  # the company's name
    text, buttons = bot.say("Stop & Shop ApS", user)
    assert "Vil du afbryde" in text, text
    text, _ = bot.say(buttons[1]["payload"], user)  # "Nej, fortsæt"
    assert "hedder" in text and "Intet er gemt" not in text, text  # the same question again
    text, _ = bot.say("Stop & Shop ApS", user)
    assert "fulde navn" in text, text  # the name is taken: the next question
    for answer in ("Anne Jensen", "anne@example.dk", "20 12 34 56"):
        bot.say(answer, user)
    _, buttons = bot.say("udvidelse af produktionen", user)
    text, _ = bot.say(buttons[0]["payload"], user)
    assert "Stop & Shop ApS" in text, text  # in the summary


def test_the_summarys_afbryd_button_asks_and_then_the_dialogue_goes_on(world):
    """"Afbryd" under the summary asks first like a typed "stop"; after "ja" nothing is stored
    and the next question gets one ordinary answer (a form stopped outside the rules once left
    the policies answering "not understood" ten times in a row)."""
    bot, url = world["bot"], world["url"]
    user = "e2e-" + uuid.uuid4().hex[:8]
    text, buttons = _to_summary(bot, user)
    assert "Tjek" in text, text
    stop = next(b["payload"] for b in buttons if b["payload"] == "/stop")
    text, _ = bot.say(stop, user)
    assert "Vil du afbryde" in text, text
    text, _ = bot.say("ja", user)
    assert "Intet er gemt" in text and "forstod jeg" not in text, text
    text, _ = bot.say("hvad er SMV:Digital?", user)
    assert "SMV:Digital" in text and "forstod jeg" not in text, text
    with db.session(url) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.sender_id == user)) == 0


def _to_summary(bot, user: str, slot_payload: str | None = None) -> tuple[str, list[dict]]:
    """A booking up to its summary, at the first offered time (or ``slot_payload``)."""
    for text in ("book et besøg", "ved ikke", "Testfirma ApS", "Anne Jensen", "anne@example.dk", "20 12 34 56"):
        bot.say(text, user)
    _, buttons = bot.say("udvidelse af produktionen", user)
    return bot.say(slot_payload or buttons[0]["payload"], user)


def test_two_users_confirming_the_same_time_one_gets_new_times_and_keeps_the_other_answers(world):
    bot, url = world["bot"], world["url"]
    first, second = "e2e-" + uuid.uuid4().hex[:8], "e2e-" + uuid.uuid4().hex[:8]
    text, _ = _to_summary(bot, first)
    slot = next(line for line in text.splitlines() if line.startswith("Tidspunkt"))
    text, buttons = _to_summary(bot, second)
    assert slot in text, "both see the same free time"
    assert "KB-" in bot.say("ja", first)[0]
    text, buttons = bot.say("ja", second)
    assert "lige blevet booket" in text and "Hvornår" in text and buttons, text
    assert "CVR" not in text and "e-mail" not in text.lower(), "no answer is asked again"
    text, _ = bot.say(buttons[0]["payload"], second)
    assert "Testfirma ApS" in text and "anne@example.dk" in text, "the other answers are kept"
    assert "KB-" in bot.say("ja", second)[0]
    with db.session(url) as s:
        senders = s.scalars(sa.select(Booking.sender_id).where(Booking.sender_id.in_([first, second]))).all()
    assert sorted(senders) == sorted([first, second])
