"""Live handover in two browser contexts: a user in the web widget and a member of staff in
the console, against the whole running assistant with a test clock inside the staffed hours.

The user asks for a person; staff sees the conversation in the queue, claims it and replies;
the user sees the reply marked as from a person; the user's answer appears in the console
without a reload; staff hands back and the assistant answers the next question. While a person
talks, the widget's person button ends the conversation with them instead."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.console_session import add_staff, wait_for_console
from tests.support.stack import BotStack
from tests.web.console.conftest import sign_in
from tests.web.support import ask, axe_violations, last_answer, screenshot


@pytest.fixture(scope="module")
def stack(staffed_stack: BotStack) -> BotStack:
    """tests/conftest.py's stack inside the staffed hours (a Wednesday at 10), with staff user anne."""
    wait_for_console(staffed_stack)
    add_staff(staffed_stack.env, "anne", "admin")
    return staffed_stack


def test_user_and_staff_talk_live_then_the_assistant_takes_over_again(new_page, stack, kb):
    user = new_page()
    user.goto(stack.web + "/")
    user.locator(".kw-launcher").click()
    ask(user, "Jeg vil gerne tale med en medarbejder")
    expect(user.locator(".kw-log")).to_contain_text("Du er nummer 1 i køen")
    ask(user, "Det handler om en byggetilladelse til vores nye hal")
    expect(user.locator(".kw-typing")).to_be_hidden()  # a person answers, not the bot

    staff = new_page()
    sign_in(staff, stack, "anne")
    staff.goto(stack.console + "/overtagelse")
    waiting = staff.locator("table", has=staff.get_by_role("button", name="Tag samtalen"))
    expect(waiting).to_contain_text("Web")
    staff.get_by_role("button", name="Tag samtalen").first.click()
    expect(staff.locator("main")).to_contain_text("byggetilladelse til vores nye hal")  # the transcript
    expect(user.locator(".kw-log")).to_contain_text("En medarbejder fra Køge Kommunes erhvervsservice har overtaget samtalen")

    staff.get_by_label("Svar til brugeren").fill("Hej, det er Anne. Hvor skal hallen ligge?")
    staff.get_by_role("button", name="Send").click()
    reply = user.locator(".kw-msg--person").last
    expect(reply).to_contain_text("Hej, det er Anne. Hvor skal hallen ligge?")
    expect(reply.locator(".kw-who")).to_have_text("Medarbejder, Køge Kommune")  # never a sign-in name

    ask(user, "I Køge Nord, ved motorvejen")
    expect(staff.locator("main")).to_contain_text("I Køge Nord, ved motorvejen")  # without a reload
    screenshot(staff, "console-handover")
    screenshot(user, "widget-handover")

    staff.get_by_role("button", name="Giv tilbage til chatbotten").click()
    expect(user.locator(".kw-log")).to_contain_text("Du skriver nu igen med chatbotten")
    ask(user, "hvad er smv grøn?")
    expect(user.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_groen"].source}"]')).to_be_visible()
    expect(last_answer(user)).not_to_have_class("kw-msg kw-msg--bot kw-msg--person")

    staff.goto(stack.console + "/revision")
    for label in ("Samtale taget", "Svar til bruger", "Givet tilbage"):
        expect(staff.locator("main")).to_contain_text(label)


def test_an_admin_ends_a_conversation_a_colleague_left_open(new_page, stack):
    """A reviewer takes a conversation and leaves it open; an admin sees whose it is, can end it
    without taking it over (no reply form), and the user is told; the page passes axe."""
    add_staff(stack.env, "bo", "reviewer")
    user = new_page()
    user.goto(stack.web + "/")
    user.locator(".kw-launcher").click()
    ask(user, "Kan jeg tale med et menneske?")
    expect(user.locator(".kw-log")).to_contain_text("i køen")

    reviewer = new_page()
    sign_in(reviewer, stack, "bo")
    reviewer.goto(stack.console + "/overtagelse")
    reviewer.get_by_role("button", name="Tag samtalen").first.click()
    expect(user.locator(".kw-log")).to_contain_text("har overtaget samtalen")
    taken = reviewer.url

    admin = new_page(bypass_csp=True)  # axe is injected as an inline script
    sign_in(admin, stack, "anne")
    admin.goto(taken)
    expect(admin.locator("main")).to_contain_text("bo har taget samtalen")
    expect(admin.locator("main")).to_contain_text("Som administrator kan du afslutte den")
    expect(admin.get_by_label("Svar til brugeren")).to_have_count(0)
    assert axe_violations(admin) == [], taken
    screenshot(admin, "console-handover-admin")
    admin.get_by_role("button", name="Afslut samtalen").click()
    expect(admin.locator(".flash")).to_contain_text("Samtalen er afsluttet.")
    expect(user.locator(".kw-log")).to_contain_text("Medarbejderen har afsluttet samtalen")


def test_the_user_ends_the_conversation_with_the_person_and_the_assistant_answers_again(new_page, stack, kb):
    """While a person talks there is no "Tal med en medarbejder", but "Afslut samtalen med
    medarbejderen"; it ends the handover (staff see it), the user is told the assistant answers
    again, and the usual button is back. The console shows one pause line for the one pause."""
    user = new_page(bypass_csp=True, viewport={"width": 420, "height": 860})  # axe is injected inline
    user.goto(stack.web + "/")
    user.locator(".kw-launcher").click()
    user.get_by_role("button", name="Tal med en medarbejder").click()
    expect(user.locator(".kw-log")).to_contain_text("i køen")
    expect(user.get_by_role("button", name="Stop med at vente på en medarbejder")).to_be_visible()
    expect(user.get_by_role("button", name="Tal med en medarbejder")).to_have_count(0)

    staff = new_page()
    sign_in(staff, stack, "anne")
    staff.goto(stack.console + "/overtagelse")
    staff.get_by_role("button", name="Tag samtalen").first.click()
    expect(user.locator(".kw-log")).to_contain_text("har overtaget samtalen")
    end = user.get_by_role("button", name="Afslut samtalen med medarbejderen")
    expect(end).to_be_visible()
    expect(user.get_by_role("button", name="Tal med en medarbejder")).to_have_count(0)
    expect(staff.locator("main")).to_contain_text("har overtaget samtalen")
    expect(staff.locator("main").get_by_text("Chatbotten er sat på pause")).to_have_count(1)
    assert axe_violations(user) == [], "a person is talking"
    screenshot(user, "widget-handover-end")

    end.click()
    expect(user.locator(".kw-log")).to_contain_text(
        "Du har afsluttet samtalen med medarbejderen. Du skriver nu igen med chatbotten")
    expect(user.get_by_role("button", name="Tal med en medarbejder")).to_be_visible()
    expect(user.get_by_role("button", name="Afslut samtalen med medarbejderen")).to_have_count(0)
    expect(staff.locator("main")).to_contain_text("Afsluttet af brugeren")  # the page follows by itself

    ask(user, "hvad er smv grøn?")
    expect(user.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_groen"].source}"]')).to_be_visible()
    assert axe_violations(user) == [], "back with the assistant"

    staff.goto(stack.console + "/revision")
    expect(staff.locator("main")).to_contain_text("Brugeren afsluttede samtalen med medarbejderen")
