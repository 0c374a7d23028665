"""The audit log, for admins: who signed in, read, marked, exported, edited and erased what.

Lines about a conversation name it by a pseudonym (``bot.store.audit``); the filter
``?samtale=<sender id>`` computes it and shows that conversation's lines, also after it
was erased."""
from __future__ import annotations

from aiohttp import web

from bot.console.auth import require_admin
from bot.console.keys import DB_URL
from bot.console.render import blocking, render, with_query
from bot.store import audit

PAGE_SIZE = 100


@require_admin
async def page(request: web.Request) -> web.Response:
    action = request.query.get("handling", "")
    action = action if action in audit.ACTIONS else ""
    actor = request.query.get("hvem", "").strip()[:64]
    conversation = request.query.get("samtale", "").strip()[:255]
    try:
        page_no = max(1, int(request.query.get("side", "1")))
    except ValueError:
        page_no = 1
    lines = await blocking(audit.recent, PAGE_SIZE + 1, (page_no - 1) * PAGE_SIZE, actor or None, action or None,
                           request.app[DB_URL], conversation or None)
    query = {k: v for k, v in (("handling", action), ("hvem", actor), ("samtale", conversation)) if v}
    return await render(request, "audit.html", {
        "title": "Revisionslog", "lines": lines[:PAGE_SIZE], "actions": audit.ACTIONS, "action": action,
        "actor": actor, "conversation": conversation, "page": page_no,
        "prev_url": with_query("/revision", {**query, "side": str(page_no - 1)}) if page_no > 1 else None,
        "next_url": with_query("/revision", {**query, "side": str(page_no + 1)}) if len(lines) > PAGE_SIZE else None,
    })
