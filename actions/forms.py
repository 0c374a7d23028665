"""What every form of the assistant does with an answer (in the spirit of RasaHQ/financial-demo's
``custom_forms.py``): read it, answer a question asked in the middle and ask again, count
failed answers and offer a person after ``MAX_FAILURES``, and accept a value.

A form's validator only says how its own answers are read::

    class ValidateVisitForm(FormValidation):
        def validate_email(self, value, dispatcher, tracker, domain):
            return self.check("email", dispatcher, tracker, parse_email)

where ``parse_email(text, tracker, dispatcher)`` returns the slots to set or raises ``Rejected(response)``
with the name of the domain response that explains what is wrong. Free-text answers (names,
topics), where a question would otherwise be taken as the answer, use ``question_first=True``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ASK_HUMAN, domain_of, kb, language
from actions.contact_lookup import answer_contact
from actions.knowledge_answers import answer_topic

MAX_FAILURES = 3
SIDE_QUESTION_CONFIDENCE = 0.6
#: The slot counting failed answers per question; shared by every form.
FAILURES = "form_failures"
#: The question (requested slot) at which the user said no to stopping the form; shared by every form.
STOP_DECLINED = "stop_declined"
CONFIRM_STOP = "action_confirm_stop"
QUESTION_START = re.compile(
    r"^(hvem|hvad|hvor|hvordan|hvornår|hvorfor|hvilke|hvilken|kan|må|skal|er|har|findes|"
    r"who|what|where|how|when|why|which|can|may|do|does|is|are)\b", re.IGNORECASE)

Parser = Callable[[str, Tracker, CollectingDispatcher], dict[str, Any]]


class Rejected(ValueError):
    """An answer that cannot be used; ``response`` (a domain response, filled with ``values``)
    says why. None: the form's question itself explains (e.g. the time question)."""

    def __init__(self, response: str | None = None, **values: Any) -> None:
        super().__init__(response)
        self.response = response
        self.values = values


def action_before_message(tracker: Tracker) -> str | None:
    """The last action the assistant ran before the latest user message (not listening)."""
    seen_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_message = True
        elif seen_message and event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name")
    return None


def message_text(tracker: Tracker) -> str:
    """The latest user message, stripped."""
    return (tracker.latest_message.get("text") or "").strip()


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), intent.get("confidence") or 0.0


def looks_like_question(text: str) -> bool:
    return text.endswith("?") or bool(QUESTION_START.match(text))


def answer_side_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answers a question asked in the middle of a form; True if it did."""
    intent, confidence = latest_intent(tracker)
    if not looks_like_question(message_text(tracker)) or confidence < SIDE_QUESTION_CONFIDENCE:
        return False
    if intent == "ask_contact":
        answer_contact(dispatcher, tracker)
        return True
    if intent in kb().entries:
        return answer_topic(dispatcher, intent, language(tracker))
    return False


def accept(tracker: Tracker, slot: str, value: Any, **more: Any) -> dict[str, Any]:
    """Set ``slot`` (and ``more``) and forget the slot's failed answers."""
    failures = dict(tracker.get_slot(FAILURES) or {})
    failures.pop(slot, None)
    return {slot: value, FAILURES: failures, **more}


def fail(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str,
         response: str | None = None, **values: Any) -> dict[str, Any]:
    """Explain (unless the question itself will), count the failure, and offer a person after
    MAX_FAILURES failed answers to the same question."""
    failures = dict(tracker.get_slot(FAILURES) or {})
    failures[slot] = failures.get(slot, 0) + 1
    if response:
        dispatcher.utter_message(response=response, **values)
    if failures[slot] >= MAX_FAILURES:
        dispatcher.utter_message(response=ASK_HUMAN)
        failures[slot] = 0
    # "stop" taken as the answer (the user had declined to stop here) but it is not one:
    # the next "stop" at this question asks again whether to stop
    return {slot: None, FAILURES: failures, STOP_DECLINED: None}


def check(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, parse: Parser, *,
          question_first: bool = False) -> dict[str, Any]:
    """Read the latest message as the answer to ``slot`` with ``parse``.

    A question asked instead of an answer is answered and the slot asked again: before parsing
    when any text would parse (``question_first``), else only when parsing rejects the text.
    """
    if question_first and answer_side_question(dispatcher, tracker):
        return {slot: None}
    try:
        found = parse(message_text(tracker), tracker, dispatcher)
    except Rejected as rejected:
        if not question_first and answer_side_question(dispatcher, tracker):
            return {slot: None}
        return fail(dispatcher, tracker, slot, rejected.response, **rejected.values)
    value = found.pop(slot)
    return accept(tracker, slot, value, **found)


class FormValidation(FormValidationAction):
    """Base of the forms' validation actions: ``self.check(...)`` reads an answer with the
    shared mechanics above. The name is ``validate_<form>``, as Rasa expects.

    ``helper_slots``: slots the validation sets besides the form's required slots (e.g. an
    address found in the register); they are forgotten with the form's answers.
    """

    form: str = ""
    helper_slots: tuple[str, ...] = ()
    #: form name -> its validation class (filled by subclassing)
    registry: dict[str, type[FormValidation]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.form:
            FormValidation.registry[cls.form] = cls

    def name(self) -> str:
        return f"validate_{self.form}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        """"No" to "do you want to stop?" is not the answer to the form's question: the question
        is asked again, and a message read as "stop" there is then taken as its answer."""
        requested = tracker.get_slot("requested_slot")
        if requested and action_before_message(tracker) == CONFIRM_STOP:
            if latest_intent(tracker)[0] == "deny":
                return [SlotSet(requested, None), SlotSet(STOP_DECLINED, requested)]
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def check(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, parse: Parser, *,
              question_first: bool = False) -> dict[str, Any]:
        return check(slot, dispatcher, tracker, parse, question_first=question_first)


def form_slots(domain: DomainDict, form: str) -> list[str]:
    """The slots a form fills: its required slots from the domain and its validation's
    ``helper_slots``."""
    slots = list((domain_of(domain).get("forms") or {}).get(form, {}).get("required_slots") or [])
    validation = FormValidation.registry.get(form)
    return slots + [s for s in (validation.helper_slots if validation else ()) if s not in slots]


def last_active_form(tracker: Tracker) -> str | None:
    """The form that was active most recently (also just after it was deactivated)."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return event["name"]
    return None


def reset(slots: Iterable[str]) -> list[EventType]:
    return [SlotSet(slot, None) for slot in [*slots, FAILURES, STOP_DECLINED]]


class ActionConfirmStop(Action):
    """"stop" typed in a form asks first whether to stop (buttons: yes, stop / no, go on; the
    rules in data/rules/forms.yml act on the reply): a company may be called "Stop & Shop ApS",
    and stopping drops every answer. After "no", a message read as "stop" at the same question
    is its answer: the form takes it and reads it as usual. The summary's "Afbryd" button asks
    the same (stopping a form anywhere else than by the rules leaves a dialogue state the
    policies have never seen)."""

    def name(self) -> str:
        return CONFIRM_STOP

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        form = (tracker.active_loop or {}).get("name")
        if form and requested and tracker.get_slot(STOP_DECLINED) == requested:
            return [SlotSet(requested, message_text(tracker)), FollowupAction(form)]
        dispatcher.utter_message(response="utter_confirm_stop")
        return []


class ActionAbortForm(Action):
    """"stop"/"afbryd" in a form: nothing is stored, the form's answers are forgotten."""

    def name(self) -> str:
        return "action_abort_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_stopped")
        form = last_active_form(tracker)
        return reset(form_slots(domain, form) if form else [])
