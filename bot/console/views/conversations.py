"""The conversation list with filters, one conversation's transcript, and what staff do
with it: tags, notes, "reviewed", marking a message with its right intent, the test-story
export and erasure."""
from __future__ import annotations

from aiohttp import web

from bot.console import export
from bot.console.auth import require_admin
from bot.console.keys import DB_URL, INDEX
from bot.console.render import (
    blocking,
    conversation_url,
    flash,
    not_found,
    record,
    redirect,
    render,
    safe_next,
    user,
    with_query,
)
from bot.console.training import intents
from bot.store import conversations, retention, review
from bot.store.conversations import CHANNEL_LABELS, Facts, Filters

PAGE_SIZE = 50
NEW_TOPIC = "__nyt__"
FLAG_LABELS = [
    ("lav", "Lav sikkerhed"), ("fallback", "Fallback eller afklaring"), ("person", "Bad om en person"),
    ("booking", "Booking lavet"), ("afbrudt", "Booking afbrudt"), ("negativ", "Negativ feedback"),
    ("ikke_gennemgaaet", "Ikke gennemgået"),
]


def badges(summary: conversations.Summary, facts: Facts, under: float = conversations.LOW_CONFIDENCE) -> list[str]:
    """Short Danish labels of what happened in a conversation."""
    found = []
    if summary.fallback:
        found.append("fallback")
    if summary.clarified:
        found.append("afklaring")
    if summary.low_confidence(under):
        found.append("lav sikkerhed")
    if summary.person:
        found.append("bad om en person")
    if summary.booked or summary.sender_id in facts.bookings:
        found.append("booking")
    elif summary.form_started:
        found.append("booking afbrudt")
    if summary.sender_id in facts.negative:
        found.append("negativ feedback")
    return found


async def list_page(request: web.Request) -> web.Response:
    filters = Filters.from_query(request.query)
    index = request.app[INDEX]
    facts = await blocking(Facts.load, request.app[DB_URL])
    found = await blocking(index.find, filters, facts)
    reviews = await blocking(review.all_reviews, request.app[DB_URL])
    pages = max(1, (len(found) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(filters.side, pages)
    shown = found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    back = with_query("/samtaler", filters.query())
    return await render(request, "conversations.html", {
        "title": "Samtaler", "filters": filters, "rows": [
            {"s": s, "badges": badges(s, facts, filters.under), "review": reviews.get(s.sender_id)} for s in shown],
        "total": len(found), "page": page, "pages": pages, "channels": CHANNEL_LABELS,
        "intents": ("nlu_fallback", *intents()), "flags": FLAG_LABELS, "back": back,
        "prev_url": with_query("/samtaler", filters.query(side=page - 1)) if page > 1 else None,
        "next_url": with_query("/samtaler", filters.query(side=page + 1)) if page < pages else None,
    })


def _back(request: web.Request) -> str:
    target = request.query.get("tilbage") or ""
    return target if target.startswith(("/samtaler", "/triage", "/dashboard", "/forbedringer", "/bookinger")) \
        else "/samtaler"


async def _transcript(request: web.Request, sender_id: str):
    return await blocking(conversations.transcript, sender_id, request.app[INDEX].url)


async def transcript_page(request: web.Request) -> web.Response:
    sender_id = request.match_info["sid"]
    found = await _transcript(request, sender_id)
    if found is None:
        return await not_found(request, "Samtalen")
    db_url = request.app[DB_URL]
    await record(request, "view_transcript", conversation=sender_id)
    marks = {a.event_id: a for a in await blocking(review.annotations, sender_id, db_url)}
    facts = await blocking(Facts.load, db_url)
    return await render(request, "transcript.html", {
        "title": f"Samtale {sender_id[:12]}", "t": found, "sid": sender_id,
        "channel": CHANNEL_LABELS.get(found.summary.channel, found.summary.channel),
        "review": await blocking(review.get, sender_id, db_url),
        "notes": await blocking(review.notes, sender_id, db_url), "marks": marks,
        "intents": intents(), "new_topic": NEW_TOPIC, "back": _back(request),
        "badges": badges(found.summary, facts), "low": conversations.LOW_CONFIDENCE,
        "slots": sorted((k, v) for k, v in found.slots.items() if v not in (None, "", [])),
    })


def _here(request: web.Request) -> str:
    form_back = request.get("form_back") or ""
    suffix = "?tilbage=" + form_back if form_back else ""
    return conversation_url(request.match_info["sid"], suffix)


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    from urllib.parse import quote

    back = str(form.get("tilbage", ""))
    request["form_back"] = quote(back, safe="") if back.startswith("/") else ""
    return {k: str(v) for k, v in form.items()}


async def set_reviewed(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    sender_id = request.match_info["sid"]
    done = form.get("gennemgaaet") == "1"
    await blocking(review.set_reviewed, sender_id, user(request).name if done else None, request.app[DB_URL])
    await record(request, "review", None, "gennemgået" if done else "ikke gennemgået", conversation=sender_id)
    await flash(request, "Markeret som gennemgået." if done else "Markeret som ikke gennemgået.")
    raise redirect(_here(request))


async def set_tags(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    sender_id = request.match_info["sid"]
    tags = review.clean_tags(form.get("tags", ""))
    await blocking(review.set_tags, sender_id, tags, request.app[DB_URL])
    await record(request, "tags", None, ", ".join(tags) or "(ingen)", conversation=sender_id)
    await flash(request, "Mærkerne er gemt.")
    raise redirect(_here(request))


async def add_note(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    sender_id = request.match_info["sid"]
    if not form.get("note", "").strip():
        await flash(request, "Skriv noten, før du gemmer den.", "fejl")
        raise redirect(_here(request))
    await blocking(review.add_note, sender_id, user(request).name, form["note"], request.app[DB_URL])
    await record(request, "note", conversation=sender_id)
    await flash(request, "Noten er gemt.")
    raise redirect(_here(request))


async def annotate(request: web.Request) -> web.StreamResponse:
    """Mark one user message with the intent it should have had, or a new topic."""
    form = await _form(request)
    sender_id = request.match_info["sid"]
    try:
        event_id = int(form.get("event_id", ""))
    except ValueError:
        raise web.HTTPBadRequest(text="event_id mangler") from None
    found = await _transcript(request, sender_id)
    line = found.user_turn(event_id) if found else None
    if line is None:
        return await not_found(request, "Beskeden")
    intent, new_topic = form.get("intent", ""), False
    if intent == NEW_TOPIC:
        intent, new_topic = form.get("nyt_emne", "").strip().lower().replace(" ", "_").replace("-", "_"), True
    elif intent not in intents() and intent != "out_of_scope":
        intent = ""
    try:
        await blocking(review.annotate, sender_id, event_id, line.text, intent, user(request).name,
                       predicted=line.intent, new_topic=new_topic, url=request.app[DB_URL], sent=line.timestamp)
    except ValueError as err:
        await flash(request, f"Markeringen blev ikke gemt: {err}", "fejl")
    else:
        await record(request, "annotate", None, f"besked {event_id}: {line.intent} → {intent}",
                     conversation=sender_id)
        await flash(request, f"Beskeden er markeret som {intent}.")
    raise redirect(_here(request) + f"#b{event_id}")


@require_admin
async def story_export(request: web.Request) -> web.StreamResponse:
    sender_id = request.match_info["sid"]
    found = await _transcript(request, sender_id)
    if found is None:
        return await not_found(request, "Samtalen")
    marks = await blocking(review.annotations, sender_id, request.app[DB_URL])
    found.annotations = {a.event_id: a.intent for a in marks}  # type: ignore[attr-defined]
    text = export.test_story(found)
    await record(request, "export_story", conversation=sender_id)
    return web.Response(text=text, content_type="text/yaml", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="teststory.yml"', "Cache-Control": "no-store"})


@require_admin
async def erase_form(request: web.Request) -> web.Response:
    sender_id = request.match_info["sid"]
    found = await _transcript(request, sender_id)
    if found is None:
        return await not_found(request, "Samtalen")
    return await render(request, "erase.html", {"title": "Slet samtale", "sid": sender_id, "t": found,
                                                "error": None})


@require_admin
async def erase(request: web.Request) -> web.StreamResponse:
    """Erase one conversation everywhere (the same erasure as ``bot.cli erase``), confirmed."""
    form = await request.post()
    sender_id = request.match_info["sid"]
    if form.get("bekraeft") != "ja":
        found = await _transcript(request, sender_id)
        return await render(request, "erase.html", {
            "title": "Slet samtale", "sid": sender_id, "t": found,
            "error": "Sæt kryds for at bekræfte, at samtalen skal slettes."}, status=400)
    index = request.app[INDEX]
    events = await blocking(retention.erase, sender_id, index.engine, request.app[DB_URL])
    rows = await blocking(review.erase, sender_id, request.app[DB_URL])
    index.forget(sender_id)  # its summary (message texts) leaves the console's memory now
    await record(request, "erase", None, f"{events} hændelser, {rows} rækker fra konsollen", conversation=sender_id)
    await flash(request, "Samtalen er slettet.")
    raise redirect(safe_next(str(form.get("tilbage", "")), "/samtaler"))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/samtaler", list_page)
    router.add_get("/samtaler/{sid}", transcript_page)
    router.add_post("/samtaler/{sid}/gennemgaaet", set_reviewed)
    router.add_post("/samtaler/{sid}/maerker", set_tags)
    router.add_post("/samtaler/{sid}/noter", add_note)
    router.add_post("/samtaler/{sid}/marker", annotate)
    router.add_get("/samtaler/{sid}/teststory.yml", story_export)
    router.add_get("/samtaler/{sid}/slet", erase_form)
    router.add_post("/samtaler/{sid}/slet", erase)
