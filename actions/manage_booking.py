"""Changing or cancelling a booked company visit, by booking number + the e-mail used.

Look-ups of a reference + e-mail are limited per conversation (``MAX_LOOKUPS`` an hour, right
or wrong), so references cannot be tried one after another; the references are also random.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.forms import FormValidation, Rejected, accept, fail, form_slots, message_text, reset
from actions.visit_form import ActionAskVisitTime, find_email, validate_time
from bot import limits, metrics
from bot.booking import notify, service
from bot.wording import format_when

FORM = "manage_booking_form"
CANCEL, CHANGE = "cancel", "change"
MAX_LOOKUPS = 5  # reference + e-mail look-ups per conversation and hour
CANCEL_WORDS = re.compile(r"aflys|annuller|slet|cancel|afbud", re.IGNORECASE)
CHANGE_WORDS = re.compile(r"flyt|ændr|aendr|ombook|andet tidspunkt|anden dag|move|change|reschedule", re.IGNORECASE)


def parse_reference(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    reference = service.parse_reference(text)
    if not reference:
        raise Rejected("utter_manage_bad_reference")
    return {"manage_reference": reference}


def parse_choice(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    text = text[:300]
    if CANCEL_WORDS.search(text):
        return {"manage_choice": CANCEL}
    if CHANGE_WORDS.search(text):
        return {"manage_choice": CHANGE}
    raise Rejected("utter_manage_bad_choice")


class ValidateManageBookingForm(FormValidation):
    form = FORM

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if tracker.get_slot("manage_choice") == CANCEL:
            return [s for s in domain_slots if s != "manage_new_time"]
        return domain_slots

    async def extract_manage_reference(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        """A booking number already in the first message ("aflys KB-2026-7QH4KM") is used."""
        if tracker.get_slot("manage_reference") or tracker.get_slot("requested_slot"):
            return {}
        reference = service.parse_reference(message_text(tracker))
        return {"manage_reference": reference} if reference else {}

    def validate_manage_reference(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "manage_reference":  # taken from the first message
            reference = service.parse_reference(str(value or ""))
            return accept(tracker, "manage_reference", reference) if reference else {"manage_reference": None}
        return self.check("manage_reference", dispatcher, tracker, parse_reference)

    async def validate_manage_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        result = self.check("manage_email", dispatcher, tracker,
                            lambda text, *_: {"manage_email": _email_or_reject(text)})
        email = result.get("manage_email")
        if not email:
            return result
        if not await limits.allow_async(f"manage:{tracker.sender_id}", MAX_LOOKUPS, 3600):
            dispatcher.utter_message(response="utter_manage_too_many")
            return {**{slot: None for slot in form_slots(domain, FORM)}, "requested_slot": None}
        try:
            booking = await asyncio.to_thread(service.find, tracker.get_slot("manage_reference"), email)
        except service.BookingNotFound:
            return fail(dispatcher, tracker, "manage_email", "utter_manage_not_found") | {"manage_reference": None}
        dispatcher.utter_message(response="utter_manage_found", company=booking.company_name,
                                 when=format_when(booking.slot_start, language(tracker)))
        return result

    def validate_manage_choice(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        return self.check("manage_choice", dispatcher, tracker, parse_choice)

    async def validate_manage_new_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        return await validate_time("manage_new_time", dispatcher, tracker)


def _email_or_reject(text: str) -> str:
    email = find_email(text)
    if email is None:
        raise Rejected("utter_invalid_email")
    return email


class ActionAskManageNewTime(ActionAskVisitTime):
    slot = "manage_new_time"


class ActionManageBooking(Action):
    """Cancels or moves the booking and notifies staff (and the user, by e-mail)."""

    def name(self) -> str:
        return "action_manage_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        reference, email = tracker.get_slot("manage_reference"), tracker.get_slot("manage_email")
        done = reset(form_slots(domain, FORM))
        try:
            if tracker.get_slot("manage_choice") == CANCEL:
                booking = await asyncio.to_thread(service.cancel, reference, email)
                notify.send_soon()
                metrics.BOOKINGS.labels("cancelled").inc()
                dispatcher.utter_message(response="utter_manage_cancelled", reference=booking.reference)
                return done
            new_start = dt.datetime.fromisoformat(tracker.get_slot("manage_new_time"))
            booking = await asyncio.to_thread(service.move, reference, email, new_start)
            notify.send_soon()
        except service.SlotTaken:
            dispatcher.utter_message(response="utter_slot_taken")
            return [SlotSet("manage_new_time", None), FollowupAction(FORM)]
        except service.BookingNotFound:
            dispatcher.utter_message(response="utter_manage_not_found")
            return done
        metrics.BOOKINGS.labels("moved").inc()
        dispatcher.utter_message(response="utter_manage_moved", reference=booking.reference,
                                 when=format_when(booking.slot_start, lang))
        return done
