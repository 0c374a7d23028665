"""Content: an admin corrects an answer's Danish/English text, source link and verified date,
or a contact's details. The change is live on every instance within seconds (see
``bot.knowledge.default``), kept with its history (who, when, before/after), can be rolled
back, and can be written back to ``data/knowledge``. Reviewers can read everything here."""
from __future__ import annotations

from aiohttp import web

from bot import answers, knowledge
from bot.console import writeback
from bot.console.auth import require_admin
from bot.console.keys import DB_URL, KNOWLEDGE_DIR
from bot.console.render import blocking, flash, not_found, record, redirect, render, user
from bot.store import content

KINDS = {"svar": content.ANSWER, "kontakter": content.CONTACT}
PATHS = {v: k for k, v in KINDS.items()}


class State:
    """The files' knowledge, the live overrides and the live knowledge, read together."""

    def __init__(self, folder, db_url: str | None) -> None:
        self.files = knowledge.load(folder)
        self.overrides = content.overrides(db_url)
        self.live = knowledge.apply_overrides(self.files, self.overrides)

    def exists(self, kind: str, key: str) -> bool:
        return key in (self.files.entries if kind == content.ANSWER else self.files.contacts)

    def file_values(self, kind: str, key: str) -> dict[str, str]:
        return knowledge.editable_values(self.files, kind, key)

    def live_values(self, kind: str, key: str) -> dict[str, str]:
        return knowledge.editable_values(self.live, kind, key)

    def differs(self, kind: str, key: str) -> bool:
        return (kind, key) in self.overrides and self.live_values(kind, key) != self.file_values(kind, key)

    def pending(self) -> list[tuple[str, str]]:
        """Items whose live values differ from their file (what a write-back would write)."""
        return [(kind, key) for kind, key in self.overrides if self.exists(kind, key) and self.differs(kind, key)]


async def _state(request: web.Request) -> State:
    return await blocking(State, request.app[KNOWLEDGE_DIR], request.app[DB_URL])


async def overview(request: web.Request) -> web.Response:
    state = await _state(request)
    answers = sorted(state.live.entries.values(), key=lambda e: e.title["da"].lower())
    contacts = sorted(state.live.contacts.values(), key=lambda c: c.name["da"].lower())
    return await render(request, "content.html", {
        "title": "Indhold", "answers": answers, "contacts": contacts, "state": state,
        "pending": state.pending(), "history": await blocking(content.history, None, None, 20,
                                                              request.app[DB_URL]),
        "paths": PATHS, "labels": content.LABELS,
    })


def _kind_key(request: web.Request) -> tuple[str, str]:
    kind = KINDS.get(request.match_info["kind"])
    if kind is None:
        raise web.HTTPNotFound()
    return kind, request.match_info["key"]


async def item(request: web.Request, problems: dict[str, str] | None = None,
               values: dict[str, str] | None = None) -> web.Response:
    kind, key = _kind_key(request)
    state = await _state(request)
    if not state.exists(kind, key):
        return await not_found(request, "Svaret" if kind == content.ANSWER else "Kontakten")
    if kind == content.ANSWER:
        entry = state.live.entries[key]
        name = entry.title["da"]
        try:
            preview = {lang: answers.text(state.live.answer(key, lang)[0]) for lang in knowledge.LANGUAGES}
        except (KeyError, knowledge.KnowledgeError):
            preview = {}
    else:
        name = state.live.contacts[key].name["da"]
        preview = {lang: state.live.contacts[key].card(lang) for lang in knowledge.LANGUAGES}
    return await render(request, "content_item.html", {
        "title": f"Indhold: {name}", "name": name, "kind": kind, "key": key, "path": PATHS[kind],
        "values": values or state.live_values(kind, key), "file_values": state.file_values(kind, key),
        "overridden": (kind, key) in state.overrides, "differs": state.differs(kind, key),
        "fields": content.FIELDS[kind], "labels": content.LABELS, "problems": problems or {},
        "history": await blocking(content.history, kind, key, 50, request.app[DB_URL]),
        "preview": preview,
    }, status=400 if problems else 200)


@require_admin
async def save(request: web.Request) -> web.StreamResponse:
    kind, key = _kind_key(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    state = await _state(request)
    if not state.exists(kind, key):
        return await not_found(request, "Svaret" if kind == content.ANSWER else "Kontakten")
    try:
        values = content.check(kind, form)
    except content.ContentError as err:
        return await item(request, problems=err.problems, values={f: form.get(f, "") for f in content.FIELDS[kind]})
    before = state.live_values(kind, key)
    if values == before:
        await flash(request, "Ingen ændringer at gemme.")
        raise redirect(f"/indhold/{PATHS[kind]}/{key}")
    saved = await blocking(content.edit, kind, key, before, values, user(request).name,
                           form.get("kommentar", "").strip() or None, request.app[DB_URL])
    await record(request, "content_edit", f"{kind}:{key}",
                 f"ændring #{saved.id}: " + ", ".join(f for f, _, _ in saved.changed()))
    await flash(request, "Ændringen er gemt og vises i assistenten om få sekunder.")
    raise redirect(f"/indhold/{PATHS[kind]}/{key}")


@require_admin
async def back_to_file(request: web.Request) -> web.StreamResponse:
    kind, key = _kind_key(request)
    state = await _state(request)
    if not state.exists(kind, key):
        return await not_found(request, "Svaret" if kind == content.ANSWER else "Kontakten")
    saved = await blocking(content.edit, kind, key, state.live_values(kind, key), None, user(request).name,
                           "tilbage til filens tekst", request.app[DB_URL])
    await record(request, "content_rollback", f"{kind}:{key}", f"ændring #{saved.id}: tilbage til filen")
    await flash(request, "Svaret bruger igen teksten fra filen.")
    raise redirect(f"/indhold/{PATHS[kind]}/{key}")


@require_admin
async def rollback(request: web.Request) -> web.StreamResponse:
    try:
        edit_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    target = await blocking(content.get, edit_id, request.app[DB_URL])
    state = await _state(request)
    if target is None or not state.exists(target.kind, target.key):
        return await not_found(request, "Ændringen")
    saved = await blocking(content.rollback, edit_id, state.live_values(target.kind, target.key),
                           user(request).name, request.app[DB_URL])
    await record(request, "content_rollback", f"{target.kind}:{target.key}",
                 f"ændring #{saved.id}: tilbage til før #{edit_id}")
    await flash(request, f"Ændring #{edit_id} er rullet tilbage.")
    raise redirect(f"/indhold/{PATHS[target.kind]}/{target.key}")


@require_admin
async def write_back(request: web.Request) -> web.StreamResponse:
    state = await _state(request)
    pending = {item: state.overrides[item] for item in state.pending()}
    changed = await blocking(writeback.write_back, request.app[KNOWLEDGE_DIR], pending)
    names = ", ".join(p.name for p in changed)
    await record(request, "content_writeback", None, f"{len(pending)} rettelser i {names or 'ingen filer'}")
    if changed:
        await flash(request, f"Skrevet til {names} i data/knowledge. Husk at committe ændringen.")
    else:
        await flash(request, "Filerne svarer allerede til indholdet: intet at skrive.")
    raise redirect("/indhold")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/indhold", overview)
    router.add_post("/indhold/skriv-tilbage", write_back)
    router.add_post("/indhold/fortryd/{id}", rollback)
    router.add_get("/indhold/{kind}/{key}", item)
    router.add_post("/indhold/{kind}/{key}", save)
    router.add_post("/indhold/{kind}/{key}/fil", back_to_file)
