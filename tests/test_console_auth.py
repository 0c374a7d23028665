"""The console's sign-in, sessions, roles, CSRF protection, lock-out and audit log, through
aiohttp's test client against the real app (SQLite)."""
from __future__ import annotations

import re
import time
from urllib.parse import urljoin, urlsplit

import argon2
import pytest
import sqlalchemy as sa
from yarl import URL

from bot.console import app as console_app
from bot.console import auth
from bot.console.render import safe_next
from bot.store import audit, db, staff
from tests.web.console.client import Client, Reply

PASSWORD = "korrekt-hest-batteri"
ATTACKER, OFFICE = "203.0.113.66", "198.51.100.5"
#: ``next`` values that have sent browsers to other sites (open-redirect bypasses).
BYPASSES = [
    "//evil.example", "//evil.example/x", "/\\evil.example", "\\/evil.example", "\\\\evil.example",
    "/\t/evil.example", "/%09/evil.example", "/\r\n/evil.example", "/%0d%0a/evil.example", "/ /evil.example",
    "/\x00/evil.example", "/\xa0/evil.example", "/\u3000/evil.example", "/\u2028/evil.example",
    "/\ufeff/evil.example", "\t//evil.example", " //evil.example", "///evil.example", "////evil.example",
    "https://evil.example", "http:/evil.example", "https:evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "%2F%2Fevil.example", "/%2F/evil.example", "/%2f%2fevil.example",
    "/%5C/evil.example", "/%5c%5cevil.example", "/.//evil.example", "/..//evil.example",
    "/%2e//evil.example", "/x/..//evil.example", "//evil.example@127.0.0.1", "/\\/evil.example",
]


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
    client.url, client.tracker = url, tracker
    yield client
    client.close()


def sign_in_from(console: Client, address: str, name: str, password: str) -> Reply:
    """A sign-in that the (loopback, so trusted) proxy in front says comes from ``address``."""
    return console._do("POST", "/log-ind", data={"name": name, "password": password, "csrf_token": console.token()},
                       headers={"Origin": console.origin, "X-Forwarded-For": address})


def session_cookie(console: Client) -> str:
    return next(c.value for c in console.cookies() if c.key == console_app.COOKIE)


def replay(console: Client, cookie: str) -> Reply:
    """``/triage`` from a fresh client (another browser, another console process of the same
    database and key) that holds nothing but a copy of ``cookie``."""
    thief = Client(console_app.create_app(console.url, console.tracker))
    try:
        thief.client.session.cookie_jar.update_cookies({console_app.COOKIE: cookie}, URL(thief.origin))
        return thief.get("/triage", redirects=False)
    finally:
        thief.close()


def error_of(reply: Reply) -> str:
    """The sign-in page's error message."""
    found = re.search(r'role="alert" id="fejl">([^<]*)<', reply.text)
    return found.group(1) if found else ""


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
    token, origin = console.token(), urlsplit(console.origin)
    for bad in BYPASSES:
        reply = console.post("/log-ind", {"name": "anne", "password": PASSWORD, "next": bad}, token=token,
                             redirects=False)
        assert reply.status == 303, repr(bad)
        location = reply.headers["Location"]  # as aiohttp built it, as the browser gets it
        landing = urlsplit(urljoin(console.origin + "/log-ind", location))
        assert (landing.scheme, landing.netloc) == (origin.scheme, origin.netloc), (bad, location)
        assert location == "/triage", (bad, location)
        token = console.token()
    for good in ("/dashboard", "/samtaler?kanal=web", "/samtaler/telegram:42", "/samtaler/x/noter#bund"):
        reply = console.post("/log-ind", {"name": "anne", "password": PASSWORD, "next": good},
                             token=console.token(), redirects=False)
        assert reply.headers["Location"] == good
    page = console.get("/log-ind?next=" + "%2F%09%2Fevil.example").text  # the form does not carry it either
    assert 'name="next" value="/triage"' in page


def test_going_back_from_a_conversation_stays_in_the_console():
    for bad in BYPASSES:
        assert safe_next(bad, "/samtaler") == "/samtaler", repr(bad)
    assert safe_next("/samtaler/a%20b?side=2", "/samtaler") == "/samtaler/a%20b?side=2"


def test_a_wrong_password_is_refused_and_audited(console):
    reply = console.sign_in("anne", "forkert-forkert")
    assert reply.status == 401 and "Forkert brugernavn eller adgangskode" in reply.text
    reply = console.sign_in("nobody", "forkert-forkert")
    assert reply.status == 401 and "Forkert brugernavn eller adgangskode" in reply.text
    actions = [(line.actor, line.action) for line in audit.recent(url=console.url)]
    assert ("anne", "sign_in_failed") in actions and ("(ukendt navn)", "sign_in_failed") in actions


def test_the_sixth_wrong_password_in_a_row_backs_off_that_address(console, monkeypatch):
    for _ in range(5):
        assert console.sign_in("bo", "forkert-forkert").status == 401
    reply = console.sign_in("bo", "forkert-forkert")
    assert reply.status == 429 and f"Vent {staff.LOCK_MINUTES} minutter" in reply.text
    reply = console.sign_in("bo", PASSWORD)  # even the right password, from there, meanwhile
    assert reply.status == 429
    assert audit.count("locked", url=console.url) == 1
    later = time.time() + staff.LOCK_MINUTES * 60 + 1
    monkeypatch.setattr(staff, "utcnow", lambda: staff.dt.datetime.utcfromtimestamp(later))
    assert console.sign_in("bo", PASSWORD).status == 200


def test_a_right_password_resets_the_count(console):
    for _ in range(5):
        console.sign_in("bo", "forkert-forkert")
    assert console.sign_in("bo", PASSWORD).status == 200
    console.post("/log-ud", {}, token=console.token("/triage"))
    for _ in range(5):
        assert console.sign_in("bo", "forkert-forkert").status == 401


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


def test_known_and_unknown_names_get_the_same_answers(console):
    staff.add("carl", PASSWORD, url=console.url)
    staff.disable("carl", url=console.url)
    answers = {}
    for name, password in (("bo", "forkert-forkert"), ("nobody", "forkert-forkert"), ("carl", PASSWORD),
                           ("carl", "forkert-forkert")):
        console.client.session.cookie_jar.clear()
        replies = [sign_in_from(console, f"192.0.2.{len(answers) + 1}", name, password) for _ in range(9)]
        answers[(name, password)] = [(r.status, error_of(r), r.text.replace(f'value="{name}"', "")
                                      .replace(r.token(), "")) for r in replies]
    first, *others = answers.values()
    assert [(status, text) for status, text, _ in first] == [(401, auth.WRONG_TEXT)] * 5 + [(429, auth.LOCKED_TEXT)] * 4
    assert "Vent 5 minutter" in auth.LOCKED_TEXT and "låst" not in auth.LOCKED_TEXT  # names no account
    assert all(other == first for other in others)  # status, message and the whole page alike
    actions = [(line.actor, line.action) for line in audit.recent(url=console.url)]
    assert ("(ukendt navn)", "locked") in actions and ("bo", "locked") in actions


def test_an_attacker_cannot_keep_a_member_of_staff_out(console):
    for _ in range(20):
        assert sign_in_from(console, ATTACKER, "bo", "forkert-forkert").status in (401, 429)
    assert sign_in_from(console, ATTACKER, "bo", PASSWORD).status == 429  # backed off from there
    console.client.session.cookie_jar.clear()
    reply = sign_in_from(console, OFFICE, "bo", PASSWORD)  # bo, from the office
    assert reply.status == 200 and "Log ud" in reply.text
    console.client.session.cookie_jar.clear()
    assert console.sign_in("bo", PASSWORD).status == 200  # and straight from this machine
    lines = audit.recent(url=console.url)
    assert [line.detail for line in lines if line.action == "locked"] == [
        f"{staff.MAX_FAILURES + 1} forkerte forsøg i træk fra én adresse: afvist derfra i {staff.LOCK_MINUTES} min."]
    assert not any(ATTACKER in (line.detail or "") for line in lines)  # no addresses in the log


def test_the_password_hash_runs_for_every_name(console, monkeypatch):
    staff.add("carl", PASSWORD, url=console.url)
    staff.disable("carl", url=console.url)
    calls: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def spy(self, hashed, password):
        calls.append(hashed)
        return real_verify(self, hashed, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    for _ in range(7):  # the last ones are backed off
        sign_in_from(console, ATTACKER, "nobody", "forkert-forkert")
    sign_in_from(console, ATTACKER, "bo", "forkert-forkert")
    sign_in_from(console, ATTACKER, "carl", PASSWORD)
    sign_in_from(console, ATTACKER, "carl", "forkert-forkert")
    for _ in range(7):
        sign_in_from(console, OFFICE, "bo", "forkert-forkert")
    sign_in_from(console, OFFICE, "bo", PASSWORD)  # backed off: refused, but hashed all the same
    assert len(calls) == 7 + 1 + 2 + 8
    assert all(hashed.startswith("$argon2id$") for hashed in calls)


def test_a_copied_cookie_dies_when_its_owner_signs_out(console):
    console.sign_in("anne", PASSWORD)
    copied = session_cookie(console)
    assert replay(console, copied).status == 200  # the copy works while the session lasts
    console.post("/log-ud", {}, token=console.token("/triage"))
    reply = replay(console, copied)
    assert reply.status in (302, 303) and reply.headers["Location"].startswith("/log-ind")
    assert console.sign_in("anne", PASSWORD).status == 200  # a new sign-in works


def test_a_copied_cookie_dies_with_a_password_change(console):
    console.sign_in("bo", PASSWORD)
    copied = session_cookie(console)
    assert replay(console, copied).status == 200
    staff.set_password("bo", "en-helt-ny-adgangskode", url=console.url)  # what `bot.cli staff password` does
    assert replay(console, copied).status in (302, 303)
    assert console.get("/triage", redirects=False).status in (302, 303)  # the owner's own session too
    assert console.sign_in("bo", "en-helt-ny-adgangskode").status == 200


def test_a_session_ends_after_its_lifetime_however_active(console, monkeypatch):
    monkeypatch.setenv("STAFF_SESSION_HOURS", "1")
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    console.sign_in("anne", PASSWORD)
    copied = session_cookie(console)
    for _ in range(3):  # active every 20 minutes: never idle
        clock[0] += 20 * 60
        assert console.get("/triage", redirects=False).status == 200
    clock[0] += 60
    reply = console.get("/triage", redirects=False)
    assert reply.status in (302, 303) and "udloebet=tid" in reply.headers["Location"]
    assert "et login højst varer 1 timer" in console.get(reply.headers["Location"]).text
    assert replay(console, copied).status in (302, 303)
