"""Sign-in, sign-out, sessions and roles of the staff console.

The session is an encrypted cookie (aiohttp-session's ``EncryptedCookieStorage``, Fernet):
HttpOnly, ``SameSite=Strict``, ``Secure`` when ``STAFF_SECURE_COOKIES``. It holds the staff
member's id, the time of the last request (for the idle timeout, ``STAFF_IDLE_MINUTES``), the
time of the sign-in (for the absolute lifetime, ``STAFF_SESSION_HOURS``), the member's session
generation at sign-in, and the CSRF token. Every request reloads the staff member, so disabling
an account or changing a role takes effect at once, and a session whose generation is no longer
the member's is over: signing out and a new password raise it (``bot.store.staff``), so a copied
cookie dies with them.

Sign-in failures are counted per (name, client address) (``staff.authenticate``); the client
address follows the same proxy rule as the channels' rate limits
(``bot.channels.hygiene.client_address``, ``TRUSTED_PROXIES``). Known and unknown names get
the same answers.
"""
from __future__ import annotations

import time

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot import settings
from bot.channels.hygiene import client_address
from bot.console import csrf
from bot.console.keys import DB_URL
from bot.console.render import (
    blocking,
    error_page,
    flash,
    record,
    redirect,
    render,
    safe_next,
    user,
    with_query,
)
from bot.store import audit, staff
from bot.store.staff import Outcome

PUBLIC = ("/log-ind", "/static/", "/sundhed", "/health")
#: The answer while a (name, address) pair is backed off: the same for every name, known or not.
LOCKED_TEXT = (f"For mange forkerte forsøg herfra. Vent {staff.LOCK_MINUTES} minutter, og prøv igen, "
               "eller bed en administrator om en ny adgangskode.")
WRONG_TEXT = "Forkert brugernavn eller adgangskode."
UNKNOWN_NAME = "(ukendt navn)"  # the audit log's actor for a name that is no staff member's
#: ``udloebet`` on the sign-in page: why the session ended.
IDLE, TOO_OLD = "1", "tid"


#: Sent by the console's own scripts when they poll (bot/console/static/handover.js).
POLL_HEADER = "X-Console-Poll"


def idle_seconds() -> int:
    return settings.integer("STAFF_IDLE_MINUTES") * 60


def lifetime_seconds() -> float:
    """How long a sign-in lasts at most, however active the session (``STAFF_SESSION_HOURS``)."""
    return settings.number("STAFF_SESSION_HOURS") * 3600


def client(request: web.Request) -> str:
    """The address a sign-in comes from, for counting failures: behind loopback or a proxy in
    ``TRUSTED_PROXIES`` the client its ``X-Forwarded-For`` names, else the peer."""
    return client_address(request.remote, request.headers.get("X-Forwarded-For")) or request.remote or "-"


@web.middleware
async def middleware(request: web.Request, handler) -> web.StreamResponse:
    """Pages other than sign-in and static files need a signed-in, active staff member."""
    if request.path.startswith(PUBLIC):
        return await handler(request)
    session = await get_session(request)
    uid, seen, now = session.get("uid"), session.get("seen", 0), time.time()
    found = await blocking(staff.get, uid, request.app[DB_URL]) if uid else None
    current = found is not None and found.active and session.get("gen") == found.session_generation
    expired = None
    if current and now - seen > idle_seconds():
        expired = IDLE
    elif current and now - session.get("since", 0) > lifetime_seconds():
        expired = TOO_OLD
    if not current or expired:
        session.pop("uid", None)
        query = {"next": request.path_qs} if request.method == "GET" else {}
        if expired:
            query["udloebet"] = expired
        raise redirect(with_query("/log-ind", query))
    if not request.headers.get(POLL_HEADER):  # a page's automatic refresh is not activity
        session["seen"] = now
    request["user"] = found
    return await handler(request)


async def sign_in_form(request: web.Request) -> web.Response:
    session = await get_session(request)
    csrf.token(session)
    message, reason = None, request.query.get("udloebet")
    if reason == TOO_OLD:
        message = (f"Du blev logget ud, fordi et login højst varer {settings.number('STAFF_SESSION_HOURS'):g} "
                   "timer. Log ind igen.")
    elif reason:
        message = f"Du blev logget ud efter {settings.integer('STAFF_IDLE_MINUTES')} minutter uden aktivitet."
    return await render(request, "sign_in.html", {
        "title": "Log ind", "next": safe_next(request.query.get("next")), "notice": message, "name": ""})


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    db_url = request.app[DB_URL]
    attempt = (await blocking(staff.authenticate, name, password, url=db_url, source=client(request))
               if name and password else None)
    if attempt is not None and attempt.outcome is Outcome.OK:
        session = await new_session(request)  # a fresh session (and CSRF token) at sign-in
        now = time.time()
        session["uid"], session["seen"], session["since"] = attempt.user.id, now, now
        session["gen"] = attempt.user.session_generation
        csrf.token(session)
        request["user"] = attempt.user
        await record(request, "sign_in")
        await flash(request, f"Velkommen, {attempt.user.name}.")
        raise redirect(target)
    # Known and unknown names get the same answer; only the audit log tells them apart.
    error, status = WRONG_TEXT, 401
    if attempt is not None:
        action, detail = "sign_in_failed", None
        if attempt.just_locked:
            action = "locked"
            detail = (f"{staff.MAX_FAILURES + 1} forkerte forsøg i træk fra én adresse: "
                      f"afvist derfra i {staff.LOCK_MINUTES} min.")
        elif attempt.outcome is Outcome.LOCKED:
            action, detail = "sign_in_refused", "for mange forkerte forsøg fra adressen"
        elif attempt.outcome is Outcome.DISABLED:
            action, detail = "sign_in_refused", "deaktiveret"
        if attempt.outcome is Outcome.LOCKED:
            error, status = LOCKED_TEXT, 429
        actor = attempt.user.name if attempt.user is not None else UNKNOWN_NAME
        await blocking(audit.record, actor, action, None, detail, db_url)
    return await render(request, "sign_in.html", {"title": "Log ind", "next": target, "error": error,
                                                  "name": name}, status=status)


async def sign_out(request: web.Request) -> web.StreamResponse:
    """Sign out: every session of the member ends, also copies of this cookie elsewhere."""
    await record(request, "sign_out")
    await blocking(staff.end_sessions, user(request).id, request.app[DB_URL])
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
