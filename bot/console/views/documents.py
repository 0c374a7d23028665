"""Documents: an administrator keeps the documents the assistant quotes current.

The list shows every document (the files in ``data/documents`` and those added here) with its
title, kind, source, verified date, number of passages and state. An administrator adds one
(upload a text file, a web page or a PDF, or paste the text; title, source link, verified date,
kind, and the outline one section title per line, or derived from the headings), replaces a
document's text with a new version, retires it (it is no longer answered from) and restores
it; the detail page shows its passages as the assistant searches them. Every change is kept
(``bot.store.documents``), written to the audit log, and answered from within a minute by
every process, without a restart (``bot.documents.answer.default_index``).

Only administrators see these pages. Uploads may be up to ``extract.MAX_BYTES``; the body limit
of these routes is raised for them (``upload_limit``), and a larger body gets the form back
with a Danish error, never a bare 413.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import replace as replaced
from functools import cached_property

from aiohttp import web

from bot.console.auth import require_admin
from bot.console.keys import DB_URL
from bot.console.render import (
    blocking,
    error_page,
    flash,
    is_admin,
    not_found,
    record,
    redirect,
    render,
    user,
)
from bot.documents import catalogue, extract
from bot.documents.catalogue import Document, DocumentError
from bot.documents.passages import Passage, slug, split
from bot.store import documents as stored
from bot.store.documents import DocumentFormError, Meta, Stored

PREFIX = "/dokumenter"
#: The body limit of the upload routes: the largest file, and room for the form's other fields.
UPLOAD_BODY = extract.MAX_BYTES + 1024 * 1024
ORIGIN_LABELS = {"txt": "tekstfil", "html": "webside (HTML)", "pdf": "PDF", "paste": "indsat tekst"}
ACTION_LABELS = {stored.ADD: "Tilføjet", stored.REPLACE: "Ny version", stored.RETIRE: "Trukket tilbage",
                 stored.RESTORE: "Gendannet", stored.FILE: "Tilbage til filens tekst"}
TOO_LARGE = (f"Filen er for stor. Den må højst være {extract.MAX_BYTES // (1024 * 1024)} MB; del den op, "
             "eller indsæt den del af teksten, assistenten skal kunne svare ud fra.")


@dataclass
class Entry:
    """One document as the console shows it: what it is now, and where it comes from."""

    id: str
    document: Document
    in_files: bool
    state: Stored | None  # the newest stored version, if any

    @property
    def retired(self) -> bool:
        return bool(self.state and self.state.retired)

    @property
    def replaced(self) -> bool:
        """A document of the files whose text was replaced here."""
        return self.in_files and self.state is not None and self.state.text is not None

    @property
    def origin(self) -> str:
        if not self.in_files:
            return "Tilføjet i konsollen"
        return "Fra fil, erstattet i konsollen" if self.replaced else "Fra fil (data/documents)"

    @cached_property
    def passages(self) -> list[Passage]:
        return split(self.document)


class Library:
    """The files' documents and the stored versions, read together."""

    def __init__(self, db_url: str | None) -> None:
        self.files = {d.id: d for d in catalogue.load_documents()}
        self.stored = stored.current(db_url)

    def entry(self, doc_id: str) -> Entry | None:
        base = self.files.get(doc_id)
        state = self.stored.get(doc_id)
        document = base
        if state is not None and state.text is not None:
            document = catalogue.build(state, base)
        if document is None:
            return None
        return Entry(doc_id, document, base is not None, state)

    def entries(self) -> list[Entry]:
        """Every document, retired ones last, each with its passages (split here, in a worker
        thread, not while the page is rendered)."""
        found = [self.entry(doc_id) for doc_id in dict.fromkeys([*self.files, *self.stored])]
        entries = sorted((e for e in found if e is not None), key=lambda e: (e.retired, e.document.title.lower()))
        for entry in entries:
            _ = entry.passages
        return entries

    def new_id(self, title: str) -> str:
        """An id for a new document from its title, not used by any other."""
        base = slug(title)[:80].strip("-") or "dokument"
        taken = set(self.files) | set(self.stored)
        found, n = base, 1
        while found in taken:
            n += 1
            found = f"{base}-{n}"
        return found


async def _library(request: web.Request) -> Library:
    return await blocking(Library, request.app[DB_URL])


# --- reading the form ---------------------------------------------------------------------------

FIELDS = ("title", "title_en", "publisher", "source", "verified", "kind", "sections")


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


async def _form(request: web.Request) -> tuple[dict[str, str], Upload | None]:
    form = await request.post()
    values = {k: str(form.get(k) or "") for k in (*FIELDS, "tekst", "kommentar")}
    field = form.get("fil")
    upload = None
    if isinstance(field, web.FileField) and field.filename:
        data = await blocking(field.file.read, extract.MAX_BYTES + 1)
        upload = Upload(field.filename, data)
    return values, upload


def prepare(values: dict[str, str], upload: Upload | None, today: dt.date | None = None
            ) -> tuple[Meta, extract.Extracted]:
    """The metadata and text of an add or replace form; ``DocumentFormError`` with every
    problem, in Danish, by field."""
    problems: dict[str, str] = {}
    found: extract.Extracted | None = None
    pasted = values.get("tekst", "").strip()
    if upload is not None and pasted:
        problems["file"] = "Upload en fil eller indsæt teksten – ikke begge dele."
    elif upload is not None:
        try:
            found = extract.extract(upload.data, upload.filename)
        except extract.ExtractError as err:
            problems["file"] = str(err)
    elif pasted:
        try:
            found = extract.from_paste(pasted)
        except extract.ExtractError as err:
            problems["text"] = str(err)
    else:
        problems["file"] = "Upload en fil (tekst, HTML eller PDF), eller indsæt teksten."
    if found is not None and not values.get("title", "").strip() and found.title:
        values = {**values, "title": found.title[:stored.MAX_TITLE]}
    try:
        meta = stored.check(values, today)
    except DocumentFormError as err:
        problems.update(err.problems)
        meta = None
    if found is not None and meta is not None:
        sections = meta.sections
        if sections:
            try:
                stored.check_sections(found.text, sections)
            except DocumentFormError as err:
                problems.update(err.problems)
        else:
            lines = {line.strip() for line in found.text.splitlines()}
            meta = replaced(meta, sections=tuple(h for h in found.headings if h in lines))
    if problems:
        raise DocumentFormError(problems)
    assert meta is not None and found is not None
    return meta, found


def _document(doc_id: str, meta: Meta, text: str, base: Document | None) -> Document:
    """The document as it would be answered from; ``DocumentFormError`` if it gives nothing."""
    try:
        document = catalogue.stored_document(doc_id, kind=meta.kind, title=meta.title, source=meta.source,
                                             verified=meta.verified, text=text, sections=meta.sections,
                                             title_en=meta.title_en or None, publisher=meta.publisher, base=base)
    except DocumentError as err:
        raise DocumentFormError({"text": f"kan ikke bruges: {err}"}) from err
    if not split(document):
        raise DocumentFormError({"text": "giver ingen afsnit at svare ud fra (kun overskrifter?). Tjek teksten."})
    return document


# --- pages -----------------------------------------------------------------------------------------

def _kinds() -> list[tuple[str, str]]:
    return [(k, stored.KIND_LABELS[k]) for k in catalogue.KINDS]


def _defaults(entry: Entry | None) -> dict[str, str]:
    if entry is None:
        return {"verified": dt.date.today().isoformat(), "publisher": stored.DEFAULT_PUBLISHER, "kind": "policy"}
    d = entry.document
    return {"title": d.title, "title_en": d.title_en if d.title_en != d.title else "", "publisher": d.publisher,
            "source": d.source, "verified": d.verified.isoformat(), "kind": d.kind,
            "sections": "\n".join(s.title for s in d.sections)}


@require_admin
async def overview(request: web.Request) -> web.Response:
    library = await _library(request)
    return await render(request, "documents.html", {
        "title": "Dokumenter", "entries": await blocking(library.entries), "kinds": stored.KIND_LABELS,
        "history": await blocking(stored.history, None, 20, request.app[DB_URL]), "actions": ACTION_LABELS,
        "origins": ORIGIN_LABELS,
    })


async def _add_form(request: web.Request, values: dict[str, str] | None = None,
                    problems: dict[str, str] | None = None, status: int | None = None) -> web.Response:
    return await render(request, "document_add.html", {
        "title": "Tilføj dokument", "values": values or _defaults(None), "problems": problems or {},
        "labels": stored.LABELS, "kinds": _kinds(), "max_mb": extract.MAX_BYTES // (1024 * 1024),
    }, status=status or (400 if problems else 200))


@require_admin
async def add_form(request: web.Request) -> web.Response:
    return await _add_form(request)


@require_admin
async def add(request: web.Request) -> web.StreamResponse:
    values, upload = await _form(request)
    library = await _library(request)
    try:
        meta, found = await blocking(prepare, values, upload)
        doc_id = library.new_id(meta.title)
        document = await blocking(_document, doc_id, meta, found.text, None)
    except DocumentFormError as err:
        return await _add_form(request, values, err.problems)
    saved = await blocking(stored.save, doc_id, meta, found.text, user(request).name, origin=found.origin,
                           filename=upload.filename if upload else None,
                           comment=values.get("kommentar", "").strip() or None, url=request.app[DB_URL])
    count = len(await blocking(split, document))
    await record(request, "document_add", f"dokument:{doc_id}",
                 f"version #{saved.id}: {ORIGIN_LABELS[found.origin]}, {count} passager")
    await flash(request, f"Dokumentet »{meta.title}« er tilføjet med {count} passager. Assistenten svarer ud fra "
                         "det inden for et minut.")
    raise redirect(f"{PREFIX}/{doc_id}")


async def _item(request: web.Request, doc_id: str, values: dict[str, str] | None = None,
                problems: dict[str, str] | None = None, status: int | None = None) -> web.Response:
    library = await _library(request)
    entry = library.entry(doc_id)
    if entry is None:
        return await not_found(request, "Dokumentet")
    passages = await blocking(split, entry.document)
    return await render(request, "document_item.html", {
        "title": f"Dokument: {entry.document.title}", "entry": entry, "passages": passages,
        "values": values or _defaults(entry), "problems": problems or {}, "labels": stored.LABELS,
        "kinds": _kinds(), "kind_labels": stored.KIND_LABELS, "max_mb": extract.MAX_BYTES // (1024 * 1024),
        "history": await blocking(stored.history, doc_id, 50, request.app[DB_URL]), "actions": ACTION_LABELS,
        "origins": ORIGIN_LABELS,
    }, status=status or (400 if problems else 200))


@require_admin
async def item(request: web.Request) -> web.Response:
    return await _item(request, request.match_info["doc_id"])


@require_admin
async def replace(request: web.Request) -> web.StreamResponse:
    doc_id = request.match_info["doc_id"]
    values, upload = await _form(request)
    library = await _library(request)
    entry = library.entry(doc_id)
    if entry is None:
        return await not_found(request, "Dokumentet")
    try:
        meta, found = await blocking(prepare, values, upload)
        document = await blocking(_document, doc_id, meta, found.text, library.files.get(doc_id))
    except DocumentFormError as err:
        return await _item(request, doc_id, values, err.problems)
    saved = await blocking(stored.save, doc_id, meta, found.text, user(request).name, origin=found.origin,
                           filename=upload.filename if upload else None,
                           comment=values.get("kommentar", "").strip() or None, url=request.app[DB_URL])
    count = len(await blocking(split, document))
    await record(request, "document_replace", f"dokument:{doc_id}",
                 f"version #{saved.id}: {ORIGIN_LABELS[found.origin]}, {count} passager")
    note = " Det er trukket tilbage og bruges ikke, før det gendannes." if saved.retired else (
        " Assistenten svarer ud fra den nye version inden for et minut.")
    await flash(request, f"Ny version af »{meta.title}« er gemt med {count} passager.{note}")
    raise redirect(f"{PREFIX}/{doc_id}")


async def _set_retired(request: web.Request, retired: bool) -> web.StreamResponse:
    doc_id = request.match_info["doc_id"]
    library = await _library(request)
    entry = library.entry(doc_id)
    if entry is None:
        return await not_found(request, "Dokumentet")
    if entry.retired == retired:
        await flash(request, "Dokumentet er allerede trukket tilbage." if retired else "Dokumentet bruges allerede.")
        raise redirect(f"{PREFIX}/{doc_id}")
    saved = await blocking(stored.set_retired, doc_id, retired, user(request).name, url=request.app[DB_URL])
    await record(request, "document_retire" if retired else "document_restore", f"dokument:{doc_id}",
                 f"version #{saved.id}")
    await flash(request, f"»{entry.document.title}« er trukket tilbage: assistenten svarer ikke længere ud fra det "
                         "(inden for et minut)." if retired else
                f"»{entry.document.title}« er gendannet: assistenten svarer ud fra det igen inden for et minut.")
    raise redirect(f"{PREFIX}/{doc_id}")


@require_admin
async def retire(request: web.Request) -> web.StreamResponse:
    return await _set_retired(request, True)


@require_admin
async def restore(request: web.Request) -> web.StreamResponse:
    return await _set_retired(request, False)


@require_admin
async def back_to_file(request: web.Request) -> web.StreamResponse:
    doc_id = request.match_info["doc_id"]
    library = await _library(request)
    entry = library.entry(doc_id)
    if entry is None:
        return await not_found(request, "Dokumentet")
    if not entry.replaced:
        await flash(request, "Dokumentet bruger allerede filens tekst.")
        raise redirect(f"{PREFIX}/{doc_id}")
    saved = await blocking(stored.back_to_file, doc_id, user(request).name, url=request.app[DB_URL])
    await record(request, "document_file", f"dokument:{doc_id}", f"version #{saved.id}: tilbage til filen")
    await flash(request, "Dokumentet bruger igen teksten fra data/documents.")
    raise redirect(f"{PREFIX}/{doc_id}")


# --- the body limit of uploads ------------------------------------------------------------------

@web.middleware
async def upload_limit(request: web.Request, handler) -> web.StreamResponse:
    """The upload forms may send a file of up to ``extract.MAX_BYTES``; a larger body gets its
    form back with a Danish error (nothing is stored: the request is not read further)."""
    if request.method != "POST" or not _upload_path(request.path):
        return await handler(request)
    try:
        return await handler(request.clone(client_max_size=UPLOAD_BODY))
    except web.HTTPRequestEntityTooLarge:
        if not is_admin(request):
            return await error_page(request, 403, "Kun for administratorer",
                                    "Det kan kun en administrator. Spørg en administrator, hvis det skal gøres.")
        problems = {"file": TOO_LARGE}
        if request.path == f"{PREFIX}/ny":
            return await _add_form(request, None, problems, status=413)
        doc_id = request.path[len(PREFIX) + 1:].split("/")[0]
        return await _item(request, doc_id, None, problems, status=413)


def _upload_path(path: str) -> bool:
    return path == f"{PREFIX}/ny" or (path.startswith(PREFIX + "/") and path.endswith("/erstat"))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(PREFIX, overview)
    router.add_get(f"{PREFIX}/ny", add_form)
    router.add_post(f"{PREFIX}/ny", add)
    router.add_get(PREFIX + "/{doc_id}", item)
    router.add_post(PREFIX + "/{doc_id}/erstat", replace)
    router.add_post(PREFIX + "/{doc_id}/tilbagetraek", retire)
    router.add_post(PREFIX + "/{doc_id}/gendan", restore)
    router.add_post(PREFIX + "/{doc_id}/fil", back_to_file)

