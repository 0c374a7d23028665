"""Answers "who handles X?" with the right unit's contact card from ``contacts.yml``."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, language
from bot import contacts
from bot.knowledge import Contact


def _buttons(units: list[Contact], lang: str) -> list[dict[str, str]]:
    return [
        {"title": c.name[lang], "payload": f'/ask_contact{{"contact_topic":"{c.id}"}}'}
        for c in units
    ]


class ActionContactLookup(Action):
    def name(self) -> str:
        return "action_contact_lookup"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        answer_contact(dispatcher, tracker)
        return []


def answer_contact(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The contact card(s) for the latest message (also used inside forms)."""
    lang = language(tracker)
    knowledge = kb()
    text = tracker.latest_message.get("text") or ""
    chosen = next(tracker.get_latest_entity_values("contact_topic"), None)
    if chosen in knowledge.contacts:
        found = [knowledge.contacts[chosen]]
    elif text.startswith("/"):  # the menu button: no topic given yet
        units = [c for c in knowledge.contacts.values() if c.keywords]
        dispatcher.utter_message(response="utter_contact_choose", buttons=_buttons(units, lang))
        return
    else:
        found = contacts.match(text, knowledge)
    if len(found) == 1:
        dispatcher.utter_message(text=found[0].card(lang), kind="answer")
    elif found:
        dispatcher.utter_message(response="utter_contact_several", buttons=_buttons(found, lang))
    else:
        general = contacts.general(knowledge)
        dispatcher.utter_message(response="utter_contact_none", card=general.card(lang), kind="answer",
                                 buttons=[knowledge.button("request_human", lang)])
