"""The widget in Chromium against two Rasa workers (RASA_WORKERS=2) sharing a Redis lock store,
Redis rate limits and the socket.io Redis client manager (Redis database 5): tests/conftest.py's
``production_stack``.

Each WebSocket stays with the worker that accepted it, so a conversation works whichever
worker that is; a message emitted on the other worker (here: Rasa's HTTP API, whose requests
the kernel hands to either worker) reaches the browser through Redis."""
from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from bot import wording
from tests.support.stack import BotStack
from tests.web.support import ask, session_id

GOODBYE = wording.text("utter_goodbye", "da")
SENDS = 12


@pytest.fixture(scope="module")
def workers(production_stack: BotStack) -> BotStack:
    return production_stack


def test_several_browsers_chat_with_two_workers(new_page, workers, kb):
    pages = []
    for _ in range(4):  # four connections: the kernel spreads them over both workers
        page = new_page()
        page.goto(workers.web + "/")
        page.locator(".kw-launcher").click()
        pages.append(page)
    for page in pages:
        ask(page, "Hvor meget kan man få i SMV:Grøn?")
    for page in pages:
        expect(page.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_groen"].source}"]')).to_be_visible()
        expect(page.locator(".kw-rate")).to_have_count(1)
        ask(page, "book et besøg")
    for page in pages:
        expect(page.locator(".kw-log")).to_contain_text("CVR-nummer")
        ask(page, "ved ikke")  # only right if the worker sees the conversation's earlier turns
    for page in pages:
        expect(page.locator(".kw-msg--bot").last).to_contain_text("Hvad hedder virksomheden")


def test_a_message_emitted_on_either_worker_reaches_the_browser(new_page, workers):
    page = new_page()
    page.goto(workers.web + "/")
    page.locator(".kw-launcher").click()
    ask(page, "Hej")
    expect(page.locator(".kw-msg--bot")).not_to_have_count(0)
    conversation = session_id(page)
    token = workers.api_token
    deadline = time.monotonic() + 60
    while True:  # the greeting's turn is stored before staff messages are sent into it
        stored = requests.get(f"{workers.rasa}/conversations/{conversation}/tracker",
                              params={"token": token}, timeout=30)
        if stored.ok and any(e.get("event") == "user" for e in stored.json().get("events") or []):
            break
        assert time.monotonic() < deadline, "the conversation was never stored"
        time.sleep(0.5)
    for _ in range(SENDS):  # a new connection each time, so either worker may take it
        reply = requests.post(f"{workers.rasa}/conversations/{conversation}/execute",
                              params={"output_channel": "socketio", "token": token},
                              json={"name": "utter_goodbye"}, headers={"Connection": "close"}, timeout=30)
        assert reply.status_code == 200, reply.text
    expect(page.locator(".kw-msg--bot", has_text=GOODBYE)).to_have_count(SENDS)
