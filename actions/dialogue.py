"""Dialogue actions: clarifying unclear messages, handing over to a person, privacy notice."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, language
from bot import contacts, settings
from bot.nlp.keywords import count_hits

#: Intents never offered as "did you mean" topics.
NOT_TOPICS = {"nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny",
              "bot_challenge"}
MIN_CONFIDENCE = 0.05
MAX_CHOICES = 3
MAIN_MENU = ["ask_business_service", "ask_grants_overview", "ask_contact", "book_visit"]

TEXTS = {
    "da": {
        "clarify": "Jeg er ikke helt sikker på, hvad du mener. Handler det om et af disse emner?",
        "not_understood": "Det forstod jeg desværre ikke. Prøv at skrive det med andre ord, eller vælg et emne:",
        "handover": (
            "Du kan få hjælp af en medarbejder i Køge Kommunes erhvervsservice. "
            "Erhvervsservicens direkte telefon og åbningstider er endnu ikke lagt ind her, "
            "så brug kommunens generelle kontakt:"
        ),
        "privacy": (
            "Jeg er en automatisk assistent, ikke et menneske. Det, du skriver her, gemmes i "
            "{days} dage, så kommunens medarbejdere kan følge op på henvendelser og forbedre "
            "svarene; derefter slettes det. Skriv ikke CPR-nummer eller andre følsomme "
            "oplysninger. Vil du have dine oplysninger slettet før, så kontakt kommunen."
        ),
    },
    "en": {
        "clarify": "I am not quite sure what you mean. Is it about one of these topics?",
        "not_understood": "Sorry, I did not understand that. Try other words, or choose a topic:",
        "handover": (
            "A member of staff in Køge Municipality's business service can help you. "
            "The business service's direct phone line and opening hours are not listed here "
            "yet, so please use the municipality's general contact:"
        ),
        "privacy": (
            "I am an automated assistant, not a person. What you write here is stored for "
            "{days} days so that the municipality's staff can follow up and improve the "
            "answers; then it is deleted. Do not send your CPR number or other sensitive "
            "information. To have your data deleted sooner, contact the municipality."
        ),
    },
}


class ActionClarify(Action):
    """For unclear messages: offers the closest topics as buttons instead of guessing."""

    def name(self) -> str:
        return "action_clarify"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language(tracker)
        knowledge = kb()
        ranking = tracker.latest_message.get("intent_ranking") or []
        choices = [
            item["name"] for item in ranking
            if item.get("name") not in NOT_TOPICS
            and item.get("confidence", 0) >= MIN_CONFIDENCE
            and (item["name"] in knowledge.entries or item["name"] in knowledge.labels)
        ][:MAX_CHOICES]
        if choices:
            buttons = [knowledge.button(i, lang) for i in choices]
            buttons.append(knowledge.button("request_human", lang))
            dispatcher.utter_message(text=TEXTS[lang]["clarify"], buttons=buttons)
        else:
            buttons = [knowledge.button(i, lang) for i in MAIN_MENU + ["request_human"]]
            dispatcher.utter_message(text=TEXTS[lang]["not_understood"], buttons=buttons)
        return []


class ActionHandover(Action):
    """A request for a person: how to reach the business service."""

    def name(self) -> str:
        return "action_handover"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language(tracker)
        knowledge = kb()
        general = contacts.general(knowledge)
        dispatcher.utter_message(
            text=f"{TEXTS[lang]['handover']}\n\n{general.card(lang)}",
            buttons=[knowledge.button("book_visit", lang), knowledge.button("ask_contact", lang)],
        )
        return []


class ActionPrivacy(Action):
    """What is stored and for how long (the retention setting)."""

    def name(self) -> str:
        return "action_privacy"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language(tracker)
        dispatcher.utter_message(text=TEXTS[lang]["privacy"].format(days=settings.retention_days()))
        return []


class ActionOutOfScope(Action):
    """Out of scope: a citizen matter is sent to koege.dk/Borgerservice, anything else gets an
    honest "I can't help with that" and what the assistant can do."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        citizen = count_hits(kb().citizen_words, text) > 0
        dispatcher.utter_message(response="utter_out_of_scope_citizen" if citizen else "utter_out_of_scope")
        return []
