"""The web server of the chat widget: ``python -m bot.web.server`` (``python -m bot.cli run`` starts it).

Listens on ``WEB_INTERFACE``:``WEB_PORT`` and serves

- ``GET /``: a demo page (Køge Kommune – Erhverv) with the widget on it;
- ``GET /privatliv`` and ``GET /privacy``: the privacy notice in Danish and in English, with
  ``RETENTION_DAYS`` filled in;
- ``GET /api/config``: what the widget needs to know: the Rasa server's URL as browsers
  reach it (``RASA_PUBLIC_URL``), the retention period and the privacy pages' addresses;
- ``POST /api/feedback``: a thumbs up/down on an answer, stored by ``bot.store.feedback``; a
  body that is not a small UTF-8 JSON object gets a 4xx with a short JSON error, never a 500
  (docs/limits.md);
- ``POST /api/handover/end``: the user ends their handover (the widget's "Afslut samtalen med
  medarbejderen", or "Stop med at vente på en medarbejder" while in the queue), for the
  conversation whose session token comes with it (``bot.handover.service.end_by_user``);
- ``/static/``: widget.js, widget.css and the vendored socket.io client.

A page on another site that embeds the widget may call ``/api/*`` if its origin is listed in
``RASA_CORS`` (the same list that lets it reach Rasa's socket.io).

Every response carries a strict Content-Security-Policy (scripts and styles only from files
of this server, connections only to this server and the Rasa server), ``nosniff`` and a
no-referrer policy. The conversation itself goes from the browser straight to Rasa's socket.io.
"""
from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from aiohttp import web

from bot import knowledge, limits, logs, metrics, settings
from bot.channels import body, hygiene, identity
from bot.handover import service
from bot.store import db, feedback

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
PAGES = HERE / "pages"
MAX_BODY = 16 * 1024  # a feedback request is small; refuse anything bigger
MAX_COMMENT = 1000
API = "/api/"
CORS_ORIGINS = web.AppKey("cors_origins", list)  # pages on other sites that may call the API
RASA_URL = web.AppKey("rasa_url", str)  # the Rasa server as the browser reaches it
CSP = web.AppKey("csp", str)  # the pages' Content-Security-Policy


def rasa_origins(rasa_url: str) -> list[str]:
    """The origins a browser uses for socket.io at ``rasa_url``: http(s) and ws(s)."""
    parts = urlsplit(rasa_url)
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{parts.netloc}", f"{socket_scheme}://{parts.netloc}"]


def content_security_policy(rasa_url: str) -> str:
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src " + " ".join(["'self'", *rasa_origins(rasa_url)]),
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _allowed_origin(request: web.Request) -> str | None:
    """The request's ``Origin`` if it may use ``/api/*`` (it is listed in ``RASA_CORS``)."""
    origin = request.headers.get("Origin")
    allowed = request.app[CORS_ORIGINS]
    if origin and request.path.startswith(API) and ("*" in allowed or origin in allowed):
        return origin
    return None


@web.middleware
async def _cors(request: web.Request, handler) -> web.StreamResponse:
    """Lets the widget embedded on another site (an origin in ``RASA_CORS``) use ``/api/*``."""
    origin = _allowed_origin(request)
    if request.method == "OPTIONS" and request.path.startswith(API):  # a browser's preflight
        if origin is None:
            return web.Response(status=403, text="origin not allowed")
        response = web.Response(status=204, headers={
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        })
    else:
        response = await handler(request)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Added to every response, including static files and errors."""
    headers = response.headers
    headers["Content-Security-Policy"] = request.app[CSP]
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Cache-Control", "no-cache")


def _page(name: str, **values: str) -> web.Response:
    """A page from ``pages/`` with ``$address`` (the municipality's, from contacts.yml) and ``values``."""
    address = knowledge.default().contacts[knowledge.GENERAL_CONTACT].address
    text = Template((PAGES / name).read_text(encoding="utf-8")).substitute(values, address=address)
    return web.Response(text=text, content_type="text/html", charset="utf-8")


async def index(_: web.Request) -> web.Response:
    return _page("index.html")


def _privacy_page(name: str) -> web.Response:
    return _page(name, retention_days=str(settings.retention_days()))


async def privacy(_: web.Request) -> web.Response:
    return _privacy_page("privatliv.html")


async def privacy_en(_: web.Request) -> web.Response:
    return _privacy_page("privacy.html")


async def config(request: web.Request) -> web.Response:
    return web.json_response({
        "rasa_url": request.app[RASA_URL],
        "socketio_path": "/socket.io",
        "retention_days": settings.retention_days(),
        "privacy_url": "/privatliv",
        "privacy_url_en": "/privacy",
    }, headers={"Cache-Control": "no-store"})


def _bad_request(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _read_json(request: web.Request) -> dict:
    """The request's JSON object, or ``BodyError``. Nothing is decompressed (the app is made
    with ``auto_decompress=False``, and compressed bodies are refused); aiohttp's
    ``request.json()`` is not used: it raises LookupError for an unknown charset and
    RecursionError for deep nesting, which would become 500s."""
    body.check_headers(request.headers.get("Content-Type"), request.headers.get("Content-Encoding"),
                       request.headers.get("Content-Length"), MAX_BODY)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise body.BodyError(413, f"the request body is larger than {MAX_BODY} bytes") from None
    return body.parse_object(raw, MAX_BODY)


async def _client_limited(request: web.Request, scope: str) -> web.Response | None:
    """The polite 429 when the client sent more than ``RATE_LIMIT_CLIENT`` requests to
    ``scope`` in the last minute, else None."""
    client = hygiene.client_address(request.remote, request.headers.get("X-Forwarded-For"))
    if client is not None and not await limits.allow_async(
            f"{scope}:client:{client}", settings.integer("RATE_LIMIT_CLIENT"), 60):
        lang = "en" if request.headers.get("Accept-Language", "").lower().startswith("en") else "da"
        return web.json_response({"error": hygiene.note(hygiene.SLOW_DOWN, lang)}, status=429,
                                 headers={"Retry-After": "60"})
    return None


async def post_feedback(request: web.Request) -> web.Response:
    """Store one rating. JSON only: a cross-site HTML form cannot send it without CORS.

    ``sender_id``: the widget's conversation and ``session_token``: the token the chat gave
    the browser with it (``bot.channels.identity``), so a caller rates only its own
    conversation (403 otherwise); ``bot_message``: the rated answer; ``rating``: up or down;
    ``comment`` (optional): the user's words. The texts are
    cleaned as messages are (control characters removed, CPR numbers masked) before they are
    stored; one client may send ``RATE_LIMIT_CLIENT`` requests a minute."""
    if request.content_type != "application/json":
        return _bad_request("send JSON", status=415)
    limited = await _client_limited(request, "feedback")
    if limited is not None:
        return limited
    try:
        data = await _read_json(request)
    except body.BodyError as err:
        return _bad_request(err.message, status=err.status)
    sender, message, rating = data.get("sender_id"), data.get("bot_message"), data.get("rating")
    comment = data.get("comment")
    if not (identity.valid(sender) and isinstance(message, str) and isinstance(rating, str)
            and (comment is None or isinstance(comment, str))):
        return _bad_request("sender_id, bot_message and rating (up or down) are required")
    message = hygiene.clean_stored_text(message, feedback.MAX_TEXT)
    comment = hygiene.clean_stored_text(comment, MAX_COMMENT) if comment else None
    if not message:
        return _bad_request("bot_message must not be empty")
    if not identity.owns(sender, data.get("session_token")):
        return _bad_request("only the chat's own conversation can be rated (session_token)", status=403)
    record = functools.partial(feedback.record, sender, message, rating, comment)
    try:  # the store is synchronous (SQLAlchemy): keep it off the event loop
        row_id = await asyncio.get_running_loop().run_in_executor(None, record)
    except ValueError as err:
        return _bad_request(str(err))
    return web.json_response({"id": row_id}, status=201)


async def post_handover_end(request: web.Request) -> web.Response:
    """End the user's handover: ``sender_id`` (the widget's conversation) and its
    ``session_token`` (``bot.channels.identity``: a caller ends only its own conversation's,
    403 otherwise). 200 ``{"ended": true}`` when a handover ended (the user is told through the
    chat, and the assistant answers again), ``{"ended": false}`` when there was none open; 503
    with a short error when the assistant could not be reached (nothing changed)."""
    if request.content_type != "application/json":
        return _bad_request("send JSON", status=415)
    limited = await _client_limited(request, "handover")
    if limited is not None:
        return limited
    try:
        data = await _read_json(request)
    except body.BodyError as err:
        return _bad_request(err.message, status=err.status)
    sender = data.get("sender_id")
    if not identity.valid(sender):
        return _bad_request("sender_id is required")
    if not identity.owns(sender, data.get("session_token")):
        return _bad_request("only the chat's own conversation can be ended (session_token)", status=403)
    try:
        ended = await service.end_by_user(sender)
    except service.HandoverProblem:
        return web.json_response({"error": "the assistant cannot be reached; try again"}, status=503)
    return web.json_response({"ended": ended})


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def prometheus(request: web.Request) -> web.Response:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not metrics.may_read_request(peer[0] if peer else None, request.headers):  # the socket's peer
        raise web.HTTPNotFound()
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


def create_app(rasa_url: str | None = None) -> web.Application:
    # auto_decompress=False: aiohttp 3.9 would inflate a gzip body before any size check
    # (GHSA-6mq8-rvhq-8wgg); /api/feedback refuses compressed bodies instead.
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_cors],
                          handler_args={"auto_decompress": False})
    app[CORS_ORIGINS] = settings.cors_origins()
    app[RASA_URL] = (rasa_url or settings.get("RASA_PUBLIC_URL")).rstrip("/")
    app[CSP] = content_security_policy(app[RASA_URL])
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/privatliv", privacy)
    app.router.add_get("/privacy", privacy_en)
    app.router.add_get("/api/config", config)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    app.router.add_post("/api/feedback", post_feedback)
    app.router.add_post("/api/handover/end", post_handover_end)
    app.router.add_static("/static/", STATIC)
    return app


def main() -> None:
    settings.check_or_exit("web server")
    logs.configure("web server")
    db.migrate()  # the feedback table must exist before the first rating
    host, port = settings.get("WEB_INTERFACE"), int(settings.get("WEB_PORT"))
    web.run_app(create_app(), host=host, port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
