"""Booking a company visit (virksomhedsbesøg): the form's answers, questions and submit.

The form ``visit_form`` asks, in this order: CVR number (name and address then come from the
register), company name, contact person, e-mail, phone, topic, time and confirmation. Every
answer arrives as free text (``from_text`` slot mappings) and is read here; the shared
mechanics (side questions, failures, a person after three) are ``actions.forms``. What the
assistant says is in domain.yml's responses.

Blocking work (the CVR register, the database) runs in a thread, so a slow register or
database delays only the conversation that waits for it.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.forms import (
    FormValidation,
    Rejected,
    accept,
    answer_side_question,
    fail,
    form_slots,
    latest_intent,
    looks_like_question,
    message_text,
    reset,
)
from bot import cvr, limits, metrics, settings, wording
from bot.booking import availability, notify, service
from bot.nlp import dates
from bot.nlp.keywords import count_hits
from bot.wording import format_when

TZ = ZoneInfo("Europe/Copenhagen")
UNKNOWN = "-"  # slot value for "no CVR number at hand"
#: A time answer is read from its first characters: no date phrase is longer.
MAX_TIME_ANSWER = 200
#: Words that name a field when the user corrects the summary.
FIELD_WORDS = {
    "email": ["e-mail", "email", "mail", "mailadresse", "e-mailen", "mailen"],
    "phone": ["telefon", "telefonnummer", "nummer", "mobil", "phone", "number"],
    "contact_name": ["navn", "navnet", "kontaktperson", "name"],
    "company_name": ["virksomhed", "virksomhedsnavn", "firma", "firmanavn", "company"],
    "company_cvr": ["cvr", "cvr-nummer"],
    "visit_topic": ["emne", "emnet", "topic", "formål"],
    "visit_time": ["tid", "tidspunkt", "dato", "dag", "dagen", "time", "date", "day"],
}
DONT_KNOW = re.compile(r"ved ikke|har (det )?ikke|don.?t know|skip|\bnej\b", re.IGNORECASE)


def now() -> dt.datetime:
    """The local wall-clock time in Køge (naive), as the availability rules expect."""
    return dt.datetime.now(TZ).replace(tzinfo=None)


def slot_label(slot: dt.datetime, lang: str = "da") -> str:
    """A button title that the date parser reads back: "tirsdag 24. november kl. 10.30"."""
    return format_when(slot, lang).replace(f" {slot.year} ", " ")


def slot_buttons(slots: list[dt.datetime] | tuple[dt.datetime, ...], lang: str = "da") -> list[dict[str, str]]:
    return [{"title": slot_label(s, lang), "payload": slot_label(s, lang)} for s in slots]


# --- reading answers -----------------------------------------------------------------------

def find_email(text: str) -> str | None:
    """The first e-mail address in ``text`` (domain in lower case). Linear in the text: only
    words with an "@" are matched."""
    for word in text.split():
        if "@" not in word or len(word) > service.EMAIL_LENGTH:
            continue
        local, _, domain = word.strip("<>()[]{},;:'\"").rstrip(".").partition("@")
        if (local and re.fullmatch(r"[\w.+-]+", local) and re.fullmatch(r"[\w-]+(?:\.[\w-]+)+", domain)):
            return f"{local}@{domain.lower()}"
    return None


def parse_email(text: str, tracker: Tracker, dispatcher: CollectingDispatcher, slot: str = "email") -> dict[str, Any]:
    email = find_email(text)
    if email is None:
        raise Rejected("utter_invalid_email")
    return {slot: email}


def parse_phone(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    if len(text) <= 40:
        try:
            number = phonenumbers.parse(text, "DK")
            if phonenumbers.is_valid_number(number) and number.country_code == 45:
                national = f"{number.national_number:08d}"
                return {"phone": " ".join(national[i:i + 2] for i in range(0, 8, 2))}
        except phonenumbers.NumberParseException:
            pass
    raise Rejected("utter_invalid_phone")


def free_text(slot: str, minimum: int, response: str, *, no_digits: bool = False):
    """A reader of a free-text answer: at least ``minimum`` characters with a letter, at most
    what the booking's column holds (``service.FIELD_LENGTHS``)."""
    def parse(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        folded = " ".join(text.split())
        if (len(folded) < minimum or folded.startswith("/") or not re.search(r"[^\W\d_]", folded)
                or (no_digits and re.search(r"[\d@]", folded))):
            raise Rejected(response)
        limit = service.FIELD_LENGTHS[slot]
        if len(folded) > limit:
            raise Rejected("utter_answer_too_long", limit=limit)
        return {slot: folded}
    return parse


def parse_cvr(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """A valid CVR number, or "don't know" (``UNKNOWN``); the look-up comes after."""
    if latest_intent(tracker)[0] == "deny" or DONT_KNOW.search(text[:200]):
        dispatcher.utter_message(response="utter_cvr_unknown_ok")
        return {"company_cvr": UNKNOWN}
    try:
        return {"company_cvr": cvr.validate(cvr.find_number(text[:200]))}
    except cvr.InvalidCvr as err:
        raise Rejected(f"utter_cvr_invalid_{err.reason}") from None


def time_choice(text: str, at: dt.datetime) -> tuple[dt.datetime | None, availability.Choice | None]:
    """The slot the text asks for, or the choice with nearest free slots (None: no time in
    text). Reads the database: call it in a thread."""
    request = dates.parse(text[:MAX_TIME_ANSWER], at)
    if request is None or request.is_empty():
        return None, None
    avail = availability.default()
    choice = availability.choose(request, at, avail, service.booked_slots(at))
    return choice.slot, choice


async def validate_time(slot_name: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """A time answer: the exact free slot, else None (the question then explains and offers
    the nearest free slots); after MAX_FAILURES a person is offered."""
    slot, choice = await asyncio.to_thread(time_choice, message_text(tracker), now())
    if slot is not None:
        return accept(tracker, slot_name, slot.isoformat(timespec="minutes"))
    if choice is None and answer_side_question(dispatcher, tracker):
        return {slot_name: None}
    return fail(dispatcher, tracker, slot_name)  # the question explains and offers times


def time_example(slots: list[dt.datetime], at: dt.datetime, lang: str) -> str:
    """A typed time the parser reads as one of the free ``slots`` ("næste tirsdag kl. 10.30"):
    the example the time question gives is always one the form accepts (each slot is free, so
    ``availability.choose`` books a request that names it exactly)."""
    parsed: dict[str, dates.TimeRequest | None] = {}  # slots a week apart share their phrase
    for slot in slots:
        time = f"{slot.hour}" if slot.minute == 0 else f"{slot.hour}.{slot.minute:02d}"
        phrase = wording.text("utter_time_example", lang, day=wording.weekday(slot, lang).lower(), time=time)
        if phrase not in parsed:
            parsed[phrase] = dates.parse(phrase, at)
        if parsed[phrase] is not None and availability.names_exactly(parsed[phrase], slot):
            return phrase
    return slot_label(slots[0], lang) if slots else ""


class ValidateVisitForm(FormValidation):
    form = "visit_form"
    helper_slots = ("company_address", "send_copy", "summary_shown")

    async def validate_company_cvr(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        result = self.check("company_cvr", dispatcher, tracker, parse_cvr, question_first=True)
        number = result.get("company_cvr")
        if number in (None, UNKNOWN):
            return result
        try:
            company = await asyncio.to_thread(cvr.lookup, number)
        except cvr.RegisterUnavailable:
            dispatcher.utter_message(response="utter_register_down")
            return result
        if company is None:
            dispatcher.utter_message(response="utter_company_not_found")
            return result
        name = company.name[:service.FIELD_LENGTHS["company_name"]]
        address = (company.address or "")[:service.FIELD_LENGTHS["company_address"]] or None
        dispatcher.utter_message(response="utter_company_found", name=name,
                                 address=f", {address}" if address else "")
        return {**result, "company_name": name, "company_address": address}

    def validate_company_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        return self.check("company_name", dispatcher, tracker,
                          free_text("company_name", 2, "utter_invalid_name"), question_first=True)

    def validate_contact_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        return self.check("contact_name", dispatcher, tracker,
                          free_text("contact_name", 2, "utter_invalid_name", no_digits=True),
                          question_first=True)

    def validate_visit_topic(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        return self.check("visit_topic", dispatcher, tracker,
                          free_text("visit_topic", 3, "utter_invalid_topic"), question_first=True)

    def validate_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> dict[str, Any]:
        return self.check("email", dispatcher, tracker, parse_email)

    def validate_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> dict[str, Any]:
        return self.check("phone", dispatcher, tracker, parse_phone)

    async def validate_visit_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        return await validate_time("visit_time", dispatcher, tracker)

    def validate_booking_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = message_text(tracker)[:500]
        intent, _ = latest_intent(tracker)
        fields = [f for f, words in FIELD_WORDS.items() if count_hits(words, text)]
        if intent == "affirm" and not fields:
            send_copy = next(tracker.get_latest_entity_values("send_copy"), None) is not None
            return {"booking_confirmed": True, "send_copy": send_copy}
        if fields or intent == "deny":
            if not fields:
                dispatcher.utter_message(response="utter_what_to_fix")
                return {"booking_confirmed": None, "summary_shown": True}
            dispatcher.utter_message(response="utter_fixing")
            cleared: dict[str, Any] = {f: None for f in fields}
            if "company_cvr" in fields:
                cleared.update(company_name=None, company_address=None)
            new_email = find_email(text)
            if new_email and fields == ["email"]:
                cleared["email"] = new_email
            return {**cleared, "booking_confirmed": None, "summary_shown": None}
        if answer_side_question(dispatcher, tracker):
            return {"booking_confirmed": None, "summary_shown": True}
        # action_ask_booking_confirmed asks again, briefly.
        return fail(dispatcher, tracker, "booking_confirmed") | {"summary_shown": True}


class ActionAskVisitTime(Action):
    """Asks for the time with the next free slots as buttons; after a time that cannot be
    booked, says why and offers the free slots nearest to it."""

    slot = "visit_time"

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        at = now()
        answer = message_text(tracker)
        asked_before = tracker.get_slot("requested_slot") == self.slot  # the user answered it
        choice = (await asyncio.to_thread(time_choice, answer, at))[1] if asked_before else None
        if choice is not None:
            reason = ""
            if choice.reason:
                reason = wording.text(f"utter_time_reason_{choice.reason}", lang, holiday=choice.holiday)
            suggestions = list(choice.suggestions)
            if suggestions:
                dispatcher.utter_message(response="utter_time_nearest", reason=reason,
                                         buttons=slot_buttons(suggestions, lang))
                return []
        else:
            avail = availability.default()
            booked = await asyncio.to_thread(service.booked_slots, at)
            free = avail.slots(at, booked)
            suggestions = free[:avail.suggestions]
            if suggestions:
                not_read = asked_before and not answer.startswith("/") and not looks_like_question(answer)
                dispatcher.utter_message(
                    response="utter_ask_time_again" if not_read else "utter_ask_time",
                    example=time_example(free[avail.suggestions:] or free, at, lang),
                    buttons=slot_buttons(suggestions, lang))
                return []
        dispatcher.utter_message(response="utter_no_free_times")
        return []


class ActionAskBookingConfirmed(Action):
    """Shows the summary once and asks for confirmation; later asks only the short question."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        if tracker.get_slot("summary_shown"):
            if latest_intent(tracker)[0] != "deny":
                dispatcher.utter_message(response="utter_confirm_again")
            return []
        company = tracker.get_slot("company_name") or ""
        number = tracker.get_slot("company_cvr")
        if number and number != UNKNOWN:
            company += f" (CVR {number})"
        if tracker.get_slot("company_address"):
            company += f", {tracker.get_slot('company_address')}"
        when = format_when(dt.datetime.fromisoformat(tracker.get_slot("visit_time")), lang)
        dispatcher.utter_message(response="utter_booking_summary", company=company, when=when)
        return [SlotSet("summary_shown", True)]


class ActionBookVisit(Action):
    """Stores the confirmed booking and tells the user its reference."""

    def name(self) -> str:
        return "action_book_visit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        number = tracker.get_slot("company_cvr")
        if not await limits.allow_async(f"bookings:{tracker.sender_id}", settings.integer("RATE_LIMIT_BOOKINGS"), 86400):
            dispatcher.utter_message(response="utter_too_many_bookings")
            return reset(form_slots(domain, "visit_form"))
        request = service.VisitRequest(
            sender_id=tracker.sender_id, company_name=tracker.get_slot("company_name"),
            contact_name=tracker.get_slot("contact_name"), email=tracker.get_slot("email"),
            phone=tracker.get_slot("phone"), topic=tracker.get_slot("visit_topic"),
            slot_start=dt.datetime.fromisoformat(tracker.get_slot("visit_time")),
            cvr=None if number in (None, UNKNOWN) else number, address=tracker.get_slot("company_address"),
            language=lang, send_copy=bool(tracker.get_slot("send_copy")),
        )
        try:
            booking = await asyncio.to_thread(service.book, request)
        # In each case the form goes on at the question that must be answered again: the loop
        # is set active, not activated anew (an activation reads the latest message, "ja", as
        # the answer to every filled slot again and wipes them).
        except service.SlotTaken:
            dispatcher.utter_message(response="utter_slot_taken")
            return [SlotSet("visit_time", None), SlotSet("booking_confirmed", None),
                    SlotSet("summary_shown", None), ActiveLoop("visit_form")]
        except service.InvalidRequest as err:
            dispatcher.utter_message(response="utter_answer_too_long", limit=err.limit)
            return [SlotSet(err.field, None), SlotSet("booking_confirmed", None),
                    SlotSet("summary_shown", None), ActiveLoop("visit_form")]
        except service.StoreUnavailable:  # "Prøv igen" (/affirm) at the summary books
            dispatcher.utter_message(response="utter_booking_not_stored")
            return [SlotSet("booking_confirmed", None), ActiveLoop("visit_form")]
        notify.send_soon()
        metrics.BOOKINGS.labels("booked").inc()
        dispatcher.utter_message(response="utter_booking_done",
                                 when=format_when(booking.slot_start, lang), reference=booking.reference)
        if request.send_copy:
            dispatcher.utter_message(response="utter_booking_copy", email=request.email)
        return [*reset(form_slots(domain, "visit_form")), SlotSet("booking_reference", booking.reference)]

