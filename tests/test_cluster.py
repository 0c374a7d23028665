"""Faults in the production configuration (issue #15): two Rasa servers and two action servers
behind nginx (``deploy/nginx/koege.conf``), PostgreSQL tracker store and database, Redis lock
store and rate limits, the notification sender — all started natively by ``tests.support.cluster``
on 127.0.0.1, every message sent through nginx.

One cluster serves the faults that leave the databases alone (a Rasa server killed in the
middle of a booking, the action servers down, Redis down, SMTP down, both Rasa servers
restarted one after the other); it has its own throwaway Redis, so stopping Redis never touches
the machine's. The PostgreSQL restart gets a cluster with its own throwaway PostgreSQL server.
"""
from __future__ import annotations

import asyncio
import http.client
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from bot import contacts, knowledge, wording
from bot.channels import hygiene
from bot.handover import delivery
from bot.store import db
from bot.store.models import SENT, Booking, Notification
from tests.fakes.cvr_register import FakeCvrRegister
from tests.fakes.smtp_server import SmtpServer
from tests.support import rest
from tests.support.cluster import NGINX_TEMPLATE, Cluster, nginx_binary, render
from tests.support.stack import free_port

# starts the whole production configuration (several Rasa servers) and breaks it
slow, cluster = pytest.mark.slow, pytest.mark.cluster

RECOVERY_SECONDS = 60  # a process back: nginx retries a server it marked failed after 10 s
MAIL_SECONDS = 90  # the cluster's outbox retries after 5 s, then 10, 20 …; the sender looks every 15 s


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def apology(lang: str = "da") -> str:
    return hygiene.note(hygiene.ERROR, lang)


def not_stored() -> str:
    """What the booking action says when the database did not take the booking."""
    return wording.text("utter_booking_not_stored", "da")


def general_address() -> str:
    """The municipality's general contact (contacts.yml), which the apology names."""
    address = contacts.general(knowledge.load()).address
    assert address
    return address


def texts(answer: Any) -> str:
    return "\n".join(m.get("text") or "" for m in answer)


def buttons(answer: Any) -> list[dict[str, Any]]:
    return [b for m in answer for b in m.get("buttons") or []]


def send(cluster: Cluster, text: str, sender: str) -> tuple[str, list[dict[str, Any]]]:
    """One message through nginx; the answer must be a 200 with at least one message (never
    silence, never a 5xx), and come within a reasonable time (no hang)."""
    started = time.monotonic()
    reply = cluster.post(text, sender)
    assert reply.status_code == 200, (reply.status_code, reply.text[:500])
    answer = reply.json()
    assert answer, f"no answer at all to {text!r}"
    assert time.monotonic() - started < 60
    return texts(answer), buttons(answer)


def retry_until(cluster: Cluster, text: str, sender: str, done: Callable[[str], bool],
                seconds: float = RECOVERY_SECONDS, meanwhile: tuple[str, ...] = ()
                ) -> tuple[str, list[dict[str, Any]]]:
    """Send ``text`` until the answer is ``done``; meanwhile every answer must be the apology
    (or begin with one of ``meanwhile``)."""
    deadline = time.monotonic() + seconds
    while True:
        answer, found = send(cluster, text, sender)
        if done(answer):
            return answer, found
        assert answer == apology() or answer.startswith(meanwhile), f"neither recovered nor the apology: {answer!r}"
        assert time.monotonic() < deadline, "the conversation did not recover"
        time.sleep(2)


def user() -> str:
    return "cluster-" + uuid.uuid4().hex[:10]


def form_steps(name: str, email: str) -> list[tuple[str, str]]:
    """The booking form's answers and what the next question contains, up to the time."""
    return [
        ("Jeg vil gerne booke et virksomhedsbesøg", "CVR-nummer"),
        ("vores cvr er 29189374", "fulde navn"),  # the company from the (fake) CVR register
        (name, "e-mail"),
        (email, "telefon"),
        ("20 12 34 56", "tale om"),
        ("Vi vil gerne tale om udvidelse af produktionen", "Hvornår"),
    ]


def fill_form(cluster: Cluster, sender: str, name: str, email: str,
              between: Callable[[int], None] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Answer the form up to the summary (the first free time); ``between(i)`` runs before
    answer ``i``. Returns the summary and its buttons."""
    found: list[dict[str, Any]] = []
    for i, (answer, question) in enumerate(form_steps(name, email)):
        if between:
            between(i)
        text, found = send(cluster, answer, sender)
        assert question in text, (answer, text)
    if between:
        between(len(form_steps(name, email)))
    summary, found = send(cluster, found[0]["payload"], sender)  # the first free time
    assert "Tjek" in summary and email in summary and name in summary, summary
    return summary, found


def reference_in(text: str) -> str | None:
    return next((w.strip(".,") for w in text.split() if w.startswith("KB-")), None)


def bookings_of(url: str, sender: str) -> list[Booking]:
    with db.session(url) as s:
        return list(s.scalars(sa.select(Booking).where(Booking.sender_id == sender)))


def processes_alive(cluster: Cluster, *names: str) -> None:
    for name in names:
        assert cluster.running(name), f"{name} crashed:\n{cluster.log(name)[-3000:]}"


# ---------------------------------------------------------------------------------------------
# The nginx configuration (no servers)
# ---------------------------------------------------------------------------------------------

NGINX_VALUES = {"NGINX_BIND": "127.0.0.1", "NGINX_PORT": "8000", "NGINX_ACTIONS_PORT": "5050",
                "NGINX_INTERNAL_PORT": "8001",
                "RASA_1": "127.0.0.1:5005", "RASA_2": "127.0.0.1:5006",
                "ACTIONS_1": "127.0.0.1:5055", "ACTIONS_2": "127.0.0.1:5056"}


def test_the_nginx_configuration_renders_with_the_production_values_and_nginx_accepts_it(tmp_path):
    site = tmp_path / "koege.conf"
    site.write_text(render(NGINX_TEMPLATE.read_text(), {**NGINX_VALUES, "NGINX_LOG_DIR": str(tmp_path)}))
    rendered = site.read_text()
    assert not [line for line in rendered.splitlines() if "${" in line and not line.lstrip().startswith("#")]
    assert "$http_upgrade" in rendered and "$proxy_add_x_forwarded_for" in rendered  # nginx's own
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path / 'nginx.pid'};\nevents {{}}\nhttp {{ include {site}; }}\n")
    check = subprocess.run([nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(main),
                            "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with pytest.raises(KeyError, match="NGINX_LOG_DIR"):
        render(NGINX_TEMPLATE.read_text(), NGINX_VALUES)


def _server_blocks(conf: str) -> dict[str, str]:
    """Each ``server { }`` block of a rendered koege.conf by the port it listens on."""
    blocks = conf.split("\nserver {")[1:]
    return {block.split("listen ", 1)[1].split(";", 1)[0].rsplit(":", 1)[1]: block for block in blocks}


def test_rasas_http_api_is_only_on_the_internal_entrance_and_metrics_on_none(tmp_path):
    conf = render(NGINX_TEMPLATE.read_text(), {**NGINX_VALUES, "NGINX_LOG_DIR": str(tmp_path)})
    blocks = _server_blocks(conf)
    assert sorted(blocks) == ["5050", "8000", "8001"]
    public, internal = blocks["8000"], blocks["8001"]
    assert "location /conversations/" not in public and "location /conversations/" in internal
    assert "location / {\n        return 404;" in public and "location / {\n        return 404;" in internal
    assert "metrics" not in "".join(line for line in (public + internal).splitlines()
                                    if not line.lstrip().startswith("#"))


# ---------------------------------------------------------------------------------------------
# One cluster for the faults that leave PostgreSQL alone
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="class")
def world(tmp_path_factory) -> Iterator[dict[str, Any]]:
    smtp_port = free_port()  # nothing listens there until the SMTP test starts the mail server
    with FakeCvrRegister() as register:
        with Cluster(tmp_path_factory.mktemp("cluster"), own_redis=True, SMTP_HOST="127.0.0.1",
                     SMTP_PORT=str(smtp_port), SMTP_TIMEOUT="2", NOTIFY_RETRY_SECONDS="5", CVR_API_URL=register.url,
                     CVR_API_USER=register.user, CVR_API_PASSWORD=register.password) as cluster:
            yield {"cluster": cluster, "smtp_port": smtp_port}


def _access_log(cluster: Cluster) -> list[str]:
    return (cluster.folder / "nginx" / "koege-access.log").read_text().splitlines()


@slow
@cluster
class TestTwoInstances:
    def test_a_rasa_server_killed_mid_booking_the_other_continues_with_its_slots(self, world):
        cluster: Cluster = world["cluster"]
        sender = user()
        log_lines: list[int] = []
        began = len(_access_log(cluster))
        rasa_1 = f"127.0.0.1:{cluster.rasa_ports['rasa-1']}"

        def kill_once_rasa_1_has_served_it(step: int) -> None:
            """SIGKILL rasa-1 (no goodbye) mid-form, as soon as it has answered this
            conversation at least once (nginx's round robin is shared with other requests, so
            which step that is can vary); the rest must come from rasa-2."""
            served = {line.split('"')[-2].split(", ")[-1] for line in _access_log(cluster)[began:]}
            if not log_lines and step >= 2 and rasa_1 in served:
                cluster.kill("rasa-1")
                log_lines.append(len(_access_log(cluster)))

        summary, found = fill_form(cluster, sender, "Anne Jensen", "anne.jensen@example.dk",
                                   kill_once_rasa_1_has_served_it)
        assert log_lines, "rasa-1 answered none of the form's first messages"
        assert "KØGE KOMMUNE" in summary  # the slots from before the kill
        text, _ = send(cluster, next(b["payload"] for b in found if b["payload"] == "/affirm"), sender)
        reference = reference_in(text)
        assert "Besøget er booket" in text and reference
        assert [b.reference for b in bookings_of(cluster.database, sender)] == [reference]
        rasa_2 = f"127.0.0.1:{cluster.rasa_ports['rasa-2']}"
        after = _access_log(cluster)[log_lines[0]:]
        assert after and all(line.split('"')[-2].split(", ")[-1] == rasa_2 for line in after)
        cluster.start("rasa-1")  # back for the restart test; it loads while the others run

    def test_action_servers_down_the_user_gets_an_apology_with_contact_then_it_works_again(self, world):
        cluster: Cluster = world["cluster"]
        sender = user()
        send(cluster, "Jeg vil gerne booke et virksomhedsbesøg", sender)
        send(cluster, "vores cvr er 29189374", sender)
        cluster.kill("actions-1")
        cluster.kill("actions-2")

        text, _ = send(cluster, "Bo Hansen", sender)  # the form's validation cannot run
        assert text == apology()
        assert "Beklager" in text and general_address() in text and "koege.dk" in text
        other, _ = send(cluster, "Hvad er Erhvervshus Sjælland?", user())  # a knowledge answer
        assert other == apology()
        english, _ = send(cluster, "What grants can my company apply for?", user())
        assert english == apology("en") and general_address() in english

        cluster.start("actions-1")
        cluster.start("actions-2")
        cluster.wait_ready("actions-1", "actions-2", timeout=120)
        # The failed answer was not stored: the same answer now gets the next question.
        text, _ = retry_until(cluster, "Bo Hansen", sender, lambda t: "e-mail" in t)
        text, _ = send(cluster, "bo@example.dk", sender)
        assert "telefon" in text
        processes_alive(cluster, "rasa-2", "nginx", "notifier")

    def test_redis_down_a_clear_apology_no_crash_and_recovery(self, world):
        cluster: Cluster = world["cluster"]
        sender = user()
        send(cluster, "Jeg vil gerne booke et virksomhedsbesøg", sender)
        cluster.kill("redis")  # the lock store and the rate limits

        text, _ = send(cluster, "vores cvr er 29189374", sender)
        assert text == apology() and general_address() in text
        text, _ = send(cluster, "Hej", user())
        assert text == apology()
        processes_alive(cluster, "rasa-2", "actions-1", "actions-2", "nginx", "notifier")

        cluster.start("redis")
        cluster.wait_ready("redis", timeout=30)
        text, _ = retry_until(cluster, "vores cvr er 29189374", sender, lambda t: "fulde navn" in t)
        assert "KØGE KOMMUNE" in text
        processes_alive(cluster, "rasa-2", "actions-1", "actions-2", "nginx", "notifier")

    def test_smtp_down_the_booking_is_stored_and_mailed_when_smtp_returns(self, world):
        cluster: Cluster = world["cluster"]
        sender = user()
        _, found = fill_form(cluster, sender, "Carl Berg", "carl.berg@example.dk")
        copy = next(b["payload"] for b in found if "send_copy" in b["payload"])
        text, _ = send(cluster, copy, sender)
        reference = reference_in(text)
        assert "Besøget er booket" in text and reference  # booked although no e-mail can be sent
        [booking] = bookings_of(cluster.database, sender)
        assert booking.reference == reference

        def outbox() -> list[Notification]:
            with db.session(cluster.database) as s:
                return list(s.scalars(sa.select(Notification).where(Notification.booking_id == booking.id)))

        deadline = time.monotonic() + 30
        while not all(n.attempts >= 1 for n in outbox()):  # the first attempt failed …
            assert time.monotonic() < deadline, "the outbox never tried to send"
            time.sleep(1)
        assert len(outbox()) == 2 and all(n.status != SENT and n.last_error for n in outbox())

        started = time.monotonic()
        with SmtpServer(port=world["smtp_port"]) as smtp:  # … the mail server comes back
            while not all(n.status == SENT for n in outbox()):
                assert time.monotonic() - started < MAIL_SECONDS, "the e-mails were not sent"
                time.sleep(2)
            mine = [m for m in smtp.messages if reference in (m["Subject"] or "")]
        assert sorted(m["To"] for m in mine) == sorted(["erhvervsservice@localhost", "carl.berg@example.dk"])
        print(f"e-mails sent {time.monotonic() - started:.0f} s after the SMTP server came back")

    def test_both_rasa_servers_restarted_one_after_the_other_the_conversation_continues(self, world):
        cluster: Cluster = world["cluster"]
        cluster.wait_ready("rasa-1")  # started again by the first test
        sender = user()

        def rolling_restart(step: int) -> None:
            if step == 2:
                cluster.restart("rasa-1", wait=False)  # while it loads, rasa-2 answers
            elif step == 3:
                cluster.wait_in_rotation("rasa-1")  # up, and back in nginx's rotation
            elif step == 4:
                cluster.restart("rasa-2", wait=False)  # now the restarted rasa-1 answers
            elif step == 5:
                cluster.wait_in_rotation("rasa-2")

        summary, found = fill_form(cluster, sender, "Dorte Lund", "dorte.lund@example.dk", rolling_restart)
        # Slots from before both restarts are still there: the tracker store is PostgreSQL.
        assert "KØGE KOMMUNE" in summary and "20 12 34 56" in summary
        text, _ = send(cluster, "/affirm", sender)
        reference = reference_in(text)
        assert "Besøget er booket" in text and reference
        assert [b.reference for b in bookings_of(cluster.database, sender)] == [reference]

    def test_rasas_http_api_answers_404_at_the_public_entrance_and_serves_the_console_inside(
            self, world, monkeypatch):
        """Issue #22: ``/conversations/`` (any conversation, with the API token) is not on the
        public entrance; the console's handover reaches it through the internal one."""
        cluster: Cluster = world["cluster"]
        sender = user()
        send(cluster, "Hej", sender)
        token = {"token": cluster.api_token}
        tracker = f"/conversations/{sender}/tracker"
        forged = [delivery.bot_event("forged through the public entrance")]

        began = len(_access_log(cluster))
        public = [requests.get(cluster.url + tracker, params=token, timeout=30),
                  requests.post(cluster.url + tracker + "/events", params=token, json=forged, timeout=30),
                  requests.get(cluster.url + f"/conversations/{sender}/story", params=token, timeout=30)]
        assert [a.status_code for a in public] == [404, 404, 404]
        assert all(sender not in a.text for a in public)
        # nginx answered itself: none of these requests reached a Rasa server
        lines = [line for line in _access_log(cluster)[began:] if "/conversations/" in line]
        assert len(lines) == 3 and all('"-"' in line for line in lines), lines
        # not through a path that nginx normalises to /conversations/ either
        for path in (f"/webhooks/../conversations/{sender}/tracker", f"/webhooks/%2e%2e/conversations/{sender}/tracker",
                     f"//conversations/{sender}/tracker", f"/webhooks/rest/..%2f..%2fconversations/{sender}/tracker"):
            connection = http.client.HTTPConnection("127.0.0.1", cluster.nginx_port, timeout=30)
            connection.request("GET", f"{path}?token={cluster.api_token}")
            answer = connection.getresponse()
            body = answer.read().decode(errors="replace")
            connection.close()
            assert answer.status != 200 and sender not in body, (path, answer.status)

        # The console's handover: delivery with the cluster's RASA_INTERNAL_URL (the internal entrance).
        assert cluster.environment()["RASA_INTERNAL_URL"] == cluster.internal_url != cluster.url
        monkeypatch.setenv("RASA_INTERNAL_URL", cluster.environment()["RASA_INTERNAL_URL"])
        monkeypatch.setenv("RASA_API_TOKEN", cluster.api_token)
        staff_line = "Hej, det er Erhvervsservice. Hvad kan jeg hjælpe med?"
        asyncio.run(delivery.send(sender, "rest", [delivery.PAUSE, delivery.bot_event(staff_line, staff="anne")]))
        inside = requests.get(cluster.internal_url + tracker, params=token, timeout=30)
        assert inside.status_code == 200
        events = inside.json()["events"]
        bot_lines = [e for e in events if e["event"] == "bot"]
        assert bot_lines[-1]["text"] == staff_line and bot_lines[-1]["metadata"]["staff"] == "anne"
        assert inside.json()["paused"] is True
        assert not any(e.get("text") == "forged through the public entrance" for e in events)
        asyncio.run(delivery.send(sender, "rest", [delivery.RESUME, delivery.LISTEN]))
        # Rasa still wants its token inside, and the internal entrance routes nothing else.
        assert requests.get(cluster.internal_url + tracker, timeout=30).status_code == 401
        assert requests.get(cluster.internal_url + "/health", timeout=30).status_code == 200
        bridge = rest.post(cluster.internal_url, user(), "Hej", timeout=150)  # the Telegram bridge's way
        assert bridge.status_code == 200 and bridge.json()
        for path in ("/metrics", "/status", "/model", "/domain"):
            assert requests.get(cluster.internal_url + path, params=token, timeout=30).status_code == 404, path

    def test_metrics_is_routed_by_no_entrance_and_each_instance_answers_only_loopback(self, world):
        cluster: Cluster = world["cluster"]
        for entrance in (cluster.url, cluster.internal_url):
            answer = requests.get(entrance + "/metrics", timeout=30)
            assert answer.status_code == 404 and "koege_" not in answer.text, entrance
        rasa = f"http://127.0.0.1:{cluster.rasa_ports['rasa-2']}/metrics"
        assert "koege_messages_total" in requests.get(rasa, timeout=30).text  # a scrape on the machine
        assert requests.get(rasa, headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30).status_code == 404


# ---------------------------------------------------------------------------------------------
# PostgreSQL restarted during a booking's confirmation (its own throwaway server)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="class")
def pg_world(tmp_path_factory) -> Iterator[Cluster]:
    with FakeCvrRegister() as register:
        with Cluster(tmp_path_factory.mktemp("cluster-pg"), rasa=1, actions=1, own_postgres=True,
                     CVR_API_URL=register.url, CVR_API_USER=register.user,
                     CVR_API_PASSWORD=register.password) as cluster:
            yield cluster


def _no_false_confirmation(cluster: Cluster, sender: str, answer: str) -> str | None:
    """The invariant after a confirmation: a reference shown is stored (once); otherwise
    nothing is stored and the user was told so."""
    reference = reference_in(answer)
    stored = bookings_of(cluster.database, sender)
    if reference:
        assert "Besøget er booket" in answer and [b.reference for b in stored] == [reference]
    else:
        assert answer == apology() or answer.startswith(not_stored()), answer
        assert not stored, [b.reference for b in stored]
    return reference


@contextmanager
def _refusing_connections(cluster: Cluster, database: str) -> Iterator[None]:
    """One database of the cluster's PostgreSQL server refuses connections (and loses the
    ones it had) while the block runs; the other goes on."""
    admin = sa.create_engine(cluster.tracker_url.rsplit("/", 1)[0] + "/postgres",
                             isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as c:
        c.execute(sa.text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false'))
        c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                  {"d": database})
    try:
        yield
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true'))


@slow
@cluster
class TestPostgresRestart:
    def test_postgres_down_at_the_confirmation_nothing_is_confirmed_then_it_books_once(self, pg_world):
        cluster = pg_world
        sender = user()
        fill_form(cluster, sender, "Eva Holm", "eva.holm@example.dk")
        cluster.stop("postgres")  # fast shutdown: every connection is closed
        text, _ = send(cluster, "/affirm", sender)
        assert text == apology()  # not a confirmation, not a new conversation ("Okay …")
        cluster.start("postgres")
        cluster.wait_ready("postgres", timeout=60)
        assert bookings_of(cluster.database, sender) == []
        text, _ = retry_until(cluster, "/affirm", sender, lambda t: reference_in(t) is not None)
        reference = _no_false_confirmation(cluster, sender, text)
        assert reference
        text, _ = send(cluster, "/affirm", sender)  # confirming again books nothing more
        assert [b.reference for b in bookings_of(cluster.database, sender)] == [reference]

    def test_the_bookings_database_gone_at_the_confirmation_not_booked_told_so_and_try_again_books(
            self, pg_world):
        cluster = pg_world
        sender = user()
        fill_form(cluster, sender, "Gitte Juul", "gitte.juul@example.dk")
        with _refusing_connections(cluster, cluster.database_names["bot"]):  # the tracker store stays
            text, found = send(cluster, "/affirm", sender)
            assert text.startswith(not_stored()) and reference_in(text) is None
            assert "Skal jeg booke besøget?" in text  # the form asks for the confirmation again
        assert bookings_of(cluster.database, sender) == []
        retry = next(b["payload"] for b in found if b["title"] == "Prøv igen")
        text, _ = send(cluster, retry, sender)
        reference = _no_false_confirmation(cluster, sender, text)
        assert reference

    @pytest.mark.parametrize("delay", [0.0, 0.03, 0.06, 0.1, 0.15, 0.25, 0.5])
    def test_postgres_restarted_while_the_confirmation_is_handled_never_a_false_confirmation(
            self, pg_world, delay):
        cluster = pg_world
        sender = user()
        fill_form(cluster, sender, "Finn Dahl", "finn.dahl@example.dk")
        answers: list[Any] = []
        confirm = threading.Thread(target=lambda: answers.append(cluster.post("/affirm", sender)))
        confirm.start()
        time.sleep(delay)
        cluster.kill("postgres", signal.SIGINT)  # fast shutdown in the middle of the message
        cluster.start("postgres")
        confirm.join(150)
        cluster.wait_ready("postgres", timeout=60)
        [reply] = answers
        assert reply.status_code == 200 and reply.json(), reply.text
        first = texts(reply.json())
        shown = _no_false_confirmation(cluster, sender, first)
        # The user tries again (or confirms once more): in the end the visit is booked once.
        text, _ = retry_until(cluster, "/affirm", sender, meanwhile=(not_stored(),),
                              done=lambda t: reference_in(t) is not None or (shown is not None and "Okay" in t))
        stored = bookings_of(cluster.database, sender)
        assert len(stored) == 1, [b.reference for b in stored]
        assert shown in (None, stored[0].reference)
        print(f"delay {delay}: first answer {'booked ' + shown if shown else first[:60]!r}")
