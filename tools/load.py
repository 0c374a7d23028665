"""The benchmark's load generator: multi-turn conversations on Rasa's REST channel
(``POST /webhooks/rest/webhook``), ``concurrency`` at a time, each with its own sender id.

Each of ``concurrency`` workers plays one conversation after another (no pause between a
reply and the next message: the figures are the server's, not a user's typing) until the
budget (a duration, a number of messages or of conversations) is used up; a conversation
cut off by the budget is not counted as finished. The kinds of conversation follow
:data:`MIX` in turn — 40 % Danish questions, 20 % English, 20 % a clarification, 20 % a whole
booking of a company visit — so every server gets the same conversations in the same order.

What counts:

- **errors**: no usable reply — an HTTP status other than 200, a timeout, a broken connection,
  a body that is not Rasa's list of messages, or an empty reply. The conversation stops there.
- **wrong answers**: a reply that lacks what the step expects (``expect``: any of some words),
  and a booking that does not end with a reference ``KB-YYYY-XXXXXX``. Rasa's default
  configuration answers some messages worse than the project; that is counted here, apart
  from the errors, and the conversation goes on.
- latency of every answered message (from sending to the whole body read), by step too.

``python -m tools.load URL --trace`` plays one conversation of each kind and prints every
exchange, to check by hand what the scripts assume.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import aiohttp

from bot.channels import REST_WEBHOOK as WEBHOOK

TIMEOUT = 30.0  # seconds for one message; longer counts as an error
REFERENCE = re.compile(r"\bKB-\d{4}-[A-Z0-9]{6}\b")
SUMMARY = "Tjek venligst oplysningerne"  # the booking form's summary before "ja"
SLOT_TRIES = 3  # time buttons pressed before a booking gives up (a slot may be taken meanwhile)


class Abort(Exception):
    """The conversation cannot go on (the error is already counted)."""


class Stop(Exception):
    """The budget is used up."""


@dataclass(frozen=True)
class Reply:
    texts: tuple[str, ...]
    buttons: tuple[tuple[str, str], ...]  # (title, payload)

    @classmethod
    def parse(cls, body: Any) -> Reply:
        """Rasa's REST reply: a list of ``{"text", "buttons": [{"title", "payload"}]}``."""
        if not isinstance(body, list) or not all(isinstance(m, dict) for m in body):
            raise ValueError("not a list of messages")
        texts = tuple(str(m["text"]) for m in body if m.get("text"))
        buttons = tuple((str(b.get("title", "")), str(b.get("payload", "")))
                        for m in body for b in (m.get("buttons") or []) if isinstance(b, dict))
        return cls(texts, buttons)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def has(self, *words: str) -> bool:
        """Whether any of ``words`` occurs in the reply's text (case-insensitive)."""
        text = self.text.casefold()
        return any(word.casefold() in text for word in words)


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), linear between the closest ranks (numpy's default);
    NaN without samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 1)


@dataclass
class Stats:
    """What one load run measured."""

    latencies: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)  # step label -> latencies
    sent: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    wrong_examples: dict[str, str] = field(default_factory=dict)  # step -> the first wrong reply
    started: Counter[str] = field(default_factory=Counter)  # conversations by kind
    finished: Counter[str] = field(default_factory=Counter)
    references: int = 0  # bookings that ended with a reference
    elapsed: float = 0.0

    def summary(self) -> dict[str, Any]:
        n = len(self.latencies)
        return {
            "messages": n,
            "sent": self.sent,
            "elapsed_s": round(self.elapsed, 2),
            "messages_per_s": round(n / self.elapsed, 2) if self.elapsed else 0.0,
            "p50_ms": _ms(percentile(self.latencies, 50)),
            "p95_ms": _ms(percentile(self.latencies, 95)),
            "p99_ms": _ms(percentile(self.latencies, 99)),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "wrong_answers": sum(self.wrong.values()),
            "wrong_kinds": dict(self.wrong),
            "wrong_examples": self.wrong_examples,
            "conversations_started": dict(self.started),
            "conversations_finished": dict(self.finished),
            "bookings_finished": self.finished["booking"],
            "bookings_with_reference": self.references,
            "steps": {label: {"n": len(v), "p50_ms": _ms(percentile(v, 50)), "p95_ms": _ms(percentile(v, 95))}
                      for label, v in sorted(self.steps.items())},
        }


def merge(runs: Sequence[Stats]) -> Stats:
    """Several runs as one: their messages pooled, their durations added."""
    out = Stats()
    for run in runs:
        out.latencies += run.latencies
        for label, latencies in run.steps.items():
            out.steps.setdefault(label, []).extend(latencies)
        out.sent += run.sent
        for mine, theirs in ((out.errors, run.errors), (out.wrong, run.wrong),
                             (out.started, run.started), (out.finished, run.finished)):
            mine.update(theirs)
        out.references += run.references
        out.wrong_examples = {**run.wrong_examples, **out.wrong_examples}
        out.elapsed += run.elapsed
    return out


@dataclass
class Budget:
    """When a run stops: a deadline (``time.perf_counter()``), a number of messages, a number
    of conversations; ``None`` for no such limit."""

    deadline: float | None = None
    messages: int | None = None
    conversations: int | None = None
    sent: int = 0
    begun: int = 0

    def take_message(self) -> None:
        if (self.deadline is not None and time.perf_counter() >= self.deadline) or (
                self.messages is not None and self.sent >= self.messages):
            raise Stop
        self.sent += 1

    def take_conversation(self) -> None:
        if self.conversations is not None and self.begun >= self.conversations:
            raise Stop
        self.begun += 1


Trace = Callable[[str, str, "Reply | None", float], None]


@dataclass
class Client:
    session: aiohttp.ClientSession
    url: str  # the server, e.g. http://127.0.0.1:5005
    stats: Stats
    budget: Budget
    timeout: float = TIMEOUT
    trace: Trace | None = None


class Conversation:
    """One user's conversation: its sender id, what it says, what it expects back."""

    def __init__(self, client: Client, kind: str, rng: random.Random) -> None:
        self.client, self.kind, self.rng = client, kind, rng
        self.sender = f"bench-{kind}-{uuid.uuid4().hex[:16]}"  # new in every run: a new tracker

    async def say(self, text: str, label: str, expect: Sequence[str] = ()) -> Reply:
        """Send ``text``; the reply. ``expect``: words of which the reply must hold one, else the
        step counts as a wrong answer. Raises :class:`Abort` after an error, :class:`Stop` when
        the budget is used up (before sending)."""
        client, stats = self.client, self.client.stats
        client.budget.take_message()
        stats.sent += 1
        started = time.perf_counter()
        try:
            async with client.session.post(client.url + WEBHOOK, json={"sender": self.sender, "message": text},
                                           timeout=aiohttp.ClientTimeout(total=client.timeout)) as response:
                status, body = response.status, await response.read()
        except asyncio.TimeoutError:
            self._error("timeout", text, label)
        except aiohttp.ClientError as err:
            self._error(f"connection ({type(err).__name__})", text, label)
        latency = time.perf_counter() - started
        stats.latencies.append(latency)
        stats.steps.setdefault(f"{self.kind}: {label}", []).append(latency)
        if status != 200:
            self._error(f"HTTP {status}", text, label)
        try:
            reply = Reply.parse(json.loads(body))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            self._error("not Rasa's reply", text, label)
        if client.trace:
            client.trace(self.sender, text, reply, latency)
        if not reply.texts and not reply.buttons:
            self._error("empty reply", text, label)
        if expect and not reply.has(*expect):
            self.wrong(label, f"> {text}\n{reply.text}")
        return reply

    def _error(self, kind: str, text: str, label: str) -> NoReturn:
        self.client.stats.errors[kind] += 1
        if self.client.trace:
            self.client.trace(self.sender, text, None, math.nan)
        raise Abort(f"{self.kind}: {label}: {kind}")

    def wrong(self, label: str, example: str = "") -> None:
        """Count a wrong answer at step ``label``; ``example``: what was said and answered."""
        stats, step = self.client.stats, f"{self.kind}: {label}"
        stats.wrong[step] += 1
        if example:
            stats.wrong_examples.setdefault(step, example[:300])


# --- the conversations -------------------------------------------------------------------------
# ``expect`` lists words of which a right answer holds at least one, checked by hand against
# the project's replies (``python -m tools.load URL --trace``).

async def danish_questions(c: Conversation) -> None:
    """Greeting, a grant question, a contact look-up, a topic question, thanks."""
    await c.say("Hej", "greeting", ("Hej",))
    await c.say("hvor meget kan man få i smv grøn?", "grant amount", ("SMV:Grøn", "SMV Grøn"))
    await c.say("hvem skal jeg kontakte om støj fra min virksomhed?", "contact look-up", ("Miljø",))
    await c.say("hvad kan erhvervshuset hjælpe med?", "topic question", ("Erhvervshus",))
    await c.say("tak", "thanks", ("så lidt", "velbekomme", "andet"))


async def english_questions(c: Conversation) -> None:
    """The same kind of conversation in English."""
    await c.say("Hello", "greeting", ("Hello",))
    await c.say("What grants can my company apply for?", "grants", ("grant",))
    await c.say("Who do I contact about a building permit?", "contact look-up", ("Building",))
    await c.say("Thank you", "thanks", ("welcome", "anything else"))


CLARIFY = ("ikke helt sikker", "not quite sure")  # the assistant's "which topic did you mean?"


async def clarification(c: Conversation) -> None:
    """An ambiguous word ("tilladelse": which permit?); the assistant asks which topic was
    meant and offers topics as buttons; the first one's payload is sent."""
    await c.say("Hej", "greeting", ("Hej",))
    reply = await c.say("tilladelse", "ambiguous word", CLARIFY)
    if len(reply.buttons) < 2:
        c.wrong("ambiguous word: no topics to choose from", f"> tilladelse\n{reply.text}")
        return
    payload = reply.buttons[0][1]
    reply = await c.say(payload, "first topic button")
    if reply.has(*CLARIFY):
        c.wrong("first topic button: asked again", f"> {payload}\n{reply.text}")


BOOKING_FORM = (  # (message, step, words the question that follows holds)
    ("jeg vil gerne booke et virksomhedsbesøg", "start", ("CVR",)),
    ("ved ikke", "no CVR number", ("hedder virksomheden",)),
    ("Testfirma ApS", "company name", ("navn",)),
    ("Anne Jensen", "contact person", ("e-mail",)),
    ("anne.jensen@example.dk", "e-mail", ("telefon",)),
    ("20 12 34 56", "phone", ("besøget",)),
    ("udvidelse af produktionen", "topic", ("Hvornår",)),
)
TIME = re.compile(r"\bkl\.\s*\d{1,2}[.:]\d{2}")  # a time button's payload: "torsdag 3. december kl. 10.30"


def times(reply: Reply) -> list[str]:
    """The payloads of the reply's time buttons."""
    return [payload for _, payload in reply.buttons if TIME.search(payload)]


async def booking(c: Conversation) -> None:
    """A whole booking of a company visit, to the reference. A time is chosen at random among
    the offered ones; when it is taken meanwhile (the reply offers other times instead of the
    summary, or after "ja"), another offered time is pressed, :data:`SLOT_TRIES` times in all."""
    for text, label, expect in BOOKING_FORM:
        reply = await c.say(text, label, expect)
    tried: set[str] = set()
    for _ in range(SLOT_TRIES):
        choices = [payload for payload in times(reply) if payload not in tried]
        if not choices:
            break
        payload = c.rng.choice(choices)
        tried.add(payload)
        reply = await c.say(payload, "time button")
        if not reply.has(SUMMARY):
            continue
        reply = await c.say("ja", "confirm")
        if REFERENCE.search(reply.text):
            c.client.stats.references += 1
            return
    c.wrong("booking without a reference", f"(last reply)\n{reply.text}")


Script = Callable[[Conversation], Awaitable[None]]
SCRIPTS: dict[str, Script] = {
    "da_questions": danish_questions,
    "en_questions": english_questions,
    "clarification": clarification,
    "booking": booking,
}
#: The kinds in turn: conversation i plays ``MIX[i % 5]``.
MIX = ("da_questions", "booking", "en_questions", "da_questions", "clarification")


async def run(url: str, concurrency: int, budget: Budget, timeout: float = TIMEOUT, seed: int = 15,
              trace: Trace | None = None, scripts: dict[str, Script] | None = None,
              mix: Sequence[str] = MIX) -> Stats:
    """Play conversations against ``url`` with ``concurrency`` at a time until ``budget`` is used."""
    scripts = scripts or SCRIPTS
    stats = Stats()
    numbers = itertools.count()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        client = Client(session, url.rstrip("/"), stats, budget, timeout, trace)

        async def worker() -> None:
            while True:
                try:
                    budget.take_conversation()
                except Stop:
                    return
                number = next(numbers)
                kind = mix[number % len(mix)]
                conversation = Conversation(client, kind, random.Random(seed * 1_000_003 + number))
                stats.started[kind] += 1
                try:
                    await scripts[kind](conversation)
                except Abort:
                    continue
                except Stop:
                    return
                stats.finished[kind] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        stats.elapsed = time.perf_counter() - started
    return stats


def run_load(url: str, concurrency: int, duration: float | None = None, messages: int | None = None,
             conversations: int | None = None, **options: Any) -> Stats:
    """:func:`run` with a budget of seconds, messages and/or conversations."""
    deadline = None if duration is None else time.perf_counter() + duration
    return asyncio.run(run(url, concurrency, Budget(deadline, messages, conversations), **options))


def print_exchange(sender: str, text: str, reply: Reply | None, latency: float) -> None:
    if reply is None:
        print(f"[{sender}] > {text}\n    (error)")
        return
    print(f"[{sender}] > {text}   ({latency * 1000:.0f} ms)")
    for line in reply.texts:
        print("    " + line.replace("\n", "\n    "))
    for title, payload in reply.buttons:
        print(f"    [{title}] -> {payload}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="play the benchmark's conversations against a Rasa server")
    parser.add_argument("url", help="the Rasa server, e.g. http://127.0.0.1:5005")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--conversations", type=int, default=len(MIX))
    parser.add_argument("--trace", action="store_true", help="print every exchange")
    args = parser.parse_args(argv)
    stats = run_load(args.url, args.concurrency, conversations=args.conversations,
                     trace=print_exchange if args.trace else None)
    print(json.dumps(stats.summary(), indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
