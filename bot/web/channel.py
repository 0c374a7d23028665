"""Rasa's socket.io channel, refusing browsers from origins that ``RASA_CORS`` does not list.

In Rasa 3.6 ``--cors`` (sanic-cors) only adds CORS headers: browsers enforce them for
socket.io's HTTP long-polling, but not for WebSocket, and Rasa creates its socket.io server
with ``cors_allowed_origins=[]``, which switches engine.io's own Origin check off. So any web
page could open a WebSocket to the assistant. This channel turns the check back on: a
handshake whose ``Origin`` header is not in ``RASA_CORS`` gets HTTP 400. Clients that send no
``Origin`` (not browsers) are not affected.

It also mends ``session_persistence``: python-socketio 5.10+ made ``enter_room`` a coroutine,
which Rasa 3.6 calls without ``await``, so the browser never joined its session's room and
never received an answer. credentials.yml names this class instead of ``socketio``; everything
else is Rasa's channel unchanged.
"""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

from bot import settings


class SocketIOInput(RasaSocketIOInput):
    """The ``socketio`` channel with engine.io's Origin check on (origins from ``RASA_CORS``)
    and session rooms that work."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        origins = settings.cors_origins()
        engineio = self.sio.eio
        engineio.cors_allowed_origins = lambda origin: "*" in origins or origin in origins
        # The CORS headers themselves come from Rasa's sanic-cors (--cors); engine.io adding a
        # second Access-Control-Allow-Origin would make browsers reject the answer.
        engineio._cors_headers = lambda environ: []
        self.sio.on("session_request", self._session_request, namespace=self.namespace)
        return blueprint

    async def _session_request(self, sid: str, data: dict | None) -> None:
        """Rasa's ``session_request`` handler, with ``enter_room`` awaited."""
        data = data or {}
        if not data.get("session_id"):
            data["session_id"] = uuid.uuid4().hex
        if self.session_persistence:
            await self.sio.enter_room(sid, data["session_id"], namespace=self.namespace)
        await self.sio.emit("session_confirm", data["session_id"], room=sid)
