"""The console's sign-in, sessions, roles, CSRF protection, lock-out and audit log, through
aiohttp's test client against the real app (SQLite)."""
from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from bot.console import app as console_app
from bot.store import audit, db, staff
from tests.web.console.client import Client

PASSWORD = "korrekt-hest-batteri"


@pytest.fixture
def console(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_URL", tracker)
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "var"))
    db.migrate(url)
    staff.add("anne", PASSWORD, "admin", url=url)
    staff.add("bo", PASSWORD, "reviewer", url=url)
    client = Client(console_app.create_app(url, tracker))
    client.url = url
    yield client
    client.close()


def test_without_a_session_every_page_redirects_to_sign_in(console):
    for path in ("/", "/triage", "/samtaler", "/samtaler/x", "/dashboard", "/indhold", "/revision",
                 "/bookinger.csv", "/forbedringer/nlu.yml"):
        reply = console.get(path, redirects=False)
        assert reply.status in (302, 303), path
        assert reply.headers["Location"].startswith("/log-ind"), path
    assert console.get("/samtaler?kanal=web", redirects=False).headers["Location"] == \
        "/log-ind?next=/samtaler?kanal%3Dweb"
    reply = console.get("/samtaler?kanal=web")
    assert reply.status == 200 and "Log ind" in reply.text
    assert 'name="next" value="/samtaler?kanal=web"' in reply.text


def test_sign_in_sets_a_strict_http_only_session_cookie_and_goes_back(console):
    reply = console.post("/log-ind", {"name": "anne", "password": PASSWORD, "next": "/dashboard"},
                         token=console.token(), redirects=False)
    assert reply.status == 303 and reply.headers["Location"] == "/dashboard"
    cookie = reply.headers["Set-Cookie"]
    assert "koege_staff=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # STAFF_SECURE_COOKIES is off by default
    assert console.get("/dashboard").status == 200
    assert [line.action for line in audit.recent(url=console.url)][:1] == ["sign_in"]


def test_secure_cookies_behind_https(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("STAFF_SECURE_COOKIES", "true")
    db.migrate(url)
    client = Client(console_app.create_app(url, f"sqlite:///{tmp_path / 't.db'}", secret=b"k" * 32))
    try:
        assert "Secure" in client.get("/log-ind").headers["Set-Cookie"]
    finally:
        client.close()


def test_sign_in_never_sends_anyone_to_another_site(console):
    reply = console.post("/log-ind", {"name": "anne", "password": PASSWORD, "next": "//evil.example/x"},
                         token=console.token(), redirects=False)
    assert reply.headers["Location"] == "/triage"


def test_a_wrong_password_is_refused_and_audited(console):
    reply = console.sign_in("anne", "forkert-forkert")
    assert reply.status == 401 and "Forkert brugernavn eller adgangskode" in reply.text
    reply = console.sign_in("nobody", "forkert-forkert")
    assert reply.status == 401 and "Forkert brugernavn eller adgangskode" in reply.text
    actions = [(line.actor, line.action) for line in audit.recent(url=console.url)]
    assert ("anne", "sign_in_failed") in actions and ("(ukendt navn)", "sign_in_failed") in actions


def test_the_sixth_wrong_password_in_a_row_locks_the_account(console):
    for _ in range(5):
        assert console.sign_in("bo", "forkert-forkert").status == 401
    reply = console.sign_in("bo", "forkert-forkert")
    assert reply.status == 429 and "låst" in reply.text
    reply = console.sign_in("bo", PASSWORD)  # even the right password, while locked
    assert reply.status == 429
    assert audit.count("locked", url=console.url) == 1
    assert staff.authenticate("bo", PASSWORD, now=staff.by_name("bo", console.url).locked_until
                              + dt.timedelta(seconds=1), url=console.url).outcome is staff.Outcome.OK


def test_a_right_password_resets_the_count(console):
    for _ in range(5):
        console.sign_in("bo", "forkert-forkert")
    assert console.sign_in("bo", PASSWORD).status == 200
    for _ in range(5):
        assert staff.authenticate("bo", "forkert", url=console.url).outcome is staff.Outcome.WRONG


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(console):
    console.sign_in("bo", PASSWORD)
    assert console.get("/triage", redirects=False).status == 200
    staff.disable("bo", url=console.url)
    assert console.get("/triage", redirects=False).status in (302, 303)
    assert console.sign_in("bo", PASSWORD).status == 401


def test_the_session_ends_after_the_idle_time(console, monkeypatch):
    console.sign_in("anne", PASSWORD)
    assert console.get("/triage", redirects=False).status == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    reply = console.get("/triage", redirects=False)
    assert reply.status in (302, 303) and "udloebet=1" in reply.headers["Location"]


def test_a_post_without_the_csrf_token_or_from_another_origin_is_refused(console):
    console.sign_in("anne", PASSWORD)
    token = console.token("/triage")
    assert console.post("/samtaler/x/noter", {"note": "hej"}).status == 403  # no token
    assert console.post("/samtaler/x/noter", {"note": "hej"}, token="forged").status == 403
    assert console.post("/samtaler/x/noter", {"note": "hej"}, token=token,
                        origin="https://evil.example").status == 403
    assert console.post("/samtaler/x/noter", {"note": "hej"}, token=token, origin=None).status == 403
    assert console.post("/log-ind", {"name": "anne", "password": PASSWORD}).status == 403
    ok = console.post("/samtaler/x/noter", {"note": "hej"}, token=token, redirects=False)
    assert ok.status == 303


def test_reviewers_cannot_erase_export_edit_or_read_the_audit_log(console):
    console.sign_in("bo", PASSWORD)
    token = console.token("/triage")
    for path in ("/revision", "/forbedringer/nlu.yml", "/samtaler/x/teststory.yml", "/samtaler/x/slet"):
        assert console.get(path).status == 403, path
    for path, data in (("/samtaler/x/slet", {"bekraeft": "ja"}), ("/indhold/svar/ask_vat", {"text_da": "x"}),
                       ("/indhold/skriv-tilbage", {}), ("/indhold/fortryd/1", {})):
        assert console.post(path, data, token=token).status == 403, path
    assert "Revisionslog" not in console.get("/triage").text  # not in the reviewer's menu


def test_pages_carry_a_strict_content_security_policy(console):
    console.sign_in("anne", PASSWORD)
    for path in ("/log-ind", "/triage", "/static/console.css", "/findes-ikke"):
        headers = console.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_sign_out_ends_the_session(console):
    console.sign_in("anne", PASSWORD)
    token = console.token("/triage")
    reply = console.post("/log-ud", {}, token=token)
    assert "Log ind" in reply.text
    assert console.get("/triage", redirects=False).status in (302, 303)


def test_the_audit_log_refuses_changes(console):
    audit.record("anne", "sign_in", url=console.url)
    engine = db.engine(console.url)
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as c:
        c.execute(sa.text("UPDATE audit_log SET actor = 'x'"))
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_log"))


def test_admins_read_the_audit_log(console):
    console.sign_in("anne", PASSWORD)
    reply = console.get("/revision")
    assert reply.status == 200 and "Logget ind" in reply.text
