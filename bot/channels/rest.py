"""Rasa's REST channel (``POST /webhooks/rest/webhook``, also ``?stream=true``), hardened for
input from anyone: credentials.yml names ``bot.channels.rest.RestInput`` instead of ``rest``.

Rasa's own channel answers HTTP 500 to a body that is an array, ``null`` or a string, and with
``?stream=true`` a ``"message"`` that is not a string makes the request hang for ever (the
task fails before it signals the end of the stream). This one answers every request with a
4xx and a short JSON error (``{"error": "..."}``) or with the assistant's reply:

- the body (``bot.channels.body``): not compressed (415), UTF-8 (415 for another charset, 400
  for bytes that are not UTF-8), at most ``MAX_BODY`` bytes (413), a JSON object (400) nested
  at most ``body.MAX_DEPTH`` deep (400);
- ``sender``: a conversation id of the REST namespace (``bot.channels.identity``: 1–128
  characters of ``A-Z a-z 0-9 _ -``); ``telegram:<chat id>`` and ``input_channel: telegram``
  only with the Telegram bridge's secret (header ``X-Bridge-Token``), ``web-…`` never (the
  widget's conversations are the socket.io channel's); ``message``: a string;
  ``input_channel``: absent, ``rest`` or ``telegram``; ``metadata``: absent or an object of at
  most ``MAX_METADATA`` bytes as JSON (else 400);
- the rate limits per conversation and per client (``bot.channels.hygiene``): HTTP 429 with
  the polite answer as an ordinary bot message, so clients show it;
- the message cleaned as every channel does (control characters, CPR numbers, length), with a
  note before the answer when something was removed or cut;
- a factual answer (``bot.answers``) is ONE message: ``text`` (body and footer), ``buttons`` and
  ``custom`` (``{"answer": {...}}``, its parts for clients that lay them out themselves), where
  Rasa's channel would answer with the text and then the ``custom`` payload as a message of its
  own. Other messages are as Rasa's channel sends them.

Every Sanic route of the Rasa server (the socket.io endpoint and Rasa's HTTP API included)
reads at most ``MAX_REQUEST`` bytes of body instead of Sanic's default 100 MB. Sanic 21.12
does not decompress request bodies. Failures are logged without the message's text.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from asyncio import CancelledError, Queue
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot import answers, metrics
from bot.channels import body, hygiene, identity
from bot.rasa_ext.server import ServerBlueprint

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # a 100,000-character message still fits (and is cut); more is refused
MAX_REQUEST = 1024 * 1024  # every route of the Rasa server (Sanic's default: 100 MB)
MAX_METADATA = 2048
INPUT_CHANNELS = ("rest", "telegram")
DONE = "DONE"


class OneMessageAnswers:
    """Rasa's collecting output channels, but an answer is collected as one message."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        parts = answers.of(message)
        if parts is None:
            await super().send_response(recipient_id, message)  # type: ignore[misc]
            return
        buttons = message.get("buttons") or message.get("quick_replies") or None
        await self._persist_message(self._message(  # type: ignore[attr-defined]
            recipient_id, text=str(message.get("text") or parts["body"]), buttons=buttons,
            custom={answers.CUSTOM_KEY: parts}))


class AnswerCollector(OneMessageAnswers, CollectingOutputChannel):
    """The REST channel's reply."""


class AnswerQueue(OneMessageAnswers, QueueOutputChannel):
    """The REST channel's streamed reply (``?stream=true``)."""


class Refused(Exception):
    """A request answered with ``response`` instead of being passed on to Rasa."""

    def __init__(self, answer: HTTPResponse) -> None:
        super().__init__(answer.status)
        self.answer = answer


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def bot_message(recipient_id: str, text: str) -> dict[str, Any]:
    """A message in the form Rasa's REST channel answers with."""
    return {"recipient_id": recipient_id, "text": text}


class Message:
    """A valid request: who sends what, through which channel, with which metadata."""

    def __init__(self, data: dict[str, Any], bridge: bool = False) -> None:
        """``bridge``: the request carries the Telegram bridge's secret."""
        sender, text = data.get("sender"), data.get("message")
        if not isinstance(text, str):
            raise body.BodyError(400, "'message' must be a string")
        channel = data.get("input_channel")
        if channel is not None and channel not in INPUT_CHANNELS:
            raise body.BodyError(400, "'input_channel' must be one of: " + ", ".join(INPUT_CHANNELS))
        problem = identity.rest_problem(sender, channel or "rest", bridge)
        if problem is not None:
            raise body.BodyError(400, problem)
        metadata = data.get("metadata")
        if metadata is not None and (not isinstance(metadata, dict)
                                     or len(json.dumps(metadata)) > MAX_METADATA):
            raise body.BodyError(400, f"'metadata' must be an object of at most {MAX_METADATA} bytes")
        self.sender: str = sender
        self.text: str = text
        self.input_channel: str = channel or "rest"
        self.metadata: dict[str, Any] | None = metadata


def read(request: Request) -> Message:
    """The request's message, or ``Refused`` with a 4xx answer."""
    try:
        body.check_headers(request.headers.get("content-type"), request.headers.get("content-encoding"),
                           request.headers.get("content-length"), MAX_BODY)
        bridge = identity.is_bridge(request.headers.get(identity.BRIDGE_HEADER))
        return Message(body.parse_object(request.body or b"", MAX_BODY), bridge)
    except body.BodyError as err:
        raise Refused(error(err.status, err.message)) from None


def _limit_request_size(app: Sanic, _: Any) -> None:
    app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_REQUEST)


class RestInput(RasaRestInput):
    """Rasa's REST channel (name ``rest``, same URL and answers) for untrusted input."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @staticmethod
    async def on_message_wrapper(on_new_message: Callable[[UserMessage], Awaitable[Any]], text: str,
                                 queue: Queue, sender_id: str, input_channel: str,
                                 metadata: dict[str, Any] | None) -> None:
        """Rasa's, but the end of the stream is signalled whatever happens."""
        try:
            collector = AnswerQueue(queue)
            await on_new_message(UserMessage(text, collector, sender_id, input_channel=input_channel,
                                             metadata=metadata))
        except Exception as err:  # noqa: BLE001 - the client gets the end of the stream
            log.error("rest: a streamed message failed (%s)", type(err).__name__)
        finally:
            await queue.put(DONE)

    def stream_with_notes(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                          message: Message, text: str, notes: list[dict[str, Any]]
                          ) -> Callable[[Any], Awaitable[None]]:
        async def stream(resp: Any) -> None:
            for note in notes:
                await resp.write(json.dumps(note) + "\n")
            queue: Queue = Queue()
            task = asyncio.ensure_future(self.on_message_wrapper(
                on_new_message, text, queue, message.sender, message.input_channel, message.metadata))
            while True:
                result = await queue.get()
                if result == DONE:
                    break
                await resp.write(json.dumps(result) + "\n")
            await task

        return stream

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # the server's /health, /metrics and start-up check come with this blueprint
        webhook = ServerBlueprint(f"custom_webhook_{type(self).__name__}")
        webhook.listener("before_server_start")(_limit_request_size)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            try:
                message = read(request)
            except Refused as refused:
                metrics.REFUSED.labels(str(refused.answer.status)).inc()
                return refused.answer
            client = hygiene.client_address(request.ip, request.headers.get("x-forwarded-for"))
            if not await hygiene.allow_message(message.sender, client):
                metrics.REFUSED.labels("429").inc()
                text = hygiene.note(hygiene.SLOW_DOWN, hygiene.language(message.text))
                return response.json([bot_message(message.sender, text)], status=429,
                                     headers={"Retry-After": "60"})
            cleaned = hygiene.clean(message.text)
            notes: list[dict[str, Any]] = []
            if cleaned.notes:
                lang = await hygiene.notes_language(request.app, message.sender, cleaned.text)
                notes = [bot_message(message.sender, hygiene.note(n, lang)) for n in cleaned.notes]
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(self.stream_with_notes(on_new_message, message, cleaned.text, notes),
                                       content_type="text/event-stream")
            collector = AnswerCollector()
            started = time.perf_counter()
            try:
                await on_new_message(UserMessage(cleaned.text, collector, message.sender,
                                                 input_channel=message.input_channel,
                                                 metadata=message.metadata))
            except CancelledError:
                metrics.ERRORS.labels("rasa").inc()
                log.error("rest: a message timed out")
            except Exception as err:  # noqa: BLE001 - the client gets a polite answer, not a 500
                metrics.ERRORS.labels("rasa").inc()
                log.error("rest: a message failed (%s)", type(err).__name__)
                if not collector.messages:
                    lang = await hygiene.notes_language(request.app, message.sender, cleaned.text)
                    collector.messages.append(bot_message(message.sender, hygiene.note(hygiene.ERROR, lang)))
            channel = message.input_channel or "rest"
            metrics.MESSAGES.labels(channel).inc()
            metrics.LATENCY.labels(channel).observe(time.perf_counter() - started)
            return response.json(notes + collector.messages)

        return webhook
