"""Changing/cancelling a booking and looking a company up, as the action server runs them."""
from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import manage_booking
from actions.company_lookup import ActionLookupCompany, ValidateCompanyLookupForm
from actions.manage_booking import ActionManageBooking, ValidateManageBookingForm
from bot.booking import service
from tests.conftest import DOMAIN, call, make_tracker, rendered
from tests.fakes.cvr_register import ERROR

pytestmark = pytest.mark.usefixtures("action_environment")


@pytest.fixture
def booking():
    return service.book(service.VisitRequest(
        sender_id="u", company_name="Køge Testfabrik ApS", contact_name="Anne Jensen",
        email="anne@example.dk", phone="20 12 34 56", topic="Udvidelse",
        slot_start=dt.datetime(2026, 11, 26, 10, 30)))


def run(action, text: str, intent: str = "nlu_fallback", **slots):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent)
    tracker.slots.update(slots)
    return call(action(dispatcher, tracker)), rendered(dispatcher.messages, tracker)


def validate(slot: str, text: str, **slots):
    form = ValidateManageBookingForm()
    slots.setdefault("requested_slot", slot)
    return run(lambda d, t: getattr(form, f"validate_{slot}")(text, d, t, DOMAIN), text, **slots)


def test_reference_in_any_spelling(booking):
    result, _ = validate("manage_reference", booking.reference.replace("-", " ").lower())
    assert result["manage_reference"] == booking.reference


def test_wrong_email_for_the_reference_is_refused(booking):
    result, text = validate("manage_email", "bo@example.dk", manage_reference=booking.reference)
    assert result["manage_email"] is None and result["manage_reference"] is None
    assert "kan ikke finde" in text


def test_right_email_shows_the_booking(booking):
    result, text = validate("manage_email", "ANNE@example.dk", manage_reference=booking.reference)
    assert result["manage_email"] == "ANNE@example.dk"
    assert "torsdag 26. november 2026 kl. 10.30" in text


@pytest.mark.parametrize(("text", "choice"), [("aflys det", "cancel"), ("flyt den til en anden dag", "change"),
                                              ("cancel", "cancel"), ("move it", "change")])
def test_cancel_or_move(text, choice):
    assert validate("manage_choice", text)[0]["manage_choice"] == choice


def test_cancelling(booking):
    _, text = run(lambda d, t: ActionManageBooking().run(d, t, DOMAIN), "aflys",
                  manage_reference=booking.reference, manage_email="anne@example.dk", manage_choice="cancel")
    assert "er aflyst" in text
    with pytest.raises(service.BookingNotFound):
        service.find(booking.reference, "anne@example.dk")


def test_moving(booking):
    _, text = run(lambda d, t: ActionManageBooking().run(d, t, DOMAIN), "x",
                  manage_reference=booking.reference, manage_email="anne@example.dk", manage_choice="change",
                  manage_new_time="2026-11-30T13:00")
    assert "flyttet til mandag 30. november 2026 kl. 13.00" in text
    assert service.find(booking.reference, "anne@example.dk").slot_start == dt.datetime(2026, 11, 30, 13, 0)


def lookup(**slots):
    return run(lambda d, t: ActionLookupCompany().run(d, t, DOMAIN), "slå op", **slots)


def test_lookup_found():
    _, text = lookup(lookup_cvr="29189374")
    assert "KØGE KOMMUNE (CVR 29189374)" in text and "Torvet 1, 4600 Køge" in text


def test_lookup_not_found():
    _, text = lookup(lookup_cvr="10000009")  # valid (modulus 11), but not in the register
    assert "kan ikke finde CVR-nummer 10000009" in text


def test_lookup_when_the_register_is_down(action_environment):
    action_environment.mode = ERROR
    _, text = lookup(lookup_cvr="29189374")
    assert "lige nu" in text


def test_number_in_the_first_message_is_used():
    import asyncio

    form = ValidateCompanyLookupForm()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("kan du slå cvr 29 18 93 74 op", "lookup_company")
    tracker.slots["requested_slot"] = None
    result = asyncio.run(form.extract_lookup_cvr(dispatcher, tracker, {}))
    assert result == {"lookup_cvr": "29 18 93 74"}
    validated, _ = run(lambda d, t: form.validate_lookup_cvr("29 18 93 74", d, t, {}), "x")
    assert validated["lookup_cvr"] == "29189374"


def test_invalid_number_is_explained():
    result, text = run(lambda d, t: ValidateCompanyLookupForm().validate_lookup_cvr("1234", d, t, {}), "1234",
                       requested_slot="lookup_cvr")
    assert result["lookup_cvr"] is None and "8 cifre" in text


def test_failed_lookups_are_limited_per_conversation(booking):
    for _ in range(manage_booking.MAX_LOOKUPS):
        result, _ = validate("manage_email", "bo@example.dk", manage_reference=booking.reference)
        assert result["manage_email"] is None
    result, text = validate("manage_email", "anne@example.dk", manage_reference=booking.reference)
    assert result["manage_email"] is None and result["manage_reference"] is None  # even the right one
    assert "Kontakt erhvervsservicen" in text
