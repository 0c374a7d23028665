"""Follow-up of visit bookings (new, confirmed, done, cancelled) and their CSV export."""
from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.console import export, followup
from bot.console.keys import DB_URL
from bot.console.render import blocking, flash, is_admin, record, redirect, render, with_query

PERIODS = {"kommende": "Kommende", "tidligere": "Tidligere", "alle": "Alle"}


def _filters(request: web.Request) -> tuple[str, str]:
    status = request.query.get("status", "")
    period = request.query.get("periode", "kommende")
    return (status if status in followup.STATES else ""), (period if period in PERIODS else "kommende")


async def _rows(request: web.Request) -> list[dict[str, str]]:
    status, period = _filters(request)
    upcoming = {"kommende": True, "tidligere": False, "alle": None}[period]
    found = await blocking(followup.bookings, status, upcoming, url=request.app[DB_URL])
    return [followup.as_row(b) for b in found]


async def page(request: web.Request) -> web.Response:
    status, period = _filters(request)
    rows = await _rows(request)
    query = {k: v for k, v in (("status", status), ("periode", period)) if v}
    return await render(request, "bookings.html", {
        "title": "Bookinger", "rows": rows, "states": followup.STATES, "periods": PERIODS,
        "status": status, "period": period, "csv_url": with_query("/bookinger.csv", query),
        "back": with_query("/bookinger", query),
    })


async def change(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        booking_id = int(request.match_info["id"])
        result = await blocking(followup.set_state, booking_id, str(form.get("status", "")),
                                url=request.app[DB_URL])
    except ValueError as err:  # a bad id, or FollowUpError
        await flash(request, str(err) if isinstance(err, followup.FollowUpError) else "Ukendt booking.", "fejl")
    else:
        if result.before != result.after:
            await record(request, "booking_follow_up", result.reference,
                         f"{result.before} → {result.after}" + (", brugeren får besked" if result.informed else ""))
            told = " Brugeren får en e-mail." if result.informed else ""
            await flash(request, f"{result.reference}: {followup.STATES[result.after]}.{told}")
    back = str(form.get("tilbage", ""))
    raise redirect(back if back.startswith("/bookinger") else "/bookinger")


async def csv_export(request: web.Request) -> web.Response:
    """CSV of the listed bookings; e-mails, phones and CVR masked unless an admin asks."""
    rows = await _rows(request)
    masked = not is_admin(request)
    await record(request, "export_bookings", None, f"{len(rows)} bookinger" + (", maskeret" if masked else ""))
    name = f"bookinger-{dt.date.today().isoformat()}.csv"
    return web.Response(text=export.bookings_csv(rows, masked), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/bookinger", page)
    router.add_get("/bookinger.csv", csv_export)
    router.add_post("/bookinger/{id}/opfoelgning", change)
