"""The improve loop: the messages staff marked with their right intent (or a new topic),
with warnings, and the admin's export as Rasa NLU YAML for ``data/nlu/``."""
from __future__ import annotations

from aiohttp import web

from bot.console import export
from bot.console.auth import require_admin
from bot.console.keys import DB_URL
from bot.console.render import blocking, flash, record, redirect, render
from bot.console.training import TrainingData
from bot.store import review


async def page(request: web.Request) -> web.Response:
    marks = await blocking(review.annotations, None, request.app[DB_URL])
    data = await blocking(TrainingData.load)
    warnings = export.nlu_warnings(marks, data)
    return await render(request, "improve.html", {
        "title": "Forbedringer", "marks": marks, "warnings": warnings,
        "warning_count": sum(len(w) for w in warnings.values()),
    })


@require_admin
async def nlu_export(request: web.Request) -> web.Response:
    marks = await blocking(review.annotations, None, request.app[DB_URL])
    data = await blocking(TrainingData.load)
    text, warnings = export.nlu_yaml(marks, data)
    await record(request, "export_nlu", None, f"{len(marks)} beskeder, {len(warnings)} advarsler")
    return web.Response(text=text, content_type="text/yaml", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="nlu-fra-konsollen.yml"', "Cache-Control": "no-store"})


async def remove(request: web.Request) -> web.StreamResponse:
    try:
        annotation_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    removed = await blocking(review.remove_annotation, annotation_id, request.app[DB_URL])
    if removed is not None:
        await record(request, "unannotate", None, f"besked {removed.event_id}: {removed.intent}",
                     conversation=removed.sender_id)
        await flash(request, "Markeringen er fjernet.")
    raise redirect("/forbedringer")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/forbedringer", page)
    router.add_get("/forbedringer/nlu.yml", nlu_export)
    router.add_post("/forbedringer/{id}/fjern", remove)
