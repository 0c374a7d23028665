"""End to end: `python -m bot.cli run` (what `make run` starts) answers on the REST channel.

Starts the real Rasa server and action server on free ports with a SQLite tracker store in a
temporary folder, talks to them over HTTP, and stops them with Ctrl-C (SIGINT).
"""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "koege.tar.gz"
START_TIMEOUT = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert MODEL.exists(), "train the model first: make train"
    tmp = tmp_path_factory.mktemp("server")
    rasa_port, action_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "ACTION_SERVER_URL": f"http://localhost:{action_port}/webhook",
        "TRACKER_URL": f"sqlite:///{tmp / 'tracker.db'}",
        "RASA_MODEL": str(MODEL),
    }
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{rasa_port}"
    deadline = time.time() + START_TIMEOUT
    while True:
        assert process.poll() is None, process.stdout.read()
        try:
            if requests.get(base, timeout=2).ok and requests.get(
                    f"http://127.0.0.1:{action_port}/health", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        assert time.time() < deadline, "server did not start"
        time.sleep(2)
    yield {"url": f"{base}/webhooks/rest/webhook", "process": process, "tmp": tmp}
    if process.poll() is None:
        process.kill()


def send(server, text: str, sender: str | None = None) -> tuple[str, list[dict]]:
    reply = requests.post(server["url"], json={"sender": sender or uuid.uuid4().hex,
                                               "message": text}, timeout=60)
    reply.raise_for_status()
    messages = reply.json()
    text = "\n".join(m.get("text", "") for m in messages)
    return text, [b for m in messages for b in m.get("buttons") or []]


def test_hej_gets_the_danish_greeting_with_the_automated_assistant_notice(server):
    text, buttons = send(server, "Hej")
    assert "digitale assistent" in text and "chatbot" in text
    assert {"/ask_grants_overview", "/ask_contact"} <= {b["payload"] for b in buttons}


def test_noise_contact_question_gives_the_environment_unit(server, kb):
    text, _ = send(server, "Hvem skal jeg kontakte om støj fra min virksomhed?")
    assert kb.contacts["miljoe"].email in text


def test_grant_question_is_answered_with_amount_and_source(server, kb):
    text, _ = send(server, "hvor meget kan man få i smv grøn?")
    assert "300.000" in text
    assert kb.entries["ask_grant_smv_groen"].source in text


def test_english_question_gets_an_english_answer(server):
    text, _ = send(server, "What grants are there for green transition?")
    assert "Read more:" in text


def test_citizen_question_is_deflected_honestly(server):
    text, _ = send(server, "Hvornår bliver mit skrald hentet derhjemme?")
    assert "desværre" in text and "koege.dk" in text


def test_conversation_is_stored_in_the_sqlite_tracker_store(server):
    sender = "store-" + uuid.uuid4().hex
    send(server, "Hej", sender)
    with sqlite3.connect(server["tmp"] / "tracker.db") as db:
        count = db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]
    assert count > 0


def test_ctrl_c_stops_every_process(server):
    process = server["process"]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(server["url"].rsplit("/webhooks", 1)[0], timeout=2)
