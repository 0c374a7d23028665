"""Human handover in the console: the queue (Overtagelse), one conversation a member of staff
has taken over, callback requests (Opringninger) and the staffed hours (Bemanding).

The queue and the conversation refresh themselves: ``static/handover.js`` polls
``/overtagelse.json`` and ``/overtagelse/{id}/beskeder.json``; without JavaScript an
"Opdater" link does the same. Claims, replies, hand-backs and closes go through
``bot.handover.service``, which also writes their audit lines. Reviewers see e-mails,
phones, CVR and CPR numbers masked, as on the transcript page; admins see them.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from bot.console import masking
from bot.console.keys import DB_URL, INDEX
from bot.console.render import (
    blocking,
    conversation_url,
    flash,
    forbidden,
    is_admin,
    not_found,
    record,
    redirect,
    render,
    user,
    with_query,
)
from bot.console.templating import utc_when, when
from bot.handover import callbacks, queue, schedule, service
from bot.handover.schedule import WEEKDAY_NAMES, WEEKDAYS, Schedule, ScheduleError
from bot.handover.service import HandoverProblem
from bot.store import conversations
from bot.store.models import OPEN_HANDOVER, Handover, utcnow

CHANNELS = {"socketio": "Web", "telegram": "Telegram", "rest": "REST"}
LANGUAGES = {"da": "Dansk", "en": "Engelsk"}
REASONS = {"asked": "Bad om en person", "fallbacks": "To uforståede svar", "feedback": "Negativ bedømmelse"}
STATUSES = {
    "waiting": "Venter", "claimed": "Taget", "handed_back": "Givet tilbage til chatbotten",
    "closed": "Afsluttet", "timed_out": "Ingen nåede at tage den (brugeren fik tilbudt en opringning)",
    "left": "Afsluttet af brugeren",
}
#: Pause and resume in the transcript, as the chat page words them.
EVENTS = {"pause": "Chatbotten er sat på pause (en medarbejder overtager).", "resume": "Chatbotten svarer igen."}
WATCH = web.AppKey("handover_watch", asyncio.Task)

Show = Callable[[str], str]


def _show(request: web.Request) -> Show:
    return masking.shown_to(request.get("user"))


def duration(span: dt.timedelta) -> str:
    """"under 1 min", "5 min", "2 t 5 min", "3 d 4 t"."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} t"
    if hours:
        return f"{hours} t {minutes} min"
    return f"{minutes} min" if minutes else "under 1 min"


# --- the queue ---------------------------------------------------------------------------------


def item(h: Handover, show: Show, me: str, now: dt.datetime) -> dict[str, Any]:
    """One handover as the queue's row (the page's and the JSON's: the same fields)."""
    summary = [[label, show(value)] for label, value in (
        ("Emne", h.topic), ("Virksomhed", h.company), ("Allerede besvaret", h.answered)) if value]
    return {
        "id": h.id, "url": f"/overtagelse/{h.id}", "status": h.status,
        "status_label": STATUSES.get(h.status, h.status),
        "waited": duration(now - h.requested_at),
        "channel": CHANNELS.get(h.channel, h.channel), "language": LANGUAGES.get(h.language, h.language),
        "reason": REASONS.get(h.reason, h.reason), "summary": summary,
        "claimed_by": h.claimed_by or "", "mine": h.status == "claimed" and h.claimed_by == me,
        "requested_at": utc_when(h.requested_at), "claimed_at": utc_when(h.claimed_at),
        "ended_at": utc_when(h.ended_at),
    }


async def _lists(request: web.Request) -> dict[str, list[dict[str, Any]]]:
    open_, ended = await blocking(queue.listing, request.app[DB_URL])
    show, me, now = _show(request), user(request).name, utcnow()
    rows = [item(h, show, me, now) for h in open_]
    return {"waiting": [r for r in rows if r["status"] == "waiting"],
            "claimed": [r for r in rows if r["status"] == "claimed"],
            "ended": [item(h, show, me, now) for h in ended]}


async def queue_page(request: web.Request) -> web.Response:
    lists = await _lists(request)
    staffed = await blocking(schedule.staffed_now, request.app[DB_URL])
    return await render(request, "handover.html", {"title": "Overtagelse", "staffed": staffed, **lists})


async def queue_json(request: web.Request) -> web.Response:
    return web.json_response(await _lists(request))


# --- one conversation --------------------------------------------------------------------------


def lines(found: conversations.Transcript | None, show: Show, after: int = 0) -> list[dict[str, Any]]:
    """The chat as staff read it: user lines, the assistant's and staff's lines, pause and
    resume; only events after ``after`` (an event id)."""
    shown: list[dict[str, Any]] = []
    for turn in found.turns if found else []:
        if turn.event_id <= after:
            continue
        line = {"id": turn.event_id, "when": when(turn.when, True)}
        if turn.kind == "user":
            shown.append({**line, "kind": "user", "who": "Bruger", "text": show(turn.text)})
        elif turn.kind == "bot":
            who = f"{turn.staff} (medarbejder)" if turn.staff else "Assistent"
            shown.append({**line, "kind": "staff" if turn.staff else "bot", "who": who, "text": show(turn.whole_text)})
        elif turn.name in EVENTS:
            shown.append({**line, "kind": "event", "who": "", "text": EVENTS[turn.name]})
    return shown


def _last(found: conversations.Transcript | None, after: int = 0) -> int:
    return max([after, *(turn.event_id for turn in found.turns)] if found else [after])


async def _transcript(request: web.Request, h: Handover) -> conversations.Transcript | None:
    return await blocking(conversations.transcript, h.sender_id, request.app[INDEX].url)


async def _get(request: web.Request) -> Handover | None:
    return await blocking(queue.get, int(request.match_info["id"]), request.app[DB_URL])


async def _item_page(request: web.Request, h: Handover, error: str | None = None, draft: str = "",
                     status: int = 200) -> web.Response:
    found = await _transcript(request, h)
    db_url = request.app[DB_URL]
    row = item(h, _show(request), user(request).name, utcnow())
    return await render(request, "handover_item.html", {
        "title": f"Overtagelse nr. {h.id}", "h": row, "sid": h.sender_id,
        "lines": lines(found, _show(request)), "last": _last(found),
        "place": await blocking(queue.position, h, db_url) if h.status == "waiting" else None,
        "open": h.status in OPEN_HANDOVER, "error": error, "draft": draft,
        "max_reply": service.MAX_REPLY, "full_url": conversation_url(h.sender_id),
    }, status=status)


async def item_page(request: web.Request) -> web.Response:
    h = await _get(request)
    if h is None:
        return await not_found(request, "Samtalen")
    await _audit_read(request, h)
    return await _item_page(request, h)


async def _audit_read(request: web.Request, h: Handover) -> None:
    """Every read of a whole transcript is a line in the audit log (the page, and the poll
    from its start, ``?efter=0``); polls for what came after a known line are not."""
    await record(request, "view_transcript", None, f"overtagelse {h.id}", conversation=h.sender_id)


async def messages_json(request: web.Request) -> web.Response:
    """The lines after ``?efter=<event id>``, and the handover's status."""
    h = await _get(request)
    if h is None:
        return web.json_response({"fejl": "Samtalen findes ikke."}, status=404)
    try:
        after = max(0, int(request.query.get("efter", "0")))
    except ValueError:
        after = 0
    if after == 0:
        await _audit_read(request, h)
    found = await _transcript(request, h)
    return web.json_response({
        "status": h.status, "status_label": STATUSES.get(h.status, h.status), "open": h.status in OPEN_HANDOVER,
        "lines": lines(found, _show(request), after), "last": _last(found, after),
    })


async def claim(request: web.Request) -> web.StreamResponse:
    handover_id = int(request.match_info["id"])
    try:
        done = await service.claim(handover_id, user(request).name, request.app[DB_URL])
    except HandoverProblem as err:
        await flash(request, str(err), "fejl")
        raise redirect("/overtagelse") from None
    await _tell(request, done, "Du har taget samtalen. Brugeren har fået besked om, at du er med.",
                "Du har taget samtalen. ")
    raise redirect(f"/overtagelse/{handover_id}")


async def _tell(request: web.Request, done: service.Done, text: str, lead: str = "") -> None:
    """``text``, the action's confirmation; or, when it happened but the user may not have seen
    its message, ``lead`` (what did happen) and why not."""
    if done.problem:
        await flash(request, lead + done.problem, "fejl")
    else:
        await flash(request, text)


async def reply(request: web.Request) -> web.StreamResponse:
    """Send staff's message; on a problem the page is shown again with the text kept."""
    handover_id = int(request.match_info["id"])
    text = str((await request.post()).get("tekst", ""))
    try:
        done = await service.reply(handover_id, user(request).name, text, request.app[DB_URL])
    except HandoverProblem as err:
        h = await _get(request)
        if h is None:
            return await not_found(request, "Samtalen")
        return await _item_page(request, h, error=str(err), draft=text, status=400)
    await _tell(request, done, "Beskeden er sendt.")
    raise redirect(f"/overtagelse/{handover_id}#svar")


async def _end(request: web.Request, close: bool) -> web.StreamResponse:
    handover_id = int(request.match_info["id"])
    try:
        done = await service.end(handover_id, user(request).name, close, request.app[DB_URL],
                                 admin=is_admin(request))
    except HandoverProblem as err:
        await flash(request, str(err), "fejl")
        raise redirect(f"/overtagelse/{handover_id}") from None
    ended = "Samtalen er afsluttet." if close else "Samtalen er givet tilbage til chatbotten."
    await _tell(request, done, ended, ended + " ")
    raise redirect("/overtagelse")


async def hand_back(request: web.Request) -> web.StreamResponse:
    return await _end(request, close=False)


async def close(request: web.Request) -> web.StreamResponse:
    return await _end(request, close=True)


# --- callback requests -------------------------------------------------------------------------


def _callback_status(request: web.Request) -> str:
    status = request.query.get("status", "")
    return status if status in callbacks.STATES else ""


async def callbacks_page(request: web.Request) -> web.Response:
    status = _callback_status(request)
    found = await blocking(callbacks.listing, status, request.app[DB_URL])
    now = utcnow()
    rows = [{
        "r": r, "received": when(callbacks.local(r.created_at)),
        "waited": ("ventede i " if r.status == "done" else "venter i ") + duration(callbacks.waited(r, now)),
        "language": LANGUAGES.get(r.language, r.language),
    } for r in found]
    return await render(request, "callbacks.html", {
        "title": "Opringninger", "rows": rows, "states": callbacks.STATES, "status": status,
        "back": with_query("/opringninger", {"status": status} if status else {}),
    })


async def callback_status(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    back = str(form.get("tilbage", ""))
    try:
        row, before = await blocking(callbacks.set_status, int(request.match_info["id"]),
                                     str(form.get("status", "")), user(request).name, request.app[DB_URL])
    except ValueError as err:
        await flash(request, str(err), "fejl")
    else:
        if row.status != before:
            await record(request, "callback_status", row.reference, f"{before} → {row.status}")
            await flash(request, f"{row.reference}: {callbacks.STATES[row.status]}.")
        else:
            await flash(request, f"{row.reference}: status er uændret.")
    raise redirect(back if back.startswith("/opringninger") else "/opringninger")


# --- staffed hours -----------------------------------------------------------------------------

CLOCK = re.compile(r"^(\d{1,2})[.:](\d{2})$")


def _clock(text: str) -> str:
    """"9.00" and "9:00" as "09:00" (what a browser without a time picker lets people type)."""
    text = text.strip()
    found = CLOCK.match(text)
    return f"{int(found.group(1)):02d}:{found.group(2)}" if found else text


def form_values(current: Schedule) -> dict[str, str]:
    """The form's fields for a schedule: ``fra_mon``, ``til_mon`` … and ``lukkedage``."""
    mapping = current.as_mapping()
    values = {"lukkedage": "\n".join(mapping["closed_dates"])}
    for day in WEEKDAYS:
        start, end = mapping["weekdays"].get(day) or ["", ""]
        values.update({f"fra_{day}": start, f"til_{day}": end})
    return values


def parse_form(form: Mapping[str, str], current: Schedule) -> Schedule:
    """The schedule of the submitted form; ScheduleError (Danish) if it cannot be used."""
    weekdays: dict[str, list[str] | None] = {}
    for day, name in zip(WEEKDAYS, WEEKDAY_NAMES, strict=True):
        start, end = _clock(form.get(f"fra_{day}", "")), _clock(form.get(f"til_{day}", ""))
        if bool(start) != bool(end):
            raise ScheduleError(f"{name}: udfyld både fra og til, eller lad begge stå tomme (lukket).")
        weekdays[day] = [start, end] if start else None
    dates = [line.strip() for line in form.get("lukkedage", "").splitlines() if line.strip()]
    return Schedule.from_mapping({"weekdays": weekdays, "closed_dates": dates,
                                  "holidays": current.holiday_country})


def describe(chosen: Schedule) -> str:
    """The audit line's detail: "Man 09:00–15:00, Fre 09:00–13:00; 2 lukkedage"."""
    mapping = chosen.as_mapping()
    days = [f"{WEEKDAY_NAMES[WEEKDAYS.index(d)][:3]} {s}–{e}" for d, (s, e) in mapping["weekdays"].items()]
    closed = len(mapping["closed_dates"])
    return f"{', '.join(days) or 'altid lukket'}; {closed} {'lukkedag' if closed == 1 else 'lukkedage'}"


async def _hours_page(request: web.Request, current: Schedule, values: dict[str, str],
                      error: str | None = None, status: int = 200) -> web.Response:
    moment = schedule.now()
    return await render(request, "staffed_hours.html", {
        "title": "Bemanding", "values": values, "error": error, "days": list(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True)),
        "staffed": current.is_staffed(moment), "holiday": current.holiday_name(moment.date()),
        "closed_today": moment.date() in current.closed_dates, "moment": moment,
        "holiday_country": current.holiday_country,
    }, status=status)


async def hours_page(request: web.Request) -> web.Response:
    current = await blocking(schedule.current, request.app[DB_URL])
    return await _hours_page(request, current, form_values(current))


async def save_hours(request: web.Request) -> web.StreamResponse:
    if not is_admin(request):
        return await forbidden(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    db_url = request.app[DB_URL]
    current = await blocking(schedule.current, db_url)
    try:
        chosen = parse_form(form, current)
    except ScheduleError as err:
        values = {k: form.get(k, "") for k in form_values(current)}
        return await _hours_page(request, current, values, error=str(err), status=400)
    if chosen.as_mapping() == current.as_mapping():
        await flash(request, "Der var ingen ændringer at gemme.")
        raise redirect("/bemanding")
    await blocking(schedule.save, chosen, user(request).name, db_url)
    await record(request, "staffed_hours", None, describe(chosen))
    await flash(request, "Bemandingen er gemt. Chatbotten bruger de nye tider med det samme.")
    raise redirect("/bemanding")


# --- the application ---------------------------------------------------------------------------


async def start_watch(app: web.Application) -> None:
    """``app.on_startup``: expire unclaimed handovers in the background."""
    app[WATCH] = asyncio.get_running_loop().create_task(service.watch(app[DB_URL]))


async def stop_watch(app: web.Application) -> None:
    """``app.on_cleanup``: stop the background expiry."""
    task = app.get(WATCH)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/overtagelse", queue_page)
    router.add_get("/overtagelse.json", queue_json)
    router.add_get(r"/overtagelse/{id:\d{1,9}}", item_page)
    router.add_get(r"/overtagelse/{id:\d{1,9}}/beskeder.json", messages_json)
    router.add_post(r"/overtagelse/{id:\d{1,9}}/tag", claim)
    router.add_post(r"/overtagelse/{id:\d{1,9}}/svar", reply)
    router.add_post(r"/overtagelse/{id:\d{1,9}}/tilbage", hand_back)
    router.add_post(r"/overtagelse/{id:\d{1,9}}/afslut", close)
    router.add_get("/opringninger", callbacks_page)
    router.add_post(r"/opringninger/{id:\d{1,9}}/status", callback_status)
    router.add_get("/bemanding", hours_page)
    router.add_post("/bemanding", save_hours)
