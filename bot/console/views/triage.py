"""Failures first: the conversations that need a look (fallbacks, clarifications, low
confidence, negative feedback, abandoned bookings, requests for a person), newest first,
not yet reviewed unless asked."""
from __future__ import annotations

from aiohttp import web

from bot.console.keys import DB_URL, INDEX
from bot.console.render import blocking, render, with_query
from bot.console.views.conversations import badges
from bot.store.conversations import CHANNEL_LABELS, LOW_CONFIDENCE, Facts, Summary

REASONS = [
    ("fallback", "Fallback eller afklaring"),
    ("lav", "Lav sikkerhed"),
    ("negativ", "Negativ feedback"),
    ("afbrudt", "Afbrudt booking"),
    ("person", "Bad om en person"),
]
LIMIT = 200


def reasons(summary: Summary, facts: Facts) -> list[str]:
    sid = summary.sender_id
    found = []
    if summary.failed:
        found.append("fallback")
    if summary.low_confidence(LOW_CONFIDENCE):
        found.append("lav")
    if sid in facts.negative:
        found.append("negativ")
    if summary.form_started and not summary.booked and sid not in facts.bookings:
        found.append("afbrudt")
    if summary.person:
        found.append("person")
    return found


async def page(request: web.Request) -> web.Response:
    wanted = request.query.get("grund", "")
    wanted = wanted if wanted in dict(REASONS) else ""
    everything = request.query.get("alle") == "1"
    facts = await blocking(Facts.load, request.app[DB_URL])
    summaries = await blocking(request.app[INDEX].summaries)
    counts = dict.fromkeys(dict(REASONS), 0)
    rows = []
    for summary in summaries:
        if not everything and summary.sender_id in facts.reviewed:
            continue
        found = reasons(summary, facts)
        for reason in found:
            counts[reason] += 1
        if found and (not wanted or wanted in found):
            rows.append({"s": summary, "reasons": found, "badges": badges(summary, facts)})
    query = {k: v for k, v in (("grund", wanted), ("alle", "1" if everything else "")) if v}
    return await render(request, "triage.html", {
        "title": "Triage", "rows": rows[:LIMIT], "total": len(rows), "limit": LIMIT, "reasons": REASONS,
        "labels": dict(REASONS), "counts": counts, "wanted": wanted, "everything": everything,
        "channels": CHANNEL_LABELS, "back": with_query("/triage", query),
        "tab_url": lambda reason: with_query("/triage", {k: v for k, v in (
            ("grund", reason), ("alle", "1" if everything else "")) if v}),
        "toggle_url": with_query("/triage", {k: v for k, v in (
            ("grund", wanted), ("alle", "" if everything else "1")) if v}),
    })
