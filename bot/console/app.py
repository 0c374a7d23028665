"""The staff console's aiohttp application and process: ``python -m bot.console``.

Listens on ``STAFF_INTERFACE``:``STAFF_PORT`` (127.0.0.1:8081 by default), apart from the
public widget server: its own origin, cookies, middleware and a strict
Content-Security-Policy (no inline script or style; nothing from other origins).
"""
from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

import aiohttp_jinja2
import aiohttp_session
import jinja2
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from bot import logs, settings
from bot.console import auth, csrf, templating
from bot.console.keys import DB_URL, INDEX, KNOWLEDGE_DIR
from bot.console.views import (
    audit_log,
    bookings,
    content,
    conversations,
    dashboard,
    documents,
    handover,
    improve,
    triage,
)
from bot.store import db
from bot.store.conversations import ConversationIndex

HERE = Path(__file__).resolve().parent
COOKIE = "koege_staff"
MAX_BODY = 256 * 1024
logger = logging.getLogger(__name__)

CSP = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
    "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
])


def session_key() -> str:
    """The Fernet key of the session cookies: ``STAFF_SESSION_SECRET``, else the key kept in
    ``STATE_DIR/staff-session-key`` (created with mode 600 on first start). A secret that is
    not a Fernet key is turned into one (SHA-256), so any long random text works."""
    given = settings.secret_file("STAFF_SESSION_SECRET", "staff-session-key")
    if not given:
        file = settings.state_dir() / "staff-session-key"
        file.touch(mode=0o600, exist_ok=True)
        file.chmod(0o600)
        given = Fernet.generate_key().decode()
        file.write_text(given)
    try:
        Fernet(given.encode())
        return given
    except ValueError:
        return base64.urlsafe_b64encode(hashlib.sha256(given.encode()).digest()).decode()


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def _errors(request: web.Request, handler) -> web.StreamResponse:
    """Danish error pages; an unexpected error is logged by type only (no personal data)."""
    from bot.console.render import error_page, not_found

    try:
        return await handler(request)
    except web.HTTPNotFound:
        return await not_found(request)
    except web.HTTPMethodNotAllowed:
        return await error_page(request, 405, "Ikke tilladt", "Den handling findes ikke her.")
    except web.HTTPRequestEntityTooLarge:
        return await error_page(request, 413, "For stor", "Formularen er for stor.")
    except web.HTTPException:
        raise
    except Exception as err:  # noqa: BLE001 - one clear page instead of a stack trace
        logger.error("console error on %s %s: %s", request.method, request.path, type(err).__name__)
        return await error_page(request, 500, "Der skete en fejl",
                                "Siden kunne ikke vises. Prøv igen om lidt; sker det igen, så kontakt IT.")


async def health(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def home(_: web.Request) -> web.Response:
    raise web.HTTPFound("/triage")


def create_app(db_url: str | None = None, tracker_url: str | None = None,
               secret: str | bytes | None = None, knowledge_dir: Path | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[DB_URL] = db_url
    app[INDEX] = ConversationIndex(tracker_url)
    app[KNOWLEDGE_DIR] = knowledge_dir or settings.knowledge_dir()
    storage = EncryptedCookieStorage(secret or session_key(), cookie_name=COOKIE, httponly=True,
                                     samesite="Strict", secure=settings.flag("STAFF_SECURE_COOKIES"),
                                     max_age=None)
    aiohttp_session.setup(app, storage)
    # the upload forms of documents may send more than MAX_BODY (documents.upload_limit)
    app.middlewares.extend([_errors, auth.middleware, documents.upload_limit, csrf.middleware])
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               context_processors=[templating.context])
    templating.install(env)
    app.on_response_prepare.append(_security_headers)
    r = app.router
    r.add_get("/sundhed", health)
    r.add_get("/health", health)
    r.add_get("/log-ind", auth.sign_in_form)
    r.add_post("/log-ind", auth.sign_in)
    r.add_post("/log-ud", auth.sign_out)
    r.add_get("/", home)
    r.add_get("/triage", triage.page)
    conversations.add_routes(r)
    improve.add_routes(r)
    bookings.add_routes(r)
    handover.add_routes(r)
    r.add_get("/dashboard", dashboard.page)
    content.add_routes(r)
    documents.add_routes(r)
    r.add_get("/revision", audit_log.page)
    r.add_static("/static/", HERE / "static")
    app.on_startup.append(handover.start_watch)  # unclaimed handovers: the callback offer
    app.on_cleanup.append(handover.stop_watch)
    return app


def main() -> None:
    settings.check_or_exit("staff console")
    logs.configure("staff console")
    db.migrate()
    host, port = settings.get("STAFF_INTERFACE"), settings.integer("STAFF_PORT")
    print(f"Staff console: http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/", flush=True)
    web.run_app(create_app(), host=host, port=port, access_log=None, print=None)
