"""What the widget shows beside the assistant's texts, in a real browser against the real
assistant: rating buttons only under factual answers, one "Tal med en medarbejder", the note
when a CPR number was removed (and the number stored nowhere), and a transcript that ends
with the browser session."""
from __future__ import annotations

import sqlite3
import time

from playwright.sync_api import expect

from bot.channels import hygiene
from tests.web.support import ask, last_answer, session_id

KNOWLEDGE_QUESTION = "Hvor meget kan man få i SMV:Grøn?"
CPR = "010190-1234"


def test_rating_buttons_only_under_factual_answers(page, kb):
    page.locator(".kw-launcher").click()
    ask(page, KNOWLEDGE_QUESTION)
    expect(page.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_groen"].source}"]')).to_be_visible()
    expect(page.locator(".kw-rate")).to_have_count(1)
    expect(last_answer(page).locator(".kw-rate")).to_have_count(1)  # below the answer's last part

    ask(page, "book et besøg")
    expect(page.locator(".kw-log")).to_contain_text("CVR-nummer")  # the form's first question
    expect(page.locator(".kw-msg--user")).to_have_count(2)
    expect(last_answer(page)).to_contain_text("CVR")
    expect(page.locator(".kw-rate")).to_have_count(1)  # still only the one under the answer
    expect(last_answer(page).locator(".kw-rate")).to_have_count(0)


def test_one_person_button_even_when_an_answer_offers_a_person(page, kb):
    page.locator(".kw-launcher").click()
    ask(page, KNOWLEDGE_QUESTION)
    expect(page.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_groen"].source}"]')).to_be_visible()
    expect(page.locator(".kw-reply")).not_to_have_count(0)  # the answer's other quick replies stay
    expect(page.get_by_role("button", name="Tal med en medarbejder")).to_have_count(1)
    expect(page.locator(".kw-reply", has_text="Tal med en medarbejder")).to_have_count(0)


def test_a_cpr_number_is_removed_the_user_warned_and_it_is_stored_nowhere(page, stack):
    page.locator(".kw-launcher").click()
    ask(page, f"Mit CPR er {CPR}")
    log = page.locator(".kw-log")
    expect(log).to_contain_text(hygiene.note(hygiene.CPR, "da"))
    expect(page.locator(".kw-msg--bot").first).to_contain_text("CPR")  # the note comes first
    expect(page.locator(".kw-msg--bot").nth(1)).to_be_visible()  # then the answer
    sender = session_id(page)
    deadline = time.time() + 20  # Rasa stores the turn once it has answered
    while True:
        with sqlite3.connect(stack.tracker) as db:
            said = [row[0] for row in db.execute(
                "SELECT json_extract(data, '$.text') FROM events WHERE sender_id = ? AND type_name = 'user'",
                (sender,))]
            everything = " ".join(str(value) for row in db.execute("SELECT * FROM events") for value in row)
        if said or time.time() > deadline:
            break
        time.sleep(0.5)
    assert said == ["Mit CPR er [CPR fjernet]"]
    assert CPR not in everything and CPR.replace("-", "") not in everything
    # the browser shows what the user typed, in this tab only (sessionStorage)
    expect(page.locator(".kw-msg--user .kw-bubble")).to_have_text(f"Mit CPR er {CPR}")


def test_the_transcript_ends_with_the_browser_session(new_page, stack):
    page = new_page()
    page.goto(stack.web + "/")
    page.locator(".kw-launcher").click()
    ask(page, "Hej")
    expect(page.locator(".kw-msg--bot")).not_to_have_count(0)
    assert page.evaluate("localStorage.length") == 0  # nothing kept beyond the session
    assert page.evaluate("sessionStorage.getItem('koege-erhvervsbot')")

    page.reload()  # a reload keeps the conversation
    page.locator(".kw-launcher").click()
    expect(page.locator(".kw-msg--user .kw-bubble")).to_have_text("Hej")

    # a new tab of the same browser starts afresh: sessionStorage belongs to the tab
    other = page.context.new_page()
    other.goto(stack.web + "/")
    other.locator(".kw-launcher").click()
    expect(other.locator(".kw-panel")).to_be_visible()
    expect(other.locator(".kw-msg")).to_have_count(0)

    # and so does a new browser session (a new context: nothing carried over)
    fresh = new_page()
    fresh.goto(stack.web + "/")
    fresh.locator(".kw-launcher").click()
    expect(fresh.locator(".kw-panel")).to_be_visible()
    expect(fresh.locator(".kw-msg")).to_have_count(0)


def test_a_transcript_left_in_local_storage_by_an_earlier_version_is_deleted(new_page, stack):
    page = new_page()
    page.goto(stack.web + "/privatliv")  # same origin, without the widget
    page.evaluate("""localStorage.setItem('koege-erhvervsbot', JSON.stringify(
        {session: 'old', answer: 1, items: [{from: 'user', text: 'gammel', time: '2026-01-01T10:00:00Z', answer: 1}]}))""")
    page.goto(stack.web + "/")
    page.locator(".kw-launcher").click()
    expect(page.locator(".kw-panel")).to_be_visible()
    expect(page.locator(".kw-msg")).to_have_count(0)
    assert page.evaluate("localStorage.getItem('koege-erhvervsbot')") is None
