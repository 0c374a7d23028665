"""The dashboard: conversations per day and per channel, the share answered without a
fallback or a person, the fallback rate, top intents, top unanswered messages, bookings and
feedback. Charts are server-rendered SVG whose bars are links to the matching conversations
(keyboard-accessible, no script), each with its data table beside it."""
from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.console import stats
from bot.console.keys import DB_URL, INDEX
from bot.console.render import blocking, render, with_query
from bot.store.conversations import CHANNEL_LABELS, TZ

PERIODS = (7, 14, 30, 90)


LABEL_WIDTH, BAR_AREA, ROW = 190, 330, 26  # SVG user units


def bars(items: list[tuple[str, int, str]]) -> dict:
    """A horizontal bar chart: (label, value, link) -> rows with their bar's position and width
    in SVG units (the largest value fills the bar area)."""
    top = max((v for _, v, _ in items), default=0) or 1
    rows = [{"label": label, "value": value, "href": href, "y": i * ROW,
             "width": max(round(value / top * BAR_AREA, 1), 2 if value else 0)}
            for i, (label, value, href) in enumerate(items)]
    return {"rows": rows, "height": ROW * max(len(items), 1), "label_width": LABEL_WIDTH,
            "total_width": LABEL_WIDTH + BAR_AREA + 60}


COLUMN, PLOT, LABELS = 40, 140, 15  # SVG units: a day's column, the plot's height; at most 15 day labels


def columns(items: list[tuple[str, int, str]]) -> dict:
    """A vertical column chart (one column per day): positions and heights in SVG units."""
    top = max((v for _, v, _ in items), default=0) or 1
    step = -(-len(items) // LABELS) or 1  # every n-th day is labelled (the table has every day)
    rows = []
    for i, (label, value, href) in enumerate(items):
        height = max(round(value / top * PLOT, 1), 2 if value else 0)
        rows.append({"label": label, "value": value, "href": href, "x": i * COLUMN, "height": height,
                     "y": 20 + PLOT - height, "show_label": i % step == 0})
    return {"rows": rows, "width": COLUMN * max(len(items), 1), "height": PLOT + 44, "base": 20 + PLOT}


def _periods(per_day: list[tuple[dt.date, int]]) -> list[tuple[str, int, str]]:
    """Columns per day, or per week (Monday to Sunday) for periods longer than a month."""
    def link(first: dt.date, last: dt.date) -> str:
        return with_query("/samtaler", {"fra": first.isoformat(), "til": last.isoformat()})

    if len(per_day) <= 31:
        return [(f"{d.day}/{d.month}", n, link(d, d)) for d, n in per_day]
    weeks: dict[tuple[int, int], list[tuple[dt.date, int]]] = {}
    for d, n in per_day:
        weeks.setdefault(d.isocalendar()[:2], []).append((d, n))
    return [(f"uge {week}", sum(n for _, n in days), link(days[0][0], days[-1][0]))
            for (_, week), days in weeks.items()]


async def page(request: web.Request) -> web.Response:
    try:
        days = int(request.query.get("dage", "14"))
    except ValueError:
        days = 14
    days = days if days in PERIODS else 14
    end = dt.datetime.now(TZ).date()
    start = end - dt.timedelta(days=days - 1)
    summaries = await blocking(request.app[INDEX].summaries)
    board = await blocking(stats.compute, summaries, start, end, request.app[DB_URL])
    span = {"fra": start.isoformat(), "til": end.isoformat()}
    return await render(request, "dashboard.html", {
        "title": "Dashboard", "b": board, "days": days, "periods": PERIODS,
        "span_url": with_query("/samtaler", span),
        "per_day": columns(_periods(board.per_day)), "weekly": days > 31,
        "per_channel": bars([(CHANNEL_LABELS.get(c, c), n, with_query("/samtaler", {**span, "kanal": c}))
                             for c, n in board.per_channel]),
        "top_intents": bars([(i, n, with_query("/samtaler", {**span, "intent": i})) for i, n in board.top_intents]),
        "fallback_url": with_query("/samtaler", {**span, "fallback": "1"}),
        "negative_url": with_query("/samtaler", {**span, "negativ": "1"}),
        "booking_url": with_query("/samtaler", {**span, "booking": "1"}),
    })
