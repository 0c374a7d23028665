"""A new user books a visit in the widget at phone width, under ``make run``'s defaults: the time
example the assistant gives is accepted as typed, and the booking leaves a readable e-mail with
its calendar invitation where the start-up message says e-mails go."""
from __future__ import annotations

import email
import email.policy
import re

from playwright.sync_api import expect

from tests.support.process import wait_until
from tests.web.support import ask, last_answer, screenshot

EXAMPLE = re.compile(r"skriv fx '([^']+)'")


def _answer(page, text: str, expected: str) -> None:
    count = page.locator(".kw-msg--bot").count()
    ask(page, text)
    expect(page.locator(".kw-msg--bot")).not_to_have_count(count)
    expect(last_answer(page)).to_contain_text(expected)


def test_a_booking_with_the_assistants_own_time_example_leaves_a_readable_email(new_page, stack):
    page = new_page(viewport={"width": 420, "height": 800})
    page.goto(stack.web + "/")
    page.locator(".kw-launcher").click()
    _answer(page, "Jeg vil gerne booke et virksomhedsbesøg", "CVR-nummer")
    _answer(page, "ved ikke", "hedder virksomheden")
    _answer(page, "Testfabrikken ApS", "fulde navn")
    _answer(page, "Anne Jensen", "e-mailadresse")
    _answer(page, "anne.jensen@example.dk", "telefonnummer")
    _answer(page, "20 12 34 56", "tale om")
    _answer(page, "Udvidelse af produktionen", "Hvornår passer det jer")
    example = EXAMPLE.search(last_answer(page).inner_text())
    assert example, last_answer(page).inner_text()
    _answer(page, example.group(1), "Tjek venligst oplysningerne")  # accepted as typed
    screenshot(page, "booking-summary-420px")
    page.get_by_role("button", name="Ja, book besøget").last.click()
    expect(last_answer(page)).to_contain_text("bookingnummer er KB-")
    reference = re.search(r"KB-\d{4}-[0-9A-Z]{6}", last_answer(page).inner_text()).group(0)

    welcome = stack.log.read_text()
    drop = stack.folder / "mail"
    assert f"e-mails:   {drop}" in welcome  # where the start-up message says

    def mails() -> list[email.message.EmailMessage]:  # the stack is shared: this booking's only
        found = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                 for path in drop.glob("*.eml")]
        return [mail for mail in found if reference in (mail["Subject"] or "")]

    [mail] = wait_until(mails, 60, f"an e-mail about {reference} in the mail drop", interval=0.5)
    assert mail["To"] == "erhvervsservice@localhost"
    body = mail.get_body(("plain",)).get_content()
    assert "Anne Jensen" in body and "Udvidelse af produktionen" in body
    calendars = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert calendars and "BEGIN:VEVENT" in calendars[0].get_content()
