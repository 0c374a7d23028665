"""Operations: ``/health`` on every process, Prometheus ``/metrics`` (messages, latency,
fallbacks, bookings, errors) and JSON log lines without personal data, on the running
assistant (``python -m bot.cli run`` with ``LOG_FORMAT=json``: tests/conftest.py's ``shared_stack``)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests

from bot.settings import ROOT
from tests.support import rest
from tests.support.stack import BotStack


@pytest.fixture(scope="module")
def stack(shared_stack: BotStack) -> BotStack:
    assert shared_stack.env["LOG_FORMAT"] == "json"
    return shared_stack


def _urls(stack: BotStack) -> dict[str, str]:
    env = stack.env
    return {
        "rasa": f"http://127.0.0.1:{env['RASA_PORT']}",
        "actions": f"http://127.0.0.1:{env['ACTION_PORT']}",
        "web": f"http://127.0.0.1:{env['WEB_PORT']}",
        "console": f"http://127.0.0.1:{env['STAFF_PORT']}",
        "notifier": f"http://127.0.0.1:{env['NOTIFY_PORT']}",
    }


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 if absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if wanted else "") + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_every_process_answers_health(stack):
    for name, url in _urls(stack).items():
        answer = requests.get(url + "/health", timeout=10)
        assert answer.status_code == 200, name


def test_metrics_count_messages_latency_fallbacks_and_errors(stack):
    urls = _urls(stack)
    before = requests.get(urls["rasa"] + "/metrics", timeout=10).text
    stack.say("hvor meget kan man få i smv grøn?", "metrics-1")
    stack.say("/nlu_fallback", "metrics-1")  # what an unclear message becomes: a clarification
    refused = requests.post(urls["rasa"] + rest.WEBHOOK, json=[1], timeout=10)
    assert refused.status_code == 400
    after = requests.get(urls["rasa"] + "/metrics", timeout=10)
    assert after.headers["Content-Type"].startswith("text/plain")
    text = after.text
    assert _metric(text, "koege_messages_total", channel="rest") - _metric(before, "koege_messages_total",
                                                                            channel="rest") == 2
    assert _metric(text, "koege_message_seconds_count", channel="rest") >= 2
    assert _metric(text, "koege_refused_total", status="400") >= 1
    actions = requests.get(urls["actions"] + "/metrics", timeout=10).text
    assert _metric(actions, "koege_fallbacks_total") >= 1
    assert _metric(actions, "koege_actions_total", action="action_answer_knowledge") >= 1
    assert "koege_bookings_total" in actions and "koege_errors_total" in text
    assert "koege_emails_total" in requests.get(urls["notifier"] + "/metrics", timeout=10).text
    assert requests.get(urls["web"] + "/metrics", timeout=10).ok


def test_action_server_metrics_need_no_token_but_actions_do(stack):
    urls = _urls(stack)
    assert requests.get(urls["actions"] + "/metrics", timeout=10).status_code == 200
    assert requests.post(urls["actions"] + "/webhook", json={"next_action": "action_privacy"},
                         timeout=10).status_code == 401


def test_log_lines_are_json_without_personal_data(stack):
    stack.say("Min e-mail er anne.hansen@firma.dk og mit nummer 20 12 34 56", "metrics-2")
    lines = [line for line in stack.log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    processes = {r.get("process") for r in records}
    assert {"rasa server", "action server"} <= processes, processes
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert "anne.hansen@firma.dk" not in stack.log.read_text(encoding="utf-8")


def test_json_formatter_masks_what_it_writes(tmp_path):
    code = ("from bot import logs; import logging; logs.configure('probe'); "
            "logging.getLogger('probe').warning('kontakt anne@firma.dk, cpr 010190-1234')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "LOG_FORMAT": "json", "STATE_DIR": str(tmp_path)}, check=True)
    record = json.loads(done.stderr.strip().splitlines()[-1])
    assert record["level"] == "WARNING" and record["process"] == "probe"
    assert "anne@firma.dk" not in record["message"] and "010190" not in record["message"]
