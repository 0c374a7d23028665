"""Changing or cancelling a booked company visit, by booking number + the e-mail used."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.visit_form import (
    EMAIL,
    MANAGE_SLOTS,
    ActionAskVisitTime,
    _text,
    accepted,
    answered_side_question,
    failed,
    validate_time,
)
from actions.visit_form import TEXTS as FORM_TEXTS
from bot.booking import notify, service
from bot.booking.notify import format_when

CANCEL, CHANGE = "cancel", "change"
TEXTS = {
    "da": {
        "bad_reference": "Bookingnummeret ser sådan ud: KB-2026-0042.",
        "not_found": "Jeg kan ikke finde en aktiv booking med det bookingnummer og den e-mail. Prøv igen.",
        "found": "Jeg fandt bookingen: {company}, {when}.",
        "bad_choice": "Skriv 'aflys' for at aflyse besøget eller 'flyt' for at flytte det.",
        "cancelled": "Besøget {reference} er aflyst. Erhvervsservicen har fået besked.",
        "moved": "Besøget {reference} er flyttet til {when}. Erhvervsservicen har fået besked.",
        "taken": "Tidspunktet er desværre lige blevet booket af en anden. Vælg et andet tidspunkt.",
    },
    "en": {
        "bad_reference": "The booking number looks like this: KB-2026-0042.",
        "not_found": "I cannot find an active booking with that booking number and e-mail. Please try again.",
        "found": "I found the booking: {company}, {when}.",
        "bad_choice": "Write 'cancel' to cancel the visit or 'move' to move it.",
        "cancelled": "The visit {reference} is cancelled. The business service has been notified.",
        "moved": "The visit {reference} has been moved to {when}. The business service has been notified.",
        "taken": "Sorry, that time has just been booked by someone else. Please choose another time.",
    },
}
CANCEL_WORDS = re.compile(r"aflys|annuller|slet|cancel|afbud", re.IGNORECASE)
CHANGE_WORDS = re.compile(r"flyt|ændr|aendr|ombook|andet tidspunkt|anden dag|move|change|reschedule", re.IGNORECASE)


class ValidateManageBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_manage_booking_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if tracker.get_slot("manage_choice") == CANCEL:
            return [s for s in domain_slots if s != "manage_new_time"]
        return domain_slots

    async def extract_manage_reference(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        """A booking number already in the first message ("aflys KB-2026-0042") is used."""
        if tracker.get_slot("manage_reference") or tracker.get_slot("requested_slot"):
            return {}
        reference = service.parse_reference(_text(tracker))
        return {"manage_reference": reference} if reference else {}

    def validate_manage_reference(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        reference = service.parse_reference(str(value or ""))
        if reference:
            return accepted(tracker, "manage_reference", reference)
        if answered_side_question(dispatcher, tracker):
            return {"manage_reference": None}
        return failed(dispatcher, tracker, "manage_reference", TEXTS[language(tracker)]["bad_reference"])

    def validate_manage_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        lang = language(tracker)
        match = EMAIL.search(_text(tracker))
        if not match:
            if answered_side_question(dispatcher, tracker):
                return {"manage_email": None}
            return failed(dispatcher, tracker, "manage_email", FORM_TEXTS[lang]["email_invalid"])
        try:
            booking = service.find(tracker.get_slot("manage_reference"), match.group(0))
        except service.BookingNotFound:
            return failed(dispatcher, tracker, "manage_email", TEXTS[lang]["not_found"]) | {
                "manage_reference": None}
        dispatcher.utter_message(text=TEXTS[lang]["found"].format(
            company=booking.company_name, when=format_when(booking.slot_start, lang)))
        return accepted(tracker, "manage_email", match.group(0))

    def validate_manage_choice(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        text = _text(tracker)
        if CANCEL_WORDS.search(text):
            return accepted(tracker, "manage_choice", CANCEL)
        if CHANGE_WORDS.search(text):
            return accepted(tracker, "manage_choice", CHANGE)
        if answered_side_question(dispatcher, tracker):
            return {"manage_choice": None}
        return failed(dispatcher, tracker, "manage_choice", TEXTS[language(tracker)]["bad_choice"])

    def validate_manage_new_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        return validate_time("manage_new_time", dispatcher, tracker)


class ActionAskManageNewTime(ActionAskVisitTime):
    slot = "manage_new_time"


class ActionManageBooking(Action):
    """Cancels or moves the booking and notifies staff (and the user, by e-mail)."""

    def name(self) -> str:
        return "action_manage_booking"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        reference, email = tracker.get_slot("manage_reference"), tracker.get_slot("manage_email")
        reset = [SlotSet(slot, None) for slot in [*MANAGE_SLOTS, "form_failures"]]
        try:
            if tracker.get_slot("manage_choice") == CANCEL:
                booking = service.cancel(reference, email)
                notify.send_soon()
                dispatcher.utter_message(text=TEXTS[lang]["cancelled"].format(reference=booking.reference))
                return reset
            new_start = dt.datetime.fromisoformat(tracker.get_slot("manage_new_time"))
            booking = service.move(reference, email, new_start)
            notify.send_soon()
        except service.SlotTaken:
            dispatcher.utter_message(text=TEXTS[lang]["taken"])
            return [SlotSet("manage_new_time", None), FollowupAction("manage_booking_form")]
        except service.BookingNotFound:
            dispatcher.utter_message(text=TEXTS[lang]["not_found"])
            return reset
        dispatcher.utter_message(text=TEXTS[lang]["moved"].format(
            reference=booking.reference, when=format_when(booking.slot_start, lang)))
        return reset
