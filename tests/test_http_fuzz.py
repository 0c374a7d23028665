"""Anything sent to the running assistant's REST channel and /api/feedback gets a 4xx or a
polite reply: never a 500, never a hang; and the assistant still answers "Hej" afterwards.

One stack for the module (``python -m bot.cli run``, as ``make run`` starts it). Hypothesis draws
arbitrary JSON values, strings with control characters and lone surrogates, bytes that are not
UTF-8, 100,000-character messages, HTML/JS and SQL fragments and long sender ids; the number
of examples is bounded so the module runs in a few minutes.
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels import hygiene, identity
from tests.support import rest
from tests.support.stack import BotStack

TIMEOUT = (5, 60)  # connect, read: a hang fails the test
EXAMPLES = settings(max_examples=100, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CPR = "010190-1234"

ATTACKS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
    "'; DROP TABLE events; --", "\" OR 1=1 --", "1; SELECT pg_sleep(10)", "{{7*7}}", "${jndi:ldap://x/a}",
    "../../../../etc/passwd", "%00%0d%0a", "/restart", "/request_human", '/book_visit{"cvr": "x"}',
    "mandag 1/1 " * 3000, "x" * 100_000, "æøå " * 25_000, "\u202e\u0000\u0007\ufeff",
]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
#: any code point, control characters and lone surrogates included
wild_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()),
                    max_size=300)
messages = wild_text | st.sampled_from(ATTACKS) | json_values
senders = (st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=40)
           | wild_text | st.text(min_size=129, max_size=2000) | json_values)
#: ids of the REST channel's own namespace (docs/security.md): what a REST client may name
good_senders = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,39}", fullmatch=True).filter(
    lambda sender: not sender.startswith("web-"))
#: the widget's session key of the stack under test (set by the ``bot`` fixture)
SESSION_KEY: list[bytes] = []
texts = wild_text | st.sampled_from(ATTACKS)


@st.composite
def rest_bodies(draw) -> bytes:
    """Mostly messages the channel passes on to Rasa (wild text from plausible senders), and
    every other kind of body: any JSON object, any JSON value, any bytes, broken UTF-8."""
    kind = draw(st.sampled_from(["message"] * 3 + ["object", "value", "bytes", "broken utf-8"]))
    if kind == "message":
        data = {"sender": draw(good_senders), "message": draw(texts)}
        extras = (("input_channel", st.just("rest")),
                  ("metadata", st.dictionaries(st.text(max_size=8), json_scalars, max_size=3)))
    elif kind == "object":
        data = {"sender": draw(senders), "message": draw(messages)}
        extras = (("input_channel", st.sampled_from(["rest", "telegram", "socketio", 5, None])),
                  ("metadata", json_values))
    if kind in ("message", "object"):
        for key, values in extras:
            if draw(st.booleans()):
                data[key] = draw(values)
        return json.dumps(data).encode()  # lone surrogates become \\udxxx escapes
    if kind == "value":
        return json.dumps(draw(json_values)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=3000))
    return (b'{"sender": "fuzz-' + uuid.uuid4().hex.encode() + b'", "message": "'
            + draw(st.binary(min_size=1, max_size=200)).replace(b'"', b"").replace(b"\\", b"") + b'"}')


@st.composite
def feedback_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["rating", "rating", "wild", "other"]))
    if kind == "other":
        return draw(rest_bodies())
    if kind == "rating":  # the widget's own conversation, with the token the chat gave it
        sender = identity.new_web_session()
        data = {"sender_id": sender, "session_token": identity.session_token(sender, SESSION_KEY[0]),
                "bot_message": draw(texts), "rating": draw(st.sampled_from(["up", "down"]))}
    else:
        data = {"sender_id": draw(senders), "bot_message": draw(messages),
                "rating": draw(st.sampled_from(["up", "down", "UP", "", 5, None]))}
    if draw(st.booleans()):
        data["comment"] = draw(texts if kind == "rating" else messages)
    return json.dumps(data).encode()


content_types = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=x-nope",
    "application/json; charset=latin-1", "text/plain", "application/x-www-form-urlencoded", "",
])


@pytest.fixture(scope="module")
def bot(shared_stack: BotStack) -> BotStack:
    """tests/conftest.py's shared stack, whose rate limits (1000 a minute) the fuzzing stays under."""
    assert int(shared_stack.env["RATE_LIMIT_MESSAGES"]) >= 1000 and int(shared_stack.env["RATE_LIMIT_CLIENT"]) >= 1000
    SESSION_KEY[:] = [(shared_stack.var / "widget-session-key").read_text().strip().encode()]
    return shared_stack


#: (endpoint, status) -> how often, over the property tests: they must reach the assistant too
STATUSES: Counter[tuple[str, int]] = Counter()


def no_server_error(reply: requests.Response, endpoint: str = "") -> None:
    STATUSES[endpoint, reply.status_code] += 1
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    if reply.status_code >= 400:
        data = reply.json()
        if reply.status_code == 429:
            assert data[0]["text"] if isinstance(data, list) else data["error"]
        else:
            assert isinstance(data["error"], str)


def answers_hej(stack: BotStack) -> None:
    text, _ = stack.say("Hej", "after-" + uuid.uuid4().hex)
    assert "chatbot" in text


def test_the_faults_seen_before_are_gone(bot):
    for data in (b"[]", b"null", b'"hej"', b"[" * 5000):
        assert requests.post(bot.rasa + rest.WEBHOOK, data=data, timeout=TIMEOUT).status_code == 400
    hanging = rest.post(bot.rasa, "a", 5, stream=True, timeout=TIMEOUT)
    assert hanging.status_code == 400
    feedback = f"{bot.web}/api/feedback"
    good = json.dumps({"sender_id": "a", "bot_message": "b", "rating": "up"})
    assert requests.post(feedback, data=good, timeout=TIMEOUT,
                         headers={"Content-Type": "application/json; charset=x-nope"}).status_code == 415
    assert requests.post(feedback, data=b"[" * 5000, timeout=TIMEOUT,
                         headers={"Content-Type": "application/json"}).status_code == 400
    answers_hej(bot)


@EXAMPLES
@given(data=rest_bodies(), stream=st.booleans(), content_type=content_types)
def test_rest_channel_never_fails(bot, data, stream, content_type):
    reply = requests.post(bot.rasa + rest.WEBHOOK + ("?stream=true" if stream else ""),
                          data=data, headers={"Content-Type": content_type}, timeout=TIMEOUT)
    no_server_error(reply, "rest")


@EXAMPLES
@given(data=feedback_bodies(), content_type=st.just("application/json") | content_types)
def test_feedback_api_never_fails(bot, data, content_type):
    reply = requests.post(f"{bot.web}/api/feedback", data=data, headers={"Content-Type": content_type},
                          timeout=TIMEOUT)
    no_server_error(reply, "feedback")


def test_long_and_hostile_messages_get_a_polite_answer(bot):
    sender = "long-" + uuid.uuid4().hex
    reply = rest.post(bot.rasa, sender, "Hvad koster det? " + "x" * 100_000, timeout=TIMEOUT)
    assert reply.status_code == 200
    assert reply.json()[0]["text"] == hygiene.note(hygiene.CUT, "da")
    assert len(reply.json()) > 1  # and the assistant's answer
    for attack in ATTACKS[:6]:
        no_server_error(rest.post(bot.rasa, sender, attack, timeout=TIMEOUT))


def test_a_cpr_number_is_masked_the_user_warned_and_nothing_stored(bot):
    sender = "cpr-" + uuid.uuid4().hex
    reply = rest.post(bot.rasa, sender, f"Mit CPR er {CPR}", timeout=TIMEOUT)
    assert reply.status_code == 200 and reply.json()[0]["text"] == hygiene.note(hygiene.CPR, "da")
    assert CPR not in reply.text
    with sqlite3.connect(bot.tracker) as db:
        stored = [row[0] for row in db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))]
    assert stored and "[CPR fjernet]" in " ".join(stored)
    with sqlite3.connect(bot.tracker) as db:
        everything = " ".join(str(v) for row in db.execute("SELECT * FROM events") for v in row)
    assert CPR not in everything and "0101901234" not in everything
    for log in (bot.log, bot.folder / "rasa.log"):
        assert not log.exists() or CPR not in log.read_text(errors="replace")


def test_the_assistant_answers_normally_afterwards(bot):
    answers_hej(bot)
    if STATUSES:  # the property tests ran in this session: much of what they sent got through
        assert STATUSES["rest", 200] >= 15 and STATUSES["feedback", 201] >= 5, STATUSES
