"""Fixtures of the browser tests: one real stack per test session, and Debian's Chromium.

``python -m bot.cli run`` (what ``make run`` starts) runs the Rasa server, the action server and
the web server on free ports, with SQLite files in a temporary folder for the tracker store
and the assistant's database. The browser is Debian's ``/usr/bin/chromium`` driven by
Playwright; a missing Chromium fails the tests, it never skips them.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "koege.tar.gz"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 300

expect.set_options(timeout=30_000)  # an answer takes the assistant a moment


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.ConnectionError:
        return False


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[dict]:
    """The running assistant: ``web`` (the page's URL and origin), ``rasa``, ``database``, ``tracker``."""
    assert MODEL.exists(), "train the model first: make train"
    tmp = tmp_path_factory.mktemp("web-stack")
    rasa_port, action_port, web_port = _free_port(), _free_port(), _free_port()
    web = f"http://localhost:{web_port}"
    stack = {
        "web": web,
        "rasa": f"http://localhost:{rasa_port}",
        "database": f"sqlite:///{tmp / 'bot.db'}",
        "tracker": tmp / "tracker.db",
    }
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "WEB_PORT": str(web_port),
        "ACTION_SERVER_URL": f"http://localhost:{action_port}/webhook",
        "TRACKER_URL": f"sqlite:///{stack['tracker']}",
        "BOT_DATABASE_URL": stack["database"],
        "RASA_MODEL": str(MODEL),
        "RASA_PUBLIC_URL": stack["rasa"],
        "RASA_CORS": web,
    }
    log = tmp / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
    checks = [f"http://127.0.0.1:{rasa_port}/", f"http://127.0.0.1:{action_port}/health",
              f"http://127.0.0.1:{web_port}/api/config"]
    deadline = time.time() + START_TIMEOUT
    while not all(_up(url) for url in checks):
        assert process.poll() is None, log.read_text()[-5000:]
        assert time.time() < deadline, "the servers did not start:\n" + log.read_text()[-5000:]
        time.sleep(2)
    yield stack
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium with "
                    "`apt-get install -y chromium` (.ci/run does it)", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator:
    """``new_page(**context_options)``: a page in a fresh browser context (empty storage).

    Uncaught script errors and Content-Security-Policy violations fail the test.
    """
    contexts, problems = [], []

    def make(**options) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**options)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda err: problems.append(f"script error: {err}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if "Content Security Policy" in msg.text else None)
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def page(new_page, stack) -> Page:
    """The demo page, Danish, at desktop size, with the Content-Security-Policy enforced."""
    page = new_page()
    page.goto(stack["web"] + "/")
    return page
