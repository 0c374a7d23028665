"""Answers topic questions: from the sourced knowledge base (``data/knowledge``) or, where
``actions/routing.py`` decides so, quoted from the municipality's documents (``bot.documents``)."""
from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import routing
from actions.common import ASK_HUMAN, failed_in_a_row, kb, language
from bot import answers, metrics, wording
from bot.documents import DocumentAnswer

#: Topics of the menu shown when a message was not understood.
MAIN_MENU = ["ask_business_service", "ask_grants_overview", "ask_contact", "book_visit"]
#: "I don't know {fact} …" before an answer that does not hold the detail asked for; the detail's
#: words are the response ``utter_unknown_fact_<kind>`` (``bot.nlp.asked_facts``).
UNKNOWN_FACT = "utter_unknown_fact"
#: "I'm not sure I understood; the closest answer I have is:" before an answer given as the
#: closest (``routing.CLOSEST``).
CLOSEST = "utter_closest"


def answer_topic(dispatcher: CollectingDispatcher, intent: str | None, lang: str, unknown_fact: str | None = None,
                 thing: str | None = None, closest: tuple[str, ...] | None = None) -> bool:
    """Utter the knowledge entry for ``intent`` as one answer (text, contacts and source as its
    footer, buttons: ``bot.answers``); False if there is none. ``unknown_fact`` (an
    ``asked_facts.Kind``'s name, or ``routing.THING`` with the ``thing`` asked about): the
    message asked for that detail, which the answer does not hold; the answer then opens by
    saying so and offers a person. ``closest`` (the other close topics): the answer is the
    closest the assistant has; it opens by saying it is not sure, offers those topics and a
    person, and is marked ``unsure`` for the console's list of messages to improve."""
    knowledge = kb()
    if intent not in knowledge.entries:
        return False
    answer, buttons = knowledge.answer(intent, lang)
    lead, unsure = None, {}
    if unknown_fact is not None:
        fact = wording.text(f"{UNKNOWN_FACT}_{unknown_fact}", lang, thing=thing or "")
        lead = wording.text(UNKNOWN_FACT, lang, fact=fact)
    elif closest is not None:
        lead, unsure = wording.text(CLOSEST, lang), {"unsure": True}
        other = [knowledge.button(i, lang) for i in closest]  # first: what the message may have meant
        buttons = [*other, *(b for b in buttons if b not in other)]
    if lead is not None:
        answer = dataclasses.replace(answer, body=f"{lead}\n\n{answer.body}")
        if not any(b.get("payload") == "/request_human" for b in buttons):
            buttons = [*buttons, knowledge.button("request_human", lang)]
    dispatcher.utter_message(**answers.message(answer, buttons), **unsure)
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
    if decision.kind == routing.CLOSEST and answer_topic(dispatcher, decision.intent, lang, closest=decision.choices):
        return True
    if decision.kind == routing.DOCUMENT and decision.answer is not None:
        say_quote(dispatcher, decision.answer)
        return True
    return False


def say_elsewhere(dispatcher: CollectingDispatcher, municipality: str | None) -> None:
    """Tell the user that ``municipality``, not Køge, answers what they ask."""
    dispatcher.utter_message(response="utter_out_of_scope_elsewhere", municipality=municipality)


async def respond(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Answer the latest message as ``routing.route`` decides (the documents' search in a thread)."""
    lang = language(tracker)
    knowledge = kb()
    decision = await asyncio.to_thread(routing.route, tracker.latest_message.get("text") or "", lang,
                                       tracker.latest_message, knowledge)
    if say_factual(dispatcher, decision, lang):
        return
    if decision.kind == routing.ELSEWHERE:  # answered, by sending the user to that municipality
        say_elsewhere(dispatcher, decision.municipality)
        return
    metrics.FALLBACKS.inc()
    if decision.kind == routing.CLARIFY:
        buttons = [knowledge.button(i, lang) for i in decision.choices]
        buttons.append(knowledge.button("request_human", lang))
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
    elif decision.kind == routing.UNKNOWN:  # the documents came close but do not answer it
        dispatcher.utter_message(response="utter_document_unknown")
    elif decision.kind == routing.NO_FACT:  # asks for a detail the topic's answer does not hold
        answer_topic(dispatcher, decision.intent, lang, unknown_fact=decision.fact, thing=decision.thing)
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
