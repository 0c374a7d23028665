"""What every console template gets: the signed-in staff member, the CSRF token, the menu,
flash messages, and filters for Danish dates, numbers and masking."""
from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.console import csrf, masking

#: (path, label, admins only)
NAV = [
    ("/triage", "Triage", False),
    ("/overtagelse", "Overtagelse", False),
    ("/samtaler", "Samtaler", False),
    ("/forbedringer", "Forbedringer", False),
    ("/bookinger", "Bookinger", False),
    ("/opringninger", "Opringninger", False),
    ("/dashboard", "Dashboard", False),
    ("/indhold", "Indhold", False),
    ("/dokumenter", "Dokumenter", True),
    ("/revision", "Revisionslog", True),
]
ROLES = {"reviewer": "gennemlæser", "admin": "administrator"}
MONTHS = ["jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."]


async def context(request: web.Request) -> dict[str, Any]:
    session = await get_session(request)
    found = request.get("user")
    flashes = session.pop("flash", []) if "flash" in session else []
    current = next((path for path, _, _ in NAV if request.path.startswith(path)), None)
    return {
        "user": found,
        "role_label": ROLES.get(found.role, found.role) if found else "",
        "is_admin": bool(found and found.is_admin),
        "csrf_token": csrf.token(session),
        "nav": [(p, label, p == current) for p, label, admin in NAV if not admin or (found and found.is_admin)],
        "flashes": flashes,
        "path": request.path,
        # reviewers see e-mails, phones, CVR and CPR numbers masked; admins see them
        "show": masking.shown_to(found),
    }


def when(value: dt.datetime | dt.date | None, seconds: bool = False) -> str:
    """"3. dec. 2026 14.05" (local time)."""
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        clock = f"{value:%H.%M.%S}" if seconds else f"{value:%H.%M}"
        return f"{value.day}. {MONTHS[value.month - 1]} {value.year} {clock}"
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def utc_when(value: dt.datetime | None) -> str:
    """A naive UTC time from the database, shown in Danish local time."""
    if value is None:
        return "–"
    from bot.store.conversations import TZ

    return when(value.replace(tzinfo=dt.timezone.utc).astimezone(TZ).replace(tzinfo=None))


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f} %"


def confidence(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}".replace(".", ",")


def install(env: jinja2.Environment) -> None:
    env.filters.update(when=when, utc_when=utc_when, percent=percent, confidence=confidence,
                       mask=masking.mask, urlquote=lambda s: quote(str(s), safe=""),
                       query=lambda d: urlencode(d))
    env.globals.update(conversation_url=lambda sid, suffix="": "/samtaler/" + quote(sid, safe="") + suffix)
