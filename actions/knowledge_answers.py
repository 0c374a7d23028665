"""Answers topic questions: from the sourced knowledge base (``data/knowledge``) or, where
``actions/routing.py`` decides so, quoted from the municipality's documents (``bot.documents``)."""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import routing
from actions.common import ASK_HUMAN, failed_in_a_row, kb, language
from bot import answers, metrics
from bot.documents import DocumentAnswer

#: Topics of the menu shown when a message was not understood.
MAIN_MENU = ["ask_business_service", "ask_grants_overview", "ask_contact", "book_visit"]


def answer_topic(dispatcher: CollectingDispatcher, intent: str | None, lang: str) -> bool:
    """Utter the knowledge entry for ``intent`` as one answer (text, contacts and source as its
    footer, buttons: ``bot.answers``); False if there is none."""
    knowledge = kb()
    if intent not in knowledge.entries:
        return False
    answer, buttons = knowledge.answer(intent, lang)
    dispatcher.utter_message(**answers.message(answer, buttons))
    return True


def say_quote(dispatcher: CollectingDispatcher, found: DocumentAnswer) -> None:
    """Utter a quote from a document as one answer (``bot.answers``): the passage's own words and
    that it is a quote, with the document, section and source as its footer; a person as the way
    on. The passage's id stays on the message for the console."""
    if found.answer is None:  # a quote always has one; nothing to say without it
        return
    dispatcher.utter_message(**answers.message(found.answer, [kb().button("request_human", found.language)]),
                             document={"passage": found.passage_id, "document": found.document_id})


def say_factual(dispatcher: CollectingDispatcher, decision: routing.Route, lang: str) -> bool:
    """Utter the written answer or the quote ``decision`` gives; False when it gives neither."""
    if decision.from_documents:
        metrics.DOCUMENT_ANSWERS.labels(decision.kind).inc()
    if decision.kind == routing.TOPIC and answer_topic(dispatcher, decision.intent, lang):
        return True
    if decision.kind == routing.DOCUMENT and decision.answer is not None:
        say_quote(dispatcher, decision.answer)
        return True
    return False


async def respond(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Answer the latest message as ``routing.route`` decides (the documents' search in a thread)."""
    lang = language(tracker)
    knowledge = kb()
    decision = await asyncio.to_thread(routing.route, tracker.latest_message.get("text") or "", lang,
                                       tracker.latest_message, knowledge)
    if say_factual(dispatcher, decision, lang):
        return
    metrics.FALLBACKS.inc()
    if decision.kind == routing.CLARIFY:
        buttons = [knowledge.button(i, lang) for i in decision.choices]
        buttons.append(knowledge.button("request_human", lang))
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
    elif decision.kind == routing.UNKNOWN:  # the documents came close but do not answer it
        dispatcher.utter_message(response="utter_document_unknown")
    elif decision.kind == routing.NO_FIGURE:  # asks "how many/how much"; the topic's answer has no figure
        dispatcher.utter_message(response="utter_no_figure", buttons=[
            knowledge.button(decision.choices[0], lang), knowledge.button("request_human", lang)])
    else:
        buttons = [knowledge.button(i, lang) for i in MAIN_MENU + ["request_human"]]
        dispatcher.utter_message(response="utter_not_understood", buttons=buttons)
    if failed_in_a_row(tracker, 1):  # the second failed answer in a row: offer a person
        dispatcher.utter_message(response=ASK_HUMAN)


class ActionAnswerKnowledge(Action):
    """Replies to a topic intent: its written answer, or what ``actions/routing.py`` decides."""

    def name(self) -> str:
        return "action_answer_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await respond(dispatcher, tracker)
        return []
