"""Answers topic questions from the sourced knowledge base (``data/knowledge``)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import kb, language
from bot.documents import DocumentAnswer


def answer_topic(dispatcher: CollectingDispatcher, intent: str | None, lang: str) -> bool:
    """Utter the knowledge entry for ``intent`` (text, source link, buttons); False if none."""
    knowledge = kb()
    if intent not in knowledge.entries:
        return False
    text, buttons = knowledge.answer(intent, lang)
    dispatcher.utter_message(text=text, buttons=buttons, kind="answer")
    return True


def say_quote(dispatcher: CollectingDispatcher, found: DocumentAnswer) -> None:
    """Utter a quote from a document: the document and section, the passage's own words, that it
    is a quote, and the source with its date; a person as the way on."""
    dispatcher.utter_message(text=found.text, buttons=[kb().button("request_human", found.language)],
                             kind="answer", document={"passage": found.passage_id, "document": found.document_id,
                                                      "section": found.section, "source": found.source_url,
                                                      "verified": found.verified.isoformat()})


class ActionAnswerKnowledge(Action):
    """Replies with the knowledge entry for the latest intent."""

    def name(self) -> str:
        return "action_answer_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        from actions.dialogue import ActionClarify

        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not answer_topic(dispatcher, intent, language(tracker)):
            return await ActionClarify().run(dispatcher, tracker, domain)  # no entry: ask instead
        return []
