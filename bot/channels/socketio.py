"""The chat widget's channel: Rasa's socket.io channel, with what a public endpoint needs.

credentials.yml names ``bot.channels.socketio.SocketIOInput`` instead of ``socketio``. It
differs from Rasa's in seven ways:

- **The channel draws the conversation id.** Rasa's channel takes any ``session_id`` a client
  names, in ``session_request`` and in every message, so anyone could write into anyone's
  conversation. Here ``session_request`` gives the connection a new ``web-…`` id, or the id
  it asks for when it brings that id's session token (a reload of the page), and
  ``session_confirm`` carries the id and its token (``bot.channels.identity``). Messages go to
  the connection's own conversation; one naming another id is ignored, and a request for an
  id of another channel (``telegram:…``) or outside the plain alphabet gets ``session_error``
  with status 400.

- **Origin check.** In Rasa 3.6 ``--cors`` (sanic-cors) only adds CORS headers: browsers
  enforce them for HTTP, not for WebSocket, and Rasa creates its socket.io server with
  ``cors_allowed_origins=[]``, which switches engine.io's own Origin check off, so any web page
  could talk to the assistant. Here a handshake whose ``Origin`` is not in ``RASA_CORS`` gets
  HTTP 400. Clients that send no ``Origin`` (not browsers) are not affected.
- **WebSocket only, and several workers.** With ``RASA_WORKERS`` > 1 every Sanic worker is a
  process of its own with its own socket.io sessions, and the kernel hands each new TCP
  connection to any of them. Long-polling (one HTTP request after another) then reaches a
  worker that does not know the session; a WebSocket is one connection and stays with the
  worker that accepted it, so the whole conversation does too. The server therefore only
  offers the ``websocket`` transport (the widget asks for it). With ``LOCK_STORE_TYPE=redis``
  the workers also share a python-socketio ``AsyncRedisManager``: a message emitted on one
  worker (a staff reply through Rasa's HTTP API, say) reaches a browser connected to another.
  See docs/limits.md.
- **Session rooms that work.** python-socketio 5.10+ made ``enter_room`` a coroutine, which
  Rasa 3.6 calls without ``await``: the browser never joined its session's room and never got
  an answer with ``session_persistence``.
- **Message hygiene and rate limits** (``bot.channels.hygiene``), as on every channel: the text
  is cleaned and CPR numbers masked before Rasa sees it, a note is shown when something was
  removed or cut, and a conversation or client over its rate limit gets a polite message.
  Malformed events (not an object, no text, a bad session id) are ignored.
- **The message's kind.** Each ``bot_uttered`` event carries ``kind`` (``"answer"`` for a factual
  answer, set by the actions with ``dispatcher.utter_message(..., kind="answer")``; ``"notice"``
  for this channel's notes; ``"person"`` for a reply a member of staff wrote during a handover;
  else null) and ``response`` (the domain response's name, if any),
  so the widget shows rating buttons only under answers and marks a person's replies.
- **A factual answer is one message.** Rasa's channel sends every paragraph of a text as a
  ``bot_uttered`` of its own, and a message's ``custom`` payload as yet another. An answer
  (``bot.answers``: the text, and ``custom.answer`` with its body and footer) goes out as ONE
  ``bot_uttered`` with ``text``, ``quick_replies``, ``custom``, ``kind`` and ``response``, so the
  widget shows it in one bubble with its contacts and source as a footer and the rating under
  it. Other messages are split at blank lines as before.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput as RasaSocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot import answers, metrics, settings
from bot.channels import hygiene, identity

log = logging.getLogger(__name__)

NOTICE = "notice"
MAX_PACKET = 64 * 1024  # bytes of one socket.io message (engine.io's default: 1 MB)
MAX_METADATA_KEYS = 20


class SocketIOOutput(RasaSocketIOOutput):
    """Rasa's socket.io output, with the message's ``kind`` and ``response`` in each event."""

    @staticmethod
    def _about(kwargs: dict[str, Any]) -> dict[str, Any]:
        # a handover's reply has kind "person" (bot/handover); the staff member's sign-in name
        # (metadata "staff") stays in the transcript and is never sent to the user
        return {"kind": kwargs.get("kind"), "response": kwargs.get("utter_action")}

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """An answer as one event (see the module's description); anything else as Rasa sends it."""
        parts = answers.of(message)
        if parts is None:
            await super().send_response(recipient_id, message)
            return
        buttons = message.get("quick_replies") or message.get("buttons") or []
        await self._send_message(recipient_id, {
            "text": str(message.get("text") or parts["body"]),
            "quick_replies": [{"content_type": "text", "title": b["title"], "payload": b["payload"]}
                              for b in buttons if isinstance(b, dict) and "title" in b and "payload" in b],
            "custom": {answers.CUSTOM_KEY: parts}, **self._about(message)})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, {"text": part, **self._about(kwargs)})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        parts = text.strip().split("\n\n") or [text]
        messages = [{"text": part, "quick_replies": [], **self._about(kwargs)} for part in parts]
        messages[-1]["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons]
        for message in messages:
            await self._send_message(recipient_id, message)

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_notice(self, recipient_id: str, text: str) -> None:
        """One of the channel's own notes (no rating buttons)."""
        await self._send_message(recipient_id, {"text": text, "kind": NOTICE, "response": None})


class WorkerRedisManager(AsyncRedisManager):
    """``AsyncRedisManager`` for Sanic's forked workers.

    The channel's server is made once, in the process that then forks the workers, and the
    manager's ``host_id`` (by which a worker skips the messages it published itself) would be
    the same in every worker: each would skip every other's. A new one is drawn in each
    worker when it starts to listen (at its first connection)."""

    def initialize(self) -> None:
        self.host_id = uuid.uuid4().hex
        super().initialize()


def client_manager() -> AsyncRedisManager | None:
    """The Redis client manager when ``LOCK_STORE_TYPE=redis`` (several workers), else None."""
    if settings.get("LOCK_STORE_TYPE") != "redis":
        return None
    db = settings.integer("REDIS_DB")
    url = f"redis://{settings.get('REDIS_HOST')}:{settings.integer('REDIS_PORT')}/{db}"
    # Redis pub/sub channels are not per database: the database number keeps deployments
    # that share a Redis server (with different REDIS_DB) apart.
    return WorkerRedisManager(url, channel=f"koege-socketio-{db}",
                              redis_options={"socket_connect_timeout": 2})


def _metadata(value: Any) -> dict[str, Any]:
    """The event's metadata if it is a small object of simple values, else none."""
    if not isinstance(value, dict) or len(value) > MAX_METADATA_KEYS:
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and len(k) <= 64
            and (v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 256))}


class SocketIOInput(RasaSocketIOInput):
    """The ``socketio`` channel for the widget: see the module's description."""

    def get_output_channel(self) -> SocketIOOutput | None:
        if self.sio is None:
            return None
        return SocketIOOutput(self.sio, self.bot_message_evt)

    def _origin_allowed(self, origin: str) -> bool:
        origins = settings.cors_origins()
        return "*" in origins or origin in origins

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self._origin_allowed,
                          transports=["websocket"], client_manager=client_manager(),
                          max_http_buffer_size=MAX_PACKET)
        # The CORS headers come from Rasa's sanic-cors (--cors); engine.io adding a second
        # Access-Control-Allow-Origin would make browsers reject the answer.
        sio.eio._cors_headers = lambda environ: []
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            request = environ.get("sanic.request")
            client = None
            if request is not None:
                self.app = request.app
                client = hygiene.client_address(request.ip, request.headers.get("x-forwarded-for"))
            await sio.save_session(sid, {"client": client}, namespace=self.namespace)
            return True

        async def session_request(sid: str, data: Any = None) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            token = data.get("session_token") if isinstance(data, dict) else None
            if asked and not (identity.valid(asked) and identity.namespace(asked) != identity.TELEGRAM):
                # another channel's id, or one that would change a URL: refused, not replaced
                await sio.emit("session_error", {"status": 400, "error": f"'session_id' must be {identity.ID_RULE}"
                               " of this chat's own session"}, room=sid, namespace=self.namespace)
                return
            # a browser resumes its conversation only with the token it was given for it
            session_id = asked if identity.owns(asked, token) else identity.new_web_session()
            session = await sio.get_session(sid, namespace=self.namespace)
            previous = session.get("sender")
            if previous and previous != session_id:
                await sio.leave_room(sid, previous, namespace=self.namespace)
            session["sender"] = session_id
            await sio.save_session(sid, session, namespace=self.namespace)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", (session_id, identity.session_token(session_id)), room=sid,
                           namespace=self.namespace)

        async def user_uttered(sid: str, data: Any = None) -> None:
            await self._handle_message(on_new_message, sid, data)

        sio.on("connect", connect, namespace=self.namespace)
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_uttered, namespace=self.namespace)
        return blueprint

    async def _handle_message(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], sid: str,
                              data: Any) -> None:
        assert self.sio is not None
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return
        session = await self.sio.get_session(sid, namespace=self.namespace)
        # the conversation is the one this connection was given (session_request), whatever
        # the event names: a browser cannot write into a conversation it was not given
        sender = session.get("sender")
        if sender is None or (self.session_persistence and data.get("session_id") != sender):
            log.debug("socket.io: a message outside the connection's own session was ignored")
            return
        if not self.session_persistence:
            sender = sid
        output = SocketIOOutput(self.sio, self.bot_message_evt)
        if not await hygiene.allow_message(sender, session.get("client")):
            metrics.REFUSED.labels("429").inc()
            await output.send_notice(sender, hygiene.note(hygiene.SLOW_DOWN, hygiene.language(data["message"])))
            return
        cleaned = hygiene.clean(data["message"])
        if cleaned.notes:
            lang = await hygiene.notes_language(getattr(self, "app", None), sender, cleaned.text)
            for name in cleaned.notes:
                await output.send_notice(sender, hygiene.note(name, lang))
        started = time.perf_counter()
        try:
            await on_new_message(UserMessage(cleaned.text, output, sender, input_channel=self.name(),
                                             metadata=_metadata(data.get(self.metadata_key))))
            metrics.MESSAGES.labels("socketio").inc()
            metrics.LATENCY.labels("socketio").observe(time.perf_counter() - started)
        except Exception as err:  # noqa: BLE001 - the user gets a polite message, the log no text
            metrics.ERRORS.labels("rasa").inc()
            log.error("socket.io: a message failed (%s)", type(err).__name__)
            lang = await hygiene.notes_language(getattr(self, "app", None), sender, cleaned.text)
            await output.send_notice(sender, hygiene.note(hygiene.ERROR, lang))
