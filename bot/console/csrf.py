"""Protection against cross-site request forgery for every state-changing request.

Two checks, both required: the request's ``Origin`` (or, without it, ``Referer``) must be the
console's own origin, and the form must carry the session's token (``csrf_token``), compared
in constant time. The session cookie is also ``SameSite=Strict``. The maintained-looking
aiohttp CSRF packages are abandoned, and this is all they would do.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp_session import Session, get_session

FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def token(session: Session) -> str:
    """The session's token (created on first use)."""
    if not session.get("csrf"):
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def same_origin(request: web.Request) -> bool:
    """``Origin`` (or ``Referer``) names this server: scheme-less host:port comparison, as the
    console may sit behind a TLS-terminating proxy that forwards the Host header."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() == request.host.lower()


@web.middleware
async def middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS:
        return await handler(request)
    session = await get_session(request)
    expected = session.get("csrf")
    sent = ""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = str((await request.post()).get(FIELD, ""))
    sent = sent or request.headers.get("X-CSRF-Token", "")
    if not same_origin(request) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        from bot.console.render import error_page

        return await error_page(request, 403, "Handlingen blev afvist",
                                "Formularen var for gammel eller kom ikke fra konsollen. Gå tilbage, "
                                "genindlæs siden og prøv igen.")
    return await handler(request)
