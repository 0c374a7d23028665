"""The console's pages through aiohttp's test client, against the real app, a tracker store
written by Rasa's SQLTrackerStore and a SQLite database: list and filters, transcript,
triage, marking and the exports, bookings, dashboard, content edits and erasure."""
from __future__ import annotations

import asyncio
import datetime as dt
import shutil

import pytest
import yaml
from rasa.shared.core.events import BotUttered

from bot import answers, knowledge, settings
from bot.console import app as console_app
from bot.store import audit, content, conversations, db, review, staff
from bot.store.models import Booking, Feedback
from tests.web.console import trackers
from tests.web.console.client import Client

PASSWORD = "korrekt-hest-batteri"


@pytest.fixture
def world(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_URL", tracker)
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "var"))  # the audit key of this test
    db.migrate(url)
    staff.add("anne", PASSWORD, "admin", url=url)
    staff.add("bo", PASSWORD, "reviewer", url=url)
    ids = trackers.sample(tracker)
    folder = tmp_path / "knowledge"
    shutil.copytree(settings.knowledge_dir(), folder)
    with db.session(url) as s:
        s.add(Booking(reference="KB-2026-0001", request_key="k1", sender_id=ids["booking"],
                      company_name="Firma ApS", cvr="29189374", contact_name="Anne Hansen",
                      email="anne@example.dk", phone="+45 20 12 34 56", topic="Vækst, ring 20123456",
                      slot_start=dt.datetime.now() + dt.timedelta(days=3), duration_minutes=60, language="da",
                      status="booked"))
        s.add(Feedback(sender_id=ids["good"], bot_message="Svar", rating="down"))
    clients = []

    def signed_in(name: str) -> Client:
        client = Client(console_app.create_app(url, tracker, secret=b"k" * 32, knowledge_dir=folder))
        clients.append(client)
        assert client.sign_in(name, PASSWORD).status == 200
        return client

    yield {"url": url, "tracker": tracker, "ids": ids, "folder": folder, "as": signed_in}
    for client in clients:
        client.close()


def test_the_list_filters_and_keeps_the_filter_in_its_links(world):
    admin = world["as"]("anne")
    page = admin.get("/samtaler").text
    assert "5 samtaler" in page
    page = admin.get("/samtaler?lav=1").text
    assert "1 samtale passer" in page and "kan i hjælpe med parkering" in page
    assert "tilbage=%2Fsamtaler%3Flav%3D1" in page  # the transcript's way back keeps the filter
    assert "1 samtale" in admin.get("/samtaler?negativ=1").text
    assert "1 samtale" in admin.get("/samtaler?kanal=telegram").text
    assert "1 samtale" in admin.get("/samtaler?booking=1").text
    assert "0 samtaler" in admin.get("/samtaler?ikke_gennemgaaet=1&tekst=findes-ikke").text
    assert admin.get("/samtaler?fra=ikke-en-dato&under=abc&side=-4").status == 200


def test_triage_lists_what_needs_a_look(world):
    admin, ids = world["as"]("anne"), world["ids"]
    page = admin.get("/triage").text
    for sid in (ids["fallback"], ids["person"], ids["abandoned"], ids["good"]):  # good: negative feedback
        assert sid.replace(":", "%3A") in page or sid in page
    assert ids["booking"].replace(":", "%3A") not in page
    review.set_reviewed(ids["fallback"], "anne", world["url"])
    assert ids["fallback"] not in admin.get("/triage").text
    assert ids["fallback"] in admin.get("/triage?alle=1").text
    assert ids["person"] in admin.get("/triage?grund=person").text
    assert ids["abandoned"] not in admin.get("/triage?grund=person").text


def test_a_transcript_shows_the_nlu_and_is_audited_and_masked_for_reviewers(world):
    ids = world["ids"]
    admin, reviewer = world["as"]("anne"), world["as"]("bo")
    page = admin.get(f"/samtaler/{ids['fallback']}").text
    assert "nlu_fallback" in page and "ask_road_use" in page and "ask_mobility" in page
    assert "action_clarify" in page and "anne@example.dk" in page
    page = reviewer.get(f"/samtaler/{ids['fallback']}").text
    assert "anne@example.dk" not in page and "[e-mail]" in page
    slots = reviewer.get("/samtaler/" + ids["booking"].replace(":", "%3A")).text
    assert "29189374" not in slots and "[CVR-nummer]" in slots
    views = [(line.actor, line.target) for line in audit.recent(action="view_transcript", url=world["url"])]
    seen = audit.pseudonym(ids["fallback"])
    assert ("anne", seen) in views and ("bo", seen) in views
    assert admin.get("/samtaler/findes-ikke").status == 404


def test_a_factual_answer_is_one_reply_in_the_transcript_with_its_footer(world):
    """The answer as the user read it: one reply, its text, then its contacts and source."""
    kb = knowledge.load()
    answer, buttons = kb.answer("ask_outdoor_serving", "da")
    message = answers.message(answer, buttons)
    store = trackers.store(world["tracker"])
    tracker = asyncio.run(store.retrieve(world["ids"]["good"]))
    tracker.update(BotUttered(message["text"], data={"buttons": buttons, "custom": message["custom"]},
                              metadata={"kind": "answer"}))
    asyncio.run(store.save(tracker))
    store.engine.dispose()
    found = conversations.transcript(world["ids"]["good"], world["tracker"])
    turn = found.turns[-1]
    assert (turn.kind, turn.text) == ("bot", answer.body) and turn.footer == answers.footer(answer)
    assert turn.whole_text == message["text"]
    page = world["as"]("anne").get(f"/samtaler/{world['ids']['good']}").text
    assert page.count('class="text answer-footer"') == 1
    assert "Kontakt: Teknik- og Miljøforvaltningen, tmf@koege.dk\nKilder: [koege.dk](" in page
    masked = world["as"]("bo").get(f"/samtaler/{world['ids']['good']}").text
    assert "tmf@koege.dk" not in masked  # the footer is masked for reviewers like the rest


def test_tags_notes_and_reviewed(world):
    ids, reviewer = world["ids"], world["as"]("bo")
    path = f"/samtaler/{ids['good']}"
    token = reviewer.get(path).token()
    reviewer.post(path + "/maerker", {"tags": "moms, Godt svar"}, token=token)
    reviewer.post(path + "/noter", {"note": "Svaret var fint."}, token=token)
    page = reviewer.post(path + "/gennemgaaet", {"gennemgaaet": "1"}, token=token).text
    assert "moms, godt svar" in page and "Svaret var fint." in page and "af bo" in page
    assert review.get(ids["good"], world["url"]).reviewed_by == "bo"


def test_mark_messages_and_export_them_as_nlu_yaml_with_warnings(world):
    ids, url = world["ids"], world["url"]
    reviewer, admin = world["as"]("bo"), world["as"]("anne")
    path = f"/samtaler/{ids['fallback']}"
    t = conversations.transcript(ids["fallback"], world["tracker"])
    first, second = (turn.event_id for turn in t.turns if turn.kind == "user")
    token = reviewer.get(path).token()
    reviewer.post(path + "/marker", {"event_id": str(first), "intent": "ask_road_use"}, token=token)
    reviewer.post(path + "/marker", {"event_id": str(second), "intent": "__nyt__", "nyt_emne": "ask parking"},
                  token=token)
    good = conversations.transcript(ids["good"], world["tracker"])
    vat = next(turn.event_id for turn in good.turns if turn.kind == "user")
    reviewer.post(f"/samtaler/{ids['good']}/marker", {"event_id": str(vat), "intent": "ask_vat"}, token=token)
    marks = {m.intent: m for m in review.annotations(url=url)}
    assert set(marks) == {"ask_road_use", "ask_parking", "ask_vat"} and marks["ask_parking"].new_topic
    assert reviewer.get("/forbedringer/nlu.yml").status == 403
    page = reviewer.get("/forbedringer").text
    assert "nyt emne" in page
    reply = admin.get("/forbedringer/nlu.yml")
    assert reply.status == 200 and "attachment" in reply.headers["Content-Disposition"]
    doc = yaml.safe_load(reply.text)
    assert doc["version"] == "3.1"
    blocks = {b["intent"]: b["examples"] for b in doc["nlu"]}
    assert blocks["ask_road_use"] == "- kan i hjælpe med parkering af lastbiler\n"
    assert blocks["ask_parking"] == "- min mail er navn@firma.dk\n"  # personal data replaced
    assert "anne@example.dk" not in reply.text
    assert "ADVARSEL" in reply.text and "ask_parking findes ikke i domain.yml" in reply.text
    assert audit.count("export_nlu", url=url) == 1


def test_export_warns_about_examples_already_in_the_data_and_conflicts():
    from bot.console import export
    from bot.console.training import TrainingData
    from bot.store.review import Annotation

    now = dt.datetime.now()
    data = TrainingData({"hej": {"greet"}}, {"farvel for nu": {"goodbye"}})
    marks = [Annotation(1, "a", 1, "Hej!", None, "goodbye", False, "x", now),
             Annotation(2, "b", 1, "Farvel for nu", None, "goodbye", False, "x", now),
             Annotation(3, "c", 1, "book nu", None, "book_visit", False, "x", now),
             Annotation(4, "d", 2, "Book nu", None, "stop", False, "x", now)]
    warnings = export.nlu_warnings(marks, data)
    assert any("findes allerede i træningsdata" in w for w in warnings[1])
    assert any("konflikt: træningsdata siger greet" in w for w in warnings[1])
    assert any("testsættet" in w for w in warnings[2])
    assert any("konflikt: samme besked" in w for w in warnings[3]) and any("konflikt" in w for w in warnings[4])


def test_a_conversation_as_a_test_story(world):
    ids, admin = world["ids"], world["as"]("anne")
    reply = admin.get("/samtaler/" + ids["booking"].replace(":", "%3A") + "/teststory.yml")
    story = yaml.safe_load(reply.text)["stories"][0]
    assert story["steps"][:3] == [{"user": "book et besøg\n", "intent": "book_visit"}, {"action": "visit_form"},
                                  {"active_loop": "visit_form"}]
    assert {"action": "action_book_visit"} in story["steps"]
    assert world["as"]("bo").get("/samtaler/" + ids["booking"] + "/teststory.yml").status == 403


def test_bookings_follow_up_and_masked_csv(world):
    admin, reviewer, url = world["as"]("anne"), world["as"]("bo"), world["url"]
    page = reviewer.get("/bookinger").text
    assert "KB-2026-0001" in page and "anne@example.dk" not in page
    booking_id = 1
    token = reviewer.get("/bookinger").token()
    page = reviewer.post(f"/bookinger/{booking_id}/opfoelgning", {"status": "confirmed"}, token=token).text
    assert "Bekræftet" in page
    with db.session(url) as s:
        booking = s.get(Booking, booking_id)
        assert (booking.status, booking.follow_up) == ("booked", "confirmed")
    masked = reviewer.get("/bookinger.csv?periode=alle").text
    assert "KB-2026-0001" in masked and "anne@example.dk" not in masked and "29189374" not in masked
    assert "20123456" not in masked and "[telefon]" in masked
    plain = admin.get("/bookinger.csv?periode=alle").text
    assert "anne@example.dk" in plain and "+45 20 12 34 56" in plain and plain.startswith("\ufeffreference;")
    admin.post(f"/bookinger/{booking_id}/opfoelgning", {"status": "cancelled"}, token=admin.get("/bookinger").token())
    with db.session(url) as s:
        assert s.get(Booking, booking_id).status == "cancelled"
        kinds = [n.kind for n in s.query(__import__("bot.store.models", fromlist=["Notification"]).Notification)]
    assert "user_cancelled" in kinds
    page = admin.post(f"/bookinger/{booking_id}/opfoelgning", {"status": "new"},
                      token=admin.get("/bookinger").token()).text
    assert "kan ikke genåbnes" in page
    assert [line.action for line in audit.recent(url=url)].count("booking_follow_up") == 2


def test_the_dashboard_links_its_bars_to_the_conversations(world):
    admin = world["as"]("anne")
    page = admin.get("/dashboard").text
    today = dt.date.today().isoformat()
    assert f'href="/samtaler?fra={today}&amp;til={today}"' in page
    assert "kanal=telegram" in page and "intent=ask_vat" in page
    assert "kan i hjælpe med parkering af lastbiler" in page  # top unanswered
    assert "<svg" in page and "<table" in page
    assert admin.get("/dashboard?dage=90").status == 200 and admin.get("/dashboard?dage=x").status == 200


def test_content_edit_history_rollback_and_write_back(world):
    admin, reviewer, url, folder = world["as"]("anne"), world["as"]("bo"), world["url"], world["folder"]
    page = admin.get("/indhold/svar/ask_vat")
    values = knowledge.editable_values(knowledge.load(folder), "answer", "ask_vat")
    form = {**values, "text_da": "Ny dansk momstekst fra konsollen.", "source": "https://skat.dk/moms"}
    reply = admin.post("/indhold/svar/ask_vat", form, token=page.token())
    assert "Ny dansk momstekst fra konsollen." in reply.text and "rettet i konsollen" in reply.text
    bad = admin.post("/indhold/svar/ask_vat", {**form, "source": "ikke et link"}, token=page.token())
    assert bad.status == 400 and "skal være et link" in bad.text
    assert reviewer.post("/indhold/svar/ask_vat", form, token=reviewer.get("/triage").token()).status == 403
    edits = content.history("answer", "ask_vat", url=url)
    assert len(edits) == 1 and edits[0].author == "anne" and edits[0].before == values
    admin.post(f"/indhold/fortryd/{edits[0].id}", {}, token=page.token())
    assert content.overrides(url)[("answer", "ask_vat")] == values
    admin.post("/indhold/svar/ask_vat", form, token=page.token())
    contact = knowledge.editable_values(knowledge.load(folder), "contact", "tmf")
    admin.post("/indhold/kontakter/tmf", {**contact, "phone": "56 67 67 67"}, token=page.token())
    reply = admin.post("/indhold/skriv-tilbage", {}, token=page.token())
    assert "Skrevet til contacts.yml, startup.yml" in reply.text
    written = knowledge.load(folder)
    assert written.entries["ask_vat"].text["da"] == "Ny dansk momstekst fra konsollen."
    assert written.entries["ask_vat"].source == "https://skat.dk/moms" and written.contacts["tmf"].phone == "56 67 67 67"
    assert "# Practical start-up matters." in (folder / "startup.yml").read_text()  # comments kept
    assert "Filerne svarer til det" in admin.get("/indhold").text
    actions = [line.action for line in audit.recent(url=url)]
    assert {"content_edit", "content_rollback", "content_writeback"} <= set(actions)


def test_an_admin_gives_an_answer_more_sources_and_they_are_written_back(world):
    admin, folder = world["as"]("anne"), world["folder"]
    page = admin.get("/indhold/svar/ask_erhvervshus")
    assert 'name="more_sources"' in page.text
    values = knowledge.editable_values(knowledge.load(folder), "answer", "ask_erhvervshus")
    bad = admin.post("/indhold/svar/ask_erhvervshus", {**values, "more_sources": "https://a.dk/x\nikke et link"},
                     token=page.token())
    assert bad.status == 400 and "ét pr. linje" in bad.text
    more = "https://www.horten.dk/viden/a\r\n\r\nhttps://udbudsmedia.dk/b "
    reply = admin.post("/indhold/svar/ask_erhvervshus", {**values, "more_sources": more}, token=page.token())
    assert "Kilder: [" in reply.text and "[horten.dk](https://www.horten.dk/viden/a)" in reply.text
    admin.post("/indhold/skriv-tilbage", {}, token=page.token())
    assert knowledge.load(folder).entries["ask_erhvervshus"].more_sources == (
        "https://www.horten.dk/viden/a", "https://udbudsmedia.dk/b")


def test_erasure_from_the_console_is_confirmed_and_audited(world):
    ids, admin, url = world["ids"], world["as"]("anne"), world["url"]
    sid = ids["fallback"]
    review.add_note(sid, "anne", "note", url=url)
    form = admin.get(f"/samtaler/{sid}/slet")
    assert form.status == 200 and "slettes for altid" in form.text
    refused = admin.post(f"/samtaler/{sid}/slet", {}, token=form.token())
    assert refused.status == 400 and conversations.transcript(sid, world["tracker"]) is not None
    done = admin.post(f"/samtaler/{sid}/slet", {"bekraeft": "ja"}, token=form.token())
    assert "Samtalen er slettet" in done.text
    assert conversations.transcript(sid, world["tracker"]) is None and review.notes(sid, url) == []
    assert admin.get(f"/samtaler/{sid}").status == 404
    assert [(line.action, line.target) for line in audit.recent(url=url)][0] == ("erase", audit.pseudonym(sid))


def test_every_page_renders_for_both_roles(world):
    ids = world["ids"]
    for name in ("anne", "bo"):
        client = world["as"](name)
        for path in ("/triage", "/samtaler", f"/samtaler/{ids['good']}", "/forbedringer", "/bookinger",
                     "/bookinger?periode=tidligere&status=done", "/dashboard", "/indhold", "/indhold/svar/ask_vat",
                     "/indhold/kontakter/tmf"):
            assert client.get(path).status == 200, (name, path)
        assert client.get("/indhold/svar/findes-ikke").status == 404
        assert client.get("/indhold/noget/ask_vat").status == 404


def test_after_an_erasure_the_audit_log_keeps_no_sender_id_and_still_shows_the_conversations_lines(world):
    import sqlalchemy as sa

    ids, admin, reviewer, url = world["ids"], world["as"]("anne"), world["as"]("bo"), world["url"]
    sid = ids["booking"]  # telegram:42: the chat id is personal data
    path = "/samtaler/telegram%3A42"
    assert "/revision?samtale=telegram%3A42" in admin.get(path).text  # the admin's way to its lines
    token = reviewer.get(path).token()
    reviewer.post(path + "/maerker", {"tags": "booking"}, token=token)
    reviewer.post(path + "/noter", {"note": "Ring tilbage"}, token=token)
    assert "1 samtale" in admin.get("/samtaler?tekst=book+et").text  # the list's index has it
    done = admin.post(path + "/slet", {"bekraeft": "ja"}, token=admin.get(path + "/slet").token())
    assert "Samtalen er slettet" in done.text
    assert "0 samtaler" in admin.get("/samtaler?tekst=book+et").text
    with db.engine(url).connect() as c:
        rows = [" ".join(str(v) for v in row) for row in c.execute(sa.text("SELECT * FROM audit_log"))]
    assert len(rows) >= 7 and not [row for row in rows if sid in row]  # nothing in target or detail
    page = admin.get("/revision?samtale=telegram%3A42").text
    for label in ("Samtale slettet", "Note", "Mærker", "Læst samtale"):
        assert f"<td>{label}</td>" in page, label
    assert page.count("<td>Læst samtale</td>") >= 2 and "<td>bo</td>" in page and "<td>anne</td>" in page
    assert "<td>Logget ind</td>" not in page  # only this conversation's lines
    assert "Ingen linjer." in admin.get("/revision?samtale=telegram%3A43").text
    assert "<td>Logget ind</td>" in admin.get("/revision").text


def test_a_marking_made_late_goes_with_its_message_at_the_retention_period(world):
    from bot.store.models import utcnow
    from tests.web.console.trackers import Say, save

    url, reviewer = world["url"], world["as"]("bo")
    save(world["tracker"], "web-old", [Say("min mail er kim@firma.dk", "inform", 0.4)],
         start=dt.datetime.now().timestamp() - 20 * 86400)  # written 20 days ago
    [turn] = [t for t in conversations.transcript("web-old", world["tracker"]).turns if t.kind == "user"]
    token = reviewer.get("/samtaler/web-old").token()
    reviewer.post("/samtaler/web-old/marker", {"event_id": str(turn.event_id), "intent": "ask_contact"}, token=token)
    assert "min mail er" in reviewer.get("/forbedringer").text  # marked today
    review.purge(days=30, now=utcnow() + dt.timedelta(days=11), url=url)  # the message is now 31 days old
    assert "min mail er" not in reviewer.get("/forbedringer").text
    assert review.annotations("web-old", url) == []
