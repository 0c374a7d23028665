"""What the widget shows beside the assistant's texts, in a real browser against the real
assistant: a factual answer as one bubble with its contacts and source as a footer, rating
buttons only under factual answers, one "Tal med en medarbejder", the note when a CPR number
was removed (and the number stored nowhere), and a transcript that ends with the browser
session."""
from __future__ import annotations

import re
import sqlite3
import time

from playwright.sync_api import expect

from bot.channels import hygiene
from tests.web.support import ask, axe_violations, last_answer, screenshot, session_id

KNOWLEDGE_QUESTION = "Hvor meget kan man få i SMV:Grøn?"
CPR = "010190-1234"


def test_a_factual_answer_is_one_bubble_with_its_contact_and_source_and_the_rating_under_it(new_page, stack, kb):
    """'hvad er smv grøn?' on a phone (420 px): one answer, not a bubble per paragraph; its
    contact (Erhvervshus Sjælland, not the municipality's address under a national scheme) and
    its source with the date as the bubble's footer; topic buttons and the rating under it."""
    page = new_page(bypass_csp=True, viewport={"width": 420, "height": 860})  # axe is injected inline
    page.goto(stack.web + "/")
    page.locator(".kw-launcher").click()
    ask(page, "hvad er smv grøn?")
    source = kb.entries["ask_grant_smv_groen"].source
    answer = last_answer(page)
    expect(answer.locator(f'.kw-answer-footer a[href="{source}"]')).to_be_visible()
    expect(page.locator(".kw-msg--bot")).to_have_count(1)
    bubble = answer.locator(".kw-bubble")
    expect(bubble).to_have_count(1)
    expect(bubble).to_contain_text("300.000")
    expect(bubble.locator(".kw-answer-footer p")).to_have_text([
        "Kontakt: Erhvervshus Sjælland, Sorø (hos VKST, Fulbyvej) og en afdeling i Vordingborg",
        re.compile(r"^Kilder: danskindustri\.dk .* og plastcenter\.dk .*\(kontrolleret \d{1,2}\. \w+ \d{4}\)$"),
    ])
    expect(page.locator(".kw-log")).not_to_contain_text("Torvet 1")
    expect(answer.locator(".kw-replies .kw-reply")).not_to_have_count(0)
    expect(page.locator(".kw-rate")).to_have_count(1)
    rating = answer.locator(".kw-rate")
    expect(rating).to_be_visible()
    assert rating.bounding_box()["y"] > bubble.bounding_box()["y"] + bubble.bounding_box()["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 420, "horizontal scrolling"
    assert axe_violations(page) == []
    screenshot(page, "widget-answer-420")

    page.reload()  # the shown conversation keeps the answer's layout
    page.locator(".kw-launcher").click()
    expect(last_answer(page).locator(".kw-answer-footer p")).to_have_count(2)
    expect(page.locator(".kw-rate")).to_have_count(1)


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
