"""Asking for a person: a live handover during staffed hours, else a callback request.

``action_handover`` puts the conversation in the console's queue with a short summary and
pauses the assistant (Rasa's ``ConversationPaused``) when a person is on duty
(``bot.handover.schedule``); outside staffed hours it offers a callback. ``callback_form``
asks for a name, a phone number or e-mail, an optional CVR number, the topic, a time window
and consent; ``action_submit_callback`` stores it and queues staff's e-mail.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import failed_in_a_row, kb, language
from actions.forms import FormValidation, Rejected, form_slots, latest_intent, message_text, reset
from actions.visit_form import DONT_KNOW, UNKNOWN, find_email, free_text, parse_phone
from bot import contacts, cvr, metrics, settings
from bot.handover import callbacks, queue, schedule
from bot.handover.delivery import addressable, channel_of

log = logging.getLogger(__name__)
FORM = "callback_form"
MAX_ANSWERED = 5
#: "ring mig op", "kan I kontakte mig", "call me back": a callback asked for by name.
CALLBACK_WORDS = re.compile(
    r"ring\w*\s+(?:mig\s+|os\s+)?(?:op|tilbage)|ringet\s+op|kontakte?\s+(?:mig|os)|skrive\s+til\s+(?:mig|os)"
    r"|call\s+(?:me\s+|us\s+)?back|callback|contact\s+(?:me|us)|phone\s+me", re.IGNORECASE)
SKIP = re.compile(r"spring\s+over|\bingen\b|vil\s+ikke|rather\s+not|\bnone\b|\bno\b", re.IGNORECASE)


def reason_of(tracker: Tracker) -> str:
    """Why the user asks for a person: after a thumbs down (in the last 10 minutes), after
    answers that failed, or simply asked."""
    from bot.store import feedback

    try:
        if feedback.rated_down_since(tracker.sender_id, 600):
            return "feedback"
    except Exception:  # noqa: BLE001 - the reason is a detail; the handover goes on
        log.warning("feedback not readable for the handover's reason")
    return "fallbacks" if failed_in_a_row(tracker) else "asked"


def summary(tracker: Tracker, lang: str) -> tuple[str | None, str | None, str | None]:
    """(topic, company, topics already answered) for the console's queue."""
    knowledge = kb()
    answered: list[str] = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in knowledge.entries:
            title = knowledge.title(intent, "da")
            if title not in answered:
                answered.append(title)
    company = tracker.get_slot("company_name")
    cvr_number = tracker.get_slot("company_cvr")
    if cvr_number and cvr_number != UNKNOWN:
        company = f"{company or ''} (CVR {cvr_number})".strip()
    topic = tracker.get_slot("visit_topic") or (answered[-1] if answered else None)
    return topic, company, "; ".join(answered[-MAX_ANSWERED:]) or None


class ActionHandover(Action):
    """A request for a person: the queue during staffed hours, else the callback offer."""

    def name(self) -> str:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        if CALLBACK_WORDS.search(message_text(tracker)[:300]):
            return [FollowupAction(FORM)]
        try:
            staffed = await asyncio.to_thread(schedule.staffed_now)
        except Exception as err:  # noqa: BLE001 - a database that fails: the callback offer
            log.error("staffed hours not readable (%s)", type(err).__name__)
            staffed = False
        if not staffed or not addressable(tracker.sender_id):
            return self.offer_callback(dispatcher, lang)
        topic, company, answered = summary(tracker, lang)
        request = queue.Request(sender_id=tracker.sender_id,
                                channel=channel_of(tracker.sender_id, tracker.get_latest_input_channel()),
                                language=lang, reason=await asyncio.to_thread(reason_of, tracker),
                                topic=topic, company=company, answered=answered)
        try:
            handover, _ = await asyncio.to_thread(queue.request, request)
            place = await asyncio.to_thread(queue.position, handover)
            minutes = await asyncio.to_thread(queue.expected_wait_minutes)
        except Exception as err:  # noqa: BLE001 - never a false "a person is coming"
            log.error("handover not queued (%s)", type(err).__name__)
            return self.offer_callback(dispatcher, lang)
        metrics.HANDOVERS.labels("queued").inc()
        dispatcher.utter_message(response="utter_handover_waiting", minutes=minutes, place=place)
        events: list[EventType] = []
        if tracker.active_loop.get("name"):  # the person takes it from here; the form ends
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return [*events, ConversationPaused()]

    @staticmethod
    def offer_callback(dispatcher: CollectingDispatcher, lang: str) -> list[EventType]:
        metrics.HANDOVERS.labels("unstaffed").inc()
        dispatcher.utter_message(response="utter_handover_unstaffed", card=contacts.general(kb()).card(lang))
        return []


# --- the callback form ---------------------------------------------------------------------

def parse_contact(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """A Danish phone number or an e-mail address."""
    email = find_email(text[:400])
    if email is not None:
        return {"callback_contact": email, "callback_email": email, "callback_phone": None}
    try:
        phone = parse_phone(text, tracker, dispatcher)["phone"]
    except Rejected:
        raise Rejected("utter_callback_invalid_contact") from None
    return {"callback_contact": phone, "callback_phone": phone, "callback_email": None}


def parse_optional_cvr(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    if latest_intent(tracker)[0] == "deny" or DONT_KNOW.search(text[:200]) or SKIP.search(text[:200]):
        return {"callback_cvr": UNKNOWN}
    try:
        return {"callback_cvr": cvr.validate(cvr.find_number(text[:200]))}
    except cvr.InvalidCvr as err:
        raise Rejected(f"utter_cvr_invalid_{err.reason}") from None


def parse_consent(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    intent = latest_intent(tracker)[0]
    if intent == "affirm":
        return {"callback_consent": True}
    if intent == "deny":
        return {"callback_consent": False}
    raise Rejected("utter_callback_consent_unclear")


def _text(slot: str, limit_key: str, minimum: int, response: str):
    """A free-text reader whose limit is the callback table's column."""
    reader = free_text(limit_key, minimum, response)

    def parse(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        return {slot: reader(text, tracker, dispatcher)[limit_key]}
    return parse


class ValidateCallbackForm(FormValidation):
    form = FORM
    helper_slots = ("callback_phone", "callback_email")

    async def validate_callback_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        return self.check("callback_name", dispatcher, tracker,
                          _text("callback_name", "contact_name", 2, "utter_invalid_name"),
                          question_first=True)

    async def validate_callback_contact(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: DomainDict) -> dict[str, Any]:
        return self.check("callback_contact", dispatcher, tracker, parse_contact)

    async def validate_callback_cvr(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        return self.check("callback_cvr", dispatcher, tracker, parse_optional_cvr)

    async def validate_callback_topic(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        return self.check("callback_topic", dispatcher, tracker,
                          _text("callback_topic", "visit_topic", 3, "utter_invalid_topic"))

    async def validate_callback_window(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        return self.check("callback_window", dispatcher, tracker,
                          _text("callback_window", "contact_name", 2, "utter_callback_invalid_window"))

    async def validate_callback_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: DomainDict) -> dict[str, Any]:
        return self.check("callback_consent", dispatcher, tracker, parse_consent)


class ActionAskCallbackConsent(Action):
    """The consent question names the contact given and the retention period."""

    def name(self) -> str:
        return "action_ask_callback_consent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_callback_consent",
                                 contact=tracker.get_slot("callback_contact") or "",
                                 days=settings.retention_days())
        return []


class ActionSubmitCallback(Action):
    """Stores the request (only with consent) and tells the user its reference."""

    def name(self) -> str:
        return "action_submit_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        done = reset(form_slots(domain, FORM))
        if tracker.get_slot("callback_consent") is not True:
            dispatcher.utter_message(response="utter_callback_not_stored")
            return done
        cvr_number = tracker.get_slot("callback_cvr")
        details = callbacks.CallbackDetails(
            sender_id=tracker.sender_id, name=tracker.get_slot("callback_name") or "",
            phone=tracker.get_slot("callback_phone"), email=tracker.get_slot("callback_email"),
            cvr=None if cvr_number in (None, UNKNOWN) else cvr_number,
            topic=tracker.get_slot("callback_topic") or "", time_window=tracker.get_slot("callback_window") or "",
            language=language(tracker))
        try:
            row = await asyncio.to_thread(callbacks.create, details)
        except Exception as err:  # noqa: BLE001 - never a false "we will call you"
            log.error("callback request not stored (%s)", type(err).__name__)
            dispatcher.utter_message(response="utter_callback_failed", card=contacts.general(kb()).card(language(tracker)))
            return done
        from bot.booking import notify

        notify.send_soon()
        metrics.CALLBACKS.inc()
        dispatcher.utter_message(response="utter_callback_done", reference=row.reference)
        return done
