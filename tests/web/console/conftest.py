"""Fixtures of the console's browser tests: ONE real stack for the module (``python -m bot.cli
run``: Rasa, action server, web server, notification sender and the staff console), staff
users made with the real command line, and Debian's Chromium (the web tests' fixtures)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect

from bot.settings import ROOT
from bot.store import db
from bot.store.models import Booking
from tests.support.stack import BotStack

PASSWORD = "korrekt-hest-batteri"
USERS = {"anne": "admin", "bo": "reviewer", "laase": "reviewer"}


def _wait(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not answer")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[BotStack]:
    with BotStack(tmp_path_factory.mktemp("console-stack")) as running:
        _wait(running.console + "/sundhed")
        for name, role in USERS.items():
            subprocess.run([sys.executable, "-m", "bot.cli", "staff", "add", name, "--role", role], cwd=ROOT,
                           env=running.env, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        with db.session(running.database) as s:  # a booking to follow up (the booking form has its own tests)
            s.add(Booking(reference="KB-2026-TEST1", request_key="console-test", sender_id="rest-booking",
                          company_name="Testfirma ApS", cvr="29189374", contact_name="Anne Hansen",
                          email="anne@example.dk", phone="+45 20 12 34 56", topic="Grøn omstilling",
                          slot_start=dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=5),
                          duration_minutes=60, language="da", status="booked"))
        yield running


def sign_in(page: Page, stack: BotStack, name: str = "anne", password: str = PASSWORD,
            expect_ok: bool = True) -> None:
    page.goto(stack.console + "/log-ind")
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    if expect_ok and password == PASSWORD:
        expect(page.get_by_role("navigation", name="Hovedmenu")).to_be_visible()
