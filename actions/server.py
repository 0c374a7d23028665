"""The action server process: ``python -m actions.server`` (``python -m bot.cli run`` starts it).

Rasa SDK's Sanic app with four changes:

- it listens on ``ACTION_INTERFACE`` (127.0.0.1 by default), never on every interface;
- every call except ``/health`` and ``/metrics`` must carry the shared secret ``X-Action-Token`` that Rasa sends
  (endpoints.yml ``headers``; ``ACTION_SERVER_TOKEN``, or the random one ``bot.cli run`` writes
  for each start): a forged tracker posted to ``/webhook`` runs nothing;
- it runs the retention purge every ``PURGE_INTERVAL_HOURS``, so the purge runs wherever the
  assistant runs (every instance may run it: deleting what is expired twice is harmless);
- ``/metrics`` (``bot.metrics``): actions run, fallbacks, bookings, handovers, callbacks; for
  ``bot.metrics.may_read`` only (the token, or loopback without a proxy), else 404;
- it builds the documents' index (``bot.documents``) in the background as it starts.
"""
from __future__ import annotations

import asyncio
import hmac
import logging

from rasa_sdk import endpoint
from sanic import Sanic, response
from sanic.request import Request

from actions.common import local_domain
from bot import logs, metrics, settings

logger = logging.getLogger(__name__)
HEADER = "X-Action-Token"
OPEN_PATHS = frozenset({"/health", "/metrics"})
#: Label values of the action counter: the domain's actions only (never a caller's text).
ACTION_NAMES = frozenset(local_domain()["actions"])


def authorised(request: Request, token: str) -> bool:
    given = request.headers.get(HEADER, "")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


async def purge_forever(hours: float) -> None:
    """Delete what is past the retention period now and then every ``hours``."""
    from bot.store import retention

    while True:
        try:
            events, rows = await asyncio.to_thread(retention.purge_expired)
            logger.info("retention purge: %d events and %d rows deleted", events, rows)
        except Exception as err:  # noqa: BLE001 - a purge that fails now runs again later
            logger.warning("retention purge failed: %s", type(err).__name__)
        await asyncio.sleep(hours * 3600)


async def prepare_documents() -> None:
    """Build the documents' index (and load the spaCy pipeline it needs) before the first
    question needs it, in a thread: the first document answer is then as quick as the rest."""
    from bot import documents

    try:
        await asyncio.to_thread(documents.default_index)
    except Exception as err:  # noqa: BLE001 - the first question builds it again, and reports
        logger.warning("documents index not prepared: %s", type(err).__name__)


def create_app(token: str | None = None, purge_hours: float | None = None) -> Sanic:
    """The action server's app; ``token`` defaults to the configured or generated secret."""
    token = settings.secret_file("ACTION_SERVER_TOKEN", "action-token") if token is None else token
    app = endpoint.create_app("actions", cors_origins=None)  # only Rasa calls it: no CORS

    @app.middleware("request")
    async def require_token(request: Request):  # noqa: ANN202 - Sanic middleware
        if request.path not in OPEN_PATHS and not authorised(request, token):
            return response.json({"error": "unauthorised"}, status=401)
        if request.path == "/webhook":
            body = request.json if request.body else None
            name = body.get("next_action") if isinstance(body, dict) else None
            if isinstance(name, str) and name in ACTION_NAMES:
                metrics.ACTIONS.labels(name).inc()
        return None

    @app.get("/metrics")
    async def prometheus(request: Request):  # noqa: ANN202 - a Sanic handler
        if not metrics.may_read_request(request.ip, request.headers):  # the socket's peer
            return response.json({"error": "not found"}, status=404)
        body, content_type = metrics.exposition()
        return response.raw(body, content_type=content_type)

    if purge_hours:
        app.add_task(purge_forever(purge_hours))
    app.add_task(prepare_documents())
    return app


def main() -> None:
    settings.check_or_exit("action server")
    logs.configure("action server")
    if not settings.secret_file("ACTION_SERVER_TOKEN", "action-token"):
        raise SystemExit("action server: no ACTION_SERVER_TOKEN and no generated one "
                         f"in {settings.state_dir() / 'action-token'}: start it with `python -m bot.cli run`")
    app = create_app(purge_hours=settings.number("PURGE_INTERVAL_HOURS"))
    app.run(settings.get("ACTION_INTERFACE"), settings.integer("ACTION_PORT"), workers=1,
            access_log=False, motd=False)


if __name__ == "__main__":
    main()
