"""Booking a company visit (virksomhedsbesøg): the form's validation, questions and submit.

The form ``visit_form`` asks, in this order: CVR number (name and address then come from the
register), company name, contact person, e-mail, phone, topic, time and confirmation. Every
answer arrives as free text (``from_text`` slot mappings) and is checked here:

* a question in the middle ("hvem skal jeg kontakte om støj?") is answered, and the form asks
  its question again;
* an invalid answer gets a short explanation and a second chance; after three failed answers
  to the same question a person is offered;
* at the summary the user confirms, or names what to correct ("nej, e-mailen er forkert").
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, language
from actions.contact_lookup import answer_contact
from actions.knowledge_answers import answer_topic
from bot import cvr
from bot.booking import availability, notify, service
from bot.booking.notify import format_when
from bot.nlp import dates
from bot.nlp.keywords import count_hits

TZ = ZoneInfo("Europe/Copenhagen")
MAX_FAILURES = 3
SIDE_QUESTION_CONFIDENCE = 0.6
UNKNOWN = "-"  # slot value for "no CVR number at hand"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
QUESTION_START = re.compile(
    r"^(hvem|hvad|hvor|hvordan|hvornår|hvorfor|hvilke|hvilken|kan|må|skal|er|har|findes|"
    r"who|what|where|how|when|why|which|can|may|do|does|is|are)\b", re.IGNORECASE)
FORM_SLOTS = ["company_cvr", "company_name", "company_address", "contact_name", "email", "phone",
              "visit_topic", "visit_time", "booking_confirmed", "send_copy", "summary_shown",
              "form_failures"]
MANAGE_SLOTS = ["manage_reference", "manage_email", "manage_choice", "manage_new_time"]
OTHER_FORM_SLOTS = [*MANAGE_SLOTS, "lookup_cvr"]
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

TEXTS = {
    "da": {
        "cvr_unknown": "Det er helt i orden – så spørger jeg om navnet i stedet.",
        "found": "Jeg fandt virksomheden i registeret: {name}{address}.",
        "not_found": "Jeg kunne ikke finde det nummer i registeret, så jeg spørger om navnet i stedet.",
        "register_down": "Jeg kunne ikke slå virksomheden op i registeret lige nu, så jeg spørger dig i stedet.",
        "name_invalid": "Skriv venligst et navn på mindst to bogstaver.",
        "email_invalid": "Det ligner ikke en e-mailadresse. Skriv den som fx navn@firma.dk.",
        "phone_invalid": "Det kan jeg ikke læse som et dansk telefonnummer. Skriv 8 cifre, fx 20 12 34 56.",
        "topic_invalid": "Skriv gerne et par ord om, hvad besøget skal handle om.",
        "time_invalid": "Det kunne jeg ikke læse som et tidspunkt.",
        "human": "Det lykkes vist ikke helt. Vil du hellere tale med en medarbejder?",
        "confirm_again": "Skal jeg booke besøget? Svar ja for at booke eller nej for at rette noget.",
        "what_to_fix": "Hvad skal rettes?",
        "fixing": "Okay, lad os rette det.",
        "summary": (
            "Tjek venligst oplysningerne, før jeg booker besøget:\n"
            "Virksomhed: {company}\nKontaktperson: {contact}\nE-mail: {email}\nTelefon: {phone}\n"
            "Emne: {topic}\nTidspunkt: {when}"
        ),
        "booked": (
            "Tak! Besøget er booket {when}. Dit bookingnummer er {reference}. "
            "Erhvervsservicen har fået besked og kontakter dig, hvis der er noget. Du kan aflyse "
            "eller flytte besøget med bookingnummeret og din e-mail."
        ),
        "copy": "Du får også en bekræftelse med en kalenderinvitation på {email}.",
        "taken": "Tidspunktet er desværre lige blevet booket af en anden. Vælg et andet tidspunkt.",
        "aborted": "Okay, jeg har stoppet. Intet er gemt.",
        "reasons": {
            "past": "Det tidspunkt er allerede passeret.",
            "weekend": "Der er ikke besøg i weekenden.",
            "holiday": "Den dag er en helligdag ({holiday}).",
            "closed": "Den dag er der ikke besøg.",
            "outside_hours": "Besøg kan kun begynde på de faste tidspunkter.",
            "too_soon": "Et besøg skal bookes lidt i forvejen.",
            "too_far": "Så langt frem kan der endnu ikke bookes.",
            "taken": "Det tidspunkt er optaget.",
        },
        "nearest": "Her er de nærmeste ledige tider:",
        "ask_time": "Hvornår passer det jer? Vælg en af de næste ledige tider, eller skriv fx 'næste tirsdag kl. 10'.",
        "no_slots": "Der er ingen ledige tider lige nu. Tal med en medarbejder for at aftale et besøg.",
        "yes": "Ja, book besøget",
        "yes_copy": "Ja, og send mig en kopi",
        "no": "Nej, ret noget",
        "stop": "Afbryd",
        "fields": {"company_name": "Virksomhed", "contact_name": "Navn", "email": "E-mail",
                   "phone": "Telefon", "visit_topic": "Emne", "visit_time": "Tidspunkt"},
    },
    "en": {
        "cvr_unknown": "That's fine – I'll ask for the name instead.",
        "found": "I found the company in the register: {name}{address}.",
        "not_found": "I could not find that number in the register, so I'll ask for the name instead.",
        "register_down": "I could not look the company up in the register right now, so I'll ask you instead.",
        "name_invalid": "Please write a name of at least two letters.",
        "email_invalid": "That does not look like an e-mail address. Please write it like name@company.dk.",
        "phone_invalid": "I can't read that as a Danish phone number. Please write 8 digits, e.g. 20 12 34 56.",
        "topic_invalid": "Please write a few words about what the visit should be about.",
        "time_invalid": "I could not read that as a time.",
        "human": "This doesn't seem to work. Would you rather talk to a member of staff?",
        "confirm_again": "Shall I book the visit? Answer yes to book or no to correct something.",
        "what_to_fix": "What should be corrected?",
        "fixing": "All right, let's correct that.",
        "summary": (
            "Please check the details before I book the visit:\n"
            "Company: {company}\nContact person: {contact}\nE-mail: {email}\nPhone: {phone}\n"
            "Topic: {topic}\nTime: {when}"
        ),
        "booked": (
            "Thank you! The visit is booked for {when}. Your booking number is {reference}. The "
            "business service has been notified. You can cancel or move the visit with the booking "
            "number and your e-mail."
        ),
        "copy": "You will also get a confirmation with a calendar invitation at {email}.",
        "taken": "Sorry, that time has just been booked by someone else. Please choose another time.",
        "aborted": "All right, I have stopped. Nothing has been stored.",
        "reasons": {
            "past": "That time has already passed.",
            "weekend": "There are no visits at weekends.",
            "holiday": "That day is a public holiday ({holiday}).",
            "closed": "There are no visits that day.",
            "outside_hours": "Visits can only start at the fixed times.",
            "too_soon": "A visit must be booked a little in advance.",
            "too_far": "It is not possible to book that far ahead yet.",
            "taken": "That time is taken.",
        },
        "nearest": "Here are the nearest free times:",
        "ask_time": "When would suit you? Choose one of the next free times, or write e.g. 'next Tuesday at 10'.",
        "no_slots": "There are no free times right now. Talk to a member of staff to arrange a visit.",
        "yes": "Yes, book the visit",
        "yes_copy": "Yes, and send me a copy",
        "no": "No, correct something",
        "stop": "Stop",
        "fields": {"company_name": "Company", "contact_name": "Name", "email": "E-mail",
                   "phone": "Phone", "visit_topic": "Topic", "visit_time": "Time"},
    },
}
CVR_MESSAGES_EN = {
    "format": "A CVR number has 8 digits, e.g. 12345678.",
    "length": "A CVR number has 8 digits.",
    "leading_zero": "A CVR number does not start with 0.",
    "checksum": "That CVR number does not exist – the check digit does not match.",
}


def cvr_error(err: cvr.InvalidCvr, lang: str) -> str:
    """Why a CVR number is invalid, in the conversation's language."""
    return str(err) if lang == "da" else CVR_MESSAGES_EN.get(err.reason, str(err))


def now() -> dt.datetime:
    """The local wall-clock time in Køge (naive), as the availability rules expect."""
    return dt.datetime.now(TZ).replace(tzinfo=None)


def slot_label(slot: dt.datetime, lang: str = "da") -> str:
    """A button title that the date parser reads back: "tirsdag 24. november kl. 10.30"."""
    return format_when(slot, lang).replace(f" {slot.year} ", " ")


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), intent.get("confidence") or 0.0


def looks_like_question(text: str) -> bool:
    return text.endswith("?") or bool(QUESTION_START.match(text))


def answered_side_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answers a question asked in the middle of a form; True if it did."""
    intent, confidence = _intent(tracker)
    if not looks_like_question(_text(tracker)) or confidence < SIDE_QUESTION_CONFIDENCE:
        return False
    if intent == "ask_contact":
        answer_contact(dispatcher, tracker)
        return True
    if intent in kb().entries:
        return answer_topic(dispatcher, intent, language(tracker))
    return False


def failed(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str,
           message: str | None) -> dict[str, Any]:
    """Explain (unless the question itself will), count the failure, and offer a person after
    MAX_FAILURES failed answers to the same question."""
    lang = language(tracker)
    failures = dict(tracker.get_slot("form_failures") or {})
    failures[slot] = failures.get(slot, 0) + 1
    if message:
        dispatcher.utter_message(text=message)
    if failures[slot] >= MAX_FAILURES:
        dispatcher.utter_message(text=TEXTS[lang]["human"], buttons=[kb().button("request_human", lang)])
        failures[slot] = 0
    return {slot: None, "form_failures": failures}


def accepted(tracker: Tracker, slot: str, value: Any, **more: Any) -> dict[str, Any]:
    failures = dict(tracker.get_slot("form_failures") or {})
    failures.pop(slot, None)
    return {slot: value, "form_failures": failures, **more}


def time_choice(text: str, at: dt.datetime) -> tuple[dt.datetime | None, availability.Choice | None]:
    """The slot the text asks for, or the choice with nearest free slots (None: no time in text)."""
    request = dates.parse(text, at)
    if request is None or request.is_empty():
        return None, None
    avail = availability.default()
    choice = availability.choose(request, at, avail, service.booked_slots(at))
    return choice.slot, choice


def slot_buttons(slots: list[dt.datetime] | tuple[dt.datetime, ...], lang: str = "da") -> list[dict[str, str]]:
    return [{"title": slot_label(s, lang), "payload": slot_label(s, lang)} for s in slots]


def validate_time(slot_name: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """A time answer: the exact free slot, else None (the question then explains and offers
    the nearest free slots); after MAX_FAILURES a person is offered."""
    slot, choice = time_choice(_text(tracker), now())
    if slot is not None:
        return accepted(tracker, slot_name, slot.isoformat(timespec="minutes"))
    if choice is None and answered_side_question(dispatcher, tracker):
        return {slot_name: None}
    return failed(dispatcher, tracker, slot_name, None)  # the question explains and offers times


class ValidateVisitForm(FormValidationAction):
    def name(self) -> str:
        return "validate_visit_form"

    def validate_company_cvr(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict[str, Any]) -> dict[str, Any]:
        lang = language(tracker)
        if answered_side_question(dispatcher, tracker):
            return {"company_cvr": None}
        text = _text(tracker)
        if _intent(tracker)[0] == "deny" or re.search(r"ved ikke|har (det )?ikke|don.?t know|skip|nej", text, re.I):
            dispatcher.utter_message(text=TEXTS[lang]["cvr_unknown"])
            return accepted(tracker, "company_cvr", UNKNOWN)
        try:
            number = cvr.validate(cvr.find_number(text))
        except cvr.InvalidCvr as err:
            return failed(dispatcher, tracker, "company_cvr", cvr_error(err, lang))
        try:
            company = cvr.lookup(number)
        except cvr.RegisterUnavailable:
            dispatcher.utter_message(text=TEXTS[lang]["register_down"])
            return accepted(tracker, "company_cvr", number)
        if company is None:
            dispatcher.utter_message(text=TEXTS[lang]["not_found"])
            return accepted(tracker, "company_cvr", number)
        address = f", {company.address}" if company.address else ""
        dispatcher.utter_message(text=TEXTS[lang]["found"].format(name=company.name, address=address))
        return accepted(tracker, "company_cvr", number, company_name=company.name,
                        company_address=company.address)

    def _free_text(self, slot: str, minimum: int, error: str, dispatcher: CollectingDispatcher,
                   tracker: Tracker) -> dict[str, Any]:
        if answered_side_question(dispatcher, tracker):
            return {slot: None}
        text = " ".join(_text(tracker).split())
        if len(text) < minimum or text.startswith("/") or not re.search(r"[^\W\d_]", text):
            return failed(dispatcher, tracker, slot, TEXTS[language(tracker)][error])
        return accepted(tracker, slot, text[:500])

    def validate_company_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: dict[str, Any]) -> dict[str, Any]:
        return self._free_text("company_name", 2, "name_invalid", dispatcher, tracker)

    def validate_contact_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: dict[str, Any]) -> dict[str, Any]:
        if re.search(r"[\d@]", _text(tracker)) and not answered_side_question(dispatcher, tracker):
            return failed(dispatcher, tracker, "contact_name", TEXTS[language(tracker)]["name_invalid"])
        return self._free_text("contact_name", 2, "name_invalid", dispatcher, tracker)

    def validate_visit_topic(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict[str, Any]) -> dict[str, Any]:
        return self._free_text("visit_topic", 3, "topic_invalid", dispatcher, tracker)

    def validate_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: dict[str, Any]) -> dict[str, Any]:
        match = EMAIL.search(_text(tracker))
        if match:
            local, _, domain_part = match.group(0).rstrip(".").partition("@")
            return accepted(tracker, "email", f"{local}@{domain_part.lower()}")
        if answered_side_question(dispatcher, tracker):
            return {"email": None}
        return failed(dispatcher, tracker, "email", TEXTS[language(tracker)]["email_invalid"])

    def validate_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: dict[str, Any]) -> dict[str, Any]:
        text = _text(tracker)
        try:
            number = phonenumbers.parse(text, "DK")
            if phonenumbers.is_valid_number(number) and number.country_code == 45:
                national = f"{number.national_number:08d}"
                return accepted(tracker, "phone", " ".join(national[i:i + 2] for i in range(0, 8, 2)))
        except phonenumbers.NumberParseException:
            pass
        if answered_side_question(dispatcher, tracker):
            return {"phone": None}
        return failed(dispatcher, tracker, "phone", TEXTS[language(tracker)]["phone_invalid"])

    def validate_visit_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: dict[str, Any]) -> dict[str, Any]:
        return validate_time("visit_time", dispatcher, tracker)

    def validate_booking_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: dict[str, Any]) -> dict[str, Any]:
        lang = language(tracker)
        text = _text(tracker)
        intent, _ = _intent(tracker)
        fields = [f for f, words in FIELD_WORDS.items() if count_hits(words, text)]
        if intent == "affirm" and not fields:
            send_copy = next(tracker.get_latest_entity_values("send_copy"), None) is not None
            return {"booking_confirmed": True, "send_copy": send_copy}
        new_email = EMAIL.search(text)
        if fields or intent == "deny":
            if not fields:
                buttons = [{"title": label, "payload": label} for label in TEXTS[lang]["fields"].values()]
                dispatcher.utter_message(text=TEXTS[lang]["what_to_fix"], buttons=buttons)
                return {"booking_confirmed": None, "summary_shown": True}
            dispatcher.utter_message(text=TEXTS[lang]["fixing"])
            reset: dict[str, Any] = {f: None for f in fields}
            if "company_cvr" in fields:
                reset.update(company_name=None, company_address=None)
            if new_email and fields == ["email"]:
                reset["email"] = new_email.group(0)
            return {**reset, "booking_confirmed": None, "summary_shown": None}
        if answered_side_question(dispatcher, tracker):
            return {"booking_confirmed": None, "summary_shown": True}
        # action_ask_booking_confirmed asks again, briefly.
        return failed(dispatcher, tracker, "booking_confirmed", None) | {"summary_shown": True}


class ActionAskVisitTime(Action):
    """Asks for the time with the next free slots as buttons; after a time that cannot be
    booked, says why and offers the free slots nearest to it."""

    slot = "visit_time"

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[EventType]:
        lang = language(tracker)
        at = now()
        choice = None
        asked_before = tracker.get_slot("requested_slot") == self.slot  # the user answered it
        if asked_before:
            _, choice = time_choice(_text(tracker), at)
        if choice is not None:
            reason = TEXTS[lang]["reasons"][choice.reason].format(holiday=choice.holiday) if choice.reason else ""
            suggestions = list(choice.suggestions)
            text = f"{reason} {TEXTS[lang]['nearest']}".strip()
        else:
            avail = availability.default()
            suggestions = avail.slots(at, service.booked_slots(at))[:avail.suggestions]
            text = TEXTS[lang]["ask_time"]
            answer = _text(tracker)
            if asked_before and not answer.startswith("/") and not looks_like_question(answer):
                text = f"{TEXTS[lang]['time_invalid']} {text}"
        if not suggestions:
            dispatcher.utter_message(text=TEXTS[lang]["no_slots"], buttons=[kb().button("request_human", lang)])
            return []
        dispatcher.utter_message(text=text, buttons=slot_buttons(suggestions, lang))
        return []


class ActionAskBookingConfirmed(Action):
    """Shows the summary once and asks for confirmation; later asks only the short question."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[EventType]:
        lang = language(tracker)
        t = TEXTS[lang]
        buttons = [
            {"title": t["yes"], "payload": "/affirm"},
            {"title": t["yes_copy"], "payload": '/affirm{"send_copy":"yes"}'},
            {"title": t["no"], "payload": "/deny"},
            {"title": t["stop"], "payload": "/stop"},
        ]
        if tracker.get_slot("summary_shown"):
            if tracker.latest_message.get("intent", {}).get("name") != "deny":
                dispatcher.utter_message(text=t["confirm_again"], buttons=buttons)
            return []
        company = tracker.get_slot("company_name") or ""
        number = tracker.get_slot("company_cvr")
        if number and number != UNKNOWN:
            company += f" (CVR {number})"
        if tracker.get_slot("company_address"):
            company += f", {tracker.get_slot('company_address')}"
        when = format_when(dt.datetime.fromisoformat(tracker.get_slot("visit_time")), lang)
        dispatcher.utter_message(
            text=t["summary"].format(company=company, contact=tracker.get_slot("contact_name"),
                                     email=tracker.get_slot("email"), phone=tracker.get_slot("phone"),
                                     topic=tracker.get_slot("visit_topic"), when=when),
            buttons=buttons,
        )
        return [SlotSet("summary_shown", True)]


def reset_form() -> list[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionBookVisit(Action):
    """Stores the confirmed booking and tells the user its reference."""

    def name(self) -> str:
        return "action_book_visit"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[EventType]:
        lang = language(tracker)
        number = tracker.get_slot("company_cvr")
        request = service.VisitRequest(
            sender_id=tracker.sender_id, company_name=tracker.get_slot("company_name"),
            contact_name=tracker.get_slot("contact_name"), email=tracker.get_slot("email"),
            phone=tracker.get_slot("phone"), topic=tracker.get_slot("visit_topic"),
            slot_start=dt.datetime.fromisoformat(tracker.get_slot("visit_time")),
            cvr=None if number in (None, UNKNOWN) else number, address=tracker.get_slot("company_address"),
            language=lang, send_copy=bool(tracker.get_slot("send_copy")),
        )
        try:
            booking = service.book(request)
        except service.SlotTaken:
            dispatcher.utter_message(text=TEXTS[lang]["taken"])
            return [SlotSet("visit_time", None), SlotSet("booking_confirmed", None),
                    SlotSet("summary_shown", None), FollowupAction("visit_form")]
        notify.send_soon()
        text = TEXTS[lang]["booked"].format(when=format_when(booking.slot_start, lang), reference=booking.reference)
        if request.send_copy:
            text += " " + TEXTS[lang]["copy"].format(email=request.email)
        dispatcher.utter_message(text=text)
        return [*reset_form(), SlotSet("booking_reference", booking.reference)]


class ActionAbortForm(Action):
    """"stop"/"afbryd" in a form: nothing is stored, the answers are forgotten."""

    def name(self) -> str:
        return "action_abort_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=TEXTS[language(tracker)]["aborted"])
        return [SlotSet(slot, None) for slot in FORM_SLOTS + OTHER_FORM_SLOTS]
