"""Fixtures of the console's browser tests: the stack the test session shares (``python -m
bot.cli run``: Rasa, action server, web server, notification sender and the staff console),
staff users made with the real command line, and Debian's Chromium (the web tests' fixtures)."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from bot.store import db
from bot.store.models import Booking
from tests.console_session import PASSWORD, add_staff, wait_for_console
from tests.support.stack import BotStack

USERS = {"anne": "admin", "bo": "reviewer", "laase": "reviewer"}


@pytest.fixture(scope="session")
def stack(shared_stack: BotStack) -> BotStack:
    """The shared stack with the console's users (``USERS``, password ``PASSWORD``) and a booking."""
    wait_for_console(shared_stack)
    for name, role in USERS.items():
        add_staff(shared_stack.env, name, role, PASSWORD)
    with db.session(shared_stack.database) as s:  # a booking to follow up (the booking form has its own tests)
        s.add(Booking(reference="KB-2026-TEST1", request_key="console-test", sender_id="rest-booking",
                      company_name="Testfirma ApS", cvr="29189374", contact_name="Anne Hansen",
                      email="anne@example.dk", phone="+45 20 12 34 56", topic="Grøn omstilling",
                      slot_start=dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=5),
                      duration_minutes=60, language="da", status="booked"))
    return shared_stack


def sign_in(page: Page, stack: BotStack, name: str = "anne", password: str = PASSWORD,
            expect_ok: bool = True) -> None:
    page.goto(stack.console + "/log-ind")
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    if expect_ok and password == PASSWORD:
        expect(page.get_by_role("navigation", name="Hovedmenu")).to_be_visible()
