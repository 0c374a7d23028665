"""``make profile``'s reading of py-spy's raw stacks and of a process's CPU time."""
from __future__ import annotations

import os
import time

from tools.profile import ACTION_PARTS, cpu_seconds, own_time, shares

SITE = "/work/main/.venv/lib/python3.10/site-packages/"
# py-spy's raw format: frames from the outermost, ";"-separated, then the number of samples
RAW = "\n".join([
    # working: a contact look-up inside the webhook
    f"main (actions/server.py:10);webhook ({SITE}rasa_sdk/endpoint.py:1);run (actions/contact_lookup.py:28);"
    "ratio (difflib.py:619) 6",
    # working: Sanic reading the request's JSON
    f"main (actions/server.py:10);handle_request (handle_request);load_json ({SITE}sanic/request.py:9) 2",
    # waiting: a thread-pool worker and the event loop
    "_bootstrap (threading.py:973);run (threading.py:953);_worker (concurrent/futures/thread.py:81) 30",
    f"main (actions/server.py:10);serve ({SITE}sanic/server/runners.py:2) 12",
])


def test_the_action_servers_shares_are_of_the_samples_it_was_working(tmp_path):
    raw = tmp_path / "action.txt"
    raw.write_text(RAW)
    total, found = shares(raw, ACTION_PARTS, busy_only=True)
    assert total == 8
    assert found["whole call (webhook)"] == 6 / 8
    assert found["actions (actions/, the server's own module aside)"] == 6 / 8  # not server.py's main
    everything, _ = shares(raw, ACTION_PARTS)
    assert everything == 50
    assert [frame for frame, _ in own_time(raw)] == ["ratio (difflib.py)", "load_json (sanic/request.py)"]


def test_cpu_seconds_grow_with_work():
    before = cpu_seconds(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:
        sum(range(1000))
    assert cpu_seconds(os.getpid()) - before >= 0.1
