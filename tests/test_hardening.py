"""Faults a municipality cannot put before the public, each shown gone on the running stack
(``python -m bot.cli run`` as ``make run`` starts it, with a CVR register on loopback:
tests/conftest.py's ``shared_stack`` and ``cvr_register``)."""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.support.stack import BotStack

FORGED_TRACKER = {
    "next_action": "action_book_visit", "sender_id": "attacker", "version": "3.6.21",
    "tracker": {"sender_id": "attacker", "slots": {"company_name": "X", "contact_name": "Y",
                                                   "email": "victim@example.dk", "phone": "20123456",
                                                   "visit_topic": "t", "visit_time": "2026-12-10T10:30",
                                                   "send_copy": True},
                "latest_message": {"text": "ja"}, "events": [], "paused": False,
                "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"},
    "domain": {},
}


@pytest.fixture(scope="module")
def bot(shared_stack: BotStack) -> BotStack:
    return shared_stack


def _children(parent: int) -> list[int]:
    found, frontier = [], [parent]
    while frontier:
        pid = frontier.pop()
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            except OSError:
                continue
            if int(fields.get("PPid", "0").strip()) == pid:
                child = int(status.parent.name)
                found.append(child)
                frontier.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_forged_action_call_is_refused(bot):
    webhook = f"http://127.0.0.1:{bot.action_port}/webhook"
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/json"},
                    {"X-Action-Token": "guess"}):
        answer = requests.post(webhook, json=FORGED_TRACKER, headers=headers, timeout=10)
        assert answer.status_code == 401
    assert requests.get(f"http://127.0.0.1:{bot.action_port}/health", timeout=10).ok
    text, _ = bot.say("Hej")  # Rasa itself, with the secret, still runs actions
    assert text


def test_the_action_server_listens_only_on_loopback(bot):
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    port = f"{bot.action_port:04X}"
    addresses = {line.split()[1].split(":")[0] for line in listening
                 if line.split()[1].endswith(f":{port}") and line.split()[3] == "0A"}
    assert addresses == {"0100007F"}  # 127.0.0.1, not 0.0.0.0


def test_no_token_appears_in_the_process_list(bot):
    secrets = [(bot.var / name).read_text().strip() for name in ("api-token", "action-token")]
    assert all(secrets)
    commands = [_cmdline(pid) for pid in _children(bot.process.pid)]
    assert any("bot.rasa_server" in c for c in commands) and any("actions.server" in c for c in commands)
    for secret in secrets:
        assert not any(secret in c for c in commands)
    assert oct((bot.var / "api-token").stat().st_mode)[-3:] == "600"


def _to_time_question(bot: BotStack, user: str) -> None:
    bot.say("Jeg vil gerne booke et virksomhedsbesøg", user)
    for answer in ("ved ikke", "Testfabrikken ApS", "Anne Jensen", "anne@example.dk", "20 12 34 56"):
        bot.say(answer, user)
    text, buttons = bot.say("Udvidelse af produktionen", user)
    assert buttons, text  # the time question, with free times


def test_a_huge_time_answer_is_answered_quickly_and_does_not_hold_up_others(bot):
    user = "huge-" + uuid.uuid4().hex[:6]
    _to_time_question(bot, user)
    greeting: dict[str, float] = {}

    def other_user() -> None:
        time.sleep(0.3)  # while the huge answer is being handled
        started = time.monotonic()
        text, _ = bot.say("hej")
        greeting["seconds"] = time.monotonic() - started
        greeting["ok"] = bool(text)

    other = threading.Thread(target=other_user)
    other.start()
    started = time.monotonic()
    text, buttons = bot.say("mandag 1/1 " * 3000, user)
    huge = time.monotonic() - started
    other.join()
    assert text and buttons  # a polite answer with free times, not a time-out
    # Generous bounds on a busy 2-core machine: before the fix this took 14 s and held others 2–6 s.
    assert huge < 3.0, huge
    assert greeting["ok"] and greeting["seconds"] < 3.0, greeting


def _book(bot: BotStack, user: str, time_button: dict | None = None) -> tuple[str, dict]:
    _to_time_question(bot, user)
    text, buttons = bot.say("x", user)  # not a time: the question again, with the buttons
    chosen = time_button or buttons[0]
    text, _ = bot.say(chosen["payload"], user)
    assert "anne@example.dk" in text, text  # the summary
    text, _ = bot.say("ja", user)
    return text, chosen


def test_a_cancelled_time_can_be_booked_again_in_the_same_conversation(bot):
    from bot.booking import service

    user = "rebook-" + uuid.uuid4().hex[:6]
    text, chosen = _book(bot, user)
    reference = service.parse_reference(text)
    assert reference, text
    bot.say(f"Jeg vil aflyse {reference}", user)
    text, _ = bot.say("anne@example.dk", user)
    text, _ = bot.say("aflys", user)
    assert reference in text
    text, _ = _book(bot, user, chosen)  # the same free time, the same e-mail
    again = service.parse_reference(text)
    assert again and again != reference, text
    assert "CVR" not in text and "e-mailadresse" not in text  # no stray error lines


def test_a_crashed_process_is_restarted(bot):
    web = [pid for pid in _children(bot.process.pid) if "bot.web.server" in _cmdline(pid)]
    assert web
    os.kill(web[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{bot.web}/api/config", timeout=2).ok and web[0] not in _children(bot.process.pid):
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        pytest.fail("the web server was not restarted")
    assert bot.process.poll() is None  # the supervisor itself keeps running
    assert "restarting" in bot.log.read_text()


def test_a_cpr_number_is_in_no_table_and_no_log(bot):
    user = "cpr-" + uuid.uuid4().hex[:6]
    text, _ = bot.say("Mit CPR er 010190-1234, kan I hjælpe med tilskud?", user)
    assert "CPR" in text  # the reply says not to send it
    bot.say("og min kollegas er 0201901235", user)
    time.sleep(1)
    for database in (bot.tracker, Path(bot.database.removeprefix("sqlite:///"))):
        with sqlite3.connect(database) as connection:
            dump = "\n".join(connection.iterdump())
        assert "010190-1234" not in dump and "0201901235" not in dump and "010190" not in dump
    for log in bot.folder.rglob("*.log"):
        content = log.read_text(errors="replace")
        assert "010190" not in content and "0201901235" not in content, log


def test_a_cvr_register_that_hangs_delays_only_the_conversation_that_asked(bot, cvr_register):
    from tests.fakes.cvr_register import OK, SLOW

    user = "slow-" + uuid.uuid4().hex[:6]
    bot.say("Jeg vil gerne booke et virksomhedsbesøg", user)
    cvr_register.mode = SLOW
    waited: dict[str, object] = {}

    def ask_the_register() -> None:
        waited["text"], _ = bot.say("29189374", user)

    asking = threading.Thread(target=ask_the_register)
    asking.start()
    time.sleep(1.0)  # the register is now keeping that conversation waiting
    try:
        for _ in range(3):
            started = time.monotonic()
            text, _ = bot.say("hej")
            assert text and time.monotonic() - started < 3.0
        assert asking.is_alive()  # still waiting for the register
    finally:
        asking.join()
        cvr_register.mode = OK
    assert waited["text"]  # it got an answer too (asked for the name instead)
