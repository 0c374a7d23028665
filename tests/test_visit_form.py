"""The company-visit form: every validator, side questions, corrections and the submit,
run as the action server runs them, against a real (fake) CVR register and a real database."""
from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import visit_form
from actions.visit_form import (
    ActionAskBookingConfirmed,
    ActionAskVisitTime,
    ActionBookVisit,
    ValidateVisitForm,
)
from bot.booking import availability, service
from tests.conftest import DOMAIN, all_buttons, call, make_tracker, rendered, responses
from tests.fakes.cvr_register import ERROR

pytestmark = pytest.mark.usefixtures("action_environment")


def validate(slot: str, text: str, intent: str = "nlu_fallback", confidence: float = 0.9,
             slots: dict | None = None, entities: list | None = None, lang: str = "da"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent, language=lang, entities=entities, ranking=[(intent, confidence)])
    tracker.slots.update(slots or {})
    tracker.slots["requested_slot"] = slot
    result = call(getattr(ValidateVisitForm(), f"validate_{slot}")(text, dispatcher, tracker, DOMAIN))
    return result, rendered(dispatcher.messages, tracker), dispatcher.messages


def ask_time(text: str, requested: str = "visit_time", lang: str = "da"):
    """Run the time question after ``text``; the messages and what the user reads."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "nlu_fallback", language=lang)
    tracker.slots["requested_slot"] = requested
    call(ActionAskVisitTime().run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, rendered(dispatcher.messages, tracker)


def test_cvr_found_in_the_register_fills_name_and_address():
    result, text, _ = validate("company_cvr", "vores cvr er 29189374")
    assert result["company_cvr"] == "29189374"
    assert result["company_name"] == "KØGE KOMMUNE"
    assert result["company_address"] == "Torvet 1, 4600 Køge"
    assert "KØGE KOMMUNE" in text


@pytest.mark.parametrize("answer", ["1234567", "29189375", "abc"])
def test_invalid_cvr_is_explained_and_asked_again_without_a_request(action_environment, answer):
    result, _, messages = validate("company_cvr", answer)
    assert result["company_cvr"] is None
    assert responses(messages)[0].startswith("utter_cvr_invalid_")
    assert action_environment.requests == []


def test_register_down_continues_by_asking_the_user(action_environment):
    action_environment.mode = ERROR
    result, _, messages = validate("company_cvr", "29189374")
    assert result["company_cvr"] == "29189374" and "company_name" not in result
    assert responses(messages) == ["utter_register_down"]


def test_no_cvr_at_hand_is_fine():
    result, _, _ = validate("company_cvr", "ved ikke")
    assert result["company_cvr"] == visit_form.UNKNOWN


def test_three_failed_answers_offer_a_person():
    failures = {}
    for _ in range(3):
        result, _, messages = validate("email", "min mail", slots={"form_failures": failures})
        failures = result["form_failures"]
    assert any(b["payload"] == "/request_human" for b in all_buttons(messages))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("anne.jensen@Example.DK", "anne.jensen@example.dk"), ("skriv til bo@firma.dk tak", "bo@firma.dk")],
)
def test_email(text, expected):
    assert validate("email", text)[0]["email"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20 12 34 56", "20 12 34 56"), ("+45 20123456", "20 12 34 56"), ("2012 3456", "20 12 34 56")],
)
def test_danish_phone_numbers(text, expected):
    assert validate("phone", text)[0]["phone"] == expected


@pytest.mark.parametrize("text", ["1234", "+46 70 123 45 67", "ring mig"])
def test_not_a_danish_phone_number(text):
    result, message, _ = validate("phone", text)
    assert result["phone"] is None and "telefonnummer" in message


def test_names_and_topic():
    assert validate("contact_name", "Anne Jensen")[0]["contact_name"] == "Anne Jensen"
    assert validate("contact_name", "anne@x.dk")[0]["contact_name"] is None
    assert validate("company_name", "Køge Testfabrik ApS")[0]["company_name"] == "Køge Testfabrik ApS"
    assert validate("visit_topic", "Udvidelse af produktionen")[0]["visit_topic"] == "Udvidelse af produktionen"


def test_a_contact_question_in_the_middle_is_answered_and_the_question_stays():
    result, text, _ = validate("email", "Hvem skal jeg kontakte om støj fra min virksomhed?", intent="ask_contact")
    assert result == {"email": None}
    assert "miljoe@koege.dk" in text


def test_a_topic_question_in_the_middle_is_answered():
    result, text, _ = validate("visit_topic", "hvad er SMV:Digital?", intent="ask_grant_smv_digital")
    assert result == {"visit_topic": None}
    assert "SMV:Digital" in text


def test_a_free_slot_is_taken():
    result, _, _ = validate("visit_time", "torsdag 26. november kl. 10.30")
    assert result["visit_time"] == "2026-11-26T10:30"


@pytest.mark.parametrize(
    ("text", "reason_word"),
    [
        ("lørdag den 28. november kl. 10.30", "weekend"),
        ("den 24. december kl. 10.30", "Den dag"),
        ("den 25. december kl. 10.30", "helligdag"),
        ("i morgen kl. 10.30", "forvejen"),
        ("torsdag 26. november kl. 11", "faste tidspunkter"),
    ],
)
def test_a_time_that_cannot_be_booked_gets_the_nearest_free_slots(text, reason_word):
    result, _, _ = validate("visit_time", text)
    assert result["visit_time"] is None
    messages, said = ask_time(text)
    message = messages[0]
    assert reason_word in said
    assert len(message["buttons"]) == availability.default().suggestions
    for button in message["buttons"]:  # each suggestion is a bookable slot the parser reads back
        assert validate("visit_time", button["payload"])[0]["visit_time"]


def test_the_first_time_question_offers_the_next_free_slots():
    messages, _ = ask_time("20 12 34 56", requested="visit_topic")
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles[0] == "onsdag 25. november kl. 09.00"  # two working days after Monday 23rd


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_example_the_time_question_gives_is_accepted(lang):
    messages, _ = ask_time("Udvidelse", requested="visit_topic", lang=lang)
    example = messages[0]["example"]
    assert example.split()[0] in ("næste", "next")
    result, _, _ = validate("visit_time", example, lang=lang)
    assert result["visit_time"], example  # the assistant's own example books a time


FILLED = {"company_cvr": "29189374", "company_name": "KØGE KOMMUNE", "company_address": "Torvet 1, 4600 Køge",
          "contact_name": "Anne Jensen", "email": "anne@example.dk", "phone": "20 12 34 56",
          "visit_topic": "Udvidelse", "visit_time": "2026-11-26T10:30"}


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_time_example_is_booked_as_its_own_slot_on_any_day_of_the_year(lang):
    """Whatever the day and hour the question is asked (weekends, holidays, evenings, year's
    end), the example is the "next <weekday> at <time>" phrase of the first offered slot that has
    one, and ``choose`` books that very slot when the phrase is typed back."""
    from bot.nlp import dates

    avail = availability.default()
    for hours in range(0, 24 * 366, 24 * 5 + 7):  # every fifth day, the hour moving on
        at = dt.datetime(2026, 12, 1, 6) + dt.timedelta(hours=hours)
        offered = avail.slots(at)[avail.suggestions:]
        example = visit_form.time_example(offered, at, lang)
        booked = availability.choose(dates.parse(example, at), at, avail, []).slot
        assert booked in offered, (at, example)
        assert example.split()[0] in ("næste", "next"), (at, example)
        # no earlier slot has such a phrase (alone, each falls back to its date)
        assert all(visit_form.time_example([slot], at, lang).split()[0] not in ("næste", "next")
                   for slot in offered[:offered.index(booked)]), (at, example)


def test_summary_then_yes_confirms():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", "nlu_fallback")
    tracker.slots.update(FILLED)
    events = ActionAskBookingConfirmed().run(dispatcher, tracker, DOMAIN)
    text = rendered(dispatcher.messages, tracker)
    assert "anne@example.dk" in text and "torsdag 26. november 2026 kl. 10.30" in text
    assert events[0]["name"] == "summary_shown"
    result, _, _ = validate("booking_confirmed", "ja", intent="affirm", slots=FILLED)
    assert result["booking_confirmed"] is True


def test_correction_clears_the_named_field():
    result, text, _ = validate("booking_confirmed", "nej, e-mailen er forkert", intent="deny", slots=FILLED)
    assert result["email"] is None and result["booking_confirmed"] is None
    assert "rette" in text


def test_no_without_a_field_asks_what_to_correct():
    result, text, messages = validate("booking_confirmed", "nej", intent="deny", slots=FILLED)
    assert responses(messages) == ["utter_what_to_fix"] and len(all_buttons(messages)) == 6


def test_submit_stores_the_booking_and_quotes_the_reference():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ja", "affirm")
    tracker.slots.update(FILLED | {"booking_confirmed": True})
    events = call(ActionBookVisit().run(dispatcher, tracker, DOMAIN))
    booking = service.find(events[-1]["value"], "anne@example.dk")
    assert booking.reference in rendered(dispatcher.messages, tracker)
    assert booking.slot_start == dt.datetime(2026, 11, 26, 10, 30)


def test_submit_of_a_slot_just_taken_asks_for_another_time():
    service.book(service.VisitRequest(
        sender_id="other", company_name="X", contact_name="Y", email="y@example.dk", phone="20 12 34 56",
        topic="t", slot_start=dt.datetime(2026, 11, 26, 10, 30)))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ja", "affirm")
    tracker.slots.update(FILLED | {"booking_confirmed": True})
    events = call(ActionBookVisit().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher.messages) == ["utter_slot_taken"]
    # back in the form at the time question, the other answers kept (not activated anew)
    assert any(e["event"] == "active_loop" and e["name"] == "visit_form" for e in events)
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert cleared == {"visit_time", "booking_confirmed", "summary_shown"}


def test_submit_with_the_database_down_says_not_booked_and_asks_again(monkeypatch):
    """"Prøv igen" (/affirm) must book: the form is active again at its confirmation."""
    def unavailable(*_, **__):
        raise service.StoreUnavailable("database")

    monkeypatch.setattr(service, "book", unavailable)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ja", "affirm")
    tracker.slots.update(FILLED | {"booking_confirmed": True, "summary_shown": True})
    events = call(ActionBookVisit().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher.messages) == ["utter_booking_not_stored"]
    assert {"event": "slot", "timestamp": None, "name": "booking_confirmed", "value": None} in events
    assert events[-1] == {"event": "active_loop", "timestamp": None, "name": "visit_form"}


def test_english_conversations_get_english_time_buttons_that_parse_back():
    messages, _ = ask_time("Expanding our warehouse", requested="visit_topic", lang="en")
    button = messages[0]["buttons"][0]
    assert button["title"] == "Wednesday 25 November at 09.00"
    assert validate("visit_time", button["payload"], lang="en")[0]["visit_time"] == "2026-11-25T09:00"


@pytest.mark.parametrize("slot", ["company_name", "contact_name"])
def test_an_answer_longer_than_the_column_gets_a_clear_message(slot):
    result, text, messages = validate(slot, "Testfabrikken " * 22)  # 308 characters
    assert result[slot] is None
    assert responses(messages) == ["utter_answer_too_long"] and messages[0]["limit"] == 255
    assert "255 tegn" in text
