"""Looks a company up in the CVR register ("slå CVR 29189374 op")."""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.forms import FormValidation, Rejected, message_text
from bot import cvr, wording


def parse_cvr(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    try:
        return {"lookup_cvr": cvr.validate(cvr.find_number(text[:200]))}
    except cvr.InvalidCvr as err:
        raise Rejected(f"utter_cvr_invalid_{err.reason}") from None


class ValidateCompanyLookupForm(FormValidation):
    form = "company_lookup_form"

    async def extract_lookup_cvr(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        """A number already in the first message ("slå 29189374 op") is used."""
        if tracker.get_slot("lookup_cvr") or tracker.get_slot("requested_slot"):
            return {}
        match = cvr.NUMBER_IN_TEXT.search(message_text(tracker)[:200])
        return {"lookup_cvr": match.group(0)} if match else {}

    def validate_lookup_cvr(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "lookup_cvr":  # the number came with the request
            try:
                return {"lookup_cvr": cvr.validate(str(value or ""))}
            except cvr.InvalidCvr:
                return {"lookup_cvr": None}
        return self.check("lookup_cvr", dispatcher, tracker, parse_cvr)


class ActionLookupCompany(Action):
    def name(self) -> str:
        return "action_lookup_company"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        number = tracker.get_slot("lookup_cvr")
        try:
            company = await asyncio.to_thread(cvr.lookup, number)
        except cvr.RegisterUnavailable:
            dispatcher.utter_message(response="utter_company_lookup_down")
            return [SlotSet("lookup_cvr", None)]
        if company is None:
            dispatcher.utter_message(response="utter_company_lookup_not_found", cvr=number)
            return [SlotSet("lookup_cvr", None)]
        details = [wording.text(f"utter_company_{key}", lang, **{key: value}) for key, value in
                   (("address", company.address), ("industry", company.industry), ("status", company.status))
                   if value]
        dispatcher.utter_message(response="utter_company_lookup_result", name=company.name,
                                 cvr=company.cvr, details="".join(f"\n{line}" for line in details),
                                 kind="answer")
        return [SlotSet("lookup_cvr", None)]
