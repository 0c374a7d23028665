"""Looks a company up in the CVR register ("slå CVR 29189374 op")."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.visit_form import _text, accepted, answered_side_question, cvr_error, failed
from bot import cvr

TEXTS = {
    "da": {
        "found": "{name} (CVR {cvr})",
        "address": "Adresse: {address}",
        "industry": "Branche: {industry}",
        "status": "Status: {status}",
        "not_found": "Jeg kan ikke finde CVR-nummer {cvr} i registeret.",
        "down": "Jeg kan ikke slå op i CVR-registeret lige nu. Prøv igen senere.",
        "source": "Kilde: CVR-registeret (Erhvervsstyrelsen).",
    },
    "en": {
        "found": "{name} (CVR {cvr})",
        "address": "Address: {address}",
        "industry": "Industry: {industry}",
        "status": "Status: {status}",
        "not_found": "I cannot find CVR number {cvr} in the register.",
        "down": "I cannot look things up in the CVR register right now. Please try again later.",
        "source": "Source: the CVR register (Danish Business Authority).",
    },
}


class ValidateCompanyLookupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_company_lookup_form"

    async def extract_lookup_cvr(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        """A number already in the first message ("slå 29189374 op") is used."""
        if tracker.get_slot("lookup_cvr") or tracker.get_slot("requested_slot"):
            return {}
        match = cvr.NUMBER_IN_TEXT.search(_text(tracker))
        return {"lookup_cvr": match.group(0)} if match else {}

    def validate_lookup_cvr(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        try:
            return accepted(tracker, "lookup_cvr", cvr.validate(cvr.find_number(str(value or ""))))
        except cvr.InvalidCvr as err:
            if answered_side_question(dispatcher, tracker):
                return {"lookup_cvr": None}
            return failed(dispatcher, tracker, "lookup_cvr", cvr_error(err, language(tracker)))


class ActionLookupCompany(Action):
    def name(self) -> str:
        return "action_lookup_company"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> list[EventType]:
        t = TEXTS[language(tracker)]
        number = tracker.get_slot("lookup_cvr")
        try:
            company = cvr.lookup(number)
        except cvr.RegisterUnavailable:
            dispatcher.utter_message(text=t["down"])
            return [SlotSet("lookup_cvr", None)]
        if company is None:
            dispatcher.utter_message(text=t["not_found"].format(cvr=number))
            return [SlotSet("lookup_cvr", None)]
        lines = [t["found"].format(name=company.name, cvr=company.cvr)]
        lines += [t[key].format(**{key: value}) for key, value in
                  (("address", company.address), ("industry", company.industry), ("status", company.status))
                  if value]
        lines.append(t["source"])
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("lookup_cvr", None)]
