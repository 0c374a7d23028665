"""Small helpers shared by the console's views: templates, errors, redirects, flash
messages, the audit log and running the (synchronous) store off the event loop."""
from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from yarl import URL

from bot.console.keys import DB_URL
from bot.store import audit
from bot.store.staff import Staff

T = TypeVar("T")


async def blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous store call in a worker thread."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args, **kwargs))


def user(request: web.Request) -> Staff:
    """The signed-in staff member (the auth middleware guarantees one on protected pages)."""
    return request["user"]


def is_admin(request: web.Request) -> bool:
    found = request.get("user")
    return bool(found and found.is_admin)


async def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Cache-Control"] = "no-store"  # pages hold personal data
    return response


async def error_page(request: web.Request, status: int, title: str, text: str) -> web.Response:
    return await render(request, "error.html", {"title": title, "text": text}, status=status)


async def forbidden(request: web.Request) -> web.Response:
    return await error_page(request, 403, "Kun for administratorer",
                            "Det kan kun en administrator. Spørg en administrator, hvis det skal gøres.")


async def not_found(request: web.Request, what: str = "Siden") -> web.Response:
    return await error_page(request, 404, f"{what} findes ikke",
                            f"{what} findes ikke (længere). Den kan være slettet.")


async def flash(request: web.Request, text: str, kind: str = "ok") -> None:
    session = await get_session(request)
    session["flash"] = [*session.get("flash", []), [kind, text]][-5:]


def redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


async def record(request: web.Request, action: str, target: str | None = None, detail: str | None = None,
                 *, conversation: str | None = None) -> None:
    """An audit line by the signed-in member of staff; a conversation's sender id goes in
    ``conversation`` (the log keeps only its pseudonym, see ``bot.store.audit``)."""
    await blocking(audit.record, user(request).name, action, target, detail, request.app[DB_URL],
                   conversation=conversation)


def conversation_url(sender_id: str, suffix: str = "") -> str:
    return "/samtaler/" + quote(sender_id, safe="") + suffix


def with_query(path: str, query: dict[str, str]) -> str:
    return path + ("?" + urlencode(query) if query else "")


#: Characters no console path holds: C0/C1 controls, DEL, backslash and any kind of white space
#: (browsers and URL parsers drop or reinterpret them, e.g. ``/\t/x`` becomes ``//x``).
_NOT_IN_PATH = re.compile(r"[\x00-\x20\x7f-\xa0\\\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]")
MAX_NEXT = 2048


def _local_path(location: str) -> bool:
    """``location`` is a path of this origin as it stands: ``/`` then anything but ``/`` or ``\\``,
    no scheme, no host, no control, white space or backslash, and no ``.``/``..`` segment
    (a browser would fold ``/.//x`` into ``//x``)."""
    if not location.startswith("/") or location[1:2] in ("/", "\\") or _NOT_IN_PATH.search(location):
        return False
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        return False
    decoded = unquote(parts.path)
    if decoded[1:2] in ("/", "\\") or _NOT_IN_PATH.search(decoded.replace(" ", "")):
        return False
    return not {".", ".."} & set(decoded.split("/"))


def safe_next(location: str | None, default: str = "/triage") -> str:
    """A path of this console to go to after signing in (or back to), else ``default``:
    never another site, however the path is disguised. The check runs on the text as given and
    on the ``Location`` aiohttp (yarl) will build from it, so what the browser gets is still a
    path of this origin."""
    if not location or len(location) > MAX_NEXT or not _local_path(location):
        return default
    try:
        built = str(URL(location))
    except ValueError:
        return default
    return location if _local_path(built) else default
