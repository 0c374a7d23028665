"""Human handover without servers: staffed hours (a test clock), the queue's state in the
database (SQLite and PostgreSQL), callback requests through the outbox to a real SMTP server,
erasure, and the actions a user meets (real Rasa SDK trackers)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker

from actions.dialogue import ActionClarify
from actions.handover import (
    ActionHandover,
    ActionSubmitCallback,
    ValidateCallbackForm,
    parse_contact,
    parse_optional_cvr,
)
from bot.booking import notify
from bot.handover import callbacks, queue, schedule
from bot.store import db, feedback, retention
from bot.store.models import CallbackRequest, Handover, Notification
from tests.conftest import DOMAIN, call, make_tracker, rendered, responses
from tests.fakes.smtp_server import SmtpServer

WEDNESDAY_10 = "2026-12-02T10:00"
SATURDAY_10 = "2026-12-05T10:00"


@pytest.fixture
def bot_db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    db.migrate(url)
    return url


# --- staffed hours ---------------------------------------------------------------------------

@pytest.mark.parametrize(("when", "staffed"), [
    ("2026-12-02T10:00", True),    # a Wednesday morning
    ("2026-12-02T08:59", False),   # before opening
    ("2026-12-02T15:00", False),   # closing time itself is closed
    ("2026-12-04T12:30", True),    # Friday before 13
    ("2026-12-04T13:30", False),   # Friday afternoon
    ("2026-12-05T10:00", False),   # Saturday
    ("2026-12-24T10:00", False),   # a closing day of the file
    ("2026-12-25T10:00", False),   # juledag (public holiday)
    ("2027-03-25T10:00", False),   # skærtorsdag 2027 (public holiday)
])
def test_staffed_hours_follow_the_file_holidays_and_closing_days(when, staffed, bot_db, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLOCK", when)
    assert schedule.staffed_now(bot_db) is staffed


def test_staff_version_of_the_hours_replaces_the_file_and_bad_input_is_explained(bot_db, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLOCK", SATURDAY_10)
    assert not schedule.staffed_now(bot_db)
    schedule.save(schedule.Schedule.from_mapping({"weekdays": {"sat": ["09:00", "12:00"]}}), "anne", bot_db)
    assert schedule.staffed_now(bot_db)
    assert schedule.current(bot_db).as_mapping()["weekdays"] == {"sat": ["09:00", "12:00"]}
    with pytest.raises(schedule.ScheduleError, match="sluttiden skal være efter starttiden"):
        schedule.Schedule.from_mapping({"weekdays": {"mon": ["15:00", "09:00"]}})
    with pytest.raises(schedule.ScheduleError, match="ikke et klokkeslæt"):
        schedule.Schedule.from_mapping({"weekdays": {"mon": ["ni", "15:00"]}})
    with pytest.raises(schedule.ScheduleError, match="ikke en dato"):
        schedule.Schedule.from_mapping({"closed_dates": ["24/12"]})


# --- the queue -------------------------------------------------------------------------------

def _request(sender: str = "web-1", **more) -> queue.Request:
    return queue.Request(sender_id=sender, channel="socketio", topic="SMV:Grøn", company="Firma ApS", **more)


def test_a_conversation_is_queued_once_and_claimed_by_one_person(db_url):
    first, new = queue.request(_request(), db_url)
    again, new_again = queue.request(_request(), db_url)
    assert new and not new_again and again.id == first.id
    second, _ = queue.request(_request("web-2"), db_url)
    assert queue.position(first, db_url) == 1 and queue.position(second, db_url) == 2
    claimed = queue.claim(first.id, "anne", db_url)
    assert claimed.status == "claimed" and claimed.claimed_by == "anne"
    with pytest.raises(queue.HandoverError):
        queue.claim(first.id, "bo", db_url)  # already taken
    with pytest.raises(queue.HandoverError):
        queue.end(first.id, "bo", close=False, url=db_url)  # only the one who claimed it
    assert queue.position(second, db_url) == 1
    ended = queue.end(first.id, "anne", close=False, url=db_url)
    assert ended.status == "handed_back" and ended.ended_at is not None
    queue.reopen(first.id, db_url)  # the hand-back message did not reach the user: still anne's
    again = queue.get(first.id, db_url)
    assert (again.status, again.claimed_by, again.ended_at) == ("claimed", "anne", None)
    queue.end(second.id, "bo", close=True, url=db_url)  # a waiting one: anyone may end it
    queue.reopen(second.id, db_url)
    assert queue.get(second.id, db_url).status == "waiting"
    queue.end(second.id, "bo", close=True, url=db_url)
    ended = queue.end(first.id, "anne", close=False, url=db_url)
    assert queue.open_for("web-1", db_url) is None
    assert queue.request(_request(), db_url)[1], "after a hand-back the user can ask again"


def test_unclaimed_handovers_time_out_once(db_url, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLAIM_MINUTES", "5")
    row, _ = queue.request(_request(), db_url)
    assert queue.expire(url=db_url) == []
    later = dt.datetime.utcnow() + dt.timedelta(minutes=6)
    expired = queue.expire(later, db_url)
    assert [h.id for h in expired] == [row.id] and expired[0].status == "timed_out"
    assert queue.expire(later, db_url) == []
    with pytest.raises(queue.HandoverError):
        queue.claim(row.id, "anne", db_url)


def test_expected_wait_is_the_median_of_recent_claims_capped_by_the_timeout(db_url, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLAIM_MINUTES", "5")
    assert queue.expected_wait_minutes(db_url) == 5  # no history
    now = dt.datetime.utcnow()
    with db.session(db_url) as s:
        for i, seconds in enumerate((60, 100, 130)):
            s.add(Handover(sender_id=f"old-{i}", channel="rest", language="da", reason="asked", status="closed",
                           requested_at=now - dt.timedelta(seconds=seconds), claimed_at=now))
    assert queue.expected_wait_minutes(db_url) == 2  # median 100 s -> 2 min


# --- callback requests -----------------------------------------------------------------------

def _details(**more) -> callbacks.CallbackDetails:
    values = dict(sender_id="web-9", name="Anne Hansen", phone="20 12 34 56", topic="Byggetilladelse til hal",
                  time_window="i morgen formiddag", cvr="29189374")
    return callbacks.CallbackDetails(**{**values, **more})


def test_a_callback_request_is_stored_with_a_reference_and_mailed_to_staff(bot_db, monkeypatch):
    with SmtpServer() as smtp:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("STAFF_EMAIL", "erhverv@koege.test")
        row = callbacks.create(_details(), bot_db)
        assert row.reference.startswith(f"OR-{dt.date.today().year}-") and row.status == "new"
        assert notify.send_pending(bot_db) == 1
        mail = smtp.messages[0]
    assert mail["To"] == "erhverv@koege.test" and row.reference in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert "Anne Hansen" in body and "20 12 34 56" in body and "i morgen formiddag" in body
    changed, before = callbacks.set_status(row.id, "in_progress", "anne", bot_db)
    assert (before, changed.status, changed.handled_by) == ("new", "in_progress", "anne")
    with pytest.raises(ValueError):
        callbacks.set_status(row.id, "forgotten", "anne", bot_db)


def test_a_callback_request_needs_a_way_to_reach_the_user_and_fitting_lengths(bot_db):
    with pytest.raises(callbacks.InvalidCallback):
        callbacks.create(_details(phone=None), bot_db)
    with pytest.raises(callbacks.InvalidCallback) as err:
        callbacks.create(_details(name="x" * 300), bot_db)
    assert err.value.field == "name" and err.value.limit == 255
    with db.session(bot_db) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CallbackRequest)) == 0


def test_erasure_by_sender_or_email_removes_handovers_callbacks_and_their_mail(db_url):
    queue.request(_request("web-9"), db_url)
    callbacks.create(_details(), db_url)
    other = callbacks.create(_details(sender_id="web-10", phone=None, email="bo@firma.dk"), db_url)
    report = retention.erase_everywhere(email="BO@firma.dk", url=db_url, engine=sa.create_engine("sqlite://"))
    assert report.handovers == 1 and report.conversations == {"web-10"}
    report = retention.erase_everywhere(sender_id="web-9", url=db_url, engine=sa.create_engine("sqlite://"))
    assert report.handovers == 2 and report.notifications == 1
    with db.session(db_url) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CallbackRequest)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Handover)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert other.reference


# --- the actions -----------------------------------------------------------------------------

def _tracker(text: str, intent: str, events: list[dict] | None = None, **slots) -> Tracker:
    base = make_tracker(text, intent)
    return Tracker(sender_id="web-user", slots={"language": "da", **slots}, latest_message=base.latest_message,
                   events=[*(events or []), *base.events], paused=False, followup_action=None,
                   active_loop={}, latest_action_name="action_listen")


def test_asking_for_a_person_when_staffed_queues_with_a_summary_and_pauses(dispatcher, bot_db, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLOCK", WEDNESDAY_10)
    earlier = make_tracker("hvad er smv grøn", "ask_grant_smv_groen").events
    events = call(ActionHandover().run(dispatcher, _tracker("kan jeg tale med et menneske", "request_human", earlier,
                                                            company_name="Firma ApS"), DOMAIN))
    assert {"event": "pause", "timestamp": None} in events
    assert responses(dispatcher.messages) == ["utter_handover_waiting"]
    assert "nummer 1 i køen" in rendered(dispatcher.messages)
    row = queue.open_for("web-user", bot_db)
    assert row.status == "waiting" and row.company == "Firma ApS" and "SMV:Grøn" in (row.answered or "")
    assert row.reason == "asked"


def test_asking_for_a_person_outside_staffed_hours_offers_a_callback(dispatcher, bot_db, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLOCK", SATURDAY_10)
    events = call(ActionHandover().run(dispatcher, _tracker("jeg vil tale med en medarbejder", "request_human"), DOMAIN))
    assert events == [] and responses(dispatcher.messages) == ["utter_handover_unstaffed"]
    text = rendered(dispatcher.messages)
    assert "ingen medarbejder ved chatten lige nu" in text and "Torvet 1" in text
    assert queue.open_for("web-user", bot_db) is None


def test_ring_mig_op_goes_straight_to_the_callback_form(dispatcher, bot_db, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLOCK", WEDNESDAY_10)
    events = call(ActionHandover().run(dispatcher, _tracker("kan I ringe mig op i morgen", "request_human"), DOMAIN))
    assert events == [{"event": "followup", "timestamp": None, "name": "callback_form"}]
    assert queue.open_for("web-user", bot_db) is None


def test_a_thumbs_down_before_asking_is_the_reason_in_the_queue(dispatcher, bot_db, monkeypatch):
    monkeypatch.setenv("HANDOVER_CLOCK", WEDNESDAY_10)
    feedback.record("web-user", "Et svar", "down", url=bot_db)
    call(ActionHandover().run(dispatcher, _tracker("/request_human", "request_human"), DOMAIN))
    assert queue.open_for("web-user", bot_db).reason == "feedback"


def test_the_second_unclear_message_in_a_row_offers_a_person(dispatcher):
    first = [{"event": "action", "name": "action_clarify"}, {"event": "action", "name": "action_listen"}]
    tracker = _tracker("blabla", "nlu_fallback", first)
    call(ActionClarify().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher.messages)[-1] == "utter_offer_human"
    dispatcher.messages.clear()
    call(ActionClarify().run(dispatcher, _tracker("blabla", "nlu_fallback"), DOMAIN))
    assert "utter_offer_human" not in responses(dispatcher.messages)


@pytest.mark.parametrize(("text", "expected"), [
    ("20 12 34 56", {"callback_contact": "20 12 34 56", "callback_phone": "20 12 34 56", "callback_email": None}),
    ("ring på +45 20123456", {"callback_contact": "20 12 34 56", "callback_phone": "20 12 34 56",
                               "callback_email": None}),
    ("skriv til Anne@Firma.DK tak", {"callback_contact": "Anne@firma.dk", "callback_email": "Anne@firma.dk",
                                     "callback_phone": None}),
])
def test_contact_is_a_danish_phone_or_an_email(text, expected, dispatcher):
    assert parse_contact(text, make_tracker(text), dispatcher) == expected


@pytest.mark.parametrize("text", ["ja", "1234", "anne at firma"])
def test_anything_else_as_contact_is_explained(text, dispatcher):
    slots = call(ValidateCallbackForm().validate_callback_contact(text, dispatcher, make_tracker(text), DOMAIN))
    assert slots["callback_contact"] is None
    assert "hverken et dansk telefonnummer" in rendered(dispatcher.messages)


def test_cvr_is_optional_and_checked_when_given(dispatcher):
    assert parse_optional_cvr("spring over", make_tracker("spring over"), dispatcher) == {"callback_cvr": "-"}
    assert parse_optional_cvr("29189374", make_tracker("29189374"), dispatcher) == {"callback_cvr": "29189374"}
    slots = call(ValidateCallbackForm().validate_callback_cvr("12345678", dispatcher, make_tracker("12345678"), DOMAIN))
    assert slots["callback_cvr"] is None


def _filled(consent: bool) -> Tracker:
    return _tracker("ja" if consent else "nej", "affirm" if consent else "deny", callback_name="Anne Hansen",
                    callback_contact="20 12 34 56", callback_phone="20 12 34 56", callback_cvr="-",
                    callback_topic="Byggetilladelse", callback_window="Formiddag", callback_consent=consent)


def test_with_consent_the_request_is_stored_and_the_user_gets_its_reference(dispatcher, bot_db, monkeypatch,
                                                                            tmp_path):
    monkeypatch.setenv("MAIL_DROP_DIR", str(tmp_path / "mail"))
    events = call(ActionSubmitCallback().run(dispatcher, _filled(True), DOMAIN))
    with db.session(bot_db) as s:
        row = s.scalars(sa.select(CallbackRequest)).one()
        kinds = [n.kind for n in s.scalars(sa.select(Notification))]
    assert row.cvr is None and row.phone == "20 12 34 56" and row.email is None and kinds == ["staff_callback"]
    assert responses(dispatcher.messages) == ["utter_callback_done"]
    assert row.reference in rendered(dispatcher.messages)
    assert {"event": "slot", "timestamp": None, "name": "callback_name", "value": None} in events


def test_without_consent_nothing_is_stored(dispatcher, bot_db):
    call(ActionSubmitCallback().run(dispatcher, _filled(False), DOMAIN))
    assert responses(dispatcher.messages) == ["utter_callback_not_stored"]
    with db.session(bot_db) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CallbackRequest)) == 0
