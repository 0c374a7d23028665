"""The channels (bot/channels) without the model: request bodies, message hygiene, the output
channel's payload, and a real Sanic server with the REST and socket.io channels whose
"assistant" echoes what it receives, with one worker and with two workers sharing Redis."""
from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import websockets

from bot import limits, settings
from bot.channels import body, hygiene, identity
from bot.channels.socketio import SocketIOOutput, WorkerRedisManager, client_manager
from tests.support import rest
from tests.support.process import Process, http_ok
from tests.support.stack import free_port

ORIGIN = "http://widget.example"
CPR = "010190-1234"
BRIDGE_TOKEN = "bridge-" + uuid.uuid4().hex
SESSION_SECRET = "widget-" + uuid.uuid4().hex
BRIDGE = {identity.BRIDGE_HEADER: BRIDGE_TOKEN}

# ---- request bodies ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"[]", b"null", b'"hej"', b"5", b"true", b"[{}]"])
def test_json_that_is_not_an_object_is_refused(raw):
    with pytest.raises(body.BodyError) as refused:
        body.parse_object(raw, 1000)
    assert refused.value.status == 400


@pytest.mark.parametrize("raw", [b"[" * 5000, b'{"a":' * 20 + b"1" + b"}" * 20, b"{" * 100_000])
def test_deep_nesting_is_refused(raw):
    with pytest.raises(body.BodyError) as refused:
        body.parse_object(raw, 1_000_000)
    assert refused.value.status == 400


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b'{"a": "\xe6"}', b'{"a": NaN}', b'{"a": Infinity}',
                                 b'{"a": ' + b"1" * 5000 + b"}", b"{", b"", b"\xef\xbb\xbf{}"])
def test_what_is_not_utf8_json_is_refused(raw):
    with pytest.raises(body.BodyError) as refused:
        body.parse_object(raw, 1_000_000)
    assert refused.value.status == 400


def test_size_charset_and_compression_are_checked():
    assert body.parse_object(b'{"a": [1, {"b": "\xc3\xa6"}]}', 100) == {"a": [1, {"b": "æ"}]}
    with pytest.raises(body.BodyError) as too_big:
        body.parse_object(b'{"a": "' + b"x" * 200 + b'"}', 100)
    assert too_big.value.status == 413
    for content_type, encoding, length in (("application/json; charset=x-nope", None, None),
                                           ("application/json; charset=latin-1", None, None),
                                           ("application/json", "gzip", None),
                                           ("application/json", "deflate, identity", None)):
        with pytest.raises(body.BodyError) as refused:
            body.check_headers(content_type, encoding, length, 100)
        assert refused.value.status == 415
    with pytest.raises(body.BodyError) as announced:
        body.check_headers("application/json", None, "101", 100)
    assert announced.value.status == 413
    body.check_headers('application/json; charset="UTF-8"', "identity", "100", 100)
    body.check_headers(None, None, None, 100)


# ---- hygiene ----------------------------------------------------------------------------


def test_controls_and_invisible_direction_marks_are_removed_newlines_and_tabs_stay():
    cleaned = hygiene.clean("hej\x00\x07 med\tdig\r\nny linje\u202e\ufeff \x1b[31m")
    assert cleaned == hygiene.Cleaned("hej med\tdig\nny linje [31m")


def test_lone_surrogates_become_replacement_characters():
    cleaned = hygiene.clean("a\ud800b \U0001F600")
    assert cleaned.text == "a\ufffdb \U0001F600"
    cleaned.text.encode("utf-8")  # storable


def test_long_messages_are_cut_with_a_note(monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "10")
    assert hygiene.clean("x" * 100_000) == hygiene.Cleaned("x" * 10, (hygiene.CUT,))
    assert hygiene.clean("kort") == hygiene.Cleaned("kort")


def test_cpr_numbers_are_masked_before_the_cut():
    cleaned = hygiene.clean(f"Mit CPR er {CPR}", max_chars=14)
    assert CPR not in cleaned.text and "1234" not in cleaned.text
    assert cleaned.notes == (hygiene.CPR, hygiene.CUT)


@pytest.mark.parametrize("sender, valid", [
    ("a", True), ("telegram:123", True), ("telegram:-100123", True), ("x" * 128, True), ("s-AZ_09", True),
    ("ø æ", False), ("", False), ("x" * 129, False), ("a\x00", False), ("a\n", False), (" a", False),
    ("a\u202e", False), ("x/../telegram:123", False), ("..", False), ("a.b", False), ("a/b", False),
    ("a%2Fb", False), ("a?b", False), ("a#b", False), ("telegram:12a", False), ("telegram:", False),
    (5, False), (None, False), (["a"], False),
])
def test_sender_ids_are_of_a_plain_alphabet(sender, valid):
    assert identity.valid(sender) is valid


def test_each_namespace_belongs_to_its_channel(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BRIDGE_TOKEN", "bridge-secret")
    assert identity.rest_problem("s-1", "rest", bridge=False) is None
    assert identity.rest_problem("telegram:1", "telegram", bridge=True) is None
    for sender, channel, bridge in (("telegram:1", "rest", False), ("telegram:1", "telegram", False),
                                    ("s-1", "telegram", False), ("web-" + "a" * 32, "rest", False),
                                    ("s-1", "telegram", True), ("telegram:1", "rest", True),
                                    ("x/../telegram:1", "rest", False)):
        assert identity.rest_problem(sender, channel, bridge), (sender, channel, bridge)
    assert identity.is_bridge("bridge-secret") and not identity.is_bridge("bridge-secreT")
    assert not identity.is_bridge("") and not identity.is_bridge(None)


def test_a_web_session_token_proves_only_its_own_session(monkeypatch):
    monkeypatch.setenv("WIDGET_SESSION_SECRET", "k1")
    mine, other = identity.new_web_session(), identity.new_web_session()
    assert identity.is_web_session(mine) and mine != other
    token = identity.session_token(mine)
    assert identity.owns(mine, token)
    assert not identity.owns(other, token) and not identity.owns(mine, None) and not identity.owns(mine, "")
    assert not identity.owns("telegram:1", identity.session_token("telegram:1"))  # not a web session
    monkeypatch.setenv("WIDGET_SESSION_SECRET", "k2")
    assert not identity.owns(mine, token)  # the key makes the token


def test_client_address_believes_forwarded_for_only_from_trusted_proxies(monkeypatch):
    assert hygiene.client_address("127.0.0.1", None) is None  # a local service: no per-client limit
    assert hygiene.client_address("::1", "") is None
    assert hygiene.client_address("127.0.0.1", "203.0.113.9, 198.51.100.7") == "198.51.100.7"
    assert hygiene.client_address("198.51.100.7", "203.0.113.9") == "198.51.100.7"
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5")
    assert hygiene.client_address("10.0.0.5", "203.0.113.9") == "203.0.113.9"


def test_notes_follow_the_message_language_else_danish():
    assert hygiene.language("What grants are there for my company?") == "en"
    assert hygiene.language("Hvad koster det?") == "da"
    assert hygiene.language("010190", known="en") == "en"
    assert hygiene.language("") == "da"
    for name in (hygiene.CUT, hygiene.CPR, hygiene.SLOW_DOWN, hygiene.ERROR):
        danish, english = hygiene.note(name, "da"), hygiene.note(name, "en")
        assert danish and english and danish != english and "{" not in danish + english
    assert str(settings.integer("MAX_MESSAGE_CHARS")) in hygiene.note(hygiene.CUT, "da")


def test_conversation_language_comes_from_the_tracker_and_failures_mean_unknown():
    class Tracker:
        def get_slot(self, name):
            return "en" if name == "language" else None

    class Store:
        async def retrieve(self, sender_id):
            return Tracker() if sender_id == "known" else None

    class App:
        class ctx:  # noqa: N801 - Sanic's app.ctx
            class agent:  # noqa: N801
                tracker_store = Store()

    assert asyncio.run(hygiene.notes_language(App, "known", "010190")) == "en"
    assert asyncio.run(hygiene.notes_language(App, "new", "010190")) == "da"
    assert asyncio.run(hygiene.notes_language(None, "known", "010190")) == "da"
    assert asyncio.run(hygiene.notes_language(App, "known", "Hvad koster det?")) == "da"


# ---- the socket.io output channel -------------------------------------------------------


class FakeServer:
    """Records what the output channel emits, as python-socketio's AsyncServer would send it."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict, str]] = []

    async def emit(self, event, data, room=None, **_):
        self.emitted.append((event, data, room))


def test_output_channel_sends_the_kind_and_response_of_each_part():
    server = FakeServer()
    output = SocketIOOutput(server, "bot_uttered")
    message = {"text": "Svar.\n\nLæs mere: https://koege.dk", "buttons": [{"title": "Mere", "payload": "/more"}],
               "kind": "answer", "utter_action": "utter_x", "timestamp": 1.0}
    asyncio.run(output.send_response("room-1", dict(message)))
    assert server.emitted == [
        ("bot_uttered", {"text": "Svar.", "quick_replies": [], "kind": "answer", "response": "utter_x"}, "room-1"),
        ("bot_uttered", {"text": "Læs mere: https://koege.dk", "kind": "answer", "response": "utter_x",
                         "quick_replies": [{"content_type": "text", "title": "Mere", "payload": "/more"}]},
         "room-1"),
    ]
    server.emitted.clear()
    asyncio.run(output.send_response("room-1", {"text": "Hvad er dit CVR-nummer?", "utter_action": "utter_ask_cvr"}))
    asyncio.run(output.send_response("room-1", {"text": "Vælg", "quick_replies": [{"title": "A", "payload": "/a"}],
                                                "kind": "answer"}))
    asyncio.run(output.send_notice("room-1", "Bemærk"))
    assert [data.get("kind") for _, data, _ in server.emitted] == [None, "answer", "notice"]
    assert server.emitted[0][1]["response"] == "utter_ask_cvr"


def test_redis_client_manager_only_with_a_redis_lock_store(monkeypatch):
    monkeypatch.setenv("LOCK_STORE_TYPE", "in_memory")
    assert client_manager() is None
    monkeypatch.setenv("LOCK_STORE_TYPE", "redis")
    monkeypatch.setenv("REDIS_DB", "7")
    manager = client_manager()
    assert isinstance(manager, WorkerRedisManager) and manager.channel == "koege-socketio-7"


# ---- a real server with both channels ---------------------------------------------------

APP = '''
import datetime as dt, json, os, sys
from sanic import Sanic, response
from bot import answers
from bot.channels.rest import RestInput
from bot.channels.socketio import SocketIOInput

app = Sanic("channel_test")
rest, sio = RestInput(), SocketIOInput(session_persistence=True)

async def on_new_message(message):
    if message.text == "boom":
        raise RuntimeError("boom")
    if message.text == "answer":  # a factual answer, as Rasa hands the action's message on
        answer = answers.Answer("Svar.\\n\\nMed to afsnit.", answers.Source("https://koege.dk/a", dt.date(2026, 11, 22)),
                                contacts=(answers.Contact("Køge Kommune", address="Torvet 1, 4600 Køge"),))
        sent = answers.message(answer, [{"title": "Mere", "payload": "/more"}])
        await message.output_channel.send_response(message.sender_id, {**sent, "timestamp": 1.0})
        return
    echo = json.dumps({"text": message.text, "channel": message.input_channel, "metadata": message.metadata})
    await message.output_channel.send_text_message(message.sender_id, echo, kind="answer")

app.blueprint(rest.blueprint(on_new_message), url_prefix="/webhooks/rest")
app.blueprint(sio.blueprint(on_new_message), url_prefix="/webhooks/socketio")

@app.post("/emit/<room>")
async def emit(request, room):
    await sio.get_output_channel().send_text_message(room, "ping")
    return response.json({"pid": os.getpid()})

app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=int(sys.argv[2]), access_log=False)
'''


class ChannelServer:
    def __init__(self, folder: Path, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        script = folder / f"channel_app_{self.port}.py"
        script.write_text(APP)
        self.log = folder / f"channel_app_{self.port}.log"
        # PYTHONPATH: the script lives in a temporary folder, so without it ``bot`` would be
        # whatever checkout the virtual environment's editable install points to
        environment = {**os.environ, "PYTHONPATH": str(settings.ROOT), "RASA_CORS": ORIGIN, "RATE_LIMIT_STORE": "memory",
                       "TELEGRAM_BRIDGE_TOKEN": BRIDGE_TOKEN, "WIDGET_SESSION_SECRET": SESSION_SECRET, **env}
        self.process = Process("the channel test app", [sys.executable, str(script), str(self.port), str(workers)],
                               log=self.log, env=environment).start()
        try:
            self.process.wait_until(lambda: http_ok(self.url + "/webhooks/rest/"), 60, "the channel test app",
                                    interval=0.3)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.process.stop(timeout=20)

    def post(self, data, stream: bool = False, **kwargs) -> requests.Response:
        url = self.url + rest.WEBHOOK + ("?stream=true" if stream else "")
        if isinstance(data, (bytes, str)):
            return requests.post(url, data=data, timeout=10, **kwargs)
        return requests.post(url, json=data, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ChannelServer]:
    running = ChannelServer(tmp_path_factory.mktemp("channels"), RATE_LIMIT_MESSAGES="5",
                            RATE_LIMIT_CLIENT="8", MAX_MESSAGE_CHARS="1500")
    yield running
    running.stop()


def echoed(reply: requests.Response) -> list[dict]:
    return [json.loads(m["text"]) for m in reply.json() if m["text"].startswith("{")]


@pytest.mark.parametrize("data", [
    b"[]", b"null", b'"hej"', b"5", b"[" * 5000, b"{", b"\xff\xfe", b"",
    {"message": "hej"}, {"sender": 5, "message": "hej"}, {"sender": "", "message": "hej"},
    {"sender": "x" * 129, "message": "hej"}, {"sender": "a\u0000b", "message": "hej"},
    {"sender": "a", "message": 5}, {"sender": "a", "message": None}, {"sender": "a"},
    {"sender": "a", "message": ["hej"]}, {"sender": "a", "message": "hej", "input_channel": "socketio"},
    {"sender": "a", "message": "hej", "input_channel": 5}, {"sender": "a", "message": "hej", "metadata": []},
    {"sender": "a", "message": "hej", "metadata": {"x": "y" * 3000}},
])
@pytest.mark.parametrize("stream", [False, True])
def test_rest_refuses_bad_bodies_with_400_and_a_short_json_error(server, data, stream):
    reply = server.post(data, stream=stream)
    assert reply.status_code == 400
    assert isinstance(reply.json()["error"], str)


def test_rest_refuses_compressed_bodies_other_charsets_and_large_bodies(server):
    good = json.dumps({"sender": "s-" + uuid.uuid4().hex, "message": "hej"}).encode()
    compressed = server.post(gzip.compress(good), headers={"Content-Encoding": "gzip",
                                                           "Content-Type": "application/json"})
    assert compressed.status_code == 415 and "compressed" in compressed.json()["error"]
    for charset in ("x-nope", "latin-1", "utf-16"):
        reply = server.post(good, headers={"Content-Type": f"application/json; charset={charset}"})
        assert reply.status_code == 415
    large = {"sender": "a", "message": "x" * 300_000}
    assert server.post(large).status_code == 413
    huge = b'{"sender": "a", "message": "' + b"x" * 2_000_000 + b'"}'
    assert server.post(huge).status_code == 413  # Sanic's own limit, lowered from 100 MB to 1 MB


def test_rest_passes_a_good_message_on_in_the_rasa_format(server):
    sender = "telegram:" + str(uuid.uuid4().int % 10**12)
    reply = server.post({"sender": sender, "message": "Hej", "input_channel": "telegram",
                         "metadata": {"chat": 1}, "other": "ignored"}, headers=BRIDGE)
    assert reply.status_code == 200
    assert reply.json()[0]["recipient_id"] == sender
    assert echoed(reply) == [{"text": "Hej", "channel": "telegram", "metadata": {"chat": 1}}]
    sender = "s-" + uuid.uuid4().hex
    # the README's curl example sends no Content-Type header of JSON
    plain = server.post(json.dumps({"sender": sender, "message": "Hej"}),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert echoed(plain)[0]["channel"] == "rest"


ANSWER_TEXT = ("Svar.\n\nMed to afsnit.\n\nKontakt: Køge Kommune, Torvet 1, 4600 Køge\n"
               "Kilde: [koege.dk](https://koege.dk/a) (kontrolleret 22. november 2026)")


@pytest.mark.parametrize("stream", [False, True])
def test_rest_answers_a_factual_answer_with_one_message_and_its_parts(server, stream):
    reply = server.post({"sender": "s-" + uuid.uuid4().hex, "message": "answer"}, stream=stream)
    messages = ([json.loads(line) for line in reply.text.splitlines() if line.strip()] if stream
                else reply.json())
    [message] = messages
    assert message["text"] == ANSWER_TEXT and message["buttons"] == [{"title": "Mere", "payload": "/more"}]
    parts = message["custom"]["answer"]
    assert parts["body"] == "Svar.\n\nMed to afsnit." and parts["footer"] == ANSWER_TEXT.split("\n\n")[-1].split("\n")
    assert parts["contacts"] == [{"name": "Køge Kommune", "email": None, "phone": None, "phone_hours": None,
                                  "address": "Torvet 1, 4600 Køge", "url": None}]


@pytest.mark.parametrize("stream", [False, True])
def test_rest_refuses_another_channels_ids_without_its_proof(server, stream):
    """Nobody but the Telegram bridge may write into a Telegram user's conversation (a chat id
    is not secret), and nobody may name a web widget's conversation or an id with dot segments."""
    victim = "telegram:" + str(uuid.uuid4().int % 10**12)
    forged = [
        ({"sender": victim, "message": "Jeg vil tale med en person"}, {}),
        ({"sender": victim, "message": "hej", "input_channel": "telegram"}, {}),
        ({"sender": victim, "message": "hej", "input_channel": "telegram"},
         {identity.BRIDGE_HEADER: BRIDGE_TOKEN + "x"}),
        ({"sender": "s-1", "message": "hej", "input_channel": "telegram"}, {}),
        ({"sender": "x/../" + victim, "message": "hej"}, {}),
        ({"sender": "x/..", "message": "hej"}, {}),
        ({"sender": "web-" + uuid.uuid4().hex, "message": "hej"}, {}),
        # the bridge itself speaks only for Telegram ids on the Telegram channel
        ({"sender": "s-1", "message": "hej", "input_channel": "telegram"}, BRIDGE),
        ({"sender": victim, "message": "hej"}, BRIDGE),
    ]
    for data, headers in forged:
        reply = server.post(data, stream=stream, headers=headers)
        assert reply.status_code == 400, data
        assert isinstance(reply.json()["error"], str)
    proved = server.post({"sender": victim, "message": "hej", "input_channel": "telegram"},
                         stream=stream, headers=BRIDGE)
    assert proved.status_code == 200


def test_rest_stream_ends_even_when_the_assistant_fails(server):
    sender = "s-" + uuid.uuid4().hex
    good = server.post({"sender": sender, "message": "Hej"}, stream=True)
    assert good.status_code == 200
    assert [json.loads(json.loads(line)["text"])["text"] for line in good.text.splitlines()] == ["Hej"]
    failed = server.post({"sender": sender, "message": "boom"}, stream=True)
    assert failed.status_code == 200 and failed.text == ""
    polite = server.post({"sender": sender, "message": "boom"})
    assert polite.status_code == 200
    assert polite.json() == [{"recipient_id": sender, "text": hygiene.note(hygiene.ERROR, "da")}]


def test_rest_masks_cpr_numbers_cleans_and_cuts_with_notes_first(server):
    sender = "s-" + uuid.uuid4().hex
    reply = server.post({"sender": sender, "message": f"Mit CPR er {CPR}\x00 \u202e" + " tak" * 1000})
    messages = reply.json()
    assert messages[0]["text"] == hygiene.note(hygiene.CPR, "da")
    assert messages[1]["text"] == hygiene.note(hygiene.CUT, "da")
    text = echoed(reply)[0]["text"]
    assert CPR not in text and "[CPR fjernet]" in text and "\x00" not in text and "\u202e" not in text
    assert len(text) <= 1500
    english = server.post({"sender": sender, "message": f"My CPR number is {CPR}, what is the deadline?"})
    assert english.json()[0]["text"] == hygiene.note(hygiene.CPR, "en")
    streamed = server.post({"sender": sender, "message": f"Mit CPR er {CPR}"}, stream=True)
    lines = [json.loads(line)["text"] for line in streamed.text.splitlines()]
    assert lines[0] == hygiene.note(hygiene.CPR, "da") and CPR not in streamed.text


def test_rest_rate_limits_per_conversation_and_per_client(server):
    sender = "s-" + uuid.uuid4().hex
    codes = [server.post({"sender": sender, "message": "hej"}).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    slow = server.post({"sender": sender, "message": "hej"})
    assert slow.status_code == 429 and slow.headers["Retry-After"] == "60"
    assert slow.json() == [{"recipient_id": sender, "text": hygiene.note(hygiene.SLOW_DOWN, "da")}]
    assert server.post({"sender": "s-" + uuid.uuid4().hex, "message": "hej"}).status_code == 200

    client = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250}"}
    codes = [server.post({"sender": "s-" + uuid.uuid4().hex, "message": "hej"}, headers=client).status_code
             for _ in range(9)]
    assert codes == [200] * 8 + [429]
    # loopback without a proxy's header is a local service (the Telegram bridge): no per-client limit
    assert all(server.post({"sender": "s-" + uuid.uuid4().hex, "message": "hej"}).status_code == 200
               for _ in range(10))


# ---- socket.io --------------------------------------------------------------------------


class Widget:
    """A socket.io client that speaks to the channel as the widget does: WebSocket transport,
    Engine.IO 4 / Socket.IO 5 packets by hand (python-socketio's asyncio client needs aiohttp
    3.10, and Rasa pins aiohttp below that)."""

    def __init__(self, url: str, session: str | None = None, token: str | None = None,
                 origin: str = ORIGIN) -> None:
        """``session`` and ``token``: the conversation to resume (else the server draws one)."""
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.session, self.token = session, token
        self.origin = origin
        self.events: asyncio.Queue = asyncio.Queue()
        self.ws = None
        self.reader: asyncio.Task | None = None

    async def __aenter__(self) -> Widget:
        self.ws = await websockets.connect(self.url, origin=self.origin, open_timeout=10)
        assert (await asyncio.wait_for(self.ws.recv(), 10)).startswith("0{")  # engine.io open
        await self.ws.send("40")  # socket.io connect to the default namespace
        assert (await asyncio.wait_for(self.ws.recv(), 10)).startswith("40")
        self.reader = asyncio.create_task(self._read())
        await self.emit("session_request", {"session_id": self.session, "session_token": self.token})
        self.session, self.token = await self.next_event("session_confirm")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.reader:
            self.reader.cancel()
        await self.ws.close()

    async def _read(self) -> None:
        async for packet in self.ws:
            if packet == "2":  # engine.io ping
                await self.ws.send("3")
            elif packet.startswith("42"):
                event, *args = json.loads(packet[2:])
                await self.events.put((event, args[0] if len(args) == 1 else (args or None)))

    async def emit(self, event: str, *args) -> None:
        await self.ws.send("42" + json.dumps([event, *args]))

    async def say(self, text: str) -> None:
        await self.emit("user_uttered", {"message": text, "session_id": self.session})

    async def next_event(self, name: str, timeout: float = 10):
        while True:
            event, data = await asyncio.wait_for(self.events.get(), timeout)
            if event == name:
                return data

    async def next(self, timeout: float = 10) -> dict:
        return await self.next_event("bot_uttered", timeout)

    async def nothing(self, wait: float = 1.0) -> bool:
        await asyncio.sleep(wait)
        return self.events.empty()


def test_socketio_offers_websocket_only_and_checks_the_origin(server):
    polling = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": ORIGIN},
                           timeout=10)
    assert polling.status_code == 400

    async def connect(origin: str) -> bool:
        try:
            async with Widget(server.url, origin=origin):
                return True
        except websockets.exceptions.InvalidStatusCode as refused:
            assert refused.status_code == 400
            return False

    assert asyncio.run(connect(ORIGIN)) is True
    assert asyncio.run(connect("https://evil.example")) is False


def test_socketio_draws_the_conversation_and_resumes_it_only_with_its_token(server):
    async def conversation() -> tuple[str, str, str, str, str, bool]:
        async with Widget(server.url) as first:
            drawn, token = first.session, first.token
            await first.say("hej")
            assert json.loads((await first.next())["text"])["text"] == "hej"
        async with Widget(server.url, session=drawn, token=token) as reload:
            resumed = reload.session
        async with Widget(server.url, session=drawn) as thief:  # knows the id, not the token
            stolen = thief.session
            await thief.say("skriv i den andens samtale")
            await thief.next()
        async with Widget(server.url, session=drawn, token=identity.session_token(drawn, b"guess")) as guess:
            guessed = guess.session
        # a message naming another conversation than the connection's own is ignored
        async with Widget(server.url) as other:
            await other.emit("user_uttered", {"message": "hej", "session_id": drawn})
            quiet = await other.nothing(0.5)
        return drawn, token, resumed, stolen, guessed, quiet

    drawn, token, resumed, stolen, guessed, quiet = asyncio.run(conversation())
    assert identity.is_web_session(drawn) and identity.owns(drawn, token, SESSION_SECRET.encode())
    assert resumed == drawn
    assert stolen != drawn and guessed != drawn and identity.is_web_session(stolen)
    assert quiet


@pytest.mark.parametrize("asked", ["telegram:123", "x/../telegram:123", "a b", "../etc"])
def test_socketio_refuses_another_channels_id_with_400(server, asked):
    async def conversation() -> tuple[dict, bool]:
        widget = Widget(server.url)
        widget.ws = await websockets.connect(widget.url, origin=ORIGIN, open_timeout=10)
        try:
            await widget.ws.recv()
            await widget.ws.send("40")
            await widget.ws.recv()
            widget.reader = asyncio.create_task(widget._read())
            await widget.emit("session_request", {"session_id": asked})
            refused = await widget.next_event("session_error")
            await widget.emit("user_uttered", {"message": "hej", "session_id": asked})
            return refused, await widget.nothing(0.5)
        finally:
            widget.reader.cancel()
            await widget.ws.close()

    refused, quiet = asyncio.run(conversation())
    assert refused["status"] == 400 and "session_id" in refused["error"]
    assert quiet  # no conversation was opened, so the message went nowhere


def test_socketio_cleans_messages_sends_notes_and_the_kind(server):
    async def conversation() -> list[dict]:
        async with Widget(server.url) as widget:
            await widget.say(f"Mit CPR er {CPR}\x07")
            return [await widget.next(), await widget.next()]

    note, answer = asyncio.run(conversation())
    assert note == {"text": hygiene.note(hygiene.CPR, "da"), "kind": "notice", "response": None}
    assert answer["kind"] == "answer"
    assert json.loads(answer["text"]) == {"text": "Mit CPR er [CPR fjernet]", "channel": "socketio",
                                          "metadata": {}}


def test_socketio_sends_a_factual_answer_as_one_message_with_its_parts(server):
    async def conversation() -> tuple[dict, bool]:
        async with Widget(server.url) as widget:
            await widget.say("answer")
            return await widget.next(), await widget.nothing(0.5)

    answer, alone = asyncio.run(conversation())
    assert alone, "one bot_uttered, not one per paragraph and another for the custom payload"
    assert answer["text"] == ANSWER_TEXT and answer["kind"] == "answer"
    assert answer["quick_replies"] == [{"content_type": "text", "title": "Mere", "payload": "/more"}]
    assert answer["custom"]["answer"]["body"] == "Svar.\n\nMed to afsnit."


def test_socketio_ignores_malformed_events(server):
    async def conversation() -> tuple[bool, dict]:
        async with Widget(server.url) as widget:
            await widget.emit("user_uttered")
            for data in ("hej", None, 5, [], {"message": 5, "session_id": widget.session},
                         {"message": "hej"}, {"message": "hej", "session_id": "x" * 200},
                         {"message": "hej", "session_id": widget.session, "metadata": "{not json"}):
                await widget.emit("user_uttered", data)
            quiet = await widget.nothing(0.5)
            # the last one was used (its bad metadata dropped): one answer
            return quiet, await widget.next()

    quiet, answer = asyncio.run(conversation())
    assert not quiet and json.loads(answer["text"])["metadata"] == {}


def test_socketio_rate_limit_answers_politely(server):
    async def conversation() -> list[dict]:
        async with Widget(server.url) as widget:
            for _ in range(6):
                await widget.say("hej")
            return [await widget.next() for _ in range(6)]

    received = asyncio.run(conversation())
    assert [m["kind"] for m in received].count("notice") == 1
    assert {"text": hygiene.note(hygiene.SLOW_DOWN, "da"), "kind": "notice", "response": None} in received


# ---- two workers ------------------------------------------------------------------------


def test_two_workers_deliver_to_a_socket_held_by_either_one(tmp_path):
    """A message emitted on any worker (an HTTP request the kernel hands to either) reaches the
    browser's WebSocket, which only one of them holds: the Redis client manager at work."""
    redis.Redis(host="127.0.0.1", port=6379).ping()  # fails loudly when Redis is not running
    limits.reset()
    running = ChannelServer(tmp_path, workers=2, LOCK_STORE_TYPE="redis", REDIS_HOST="127.0.0.1",
                            REDIS_PORT="6379", REDIS_DB="3")
    try:
        async def conversation() -> tuple[set[int], list[str]]:
            async with Widget(running.url) as widget:
                await widget.say("hej")
                assert json.loads((await widget.next())["text"])["text"] == "hej"
                pids: list[int] = []
                # A new connection each time: either worker may take it. Under load the kernel can
                # hand many in a row to one worker, so go on until both have emitted.
                while len(pids) < 30 or (len(set(pids)) < 2 and len(pids) < 300):
                    reply = await asyncio.to_thread(requests.post, f"{running.url}/emit/{widget.session}",
                                                    timeout=10, headers={"Connection": "close"})
                    pids.append(reply.json()["pid"])
                texts = [(await widget.next())["text"] for _ in pids]
                return set(pids), texts

        pids, texts = asyncio.run(conversation())
        assert len(pids) == 2, "every emit went to one worker; the test proves nothing"
        assert texts == ["ping"] * len(texts)
    finally:
        running.stop()


# ---- the web server's /api/feedback (aiohttp, in this process) ----------------------------


def test_feedback_api_answers_bad_bodies_with_4xx_and_masks_cpr(tmp_path, monkeypatch):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.store import db, feedback
    from bot.web import server as web_server

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    monkeypatch.setenv("RATE_LIMIT_CLIENT", "3")
    monkeypatch.setenv("RATE_LIMIT_STORE", "memory")
    monkeypatch.setenv("WIDGET_SESSION_SECRET", SESSION_SECRET)
    limits.reset()
    db.migrate(url)
    sender = identity.new_web_session()
    good = {"sender_id": sender, "session_token": identity.session_token(sender), "bot_message": "Svar",
            "rating": "up"}
    other = identity.new_web_session()
    json_type = {"Content-Type": "application/json"}
    cases = [  # (body, headers, expected status)
        (json.dumps(good).encode(), {"Content-Type": "application/json; charset=x-nope"}, 415),
        (json.dumps(good).encode(), {"Content-Type": "application/json; charset=latin-1"}, 415),
        (gzip.compress(json.dumps(good).encode()), {**json_type, "Content-Encoding": "gzip"}, 415),
        (gzip.compress(b'{"a": "' + b"x" * 10_000_000 + b'"}'), {**json_type, "Content-Encoding": "gzip"}, 415),
        (b"[" * 5000, json_type, 400),
        (b'{"a":' * 50 + b"1" + b"}" * 50, json_type, 400),
        (b"[]", json_type, 400), (b"null", json_type, 400), (b'"x"', json_type, 400),
        (b"\xff\xfe\x00", json_type, 400), (b"{", json_type, 400),
        (json.dumps({**good, "sender_id": 5}).encode(), json_type, 400),
        (json.dumps({**good, "sender_id": "x" * 200}).encode(), json_type, 400),
        (json.dumps({**good, "rating": "maybe"}).encode(), json_type, 400),
        (json.dumps({**good, "comment": 5}).encode(), json_type, 400),
        (json.dumps({**good, "bot_message": "\x00\x01"}).encode(), json_type, 400),
        (b'{"a": "' + b"x" * 100_000 + b'"}', json_type, 413),
        (b"rating=up", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        # forged: a conversation the caller was not given
        (json.dumps({**good, "session_token": None}).encode(), json_type, 403),
        (json.dumps({**good, "sender_id": other}).encode(), json_type, 403),
        (json.dumps({**good, "session_token": identity.session_token(other)}).encode(), json_type, 403),
        (json.dumps({**good, "sender_id": "telegram:42",
                     "session_token": identity.session_token("telegram:42")}).encode(), json_type, 403),
        (json.dumps({**good, "sender_id": "x/../" + sender}).encode(), json_type, 400),
    ]

    async def run() -> None:
        async with TestClient(TestServer(web_server.create_app("http://localhost:5005"))) as client:
            for data, headers, status in cases:
                reply = await client.post("/api/feedback", data=data, headers=headers)
                assert reply.status == status, (data[:40], headers, await reply.text())
                assert "error" in await reply.json()
            stored = {**good, "bot_message": f"Svar\x00 om {CPR}", "comment": f"Mit CPR er {CPR}"}
            assert (await client.post("/api/feedback", json=stored)).status == 201
            # per client, for a client a proxy on this host names (loopback itself is not limited)
            proxied = {"X-Forwarded-For": "203.0.113.7"}
            statuses = [(await client.post("/api/feedback", json=good, headers=proxied)).status
                        for _ in range(4)]
            assert statuses == [201, 201, 201, 429]
            slow = await client.post("/api/feedback", json=good, headers=proxied)
            assert (await slow.json())["error"] == hygiene.note(hygiene.SLOW_DOWN, "da")

    asyncio.run(run())
    rows = [r for r in feedback.recent(url=url) if r.sender_id == good["sender_id"]]
    assert len(rows) == 4
    masked = [r for r in rows if r.comment]
    assert len(masked) == 1 and CPR not in masked[0].comment + masked[0].bot_message
    assert masked[0].bot_message == "Svar om [CPR fjernet]"
    db.engine(url).dispose()


def test_handover_end_api_ends_only_the_callers_own_conversations_handover(monkeypatch):
    """The widget's "Afslut samtalen med medarbejderen": the session token proves the
    conversation is the caller's (as for ratings); the handover service does the rest."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.handover import service
    from bot.web import server as web_server

    monkeypatch.setenv("WIDGET_SESSION_SECRET", SESSION_SECRET)
    monkeypatch.setenv("RATE_LIMIT_STORE", "memory")
    limits.reset()
    ended: list[str] = []
    outcome = {"value": True}

    async def end_by_user(sender: str, url: str | None = None) -> bool:
        if outcome["value"] is None:
            raise service.HandoverProblem("Assistenten kan ikke nås lige nu.")
        ended.append(sender)
        return outcome["value"]

    monkeypatch.setattr(service, "end_by_user", end_by_user)
    sender, other = identity.new_web_session(), identity.new_web_session()
    good = {"sender_id": sender, "session_token": identity.session_token(sender)}

    calls = [  # (body, what the service finds)
        (good, True),
        ({**good, "sender_id": other}, True),  # another conversation, this one's token
        ({**good, "session_token": None}, True),
        ({"sender_id": "telegram:42", "session_token": identity.session_token("telegram:42")}, True),
        ({**good, "sender_id": "x/../" + sender}, True),
        (good, False),  # nothing open
        (good, None),  # Rasa away
    ]

    async def run() -> list[tuple[int, dict]]:
        async with TestClient(TestServer(web_server.create_app("http://localhost:5005"))) as client:
            replies = []
            for body, found in calls:
                outcome["value"] = found
                reply = await client.post("/api/handover/end", json=body)
                replies.append((reply.status, await reply.json()))
            form = await client.post("/api/handover/end", data="sender_id=x")
            replies.append((form.status, await form.json()))
            return replies

    replies = asyncio.run(run())
    assert [status for status, _ in replies] == [200, 403, 403, 403, 400, 200, 503, 415]
    assert replies[0][1] == {"ended": True} and replies[5][1] == {"ended": False}
    assert "error" in replies[6][1]
    assert ended == [sender, sender]  # never another conversation


# ---- what docs/limits.md says about the pinned aiohttp ------------------------------------


def test_aiohttp_uses_its_c_http_parser():
    """The pure-Python parser has request-smuggling advisories (GHSA-8495-4g3g-x7pr and others)."""
    from aiohttp import http_parser

    assert http_parser.HttpRequestParser.__module__ == "aiohttp._http_parser"
    assert not os.environ.get("AIOHTTP_NO_EXTENSIONS")


def test_static_files_have_no_symlinks_or_compressed_variants():
    """GHSA-jwhx-xcg6-8xhj: compressed variants that are symbolic links escape the folder."""
    from bot.web.server import STATIC

    for path in STATIC.rglob("*"):
        assert not path.is_symlink(), path
        assert path.suffix not in (".gz", ".br"), path
