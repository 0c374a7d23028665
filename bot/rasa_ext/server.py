"""What the Rasa server process adds to Rasa's Sanic app, through the REST channel's blueprint
(``bot.channels.rest.RestInput`` in credentials.yml): Sanic registers a blueprint on the app,
and this one (``ServerBlueprint``) brings the server-wide routes and listeners with it.

- ``GET /health``: 200 once the model is loaded, else 503 (the load balancer's and Kubernetes'
  readiness check); Rasa's ``GET /`` answers before its model is loaded.
- ``GET /metrics``: ``bot.metrics`` (Prometheus), for a direct loopback request or one with
  ``METRICS_TOKEN`` only.
- After start: the conversations are in the store endpoints.yml names, else the server stops
  (``bot.rasa_ext.tracker_store.use_in``); correction 17 (below).
- After stop: the action server's kept connections (correction 9) are closed.

17. **The loaded model is kept out of Python's full garbage collections.** After loading, the
   process holds about a million objects, none of them garbage; a full collection walked all
   of them (290 ms, the p99 under load). Once the server has started, a collection clears the
   garbage and ``gc.freeze()`` moves the rest out of the collector's generations
   (``RASA_CORRECTIONS`` turns it off).
"""
from __future__ import annotations

import gc
import logging
from typing import Any

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import metrics, rasa_patches

log = logging.getLogger(__name__)


async def health(request: Request) -> HTTPResponse:
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        return response.json({"status": "loading"}, status=503)
    return response.json({"status": "ok"})


async def prometheus(request: Request) -> HTTPResponse:
    if not metrics.may_read_request(request.ip, request.headers):  # the socket's peer
        return response.json({"error": "not found"}, status=404)
    body, content_type = metrics.exposition()
    return response.raw(body, content_type=content_type)


def freeze_loaded_objects() -> None:
    """Correction 17: collect, then move what is left (the loaded model) out of the GC's generations."""
    gc.collect()
    gc.freeze()


async def after_start(app: Sanic, _loop: Any = None) -> None:
    """Refuse to run without the named tracker store; then correction 17."""
    from bot.rasa_ext import tracker_store

    agent = getattr(app.ctx, "agent", None)
    if agent is None:  # Rasa loads it before start; without a model there is nothing to check or keep
        return
    tracker_store.use_in(agent)  # NotThisStore stops the server
    if rasa_patches.enabled(17):
        freeze_loaded_objects()


async def after_stop(*_: Any) -> None:
    from bot.rasa_patches.actions import close_kept_sessions

    await close_kept_sessions()


class ServerBlueprint(Blueprint):
    """A channel's blueprint that also gives the app ``/health``, ``/metrics`` and the listeners
    above, once per app (whichever channel's blueprint brings them first)."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        if getattr(app.ctx, "koege_server", False):
            return
        app.ctx.koege_server = True
        app.add_route(health, "/health", methods=["GET"], name="koege_health")
        app.add_route(prometheus, "/metrics", methods=["GET"], name="koege_metrics")
        app.register_listener(after_start, "after_server_start")
        app.register_listener(after_stop, "after_server_stop")
