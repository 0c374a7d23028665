"""The console's handover pages (``bot/console/views/handover.py``) through aiohttp's test
client, against the real app, a SQLite database and a tracker store written by Rasa's
``SQLTrackerStore``. A small local server plays Rasa's ``POST
/conversations/{id}/tracker/events`` (recording each call and applying the events to the
tracker store, as Rasa does) and the Telegram bridge's ``/push``."""
from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.console import app as console_app
from bot.console.views import handover as views
from bot.handover import callbacks, queue, schedule
from bot.store import audit, conversations, db, staff
from bot.store.models import Handover
from tests.web.console import trackers
from tests.web.console.client import Client
from tests.web.console.trackers import Say

PASSWORD = "korrekt-hest-batteri"
TOKEN = "rasa-test-token"
PUSH_TOKEN = "push-test-token"


class FakeRasa:
    """Rasa's tracker endpoints (the state, to see whether a conversation is paused, and the
    events) and the Telegram bridge's push, on 127.0.0.1 (a free port) in a thread of its own.
    ``fail`` makes all answer HTTP 500."""

    def __init__(self, tracker_url: str) -> None:
        self.tracker_url = tracker_url
        self.calls: list[dict[str, Any]] = []
        self.pushes: list[dict[str, Any]] = []
        self.fail = False
        self.push_status = 200  # the bridge's answer: 410 when the user blocked the bot
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.store = None

    def start(self) -> str:
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        if self.store is not None:
            self.store.engine.dispose()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _start(self) -> str:
        self.store = trackers.store(self.tracker_url)
        app = web.Application()
        app.router.add_post("/conversations/{sid}/tracker/events", self._events)
        app.router.add_get("/conversations/{sid}/tracker", self._state)
        app.router.add_post("/push", self._push)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def _state(self, request: web.Request) -> web.Response:
        if self.fail or request.query.get("token") != TOKEN:
            return web.json_response({"error": "nej"}, status=500 if self.fail else 401)
        tracker = await self.store.retrieve(request.match_info["sid"])
        return web.json_response({"sender_id": request.match_info["sid"],
                                  "paused": bool(tracker and tracker.is_paused())})

    async def _events(self, request: web.Request) -> web.Response:
        if self.fail:
            return web.json_response({"error": "nej"}, status=500)
        sender, body = request.match_info["sid"], await request.json()
        self.calls.append({"sender": sender, "events": body, "query": dict(request.query)})
        tracker = await self.store.retrieve(sender) or DialogueStateTracker(sender, None)
        for event in body:
            tracker.update(Event.from_parameters(event))
        await self.store.save(tracker)
        return web.json_response({})

    async def _push(self, request: web.Request) -> web.Response:
        if self.fail:
            return web.json_response({}, status=500)
        self.pushes.append({"body": await request.json(), "auth": request.headers.get("Authorization")})
        return web.json_response({}, status=self.push_status)


def make_app(url: str, tracker: str) -> web.Application:
    """The console app, with the handover pages (added here until ``create_app`` adds them)."""
    app = console_app.create_app(url, tracker, secret=b"k" * 32)
    if not any(resource.canonical == "/overtagelse" for resource in app.router.resources()):
        views.add_routes(app.router)
    return app


@pytest.fixture
def world(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    for name, value in {"BOT_DATABASE_URL": url, "TRACKER_URL": tracker, "STATE_DIR": str(tmp_path / "var"),
                        "RASA_API_TOKEN": TOKEN, "TELEGRAM_PUSH_TOKEN": PUSH_TOKEN,
                        "HANDOVER_CLAIM_MINUTES": "5", "HANDOVER_CLOCK": ""}.items():
        monkeypatch.setenv(name, value)
    db.migrate(url)
    for name, role in (("anne", "admin"), ("bo", "reviewer"), ("cai", "reviewer")):
        staff.add(name, PASSWORD, role, url=url)
    asked = Say("jeg vil tale med en person, min mail er kim@firma.dk", "request_human", actions=["action_handover"])
    trackers.save(tracker, "web-1", [asked], channel="socketio")
    trackers.save(tracker, "rest-2", [Say("menneske tak", "request_human")], channel="rest")
    trackers.save(tracker, "telegram:77", [Say("en person", "request_human")], channel="telegram")
    rasa = FakeRasa(tracker)
    base = rasa.start()
    monkeypatch.setenv("RASA_INTERNAL_URL", base)
    monkeypatch.setenv("TELEGRAM_PUSH_URL", base)
    ids = {
        "web": queue.request(queue.Request("web-1", "socketio", topic="Moms", answered="Moms; Åbningstider",
                                           company="Firma ApS (CVR 29189374)"), url)[0].id,
        "rest": queue.request(queue.Request("rest-2", "rest", reason="fallbacks"), url)[0].id,
        "telegram": queue.request(queue.Request("telegram:77", "telegram", reason="feedback"), url)[0].id,
    }
    clients: list[Client] = []

    def client(name: str | None = None, app: web.Application | None = None) -> Client:
        made = Client(app or make_app(url, tracker))
        clients.append(made)
        if name:
            assert made.sign_in(name, PASSWORD).status == 200
        return made

    yield {"url": url, "tracker": tracker, "rasa": rasa, "ids": ids, "as": client}
    for made in clients:
        made.close()
    rasa.stop()


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash--\w+" role="\w+">([^<]*)</p>', page)


def lines_of(actor: str, action: str, url: str) -> list[audit.Line]:
    return [line for line in audit.recent(action=action, url=url) if line.actor == actor]


def test_the_queue_lists_waiting_conversations_oldest_first(world):
    reviewer, admin, ids = world["as"]("bo"), world["as"]("anne"), world["ids"]
    page = reviewer.get("/overtagelse").text
    assert "3 samtaler venter." in page
    for text in ("Bad om en person", "To uforståede svar", "Negativ bedømmelse", "Web", "Telegram", "REST",
                 "Dansk", "Moms", "Åbningstider", "Tag samtalen", 'href="/bemanding"', "Opdater"):
        assert text in page, text
    assert "29189374" not in page and "[CVR-nummer]" in page  # masked for reviewers …
    assert "29189374" in admin.get("/overtagelse").text  # … not for admins
    assert '<script src="/static/handover.js"></script>' in page and "<script>" not in page
    assert 'href="/overtagelse" aria-current="page">Overtagelse' in page and 'href="/opringninger"' in page
    data = json.loads(reviewer.get("/overtagelse.json").text)
    assert [h["id"] for h in data["waiting"]] == [ids["web"], ids["rest"], ids["telegram"]]
    first = data["waiting"][0]
    assert (first["channel"], first["reason"], first["waited"]) == ("Web", "Bad om en person", "under 1 min")
    assert data["claimed"] == [] and data["ended"] == []


def test_a_reviewer_and_an_admin_claim_and_rasa_is_told(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer, admin = world["as"]("bo"), world["as"]("anne")
    token = reviewer.get("/overtagelse").token()
    reply = reviewer.post(f"/overtagelse/{ids['web']}/tag", {}, token=token)
    assert reply.url.endswith(f"/overtagelse/{ids['web']}")
    assert "Du har taget samtalen" in reply.text and "Svar til brugeren" in reply.text
    assert "Giv tilbage til chatbotten" in reply.text and "Afslut samtalen" in reply.text
    call = rasa.calls[-1]
    assert call["sender"] == "web-1"
    assert call["query"] == {"token": TOKEN, "execute_side_effects": "true", "output_channel": "socketio"}
    pause, joined = call["events"]
    assert pause == {"event": "pause"}
    assert joined["event"] == "bot" and "har overtaget samtalen" in joined["text"] and "bo " not in joined["text"]
    assert joined["metadata"] == {"kind": "notice", "utter_action": "utter_handover_joined"}

    token = admin.get("/overtagelse").token()
    admin.post(f"/overtagelse/{ids['rest']}/tag", {}, token=token)
    assert rasa.calls[-1]["sender"] == "rest-2" and rasa.calls[-1]["query"] == {"token": TOKEN}  # stored only
    claimed = {h: queue.get(ids[h], url).claimed_by for h in ("web", "rest")}
    assert claimed == {"web": "bo", "rest": "anne"}
    assert [line.target for line in lines_of("bo", "handover_claim", url)] == [audit.pseudonym("web-1")]
    assert [line.target for line in lines_of("anne", "handover_claim", url)] == [audit.pseudonym("rest-2")]
    data = json.loads(admin.get("/overtagelse.json").text)
    assert {(h["id"], h["claimed_by"], h["mine"]) for h in data["claimed"]} == {
        (ids["web"], "bo", False), (ids["rest"], "anne", True)}
    page = admin.get(f"/overtagelse/{ids['web']}").text  # someone else's: no reply form
    assert "Svar til brugeren" not in page and "bo har taget samtalen" in page


def test_a_telegram_claim_is_pushed_to_the_bridge(world):
    ids, rasa = world["ids"], world["rasa"]
    reviewer = world["as"]("bo")
    reviewer.post(f"/overtagelse/{ids['telegram']}/tag", {}, token=reviewer.get("/overtagelse").token())
    assert rasa.calls[-1]["sender"] == "telegram:77"
    assert rasa.pushes[-1]["auth"] == f"Bearer {PUSH_TOKEN}"
    assert rasa.pushes[-1]["body"]["sender_id"] == "telegram:77" and "har overtaget samtalen" in rasa.pushes[-1]["body"]["text"]


def test_the_second_claim_is_refused_in_danish(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    first, second = world["as"]("bo"), world["as"]("cai")
    first.post(f"/overtagelse/{ids['web']}/tag", {}, token=first.get("/overtagelse").token())
    reply = second.post(f"/overtagelse/{ids['web']}/tag", {}, token=second.get("/overtagelse").token())
    assert reply.url.endswith("/overtagelse")
    assert any("allerede taget" in text for text in flashes(reply.text))
    assert queue.get(ids["web"], url).claimed_by == "bo"
    assert sum(call["events"][0] == {"event": "pause"} for call in rasa.calls) == 1
    assert audit.count("handover_claim", url=url) == 1


def test_a_claim_rasa_refuses_goes_back_to_the_queue(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer = world["as"]("bo")
    rasa.fail = True
    reply = reviewer.post(f"/overtagelse/{ids['web']}/tag", {}, token=reviewer.get("/overtagelse").token())
    assert any("Assistenten tog ikke imod beskeden" in text for text in flashes(reply.text))
    assert queue.get(ids["web"], url).status == "waiting"
    assert audit.count("handover_claim", url=url) == 0


def test_posts_without_the_csrf_token_or_from_elsewhere_are_refused(world):
    ids, url = world["ids"], world["url"]
    reviewer = world["as"]("bo")
    token = reviewer.get("/overtagelse").token()
    for path in (f"/overtagelse/{ids['web']}/tag", f"/overtagelse/{ids['web']}/afslut", "/bemanding"):
        assert reviewer.post(path, {}).status == 403
    assert reviewer.post(f"/overtagelse/{ids['web']}/tag", {}, token=token, origin="https://ond.example").status == 403
    assert queue.get(ids["web"], url).status == "waiting" and world["rasa"].calls == []


def test_reply_shows_the_staff_line_and_only_the_claimer_may_reply(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer, admin = world["as"]("bo"), world["as"]("anne")
    path = f"/overtagelse/{ids['web']}"
    token = reviewer.get("/overtagelse").token()
    reviewer.post(path + "/tag", {}, token=token)
    page = reviewer.post(path + "/svar", {"tekst": "  Hej, jeg hedder Bo.  "}, token=token)
    assert page.status == 200 and "Beskeden er sendt." in page.text
    assert rasa.calls[-1]["events"] == [{"event": "bot", "text": "Hej, jeg hedder Bo.", "data": {"buttons": []},
                                         "metadata": {"kind": "person", "staff": "bo"}}]
    assert "bo (medarbejder)" in page.text and "Hej, jeg hedder Bo." in page.text  # read back from the tracker
    assert [line.target for line in lines_of("bo", "handover_reply", url)] == [audit.pseudonym("web-1")]

    calls = len(rasa.calls)
    refused = admin.post(path + "/svar", {"tekst": "Jeg blander mig"}, token=admin.get(path).token())
    assert refused.status == 400 and "Du har ikke denne samtale" in refused.text
    assert len(rasa.calls) == calls and audit.count("handover_reply", url=url) == 1
    empty = reviewer.post(path + "/svar", {"tekst": "   "}, token=token)
    assert empty.status == 400 and "Skriv en besked først." in empty.text

    rasa.fail = True  # the text is kept when the message did not get through
    failed = reviewer.post(path + "/svar", {"tekst": "Er du der stadig?"}, token=token)
    assert failed.status == 400 and "Assistenten tog ikke imod beskeden" in failed.text
    assert ">Er du der stadig?</textarea>" in failed.text


def test_hand_back_resumes_the_assistant(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer = world["as"]("bo")
    path = f"/overtagelse/{ids['web']}"
    token = reviewer.get("/overtagelse").token()
    reviewer.post(path + "/tag", {}, token=token)
    reply = reviewer.post(path + "/tilbage", {}, token=token)
    assert reply.url.endswith("/overtagelse") and "Samtalen er givet tilbage til chatbotten." in reply.text
    resume, notice, listen = rasa.calls[-1]["events"]
    assert resume == {"event": "resume"} and listen == {"event": "action", "name": "action_listen"}
    assert notice["metadata"]["utter_action"] == "utter_handover_handed_back"
    assert queue.get(ids["web"], url).status == "handed_back"
    assert [line.target for line in lines_of("bo", "handover_hand_back", url)] == [audit.pseudonym("web-1")]
    again = reviewer.post(path + "/tilbage", {}, token=token)
    assert again.url.endswith(path) and any("afsluttet" in text for text in flashes(again.text))


def test_close_ends_the_handover_and_lists_it_as_ended(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    admin, reviewer = world["as"]("anne"), world["as"]("bo")
    path = f"/overtagelse/{ids['rest']}"
    token = admin.get("/overtagelse").token()
    admin.post(path + "/tag", {}, token=token)
    refused = reviewer.post(path + "/afslut", {}, token=reviewer.get("/overtagelse").token())
    assert any("Du har ikke denne samtale" in text for text in flashes(refused.text))
    reply = admin.post(path + "/afslut", {}, token=token)
    assert "Samtalen er afsluttet." in reply.text
    assert rasa.calls[-1]["events"][1]["metadata"]["utter_action"] == "utter_handover_closed_by_staff"
    assert queue.get(ids["rest"], url).status == "closed"
    assert [line.target for line in lines_of("anne", "handover_close", url)] == [audit.pseudonym("rest-2")]
    ended = json.loads(admin.get("/overtagelse.json").text)["ended"]
    assert [(h["id"], h["status_label"]) for h in ended] == [(ids["rest"], "Afsluttet")]
    assert "Overtagelsen er slut." in admin.get(path).text
    log = admin.get("/revision").text
    assert "Samtale taget" in log and "Samtale afsluttet" in log


def test_the_chat_and_its_new_messages_are_masked_for_reviewers(world):
    ids, url, tracker = world["ids"], world["url"], world["tracker"]
    reviewer, admin = world["as"]("bo"), world["as"]("anne")
    path = f"/overtagelse/{ids['web']}"
    page = reviewer.get(path).text
    assert "kim@firma.dk" not in page and "[e-mail]" in page and "Tag samtalen" in page
    assert "kim@firma.dk" in admin.get(path).text
    assert ("bo", audit.pseudonym("web-1")) in [(line.actor, line.target)
                                                for line in audit.recent(action="view_transcript", url=url)]
    last = json.loads(reviewer.get(path + "/beskeder.json").text)["last"]
    assert last == max(turn.event_id for turn in conversations.transcript("web-1", tracker).turns)
    trackers.append(tracker, "web-1", [Say("ring på 20 12 34 56", "inform")], channel="socketio")
    data = json.loads(reviewer.get(f"{path}/beskeder.json?efter={last}").text)
    assert data["status"] == "waiting" and data["open"] is True and data["last"] > last
    users = [line for line in data["lines"] if line["kind"] == "user"]
    assert [(line["who"], line["text"]) for line in users] == [("Bruger", "ring på [telefon]")]
    assert all(line["id"] > last for line in data["lines"])
    unmasked = json.loads(admin.get(f"{path}/beskeder.json?efter={last}").text)
    assert "ring på 20 12 34 56" in [line["text"] for line in unmasked["lines"]]
    assert json.loads(admin.get(f"{path}/beskeder.json?efter=abc").text)["lines"]  # a bad number: from the start
    assert admin.get("/overtagelse/999999/beskeder.json").status == 404
    assert admin.get("/overtagelse/999999").status == 404


def test_the_json_endpoints_need_a_signed_in_user(world):
    anonymous = world["as"]()
    for path in ("/overtagelse.json", f"/overtagelse/{world['ids']['web']}/beskeder.json"):
        reply = anonymous.get(path, redirects=False)
        assert reply.status in (302, 303, 401) and "/log-ind" in reply.headers.get("Location", "/log-ind")
    js = anonymous.get("/static/handover.js")
    assert js.status == 200 and "textContent" in js.text and ".innerHTML" not in js.text


def test_callbacks_are_listed_masked_for_reviewers_and_followed_up(world):
    url = world["url"]
    row = callbacks.create(callbacks.CallbackDetails(
        sender_id="web-1", name="Kim Jensen", topic="Byggetilladelse til lager", time_window="Hverdage før 12",
        phone="+45 20 12 34 56", email="kim@firma.dk", cvr="29189374"), url)
    reviewer, admin = world["as"]("bo"), world["as"]("anne")
    page = reviewer.get("/opringninger").text
    assert row.reference in page and "Kim Jensen" in page and "Byggetilladelse til lager" in page
    assert "Hverdage før 12" in page and "venter i under 1 min" in page and "Dansk" in page
    for hidden in ("20 12 34 56", "kim@firma.dk", "29189374"):
        assert hidden not in page
    assert "[telefon]" in page and "[e-mail]" in page
    page = admin.get("/opringninger").text
    assert "+45 20 12 34 56" in page and "kim@firma.dk" in page and "29189374" in page

    token = reviewer.get("/opringninger").token()
    reply = reviewer.post(f"/opringninger/{row.id}/status", {"status": "in_progress", "tilbage": "/opringninger"},
                          token=token)
    assert f"{row.reference}: I gang." in reply.text
    entries = audit.recent(action="callback_status", url=url)
    assert [(e.actor, e.target, e.detail) for e in entries] == [("bo", row.reference, "new → in_progress")]
    assert row.reference not in reviewer.get("/opringninger?status=done").text
    assert row.reference in reviewer.get("/opringninger?status=in_progress").text
    bad = reviewer.post(f"/opringninger/{row.id}/status", {"status": "slettet"}, token=token)
    assert any("Ukendt status" in text for text in flashes(bad.text))
    assert audit.count("callback_status", url=url) == 1


def _hours(**changes: str) -> dict[str, str]:
    form = {f"{side}_{day}": "" for day in schedule.WEEKDAYS for side in ("fra", "til")}
    form.update(lukkedage="")
    form.update(changes)
    return form


def test_an_admin_saves_the_staffed_hours_and_a_reviewer_may_only_read_them(world, monkeypatch):
    url = world["url"]
    admin, reviewer = world["as"]("anne"), world["as"]("bo")
    token = admin.get("/bemanding").token()
    reply = admin.post("/bemanding", _hours(fra_mon="08:00", til_mon="16:00", fra_thu="9.00", til_thu="12:30",
                                            lukkedage="2026-12-24\n\n 2027-01-02 "), token=token)
    assert reply.url.endswith("/bemanding") and "Bemandingen er gemt." in reply.text
    saved = schedule.current(url).as_mapping()
    assert saved["weekdays"] == {"mon": ["08:00", "16:00"], "thu": ["09:00", "12:30"]}
    assert saved["closed_dates"] == ["2026-12-24", "2027-01-02"]
    assert [(e.actor, e.detail) for e in audit.recent(action="staffed_hours", url=url)] == [
        ("anne", "Man 08:00–16:00, Tor 09:00–12:30; 2 lukkedage")]

    monkeypatch.setenv("HANDOVER_CLOCK", "2026-11-23T10:00")  # a Monday
    page = reviewer.get("/bemanding").text
    assert "Chatten er <strong>bemandet</strong>" in page and "08:00–16:00" in page and "2027-01-02" in page
    assert "Kun en administrator kan ændre bemandingen." in page and 'name="fra_mon"' not in page
    monkeypatch.setenv("HANDOVER_CLOCK", "2026-12-24T10:00")
    assert "I dag er en lukkedag." in reviewer.get("/bemanding").text

    forbidden = reviewer.post("/bemanding", _hours(fra_sun="00:00", til_sun="23:00"),
                              token=reviewer.get("/bemanding").token())
    assert forbidden.status == 403 and "Kun for administratorer" in forbidden.text
    assert schedule.current(url).as_mapping() == saved


@pytest.mark.parametrize(("changes", "message"), [
    ({"fra_tue": "25:00", "til_tue": "16:00"}, "«25:00» er ikke et klokkeslæt"),
    ({"fra_wed": "09:00"}, "Onsdag: udfyld både fra og til"),
    ({"fra_fri": "15:00", "til_fri": "09:00"}, "Fredag: sluttiden skal være efter starttiden."),
    ({"lukkedage": "24-12-2026"}, "«24-12-2026» er ikke en dato"),
])
def test_a_bad_schedule_is_explained_in_danish_and_the_form_is_kept(world, changes, message):
    admin = world["as"]("anne")
    before = schedule.current(world["url"]).as_mapping()
    form = _hours(fra_mon="07:30", til_mon="15:30", **changes)
    reply = admin.post("/bemanding", form, token=admin.get("/bemanding").token())
    assert reply.status == 400 and message in reply.text and 'role="alert"' in reply.text
    assert 'name="fra_mon" value="07:30"' in reply.text
    for key, value in changes.items():
        assert (f'name="{key}" value="{value}"' in reply.text) or (f">{value}</textarea>" in reply.text)
    assert schedule.current(world["url"]).as_mapping() == before
    assert audit.count("staffed_hours", url=world["url"]) == 0


def test_the_watch_times_out_unclaimed_handovers_and_stops_with_the_app(world, monkeypatch):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    monkeypatch.setenv("HANDOVER_CLAIM_MINUTES", "0")
    app = make_app(url, world["tracker"])
    if views.start_watch not in app.on_startup:
        app.on_startup.append(views.start_watch)
        app.on_cleanup.append(views.stop_watch)
    client = Client(app)  # not the fixture's: closed here, to see the watch stop
    try:
        for _ in range(200):  # the watch runs on the client's loop: let it run
            if audit.count("handover_timeout", url=url) == 3:
                break
            client.loop.run_until_complete(asyncio.sleep(0.05))
        task = app[views.WATCH]
    finally:
        client.close()
    assert task.cancelled()
    assert {queue.get(ids[h], url).status for h in ids} == {"timed_out"}
    assert {call["events"][1]["metadata"]["utter_action"] for call in rasa.calls} == {"utter_handover_no_one"}
    assert [line.actor for line in audit.recent(action="handover_timeout", url=url)] == ["system"] * 3


def test_durations_read_in_danish():
    import datetime as dt

    assert views.duration(dt.timedelta(seconds=20)) == "under 1 min"
    assert views.duration(dt.timedelta(minutes=5)) == "5 min"
    assert views.duration(dt.timedelta(hours=2, minutes=5)) == "2 t 5 min"
    assert views.duration(dt.timedelta(days=3, hours=4, minutes=1)) == "3 d 4 t"


# ---- conversations nobody ends, users who left, ids that would reach another conversation --


def _taken(world: dict[str, Any], key: str, by: str = "bo") -> tuple[Client, str, str]:
    """``by`` signed in, having taken the conversation ``key``: (their client, its page, a CSRF token)."""
    client = world["as"](by)
    path = f"/overtagelse/{world['ids'][key]}"
    token = client.get("/overtagelse").token()
    client.post(path + "/tag", {}, token=token)
    return client, path, token


def _idle_for(handover_id: int, minutes: float, url: str) -> None:
    """Make the claim and the claimer's last action ``minutes`` old."""
    import datetime as dt

    import sqlalchemy as sa

    from bot.store.models import Handover, utcnow

    then = utcnow() - dt.timedelta(minutes=minutes)
    with db.session(url) as s:
        s.execute(sa.update(Handover).where(Handover.id == handover_id).values(claimed_at=then, active_at=then))


def test_a_taken_conversation_nobody_answers_is_handed_back_after_the_idle_time(world, monkeypatch):
    from bot.handover import service

    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    monkeypatch.setenv("HANDOVER_IDLE_MINUTES", "30")
    reviewer = world["as"]("bo")
    token = reviewer.get("/overtagelse").token()
    for key in ("web", "rest"):
        reviewer.post(f"/overtagelse/{ids[key]}/tag", {}, token=token)
        _idle_for(ids[key], 40, url)
    # a reply starts the idle time again: that conversation stays with its claimer
    reviewer.post(f"/overtagelse/{ids['rest']}/svar", {"tekst": "Jeg er her stadig."}, token=token)
    assert asyncio.run(service.expire_once(url)) == 1
    assert queue.get(ids["web"], url).status == "handed_back"
    assert queue.get(ids["rest"], url).status == "claimed"
    resume, notice, listen = rasa.calls[-1]["events"]
    assert rasa.calls[-1]["sender"] == "web-1" and resume == {"event": "resume"}
    assert notice["metadata"]["utter_action"] == "utter_handover_handed_back"
    assert audit.count("handover_idle", url=url, conversation="web-1") == 1
    assert asyncio.run(service.expire_once(url)) == 0  # once
    assert "Givet tilbage: medarbejderen svarede ikke længere" in world["as"]("anne").get("/revision").text


def test_an_admin_ends_a_conversation_a_colleague_left_open(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    _, path, _ = _taken(world, "web", by="bo")
    cai, anne = world["as"]("cai"), world["as"]("anne")
    refused = cai.post(path + "/afslut", {}, token=cai.get(path).token())  # a reviewer may not
    assert any("Du har ikke denne samtale" in text for text in flashes(refused.text))
    assert "Afslut samtalen" not in cai.get(path).text
    page = anne.get(path).text
    assert "Som administrator kan du afslutte den" in page and "Afslut samtalen" in page
    assert "Svar til brugeren" not in page  # ending it is not taking it over
    reply = anne.post(path + "/afslut", {}, token=anne.get(path).token())
    assert "Samtalen er afsluttet." in reply.text
    assert queue.get(ids["web"], url).status == "closed"
    assert rasa.calls[-1]["events"][0] == {"event": "resume"}
    line, = lines_of("anne", "handover_close", url)
    assert line.detail == f"overtagelse {ids['web']}, taget af bo"


def test_a_telegram_user_who_blocked_the_bot_has_left_and_the_hand_back_stands(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer, path, token = _taken(world, "telegram")
    rasa.push_status = 410
    reply = reviewer.post(path + "/tilbage", {}, token=token)
    assert queue.get(ids["telegram"], url).status == "handed_back"  # not claimed again for ever
    assert any("blokeret assistenten på Telegram" in text for text in flashes(reply.text))
    assert rasa.calls[-1]["events"][0] == {"event": "resume"}
    assert audit.count("handover_hand_back", url=url, conversation="telegram:77") == 1


def test_a_reply_to_a_telegram_user_who_blocked_the_bot_ends_the_handover(world):
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer, path, token = _taken(world, "telegram")
    rasa.push_status = 410
    page = reviewer.post(path + "/svar", {"tekst": "Er du der?"}, token=token)
    assert queue.get(ids["telegram"], url).status == "closed"  # not claimed for ever
    assert any("blokeret assistenten på Telegram" in text and "afsluttet" in text for text in flashes(page.text))
    assert rasa.calls[-1]["events"] == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    assert audit.count("handover_close", url=url, conversation="telegram:77") == 1


def test_a_push_that_fails_after_rasa_took_the_message_changes_nothing_back(world):
    """One outcome: what Rasa stored stands (the assistant is answering again), and staff are
    told the user may not have seen the message, instead of a claim Rasa no longer has."""
    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer, path, token = _taken(world, "telegram")
    rasa.push_status = 502
    reply = reviewer.post(path + "/tilbage", {}, token=token)
    assert queue.get(ids["telegram"], url).status == "handed_back"
    assert any("kunne ikke levere den" in text for text in flashes(reply.text))
    tracker = asyncio.run(trackers.store(world["tracker"]).retrieve("telegram:77"))
    assert not tracker.is_paused()


def test_an_id_with_dot_segments_never_reaches_another_conversation(world):
    rasa, url = world["rasa"], world["url"]
    sneaky = queue.request(queue.Request("x/../telegram:77", "telegram"), url)[0].id
    reviewer = world["as"]("bo")
    reply = reviewer.post(f"/overtagelse/{sneaky}/tag", {}, token=reviewer.get("/overtagelse").token())
    assert any("kan ikke bruges" in text for text in flashes(reply.text))
    assert rasa.calls == [] and rasa.pushes == []
    assert queue.get(sneaky, url).status == "waiting"


def test_every_read_of_a_whole_transcript_is_audited(world):
    ids, url = world["ids"], world["url"]
    reviewer = world["as"]("bo")
    path = f"/overtagelse/{ids['web']}"
    reviewer.post(path + "/tag", {}, token=reviewer.get("/overtagelse").token())  # shows the page: 1

    def reads() -> int:
        return audit.count("view_transcript", url=url, conversation="web-1")

    assert reads() == 1  # the claimer's own page too
    last = json.loads(reviewer.get(path + "/beskeder.json?efter=0").text)["last"]
    assert reads() == 2  # the whole transcript as JSON
    reviewer.get(f"{path}/beskeder.json?efter={last}")
    assert reads() == 2  # only what came after a line already read


def _pause(tracker_url: str, sender: str) -> None:
    """The pause ``action_handover`` appends when the user asks for a person (Rasa's own event)."""
    from rasa.shared.core.events import ConversationPaused

    tracker_store = trackers.store(tracker_url)
    tracker = asyncio.run(tracker_store.retrieve(sender))
    tracker.update(ConversationPaused())
    asyncio.run(tracker_store.save(tracker))
    tracker_store.engine.dispose()


def test_a_claim_adds_no_second_pause_to_a_conversation_paused_since_the_user_asked(world):
    """The transcript shows one 'Chatbotten er sat på pause' per pause: the conversation has been
    paused since the user asked (action_handover), so the claim only says a person joined."""
    ids, rasa = world["ids"], world["rasa"]
    _pause(world["tracker"], "web-1")
    reviewer, path, _ = _taken(world, "web")
    [joined] = rasa.calls[-1]["events"]
    assert joined["metadata"]["utter_action"] == "utter_handover_joined"
    shown = json.loads(reviewer.get(path + "/beskeder.json?efter=0").text)["lines"]
    assert [line["text"] for line in shown if line["kind"] == "event"] == [views.EVENTS["pause"]]
    assert queue.get(ids["web"], world["url"]).status == "claimed"


def test_the_user_leaves_the_queue_and_staff_see_it(world):
    from bot.handover import service

    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    _pause(world["tracker"], "web-1")
    assert asyncio.run(service.end_by_user("web-1", url)) is True
    call = rasa.calls[-1]
    assert call["sender"] == "web-1" and call["query"]["output_channel"] == "socketio"  # to the browser
    resume, told, listen = call["events"]
    assert resume == {"event": "resume"} and listen == {"event": "action", "name": "action_listen"}
    assert told["metadata"]["utter_action"] == "utter_handover_left_queue" and "chatbotten" in told["text"]
    assert queue.get(ids["web"], url).status == "left"
    line, = audit.recent(action="handover_user_end", url=url)
    assert (line.actor, line.target, line.detail) == ("bruger", audit.pseudonym("web-1"), f"overtagelse {ids['web']}, i kø")
    assert asyncio.run(service.end_by_user("web-1", url)) is False  # nothing left to end
    assert len(rasa.calls) == 1
    admin = world["as"]("anne")
    ended = json.loads(admin.get("/overtagelse.json").text)["ended"]
    assert [(h["id"], h["status_label"]) for h in ended] == [(ids["web"], "Afsluttet af brugeren")]
    assert "Brugeren afsluttede samtalen med medarbejderen" in admin.get("/revision").text


def test_the_user_ends_the_conversation_with_a_person_who_can_then_no_longer_reply(world):
    from bot.handover import service

    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    reviewer, path, token = _taken(world, "web", by="bo")
    assert asyncio.run(service.end_by_user("web-1", url)) is True
    assert rasa.calls[-1]["events"][1]["metadata"]["utter_action"] == "utter_handover_left"
    assert queue.get(ids["web"], url).status == "left"
    assert audit.recent(action="handover_user_end", url=url)[0].detail == f"overtagelse {ids['web']}, taget af bo"
    refused = reviewer.post(path + "/svar", {"tekst": "Hallo?"}, token=token)
    assert refused.status == 400 and "Du har ikke denne samtale" in refused.text
    assert json.loads(reviewer.get(path + "/beskeder.json").text)["status_label"] == "Afsluttet af brugeren"


def test_a_users_end_rasa_does_not_take_leaves_the_handover_open(world):
    from bot.handover import service

    ids, rasa, url = world["ids"], world["rasa"], world["url"]
    _taken(world, "rest", by="anne")
    rasa.fail = True
    with pytest.raises(service.HandoverProblem):
        asyncio.run(service.end_by_user("rest-2", url))
    assert queue.get(ids["rest"], url).status == "claimed" and queue.get(ids["rest"], url).claimed_by == "anne"
    assert audit.count("handover_user_end", url=url) == 0


def test_a_conversation_left_paused_after_its_handover_ended_is_released_by_the_user(world):
    """A time-out whose resume never reached Rasa left the assistant paused: the user's button
    is still a way out."""
    from bot.handover import service

    rasa, url = world["rasa"], world["url"]
    assert asyncio.run(service.end_by_user("nobody-asked", url)) is False  # no handover: not ours
    _pause(world["tracker"], "web-1")
    with db.session(url) as s:
        s.execute(sa.update(Handover).where(Handover.id == world["ids"]["web"]).values(status="timed_out"))
    assert asyncio.run(service.end_by_user("web-1", url)) is True
    assert rasa.calls[-1]["events"][0] == {"event": "resume"}
    assert not asyncio.run(trackers.store(world["tracker"]).retrieve("web-1")).is_paused()
    assert asyncio.run(service.end_by_user("web-1", url)) is False  # answering again: nothing to do
