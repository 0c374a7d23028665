"""Fixtures of the browser tests: the real stack the test session shares, and Debian's Chromium.

``stack`` is tests/conftest.py's ``shared_stack``: ``python -m bot.cli run`` (what ``make run``
starts) with the Rasa server, the action server and the web server on free ports, SQLite files
in a temporary folder for the tracker store and the assistant's database, and ``embed_origin``
allowed to embed the widget. The browser is Debian's ``/usr/bin/chromium`` driven by
Playwright; a missing Chromium fails the tests, never skips them.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.stack import BotStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

expect.set_options(timeout=30_000)  # an answer takes the assistant a moment


@pytest.fixture(scope="session")
def stack(shared_stack: BotStack) -> BotStack:
    """The running assistant; the page is at ``stack.web``, Rasa at ``stack.rasa``."""
    return shared_stack


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
def page(new_page, stack: BotStack) -> Page:
    """The demo page, Danish, at desktop size, with the Content-Security-Policy enforced."""
    page = new_page()
    page.goto(stack.web + "/")
    return page
