"""The console's documents page through aiohttp's test client against the real app and a SQLite
database: admins only, add (pasted text, a web page, a PDF), the Danish errors of bad input,
replace, retire and restore, CSRF and the audit log; and triage's questions answered from
documents, grouped by document and passage."""
from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from rasa.shared.core.events import BotUttered

from bot.console import app as console_app
from bot.documents import catalogue, extract
from bot.documents.passages import split
from bot.store import audit, db, staff
from bot.store import documents as stored
from tests.documents.pdf import make_pdf
from tests.web.console import trackers
from tests.web.console.client import Client

PASSWORD = "korrekt-hest-batteri"
POLICY = "erhvervspolitik-2024"
TODAY = dt.date.today().isoformat()
TEXT = ("Formål\n\nKøge Kommune bygger overdækket cykelparkering ved Ølby Station. Anlægget åbner i foråret 2027 "
        "og har plads til 400 cykler.\n\nDrift\n\nTeknik- og Miljøforvaltningen gør anlægget rent hver uge.")
FIELDS = {"title": "Cykelparkering ved Ølby Station", "source": "https://www.koege.dk/cykelparkering",
          "verified": TODAY, "kind": "article", "sections": "", "publisher": "Køge Kommune", "title_en": ""}


@pytest.fixture
def world(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_URL", tracker)
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "var"))
    db.migrate(url)
    staff.add("anne", PASSWORD, "admin", url=url)
    staff.add("bo", PASSWORD, "reviewer", url=url)
    clients = []

    def signed_in(name: str) -> Client:
        client = Client(console_app.create_app(url, tracker, secret=b"k" * 32))
        clients.append(client)
        assert client.sign_in(name, PASSWORD).status == 200
        return client

    yield {"url": url, "tracker": tracker, "as": signed_in}
    for client in clients:
        client.close()
    db.engine(url).dispose()


def actions(url: str) -> list[str]:
    return [line.action for line in audit.recent(url=url) if line.action.startswith("document")]


def test_only_admins_see_the_documents_pages(world):
    admin, reviewer = world["as"]("anne"), world["as"]("bo")
    assert 'href="/dokumenter"' in admin.get("/triage").text
    assert 'href="/dokumenter"' not in reviewer.get("/triage").text
    for path in ("/dokumenter", "/dokumenter/ny", f"/dokumenter/{POLICY}"):
        assert reviewer.get(path).status == 403, path
    token = reviewer.get("/triage").token()
    refused = reviewer.upload("/dokumenter/ny", {**FIELDS, "tekst": TEXT}, token=token)
    assert refused.status == 403 and "Kun for administratorer" in refused.text
    assert reviewer.post(f"/dokumenter/{POLICY}/tilbagetraek", {}, token=token).status == 403
    assert stored.version(world["url"]) == 0 and actions(world["url"]) == []


def test_the_list_shows_every_document_with_its_facts(world):
    page = world["as"]("anne").get("/dokumenter")
    assert page.status == 200
    for document in catalogue.load_documents():
        row = re.search(rf'<tr>\s*<td><a href="/dokumenter/{document.id}">.*?</tr>', page.text, re.S).group(0)
        assert document.title in row and document.source.replace("&", "&amp;") in row
        assert f'<td class="num">{len(split(document))}</td>' in row
        assert "bruges i svar" in row and "Fra fil (data/documents)" in row
    assert "Udkast til politik" in page.text and "Artikel" in page.text and "22. nov. 2026" in page.text


def test_an_admin_adds_a_document_by_pasting_its_text(world):
    admin, url = world["as"]("anne"), world["url"]
    token = admin.get("/dokumenter/ny").token()
    reply = admin.upload("/dokumenter/ny", {**FIELDS, "tekst": TEXT, "kommentar": "ny plan"}, token=token)
    assert reply.status == 200 and reply.url.endswith("/dokumenter/cykelparkering-ved-oelby-station")
    assert "er tilføjet med 2 passager" in reply.text and "inden for et minut" in reply.text
    assert "plads til 400 cykler" in reply.text and "Tilføjet i konsollen" in reply.text
    assert re.search(r'<td class="num">2</td>\s*<td>Drift', reply.text)  # the passages with their sections
    state = stored.get("cykelparkering-ved-oelby-station", url)
    assert (state.action, state.origin, state.author, state.comment) == ("add", "paste", "anne", "ny plan")
    [line] = audit.recent(action="document_add", url=url)
    assert (line.actor, line.target) == ("anne", "dokument:cykelparkering-ved-oelby-station")
    assert "indsat tekst, 2 passager" in line.detail
    listing = admin.get("/dokumenter").text
    assert "Cykelparkering ved Ølby Station" in listing and "Tilføjet i konsollen" in listing
    again = admin.upload("/dokumenter/ny", {**FIELDS, "tekst": TEXT}, token=token)  # the same title twice
    assert again.url.endswith("/dokumenter/cykelparkering-ved-oelby-station-2")


def test_an_admin_adds_a_web_page_and_a_pdf(world):
    admin, url = world["as"]("anne"), world["url"]
    token = admin.get("/dokumenter/ny").token()
    page = ("<html><head><title>Havneplan</title></head><body><main><h1>Havneplan for Køge</h1>"
            "<h2>Mål</h2><p>Havnen skal have plads til flere virksomheder inden 2030.</p>"
            "<h2>Økonomi</h2><p>Planen koster 12 mio. kr. over fire år.</p></main></body></html>")
    reply = admin.upload("/dokumenter/ny", {**FIELDS, "title": "", "kind": "policy"},
                         files={"fil": ("havneplan.html", page.encode())}, token=token)
    assert reply.url.endswith("/dokumenter/havneplan-for-koege"), reply.text[:2000]
    state = stored.get("havneplan-for-koege", url)
    assert (state.title, state.origin, state.filename, state.sections) == (
        "Havneplan for Køge", "html", "havneplan.html", ("Mål", "Økonomi"))
    pdf = make_pdf([["Erhvervsaffald", "Virksomheder skal sortere deres affald i ti fraktioner fra 2027.",
                     "Kommunen henter pap hver anden uge."]], title="Affaldsregulativ")
    reply = admin.upload("/dokumenter/ny", {**FIELDS, "title": "", "kind": "policy"},
                         files={"fil": ("regulativ.pdf", pdf)}, token=token)
    assert reply.url.endswith("/dokumenter/affaldsregulativ"), reply.text[:2000]
    assert "ti fraktioner fra 2027" in reply.text
    assert stored.get("affaldsregulativ", url).origin == "pdf"
    assert actions(url) == ["document_add", "document_add"]


@pytest.mark.parametrize(("fields", "files", "message"), [
    ({}, {"fil": ("tom.txt", b"")}, "Filen er tom."),
    ({}, {"fil": ("falsk.pdf", b"Hej, jeg er ikke en PDF")}, "Filen hedder .pdf, men er ikke en PDF"),
    ({}, {"fil": ("stor.txt", b"a" * (extract.MAX_BYTES + 10))}, "Filen er for stor"),
    ({}, {"fil": ("kaempe.txt", b"a" * (extract.MAX_BYTES + 2 * 1024 * 1024))}, "Filen er for stor"),
    ({}, {"fil": ("brev.docx", b"PK\x03\x04")}, "Filtypen kan ikke bruges"),
    ({}, {}, "Upload en fil (tekst, HTML eller PDF), eller indsæt teksten."),
    ({"tekst": TEXT}, {"fil": ("a.txt", TEXT.encode())}, "ikke begge dele"),
    ({"tekst": TEXT, "source": ""}, {}, "Kilde (link)</a>: skal udfyldes"),
    ({"tekst": TEXT, "verified": ""}, {}, "Kontrolleret (dato)</a>: skal udfyldes"),
    ({"tekst": TEXT, "source": "www.koege.dk"}, {}, "skal være et link, der begynder med https://"),
    ({"tekst": TEXT, "verified": "2999-01-01"}, {}, "må ikke ligge i fremtiden"),
    ({"tekst": TEXT, "sections": "Formål\nØkonomi"}, {}, "»Økonomi« ikke"),
    ({"tekst": "Kun en overskrift"}, {}, "giver ingen afsnit at svare ud fra"),
])
def test_bad_input_gets_a_danish_message_on_the_form_and_nothing_is_stored(world, fields, files, message):
    admin, url = world["as"]("anne"), world["url"]
    token = admin.get("/dokumenter/ny").token()
    reply = admin.upload("/dokumenter/ny", {**FIELDS, **fields}, files=files, token=token)
    assert reply.status in (400, 413) and "Dokumentet blev ikke gemt:" in reply.text, reply.text[:3000]
    assert message in reply.text
    assert 'action="/dokumenter/ny"' in reply.text and 'role="alert"' in reply.text
    if "tekst" in fields and not files:
        assert fields["tekst"].split("\n")[0] in reply.text  # what was typed stays in the form
    assert stored.version(url) == 0 and actions(url) == []


def test_a_too_large_new_version_gets_the_documents_page_back_with_the_message(world):
    admin = world["as"]("anne")
    token = admin.get(f"/dokumenter/{POLICY}").token()
    reply = admin.upload(f"/dokumenter/{POLICY}/erstat", dict(FIELDS),
                         files={"fil": ("kaempe.pdf", b"%PDF-" + b"0" * (extract.MAX_BYTES + 2 * 1024 * 1024))},
                         token=token)
    assert reply.status == 413 and "Den nye version blev ikke gemt:" in reply.text and "Filen er for stor" in reply.text
    assert stored.version(world["url"]) == 0


def test_without_the_csrf_token_or_from_another_origin_nothing_is_stored(world):
    admin, url = world["as"]("anne"), world["url"]
    token = admin.get("/dokumenter/ny").token()
    assert admin.upload("/dokumenter/ny", {**FIELDS, "tekst": TEXT}).status == 403
    assert admin.upload("/dokumenter/ny", {**FIELDS, "tekst": TEXT}, token="forkert").status == 403
    assert admin.upload("/dokumenter/ny", {**FIELDS, "tekst": TEXT}, token=token,
                        origin="https://evil.example").status == 403
    assert admin.post(f"/dokumenter/{POLICY}/tilbagetraek", {}).status == 403
    assert stored.version(url) == 0 and actions(url) == []


def test_replace_retire_restore_and_back_to_the_file(world):
    admin, url = world["as"]("anne"), world["url"]
    policy = next(d for d in catalogue.load_documents() if d.id == POLICY)
    page = admin.get(f"/dokumenter/{POLICY}")
    assert page.status == 200 and "Fra fil (data/documents)" in page.text
    assert "Satsning på innovative produktionsvirksomheder i Køge Kommune" in page.text  # a section of a passage
    assert 'name="sections"' in page.text and "Turismestrategi\nFokuseret iværksætterindsats" in page.text
    token = page.token()
    new_text = policy.text + "\n\nKøge Kommune vil åbne et erhvervshus i Ølby i 2028."
    values = {**FIELDS, "title": policy.title, "source": policy.source, "kind": policy.kind,
              "sections": "\n".join(s.title for s in policy.sections), "tekst": new_text}
    reply = admin.upload(f"/dokumenter/{POLICY}/erstat", values, token=token)
    assert "Ny version af" in reply.text and "Fra fil, erstattet i konsollen" in reply.text
    assert "et erhvervshus i Ølby i 2028" in reply.text
    live = {d.id: d for d in catalogue.live_documents(catalogue.load_documents(), stored.current(url))}
    assert live[POLICY].text == extract.tidy(new_text) and live[POLICY].sections == policy.sections
    reply = admin.post(f"/dokumenter/{POLICY}/tilbagetraek", {}, token=token)
    assert "er trukket tilbage" in reply.text and "trukket tilbage: bruges ikke i svar" in reply.text
    assert POLICY not in {d.id for d in catalogue.live_documents(catalogue.load_documents(), stored.current(url))}
    assert "trukket tilbage" in admin.get("/dokumenter").text
    reply = admin.post(f"/dokumenter/{POLICY}/gendan", {}, token=token)
    assert "er gendannet" in reply.text
    reply = admin.post(f"/dokumenter/{POLICY}/fil", {}, token=token)
    assert "bruger igen teksten fra data/documents" in reply.text and "Fra fil (data/documents)" in reply.text
    back = {d.id: d for d in catalogue.live_documents(catalogue.load_documents(), stored.current(url))}
    assert back[POLICY] == policy
    assert actions(url) == ["document_file", "document_restore", "document_retire", "document_replace"]
    assert admin.get("/dokumenter/findes-ikke").status == 404
    assert admin.post("/dokumenter/findes-ikke/tilbagetraek", {}, token=token).status == 404
    audit_page = admin.get("/revision").text
    assert "Dokument trukket tilbage" in audit_page and "Dokument: ny version" in audit_page


def test_triage_lists_the_questions_answered_from_documents_by_document_and_passage(world):
    tracker, url = world["tracker"], world["url"]
    policy = next(d for d in catalogue.load_documents() if d.id == POLICY)
    passages = split(policy)
    first, second = passages[3].id, passages[7].id
    asked = [("web-a", "hvad vil kommunen med erhvervsklasser", first),
             ("web-b", "erhvervsklasser i folkeskolen?", first),
             ("web-c", "min mail er kim@firma.dk, hvad med turisme", second)]
    for sender, text, passage in asked:
        trackers.save(tracker, sender, [trackers.Say(text, "nlu_fallback", 0.3, actions=["action_answer_knowledge"])])
        store = trackers.store(tracker)
        found = asyncio.run(store.retrieve(sender))
        found.update(BotUttered("»citat«", data={"custom": {}},
                                metadata={"kind": "answer", "document": {"passage": passage, "document": POLICY}}))
        asyncio.run(store.save(found))
        store.engine.dispose()
    trackers.save(tracker, "web-d", [trackers.Say("Hvad er moms?", "ask_vat", 0.95, actions=["action_answer_knowledge"])])
    admin, reviewer = world["as"]("anne"), world["as"]("bo")
    page = admin.get("/triage").text
    section = page[page.index('id="h-dokumenter"'):]
    assert "3 spørgsmål besvaret fra 1 dokument" in section
    assert f'<a href="/dokumenter/{POLICY}">{policy.title}</a> <span class="badge">3</span>' in section
    rows = re.findall(r'<tr>\s*<td class="num">(\d+)</td>(.*?)</tr>', section, re.S)
    assert [n for n, _ in rows] == ["2", "1"]
    assert "hvad vil kommunen med erhvervsklasser" in rows[0][1] and "erhvervsklasser i folkeskolen?" in rows[0][1]
    assert passages[3].section.title in rows[0][1] and "Hvad er moms?" not in section
    assert "kim@firma.dk" in section
    masked = reviewer.get("/triage").text
    masked = masked[masked.index('id="h-dokumenter"'):]
    assert "kim@firma.dk" not in masked and f'href="/dokumenter/{POLICY}"' not in masked
    stored.set_retired(POLICY, True, "anne", url=url)  # a retired document still names its passages here
    assert passages[3].section.title in admin.get("/triage").text


def test_every_documents_page_renders_and_the_nav_marks_it(world):
    admin = world["as"]("anne")
    for path in ("/dokumenter", "/dokumenter/ny", f"/dokumenter/{POLICY}", "/dokumenter/baeredygtigt-kraftcenter-2030"):
        page = admin.get(path)
        assert page.status == 200, path
        assert '<a href="/dokumenter" aria-current="page">Dokumenter</a>' in page.text
