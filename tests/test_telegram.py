"""The Telegram channel (bot/telegram): unit tests of the rendering, then the real bridge process
(``python -m bot.telegram``) against a fake Telegram Bot API on loopback and ONE real stack
(Rasa server + action server, ``BotStack``), with a small proxy in front of Rasa so a test can
take Rasa away, bring it back and slow one conversation down.

It also writes ``var/telegram-transcript.md`` (the conversation of the booking test), which
docs/telegram.md shows.
"""
from __future__ import annotations

import asyncio
import html
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import sqlalchemy as sa
from aiohttp import web
from telegram import InlineKeyboardMarkup

from bot import settings, wording
from bot.channels import identity
from bot.nlp.language import detect
from bot.telegram.app import Config
from bot.telegram.limits import FloodGuard
from bot.telegram.render import (
    CALLBACK_LIMIT,
    MESSAGE_LIMIT,
    ButtonMap,
    button_title,
    render,
    split,
    to_html,
    utf16_len,
)
from tests.conftest import TELEGRAM_BRIDGE_TOKEN, TELEGRAM_PUSH_TOKEN
from tests.fakes.telegram_api import FakeTelegramApi, Sent
from tests.support.process import Process, http_ok, wait_until
from tests.support.stack import BotStack, free_port

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPT = ROOT / "var" / "telegram-transcript.md"
PUSH_TOKEN, BRIDGE_TOKEN = TELEGRAM_PUSH_TOKEN, TELEGRAM_BRIDGE_TOKEN  # the staffed stack's
RATE_LIMIT = 20  # messages per chat per minute for the test bridge
slow = pytest.mark.slow  # starts processes: the bridge, the fake Telegram API, mostly the stack


def expected(name: str, lang: str = "da", **values: Any) -> list[str]:
    """The HTML the bridge sends for its own response ``name``."""
    return [o.html for o in render(1, [wording.message(name, lang, **values)], ButtonMap(), internal=True)]


# ---------------------------------------------------------------------------------------------
# Unit tests: rendering, callback data, flood guard (no servers)
# ---------------------------------------------------------------------------------------------

def test_text_is_escaped_and_markdown_links_and_bold_become_html():
    text = 'Se <b>her</b> & "dér": **Tilskud** fra [Erhvervshus Sjælland](https://ehsj.dk/a?x=1&y=2).'
    assert to_html(text) == ('Se &lt;b&gt;her&lt;/b&gt; &amp; "dér": <b>Tilskud</b> fra '
                             '<a href="https://ehsj.dk/a?x=1&amp;y=2">Erhvervshus Sjælland</a>.')


def test_bare_addresses_become_links_without_the_sentence_punctuation():
    assert to_html("Læs mere: https://koege.dk/erhverv. (kontrolleret 2026-11-01)") == (
        'Læs mere: <a href="https://koege.dk/erhverv">https://koege.dk/erhverv</a>. (kontrolleret 2026-11-01)')
    assert to_html("(se https://da.wikipedia.org/wiki/K%C3%B8ge_(by))") == (
        '(se <a href="https://da.wikipedia.org/wiki/K%C3%B8ge_(by)">https://da.wikipedia.org/wiki/K%C3%B8ge_(by)</a>)')


def test_only_http_links_are_made_and_html_in_a_title_is_escaped():
    assert to_html("[klik](javascript:alert(1))") == "[klik](javascript:alert(1))"
    assert to_html("[<script>](https://x.dk)") == '<a href="https://x.dk">&lt;script&gt;</a>'
    assert to_html('[x](https://x.dk/"onmouseover=1)') == '[x](<a href="https://x.dk/">https://x.dk/</a>"onmouseover=1)'


def test_a_long_reply_is_split_below_4096_at_paragraphs_and_never_inside_a_link():
    link = "[Køge Kommune](https://www.koege.dk/erhverv)"
    text = "\n\n".join([("Ord " * 300).strip()] * 3 + ["Kilde: " + link] + [("æøå " * 600).strip()])
    parts = split(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    assert sum(link in p for p in parts) == 1
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_split_counts_utf16_units_and_cuts_an_unbroken_run():
    assert [utf16_len(p) for p in split("😀" * 3000)] == [4096, 1904]
    assert [len(p) for p in split("x" * 9000)] == [4096, 4096, 808]
    assert split("kort svar") == ["kort svar"]
    assert split("   ") == []


def test_split_happens_before_escaping():
    text = "<&>" * 1500  # 4500 characters, 22500 once escaped
    outgoing = render(7, [{"text": text}], ButtonMap())
    assert len(outgoing) == 2
    assert html.unescape(outgoing[0].html + outgoing[1].html) == text


def test_short_payloads_are_the_callback_data_and_long_ones_are_mapped_never_cut():
    buttons = ButtonMap()
    assert buttons.data(1, "/deny") == "p:/deny"
    long = '/ask_contact{"contact_topic":"byggeri_og_miljoe","note":"' + "x" * 80 + '"}'
    data = buttons.data(1, long)
    assert len(data.encode()) <= CALLBACK_LIMIT and data.startswith("k:")
    assert buttons.payload(1, data) == long
    assert buttons.data(1, long) == data  # the same payload, the same key
    assert buttons.payload(2, data) is None  # kept per chat
    assert buttons.payload(1, "x:erase_yes") is None  # the bridge's own actions are not Rasa's
    buttons.forget(1)
    assert buttons.payload(1, data) is None


def test_multibyte_payloads_are_measured_in_bytes():
    buttons = ButtonMap()
    payload = "/inform" + "ø" * 30  # 37 characters, 67 bytes
    assert buttons.data(1, payload).startswith("k:")


def test_keyboard_one_button_a_row_and_the_pressed_title_is_found():
    buttons = ButtonMap()
    markup = buttons.keyboard(5, [{"title": "Miljø", "payload": '/ask_contact{"contact_topic":"miljoe"}'},
                                  {"title": "Koege.dk", "url": "https://www.koege.dk"},
                                  {"title": " ", "payload": ""}])
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["Miljø"], ["Koege.dk"]]
    data = markup.inline_keyboard[0][0].callback_data
    assert button_title(markup, data) == "Miljø"
    assert markup.inline_keyboard[1][0].url == "https://www.koege.dk"
    assert buttons.keyboard(5, []) is None


def test_render_puts_the_keyboard_on_the_last_part_and_skips_empty_messages():
    out = render(3, [{"text": "a " * 3000, "buttons": [{"title": "Ja", "payload": "/affirm"}]},
                     {"custom": {"x": 1}}, {"buttons": [{"title": "Nej", "payload": "/deny"}]}], ButtonMap())
    assert [o.keyboard is not None for o in out] == [False, True, True]
    assert out[2].html == "…"


def test_flood_guard_tells_once_per_flood():
    now = [0.0]
    guard = FloodGuard(3, 60, clock=lambda: now[0])
    assert [guard.check(1) for _ in range(5)] == [(True, False)] * 3 + [(False, True), (False, False)]
    assert guard.check(2) == (True, False)
    now[0] = 61
    assert guard.check(1) == (True, False)


def test_the_command_menu_in_domain_yml_matches_the_handlers():
    from bot.telegram.app import COMMANDS

    for lang in ("da", "en"):
        menu = wording.message("utter_telegram_commands", lang)["buttons"]
        assert tuple(b["payload"].lstrip("/") for b in menu) == COMMANDS
        assert all(3 <= len(b["title"]) <= 256 for b in menu)  # Telegram's limits for a description


def test_every_telegram_response_has_danish_and_english():
    names = [n for n in wording.responses() if n.startswith("utter_telegram_")]
    assert len(names) >= 15
    for name in names:
        da, en = wording.text(name, "da", days=90, max=1500, username="x"), wording.text(name, "en", days=90, max=1500, username="x")
        assert da and en and da != en, name


def test_no_token_means_one_line_and_exit_0(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    done = subprocess.run([sys.executable, "-m", "bot.telegram"], cwd=ROOT, env={**env, "STATE_DIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip().splitlines() == ["Telegram is off: TELEGRAM_BOT_TOKEN is not set"]
    assert done.stderr == ""


def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path):
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_URL": "https://bot.example.dk/tg",
           "TELEGRAM_WEBHOOK_SECRET": "", "STATE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.telegram"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in done.stderr


def test_make_run_starts_the_bridge_only_with_a_token():
    from bot import cli

    env = settings.environment()
    assert "telegram bridge" not in cli.server_commands({**env, "TELEGRAM_BOT_TOKEN": ""})
    command = cli.server_commands({**env, "TELEGRAM_BOT_TOKEN": "1:x"})["telegram bridge"]
    assert command[1:] == ["-m", "bot.telegram"]


# ---------------------------------------------------------------------------------------------
# Helpers: a proxy in front of Rasa, the bridge process, waiting for replies
# ---------------------------------------------------------------------------------------------

class RasaProxy:
    """Forwards HTTP to the Rasa server. ``down()`` closes its port (as a restarting Rasa
    does), ``up()`` opens it again; ``slow(sender, seconds)`` delays that sender's next
    message. ``seen`` records (sender, time received, time answered)."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.port = free_port()
        self.seen: list[tuple[str, float, float]] = []
        self.is_down = False
        self._delays: dict[str, list[float]] = {}
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="rasa-proxy", daemon=True)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def start(self) -> RasaProxy:
        self._thread.start()
        self._call(self._setup())
        return self

    async def _setup(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await self._open()

    async def _open(self) -> None:
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()

    async def _close(self) -> None:
        await self._site.stop()

    def down(self) -> None:
        self.is_down = True
        self._call(self._close())

    def up(self) -> None:
        self._call(self._open())
        self.is_down = False

    def slow(self, sender: str, *seconds: float) -> None:
        self._delays.setdefault(sender, []).extend(seconds)

    async def _forward(self, request: web.Request) -> web.Response:
        if self.is_down:  # a kept-alive connection from before: reset, as a stopping server does
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        body = await request.read()
        received = time.monotonic()
        sender = ""
        try:
            sender = json.loads(body or b"{}").get("sender", "")
        except ValueError:
            pass
        delays = self._delays.get(sender)
        if delays:
            await asyncio.sleep(delays.pop(0))
        async with aiohttp.ClientSession() as session, session.request(
                request.method, self.target + request.path_qs, data=body,
                headers={name: value for name, value in request.headers.items()
                         if name.lower() in ("content-type", identity.BRIDGE_HEADER.lower())}) as answer:
            content = await answer.read()
            self.seen.append((sender, received, time.monotonic()))
            return web.Response(status=answer.status, body=content, content_type="application/json")

    def stop(self) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def wait_healthy(url: str, process: Process | None = None, timeout: float = 60) -> None:
    wait_until(lambda: http_ok(url), timeout, url, watch=[process] if process else [], interval=0.2)


@contextmanager
def bridge_process(env: dict[str, str], log: Path) -> Iterator[Process]:
    with Process("the Telegram bridge", [sys.executable, "-m", "bot.telegram"], log=log, env=env) as process:
        wait_healthy(f"http://127.0.0.1:{env['TELEGRAM_PORT']}/health", process)
        yield process


def is_echo(message: Sent) -> bool:
    return message.text.startswith("<i>› ")


def plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


class Chat:
    """One Telegram user talking to the bridge through the fake API."""

    _next = 100_000

    def __init__(self, api: FakeTelegramApi, language_code: str = "da") -> None:
        Chat._next += 1
        self.api, self.id, self.language_code = api, Chat._next, language_code

    @property
    def sender(self) -> str:
        return f"telegram:{self.id}"

    def messages(self) -> list[Sent]:
        return self.api.messages(self.id)

    def _exchange(self, act: Callable[[], Any], quiet: float = 1.5, timeout: float = 120,
                  until: Callable[[list[Sent]], bool] | None = None) -> list[Sent]:
        """Do ``act`` and return the bot's messages sent in reply (an echo alone is not a
        reply; the reply is complete when no message came for ``quiet`` seconds)."""
        before = len(self.messages())
        act()
        done = until or (lambda found: any(not is_echo(m) for m in found))
        deadline = time.monotonic() + timeout

        def complete() -> list[Sent] | None:
            found = self.messages()[before:]
            if found and done(found) and time.monotonic() - found[-1].at >= quiet:
                return found
            return None

        while True:
            result = complete()
            if result:
                return result
            assert time.monotonic() < deadline, f"no reply in chat {self.id}: {[m.text for m in self.messages()[before:]]}"
            time.sleep(0.2)

    def say(self, text: str, **kwargs: Any) -> list[Sent]:
        return self._exchange(lambda: self.api.text(self.id, text, self.language_code), **kwargs)

    def press(self, message: Sent, button: int | str, **kwargs: Any) -> list[Sent]:
        return self._exchange(lambda: self.api.press(self.id, message, button), **kwargs)

    def send_media(self, kind: str) -> list[Sent]:
        return self._exchange(lambda: self.api.media(self.id, kind, self.language_code), quiet=0.5)


def last_with_buttons(messages: list[Sent]) -> Sent:
    return next(m for m in reversed(messages) if m.buttons)


def texts(messages: list[Sent]) -> list[str]:
    return [m.text for m in messages]


# ---------------------------------------------------------------------------------------------
# End to end: the bridge process, the fake Telegram API, the real Rasa and action servers
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory, staffed_stack: BotStack):
    """The bridge against tests/conftest.py's ``staffed_stack`` (inside the staffed hours, for
    the live handover; the bridge listens on the stack's TELEGRAM_PORT, where the staff console
    pushes a person's replies)."""
    folder = tmp_path_factory.mktemp("telegram")
    stack = staffed_stack
    with FakeTelegramApi() as api:
        proxy = RasaProxy(f"http://127.0.0.1:{stack.rasa_port}").start()
        port = stack.telegram_port
        env = {**stack.env, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
               "TELEGRAM_PORT": str(port), "TELEGRAM_PUSH_TOKEN": PUSH_TOKEN, "TELEGRAM_BRIDGE_TOKEN": BRIDGE_TOKEN,
               "RASA_PORT": str(proxy.port), "STATE_DIR": str(folder / "bridge-var"),
               "RATE_LIMIT_MESSAGES": str(RATE_LIMIT), "LOG_LEVEL": "INFO"}
        log = folder / "bridge.log"
        try:
            with bridge_process(env, log) as process:
                yield {"api": api, "stack": stack, "proxy": proxy, "log": log, "process": process,
                       "url": f"http://127.0.0.1:{port}"}
        finally:
            proxy.stop()


@pytest.fixture
def api(world) -> FakeTelegramApi:
    return world["api"]


@slow
def test_bridge_connects_registers_danish_and_english_commands_and_polls(world, api):
    assert requests.get(world["url"] + "/health", timeout=5).json() == {"status": "ok", "mode": "polling"}
    assert [c["command"] for c in api.commands[""]] == ["start", "hjaelp", "kontakt", "besoeg", "privatliv", "slet"]
    assert [c["command"] for c in api.commands["en"]] == [c["command"] for c in api.commands[""]]
    assert api.commands["en"][0]["description"] != api.commands[""][0]["description"]
    assert api.calls("getMe") and api.calls("deleteWebhook")  # deleteWebhook: polling's first step


@slow
def test_start_welcomes_with_the_chatbot_and_privacy_notice(api):
    chat = Chat(api)
    reply = chat.say("/start")
    assert api.calls("getUpdates")  # it came by long polling
    assert texts(reply) == expected("utter_telegram_start", days=settings.retention_days())
    assert "chatbot" in reply[0].text and "/privatliv" in reply[0].text
    assert reply[0].parse_mode == "HTML"
    assert reply[0].titles == [b["title"] for b in wording.message("utter_telegram_start")["buttons"]]


@slow
def test_start_from_the_welcome_letter_greets_the_new_firm(api):
    reply = Chat(api).say("/start velkomstbrev")
    assert texts(reply) == expected("utter_telegram_start_velkomstbrev", days=settings.retention_days())
    english = Chat(api, "en").say("/start velkomstbrev")
    assert texts(english) == expected("utter_telegram_start_velkomstbrev", "en", days=settings.retention_days())


@slow
def test_danish_question_is_answered_with_its_source_link(api, kb):
    chat = Chat(api)
    reply = chat.say("hvor meget kan man få i smv grøn?")
    answer = "\n".join(texts(reply))
    source = kb.entries["ask_grant_smv_groen"].source
    assert f'<a href="{html.escape(source)}"' in answer
    assert "300.000" in answer
    typing = [c for c in api.calls("sendChatAction") if c.params.get("chat_id") == chat.id]
    assert typing and typing[0].params["action"] == "typing"


@slow
def test_a_factual_answer_is_one_message_with_an_html_footer(api, kb):
    """One sendMessage: the answer, its contact and source as an italic footer, the buttons under it."""
    chat = Chat(api)
    before = len([c for c in api.calls("sendMessage") if c.params.get("chat_id") == chat.id])
    [answer] = chat.say("hvad er smv grøn?")
    sent = [c for c in api.calls("sendMessage") if c.params.get("chat_id") == chat.id]
    assert len(sent) == before + 1
    body, footer = answer.text.split("\n\n")
    assert "300.000" in body and answer.parse_mode == "HTML"
    contact, source = footer.split("\n")
    assert contact == "<i>Kontakt: Erhvervshus Sjælland, Sorø (hos VKST, Fulbyvej) og en afdeling i Vordingborg</i>"
    entry = kb.entries["ask_grant_smv_groen"]
    assert source.startswith(f'<i>Kilder: <a href="{html.escape(entry.source)}">danskindustri.dk</a> og '
                             f'<a href="{html.escape(entry.more_sources[0])}">plastcenter.dk</a> (kontrolleret ')
    assert source.endswith("</i>")
    assert "Torvet 1" not in answer.text  # a national scheme: not the municipality's address
    assert answer.titles and utf16_len(plain(answer.text)) <= MESSAGE_LIMIT


@slow
def test_english_question_is_answered_in_english(api):
    chat = Chat(api, "da")  # a Danish Telegram app; the user writes English
    reply = chat.say("How do I get a building permit for my company?")
    answer = plain("\n".join(texts(reply)))
    assert detect(answer) == "en", answer
    assert '<a href="https://' in "".join(texts(reply))
    assert texts(chat.send_media("photo")) == expected("utter_telegram_text_only", "en")


@slow
def test_button_press_is_answered_echoed_and_sent_to_rasa(api, kb):
    chat = Chat(api)
    menu = last_with_buttons(chat.say("/kontakt"))
    title = kb.contacts["miljoe"].name["da"]
    assert title in menu.titles
    reply = chat.press(menu, title)
    assert reply[0].text == f"<i>› {html.escape(title)}</i>"
    assert kb.contacts["miljoe"].email in "\n".join(texts(reply[1:]))
    query_ids = {c.params["callback_query_id"] for c in api.calls("answerCallbackQuery")}
    assert api.calls("answerCallbackQuery") and len(query_ids) == len(api.calls("answerCallbackQuery"))
    assert next(m for m in chat.messages() if m.message_id == menu.message_id).buttons == []  # keyboard removed


@slow
def test_a_long_payload_is_mapped_and_still_reaches_rasa(world, api, kb):
    chat = Chat(api)
    chat.say("/hjaelp", quiet=0.5)
    payload = '/ask_contact{"contact_topic":"miljoe","from":"' + "staff-console-" * 5 + '"}'
    assert len(payload.encode()) > CALLBACK_LIMIT
    push(world, chat.sender, "Vælg:", [{"title": "Miljø", "payload": payload}])
    pushed = api.wait_for(lambda: [m for m in chat.messages() if m.buttons], 30)[0]
    assert pushed.buttons[0]["callback_data"].startswith("k:")
    reply = chat.press(pushed, 0)
    assert kb.contacts["miljoe"].email in "\n".join(texts(reply))


@slow
def test_a_whole_visit_booking_from_besoeg_to_the_reference(world, api, kb):
    stack = world["stack"]
    chat = Chat(api)
    chat.say("/start velkomstbrev")
    welcome = chat.messages()[-1]
    reply = chat.press(welcome, "Om velkomstbrevet")
    assert kb.entries["ask_welcome_letter"].source in "".join(texts(reply))
    reply = chat.say("/besoeg")
    assert "CVR" in plain(reply[-1].text) and reply[-1].buttons
    reply = chat.say("vores cvr er 29189374")
    assert "KØGE KOMMUNE" in "".join(texts(reply))
    chat.say("Anne Jensen")
    chat.say("anne.jensen@example.dk")
    chat.say("20 12 34 56")
    reply = chat.say("Vi vil gerne tale om udvidelse af produktionen")
    times = last_with_buttons(reply)
    reply = chat.press(times, 0)
    summary = last_with_buttons(reply)
    assert "anne.jensen@example.dk" in summary.text
    reply = chat.press(summary, 0)  # "Ja, book besøget"
    confirmation = plain("\n".join(texts(reply)))
    reference = re.search(r"KB-\d{4}-\w+", confirmation)
    assert reference, confirmation
    from bot.store import db
    from bot.store.models import Booking

    with db.session(stack.database) as s:
        booking = s.scalars(sa.select(Booking).where(Booking.reference == reference.group(0))).one()
    assert booking.sender_id == chat.sender and booking.cvr == "29189374"
    write_transcript(api, chat)


@slow
def test_photos_voice_stickers_files_locations_and_edits_get_a_polite_text_only(api):
    chat = Chat(api)
    for kind in ("photo", "voice", "sticker", "document", "location"):
        assert texts(chat.send_media(kind)) == expected("utter_telegram_text_only")
    english = Chat(api, "en")
    assert texts(english.send_media("photo")) == expected("utter_telegram_text_only", "en")
    reply = chat._exchange(lambda: api.edited(chat.id, "rettet tekst"), quiet=0.5)
    assert texts(reply) == expected("utter_telegram_edited")


@slow
def test_unknown_command_help_and_privacy(api):
    chat = Chat(api)
    assert texts(chat.say("/hvadsaa", quiet=0.5)) == expected("utter_telegram_unknown_command")
    assert texts(chat.say("/hjaelp", quiet=0.5)) == expected("utter_telegram_help")
    assert texts(chat.say("/privatliv", quiet=0.5)) == expected("utter_telegram_privacy", days=settings.retention_days())


@slow
def test_a_long_message_is_cut_by_the_rest_channel_with_its_note(api):
    max_chars = settings.integer("MAX_MESSAGE_CHARS")
    reply = Chat(api).say("Hvilke tilskud kan vi søge? " + "meget lang forklaring " * 200)
    assert expected("utter_channel_message_cut", max_chars=max_chars)[0] in texts(reply)
    assert len(reply) >= 2  # the note, then the answer


def _events(stack: BotStack, sender: str) -> list[tuple[str, str]]:
    with sqlite3.connect(stack.tracker) as connection:
        return connection.execute("SELECT type_name, data FROM events WHERE sender_id = ?", (sender,)).fetchall()


@slow
def test_conversations_are_stored_as_channel_telegram_and_slet_erases_them(world, api):
    stack = world["stack"]
    chat = Chat(api)
    chat.say("Hej")
    users = [json.loads(data) for kind, data in _events(stack, chat.sender) if kind == "user"]
    assert users and all(u["input_channel"] == "telegram" for u in users)
    assert users[0]["metadata"]["telegram"] == {"language_code": "da", "chat_type": "private"}

    question = chat.say("/slet", quiet=0.5)
    assert texts(question) == expected("utter_telegram_erase_confirm")
    kept = chat.press(question[-1], 1, quiet=0.5)
    assert texts(kept)[-1] == expected("utter_telegram_erase_kept")[0]
    assert _events(stack, chat.sender)

    question = chat.say("/slet", quiet=0.5)
    yes = question[-1].titles[0]
    erased = chat.press(question[-1], 0, quiet=0.5)
    assert texts(erased) == [f"<i>› {yes}</i>", *expected("utter_telegram_erased")]
    assert _events(stack, chat.sender) == []


def push(world: dict, sender: Any, text: Any = "Hej", buttons: Any = None, token: str | None = PUSH_TOKEN,
         raw: bytes | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"sender_id": sender, "text": text}
    if buttons is not None:
        body["buttons"] = buttons
    if raw is not None:
        return requests.post(world["url"] + "/push", data=raw, headers=headers, timeout=30)
    return requests.post(world["url"] + "/push", json=body, headers=headers, timeout=30)


@slow
def test_a_pushed_message_reaches_the_chat(world, api):
    chat = Chat(api)
    chat.say("/hjaelp", quiet=0.5)
    before = len(chat.messages())
    text = "Svar fra erhvervsservice: Vi ringer **i morgen**. Se [koege.dk](https://www.koege.dk/erhverv)"
    answer = push(world, chat.sender, text, [{"title": "Tak", "payload": "/thank"}])
    assert answer.status_code == 200 and answer.json() == {"delivered": 1}
    sent = chat.messages()[before]
    assert sent.text == 'Svar fra erhvervsservice: Vi ringer <b>i morgen</b>. Se <a href="https://www.koege.dk/erhverv">koege.dk</a>'
    assert sent.titles == ["Tak"]
    long = push(world, chat.sender, "Lang besked. " * 700)  # 9,100 characters: three messages
    assert long.json() == {"delivered": 3}


@slow
def test_push_refuses_without_the_token_bad_bodies_and_other_channels(world, api):
    chat = Chat(api)
    chat.say("/hjaelp", quiet=0.5)
    assert push(world, chat.sender, token=None).status_code == 401
    assert push(world, chat.sender, token="wrong").status_code == 401
    assert push(world, chat.sender, raw=b"{not json").status_code == 400
    assert push(world, chat.sender, text="").status_code == 400
    assert push(world, chat.sender, text=["x"]).status_code == 400
    assert push(world, chat.sender, buttons=[{"payload": "/x"}]).status_code == 400
    assert push(world, chat.sender, buttons="ja").status_code == 400
    assert push(world, 42).status_code == 400
    assert push(world, "4f1c2a9be0d34c6f").status_code == 404  # a web widget conversation
    assert push(world, "telegram:555000111").status_code == 404  # a chat that never wrote
    api.block(chat.id)
    try:
        assert push(world, chat.sender).status_code == 410
    finally:
        api.block(chat.id, False)


@slow
def test_two_chats_are_answered_concurrently_and_one_chats_messages_in_order(world, api):
    proxy = world["proxy"]
    slow, fast = Chat(api), Chat(api)
    proxy.slow(slow.sender, 9.0)  # Rasa takes 9 s for the slow chat's first message only
    started = time.monotonic()
    api.text(slow.id, "Hej")
    api.text(slow.id, "hvor meget kan man få i smv grøn?")
    time.sleep(0.3)
    reply = fast.say("Hej")
    assert reply[0].at - started < 8, "the fast chat waited for the slow one"
    answers = api.wait_for(lambda: (lambda m: m if len(m) >= 2 and "300.000" in m[-1].text else None)(slow.messages()),
                           90, "both answers in the slow chat")
    greeting, grants = answers[0], next(m for m in answers if "300.000" in m.text)
    assert greeting.at - started >= 9 and greeting.message_id < grants.message_id
    # Rasa saw the slow chat's second message only after it answered the first
    seen = [(received, answered) for sender, received, answered in proxy.seen if sender == slow.sender]
    assert len(seen) == 2 and seen[1][0] >= seen[0][1]
    typing = [c for c in api.calls("sendChatAction") if c.params.get("chat_id") == slow.id and c.at < greeting.at]
    assert len(typing) >= 2, "typing was not repeated while the answer was slow"


@slow
def test_recovers_after_telegram_answers_500_and_429(api):
    chat = Chat(api)
    chat.say("/hjaelp", quiet=0.5)
    api.fail(500, times=2, methods={"sendMessage"})
    reply = chat.say("Hej")
    assert reply and reply[0].buttons  # the greeting, after two failed attempts
    api.fail(429, times=1, methods={"sendMessage"}, retry_after=1)
    reply = chat.say("hvor meget kan man få i smv grøn?")
    assert "300.000" in "".join(texts(reply))
    refused = [c for c in api.calls("sendMessage") if c.status == 429][-1]
    assert reply[0].at - refused.at >= 1.0  # waited for retry_after
    statuses = [c.status for c in api.calls("sendMessage") if c.params.get("chat_id") == chat.id]
    assert statuses.count(500) == 2 and statuses.count(429) == 1
    # getUpdates failing: PTB's polling loop retries
    api.fail(502, times=2, methods={"getUpdates"})
    assert texts(chat.say("/hjaelp", quiet=0.5)) == expected("utter_telegram_help")


@slow
def test_a_user_who_blocked_the_bot_is_logged_without_personal_data(world, api):
    blocked = Chat(api)
    api.block(blocked.id)
    api.text(blocked.id, "Hej")
    api.wait_for(lambda: any(c.status == 403 for c in api.calls("sendMessage")
                             if c.params.get("chat_id") == blocked.id), 60)
    assert texts(Chat(api).say("/hjaelp", quiet=0.5)) == expected("utter_telegram_help")  # still running
    assert world["process"].poll() is None
    time.sleep(0.5)
    log = world["log"].read_text()
    assert "blocked the bot" in log and str(blocked.id) not in log


@slow
def test_recovers_after_the_rasa_server_restarts_mid_conversation(world, api):
    proxy = world["proxy"]
    chat = Chat(api)
    chat.say("Hej")
    proxy.down()
    try:
        api.text(chat.id, "hvor meget kan man få i smv grøn?")
        notice = api.wait_for(lambda: [m for m in chat.messages()
                                       if m.text == expected("utter_telegram_delayed")[0]], 30)
        assert notice
        time.sleep(2)
    finally:
        proxy.up()
    api.wait_for(lambda: any("300.000" in m.text for m in chat.messages()), 60, "the answer after the restart")
    assert expected("utter_telegram_unavailable")[0] not in texts(chat.messages())


@slow
def test_groups_get_an_answer_only_when_the_bot_is_addressed(world, api):
    group = -100_777_000
    before = len(api.calls("sendMessage"))
    api.group_text(group, 11, "Hej alle, hvem har CVR-nummeret?")
    api.group_text(group, 12, "hvor meget kan man få i smv grøn?")
    time.sleep(2)
    assert api.messages(group) == []
    api.group_text(group, 11, f"@{api.username} hvor meget kan man få i smv grøn?")
    decline = api.wait_messages(group, 1, 30)[0]
    assert decline.text == expected("utter_telegram_group", username=api.username)[0]
    api.group_text(group, 12, f"/start@{api.username}")
    api.group_text(group, 12, "og dig?", reply_to_bot=True)
    api.wait_messages(group, 3, 30)
    assert not any(str(group) in sender for sender, _, _ in world["proxy"].seen)  # nothing reached Rasa
    assert len(api.calls("sendMessage")) - before >= 3


@slow
def test_a_flood_gets_one_slow_down_and_is_not_passed_on(api):
    chat = Chat(api)
    for _ in range(RATE_LIMIT + 5):
        api.media(chat.id, "sticker")
    api.wait_messages(chat.id, RATE_LIMIT + 1, 60)
    time.sleep(2)
    sent = texts(chat.messages())
    assert sent.count(expected("utter_telegram_text_only")[0]) == RATE_LIMIT
    assert sent.count(expected("utter_channel_slow_down")[0]) == 1
    assert len(sent) == RATE_LIMIT + 1


@slow
def test_logs_hold_no_token_and_no_message_text(world, api):
    log = world["log"].read_text()
    assert api.token not in log and api.token.split(":")[1] not in log
    assert PUSH_TOKEN not in log
    for personal in ("anne.jensen@example.dk", "Anne Jensen", "20 12 34 56", "smv grøn"):
        assert personal not in log


# ---------------------------------------------------------------------------------------------
# Webhook mode, and Rasa down for longer than the retry budget (no Rasa needed)
# ---------------------------------------------------------------------------------------------

@slow
def test_webhook_mode_sets_the_webhook_and_checks_the_secret(tmp_path):
    with FakeTelegramApi() as api:
        port = free_port()
        hook = f"http://127.0.0.1:{port}/telegram/webhook"
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
               "TELEGRAM_PORT": str(port), "TELEGRAM_WEBHOOK_URL": hook, "TELEGRAM_WEBHOOK_SECRET": "s3cret_hook-1",
               "TELEGRAM_PUSH_TOKEN": PUSH_TOKEN, "RASA_PORT": str(free_port()), "STATE_DIR": str(tmp_path)}
        with bridge_process(env, tmp_path / "bridge.log"):
            assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["mode"] == "webhook"
            setting = api.calls("setWebhook")[-1].params
            assert setting["url"] == hook and setting["secret_token"] == "s3cret_hook-1"
            assert not api.calls("getUpdates")
            update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start",
                                                  "chat": {"id": 77, "type": "private"},
                                                  "from": {"id": 77, "is_bot": False, "first_name": "T"},
                                                  "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
            assert requests.post(hook, json=update, timeout=5).status_code == 403
            assert requests.post(hook, json=update, timeout=5,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
            assert requests.post(hook, data=b"[", timeout=5,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret_hook-1"}).status_code == 400
            chat = Chat(api)
            reply = chat.say("/start", quiet=0.5)  # the fake delivers it to the webhook
            assert texts(reply) == expected("utter_telegram_start", days=settings.retention_days())
            assert api.webhook_answers and set(api.webhook_answers) == {200}
        assert api.token not in (tmp_path / "bridge.log").read_text()


@slow
def test_rasa_down_longer_than_the_retry_budget_ends_in_a_danish_apology():
    from bot.telegram.server import serve

    with FakeTelegramApi() as api:
        port = free_port()
        config = Config(token=api.token, base_url=api.base_url, rasa_url=f"http://127.0.0.1:{free_port()}",
                        port=port, push_token=PUSH_TOKEN, rasa_retry_seconds=4)
        loop = asyncio.new_event_loop()
        stop: list[asyncio.Event] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            stop.append(asyncio.Event())
            loop.run_until_complete(serve(config, stop[0]))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            wait_healthy(f"http://127.0.0.1:{port}/health")
            chat = Chat(api)
            reply = chat._exchange(lambda: api.text(chat.id, "Hej"),
                                   until=lambda found: expected("utter_telegram_unavailable")[0] in texts(found))
            assert texts(reply) == expected("utter_telegram_delayed") + expected("utter_telegram_unavailable")
            chat_again = chat.say("Er I der?", quiet=0.5)  # Rasa still down: a short try, not the whole budget
            assert texts(chat_again) == expected("utter_telegram_unavailable")
        finally:
            loop.call_soon_threadsafe(stop[0].set)
            thread.join(30)
            loop.close()


# ---------------------------------------------------------------------------------------------

def write_transcript(api: FakeTelegramApi, chat: Chat) -> None:
    """The chat's timeline as a screenshot-like Markdown transcript (for docs/telegram.md):
    links as ``title ‹address›``, bold as ``*bold*``, buttons as ``[ title ]``."""
    def link(match: re.Match) -> str:
        href, title = match.group(1), match.group(2)
        return title if title == href else f"{title} ‹{href}›"

    lines = ["<!-- written by tests/test_telegram.py::test_a_whole_visit_booking_from_besoeg_to_the_reference -->",
             "", "```text"]
    for event in api.timeline(chat.id):
        if event.who == "user":
            lines.append(f"User ▸ {event.text}")
        else:
            text = plain(re.sub(r'<a href="([^"]+)">([^<]+)</a>', link, event.text)
                         .replace("<b>", "*").replace("</b>", "*"))
            shown = [w for line in text.splitlines()
                     for w in (textwrap.wrap(line, 84, break_long_words=False, break_on_hyphens=False) or [""])]
            lines.extend((("Bot  ◂ " if i == 0 else "       ") + line).rstrip() for i, line in enumerate(shown))
            lines.extend(f"       [ {b} ]" for b in event.buttons)  # one button a row, as in Telegram
        lines.append("")
    lines.append("```")
    TRANSCRIPT.parent.mkdir(exist_ok=True)
    TRANSCRIPT.write_text("\n".join(lines) + "\n", encoding="utf-8")


@slow
def test_live_handover_over_telegram_staff_replies_and_hands_back(world, api, kb):
    from bot.handover import queue
    from tests.console_session import ConsoleSession, add_staff

    stack = world["stack"]
    chat = Chat(api)
    reply = chat.say("jeg vil gerne tale med en medarbejder")
    assert "i køen" in plain("\n".join(texts(reply)))
    handover = queue.open_for(chat.sender, stack.database)
    assert handover is not None and handover.channel == "telegram"
    add_staff(stack.env, "tina", "reviewer")
    console = ConsoleSession(stack.console)
    console.sign_in("tina")
    assert f"/overtagelse/{handover.id}" in console.get("/overtagelse").text

    before = len(chat.messages())
    console.post(f"/overtagelse/{handover.id}/tag", {})
    joined = api.wait_for(lambda: [m for m in chat.messages()[before:] if "har overtaget samtalen" in plain(m.text)],
                          what="the joined message")
    assert "tina" not in plain(joined[0].text)  # staff's sign-in names are never shown to users
    console.post(f"/overtagelse/{handover.id}/svar", {"tekst": "Hej, det er Tina. Hvad drejer det sig om?"})
    answer = api.wait_for(lambda: [m for m in chat.messages() if "Hvad drejer det sig om?" in plain(m.text)],
                          what="the person's reply")
    assert plain(answer[0].text).startswith("👤 Medarbejder, Køge Kommune:")

    api.text(chat.id, "Vi skal have en byggetilladelse", chat.language_code)
    api.wait_for(lambda: "Vi skal have en byggetilladelse" in console.get(f"/overtagelse/{handover.id}").text,
                 what="the user's message in the console")
    assert not [m for m in chat.messages() if "byggetilladelse" in plain(m.text) and not is_echo(m)
                and "Vi skal have" not in plain(m.text)], "the assistant did not answer while a person had it"

    before = len(chat.messages())
    console.post(f"/overtagelse/{handover.id}/tilbage", {})
    api.wait_for(lambda: [m for m in chat.messages()[before:] if "forladt samtalen" in plain(m.text)],
                 what="the hand-back message")
    reply = chat.say("hvad er smv grøn?")
    assert kb.entries["ask_grant_smv_groen"].source in "".join(texts(reply)), "the assistant answers again"
    assert queue.open_for(chat.sender, stack.database) is None
