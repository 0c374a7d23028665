"""Sign-in, sign-out, sessions and roles of the staff console.

The session is an encrypted cookie (aiohttp-session's ``EncryptedCookieStorage``, Fernet):
HttpOnly, ``SameSite=Strict``, ``Secure`` when ``STAFF_SECURE_COOKIES``. It holds the staff
member's id, the time of the last request (for the idle timeout, ``STAFF_IDLE_MINUTES``) and
the CSRF token. Every request reloads the staff member, so disabling an account or changing
a role takes effect at once.
"""
from __future__ import annotations

import time

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot import settings
from bot.console import csrf
from bot.console.keys import DB_URL
from bot.console.render import blocking, error_page, flash, record, redirect, render, safe_next, with_query
from bot.store import audit, staff
from bot.store.staff import Outcome

PUBLIC = ("/log-ind", "/static/", "/sundhed", "/health")
LOCKED_TEXT = (f"For mange forkerte forsøg. Kontoen er låst i {staff.LOCK_MINUTES} minutter. "
               "Prøv igen senere, eller bed en administrator om en ny adgangskode.")
WRONG_TEXT = "Forkert brugernavn eller adgangskode."


#: Sent by the console's own scripts when they poll (bot/console/static/handover.js).
POLL_HEADER = "X-Console-Poll"


def idle_seconds() -> int:
    return settings.integer("STAFF_IDLE_MINUTES") * 60


@web.middleware
async def middleware(request: web.Request, handler) -> web.StreamResponse:
    """Pages other than sign-in and static files need a signed-in, active staff member."""
    if request.path.startswith(PUBLIC):
        return await handler(request)
    session = await get_session(request)
    uid, seen, now = session.get("uid"), session.get("seen", 0), time.time()
    found = await blocking(staff.get, uid, request.app[DB_URL]) if uid else None
    if found is None or not found.active or now - seen > idle_seconds():
        expired = uid is not None and found is not None and now - seen > idle_seconds()
        session.pop("uid", None)
        query = {"next": request.path_qs} if request.method == "GET" else {}
        if expired:
            query["udloebet"] = "1"
        raise redirect(with_query("/log-ind", query))
    if not request.headers.get(POLL_HEADER):  # a page's automatic refresh is not activity
        session["seen"] = now
    request["user"] = found
    return await handler(request)


async def sign_in_form(request: web.Request) -> web.Response:
    session = await get_session(request)
    csrf.token(session)
    message = None
    if request.query.get("udloebet"):
        message = f"Du blev logget ud efter {settings.integer('STAFF_IDLE_MINUTES')} minutter uden aktivitet."
    return await render(request, "sign_in.html", {
        "title": "Log ind", "next": safe_next(request.query.get("next")), "notice": message, "name": ""})


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    db_url = request.app[DB_URL]
    attempt = await blocking(staff.authenticate, name, password, url=db_url) if name and password else None
    if attempt is not None and attempt.outcome is Outcome.OK:
        session = await new_session(request)  # a fresh session (and CSRF token) at sign-in
        session["uid"], session["seen"] = attempt.user.id, time.time()
        csrf.token(session)
        request["user"] = attempt.user
        await record(request, "sign_in")
        await flash(request, f"Velkommen, {attempt.user.name}.")
        raise redirect(target)
    error, status = WRONG_TEXT, 401
    if attempt is not None and attempt.user is not None:
        action = {Outcome.WRONG: "sign_in_failed", Outcome.LOCKED: "sign_in_refused",
                  Outcome.DISABLED: "sign_in_refused"}[attempt.outcome]
        if attempt.just_locked:
            action = "locked"
        detail = {"locked": f"låst i {staff.LOCK_MINUTES} min. efter {staff.MAX_FAILURES + 1} forkerte forsøg",
                  "sign_in_refused": "låst" if attempt.outcome is Outcome.LOCKED else "deaktiveret"}.get(action)
        await blocking(audit.record, attempt.user.name, action, None, detail, db_url)
        if attempt.outcome is Outcome.LOCKED:
            error, status = LOCKED_TEXT, 429
    elif attempt is not None:
        await blocking(audit.record, "(ukendt navn)", "sign_in_failed", None, None, db_url)
    return await render(request, "sign_in.html", {"title": "Log ind", "next": target, "error": error,
                                                  "name": name}, status=status)


async def sign_out(request: web.Request) -> web.StreamResponse:
    await record(request, "sign_out")
    session = await get_session(request)
    session.invalidate()
    session = await new_session(request)
    csrf.token(session)
    await flash(request, "Du er logget ud.")
    raise redirect("/log-ind")


def require_admin(handler):
    """Decorator: the view is for admins; others get a 403 page."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        if not request["user"].is_admin:
            return await error_page(request, 403, "Kun for administratorer",
                                    "Det kan kun en administrator. Spørg en administrator, hvis det skal gøres.")
        return await handler(request)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped
