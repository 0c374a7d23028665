"""The chat widget in a real browser against the real assistant: conversation, keyboard use,
persistence, feedback, escaping, English, the offline message and the privacy notice."""
from __future__ import annotations

import re
import sqlite3

from playwright.sync_api import expect

from bot.store import feedback
from tests.web.support import ask, last_answer, open_with_keyboard, session_id

GREEN_QUESTION = "Hvor meget kan man få i SMV:Grøn?"


def test_keyboard_user_asks_in_danish_and_gets_the_answer_with_its_source(page, kb):
    open_with_keyboard(page)
    expect(page.locator("#kw-input")).to_be_focused()
    notice = page.locator(".kw-notice")
    expect(notice).to_contain_text("chatbot")
    expect(notice).to_contain_text("90 dage")
    expect(notice.get_by_role("link")).to_have_attribute("href", re.compile(r"/privatliv$"))

    page.keyboard.type(GREEN_QUESTION)
    page.keyboard.press("Enter")
    source = kb.entries["ask_grant_smv_groen"].source
    expect(page.locator(".kw-msg--user").last).to_have_text(re.compile(re.escape(GREEN_QUESTION)))
    expect(page.locator(f'.kw-log a[href="{source}"]')).to_be_visible()
    expect(page.locator(".kw-log")).to_contain_text("300.000")
    expect(page.locator(".kw-log")).to_contain_text(re.compile(r"Kilder?:"))
    expect(page.locator(".kw [aria-live=polite]")).to_contain_text("300.000")  # announced
    expect(last_answer(page).locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator(".kw-launcher")).to_be_focused()


def test_focus_stays_in_the_open_chat_and_the_close_button_returns_it_to_the_launcher(page):
    open_with_keyboard(page)
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('kw-panel').contains(document.activeElement)")
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.classList.contains('kw-close')"):
            break
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert style == "solid", "the focused button has no visible focus style"
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator(".kw-launcher")).to_be_focused()


def test_quick_reply_sends_its_payload_shows_its_title_and_gets_its_answer(page, kb):
    page.locator(".kw-launcher").click()
    ask(page, GREEN_QUESTION)
    title = kb.title("ask_grant_smv_digital", "da")
    page.get_by_role("button", name=title, exact=True).last.click()
    expect(page.locator(".kw-msg--user").last.locator(".kw-bubble")).to_have_text(title)
    expect(page.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_digital"].source}"]')).to_be_visible()
    expect(page.locator(".kw-log")).not_to_contain_text("/ask_grant")


def test_the_person_button_is_always_there_and_asks_for_a_person(page):
    page.locator(".kw-launcher").click()
    page.get_by_role("button", name="Tal med en medarbejder").click()
    expect(page.locator(".kw-msg--user .kw-bubble")).to_have_text("Tal med en medarbejder")
    expect(page.locator(".kw-msg--bot")).not_to_have_count(0)


def test_conversation_survives_a_reload_and_can_be_restarted(page, stack, kb):
    page.locator(".kw-launcher").click()
    ask(page, "Hej")
    expect(page.locator(".kw-log")).to_contain_text("chatbot")
    expect(page.locator(".kw-rate")).to_have_count(0)  # a greeting is not an answer to rate
    sender = session_id(page)
    shown = page.locator(".kw-msg .kw-bubble").all_inner_texts()

    page.reload()
    page.locator(".kw-launcher").click()
    expect(page.locator(".kw-msg .kw-bubble")).to_have_text(shown)
    assert session_id(page) == sender
    ask(page, GREEN_QUESTION)  # the same Rasa conversation goes on
    expect(page.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_groen"].source}"]')).to_be_visible()
    with sqlite3.connect(stack.tracker) as db:
        said = [row[0] for row in db.execute(
            "SELECT json_extract(data, '$.text') FROM events WHERE sender_id = ? AND type_name = 'user'",
            (sender,))]
    assert said == ["Hej", GREEN_QUESTION]
    assert page.context.cookies() == []  # the privacy page says the chat sets no cookies

    page.get_by_role("button", name="Start forfra").click()
    expect(page.locator(".kw-msg")).to_have_count(0)
    assert session_id(page) != sender
    expect(page.locator("#kw-input")).to_be_focused()


def test_thumbs_down_is_stored_with_the_answer(page, stack):
    page.locator(".kw-launcher").click()
    ask(page, GREEN_QUESTION)
    expect(page.locator(".kw-log")).to_contain_text(re.compile(r"Kilder?:"))
    expect(page.locator(".kw-rate")).to_have_count(1)  # one rating for the whole answer, below it
    thumbs_down = page.get_by_role("button", name="Nej, svaret var ikke nyttigt")
    thumbs_down.click()
    expect(thumbs_down).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".kw-rate-status")).to_have_text("Tak for din vurdering.")
    offer = page.locator(".kw-msg--bot").last  # a thumbs down offers a person
    expect(offer).to_contain_text("tale med en medarbejder i stedet")
    expect(offer.get_by_role("button", name="Tal med en medarbejder")).to_be_visible()
    rows = [r for r in feedback.recent(url=stack.database) if r.sender_id == session_id(page)]
    assert [r.rating for r in rows] == ["down"]
    assert "300.000" in rows[0].bot_message and re.search(r"Kilder?: ", rows[0].bot_message)


def test_markup_typed_by_the_user_is_shown_as_text(page):
    markup = "<img src=x onerror=alert(1)>"
    page.locator(".kw-launcher").click()
    ask(page, markup)
    expect(page.locator(".kw-msg--user .kw-bubble")).to_have_text(markup)
    expect(page.locator(".kw-msg--bot")).not_to_have_count(0)  # the bot has answered
    assert page.locator("img").count() == 0
    assert page.dialogs == []


def test_the_bots_markdown_subset_is_built_safely(page):
    text = ("**Fed** og [kilde](https://koege.dk/erhverv)\n"
            "[slem](javascript:alert(1)) <script>alert(2)</script> se https://example.dk/a.")
    result = page.evaluate("""text => {
        const box = document.createElement('div');
        KoegeErhvervsbot.appendRich(box, text);
        return {
            strong: Array.from(box.querySelectorAll('strong'), n => n.textContent),
            links: Array.from(box.querySelectorAll('a'), a => [a.getAttribute('href'), a.rel, a.target]),
            breaks: box.querySelectorAll('br').length,
            elements: Array.from(box.querySelectorAll('*'), n => n.tagName.toLowerCase()),
            text: box.textContent,
        };
    }""", text)
    assert result["strong"] == ["Fed"]
    assert result["links"] == [["https://koege.dk/erhverv", "noopener noreferrer", "_blank"],
                               ["https://example.dk/a", "noopener noreferrer", "_blank"]]
    assert result["breaks"] == 1
    assert set(result["elements"]) == {"strong", "a", "span", "br"}  # no script, no img
    assert "[slem](javascript:alert(1)) <script>alert(2)</script>" in result["text"]
    assert result["text"].endswith("/a (åbner i en ny fane).")
    assert page.dialogs == []


def test_english_interface_from_the_query(new_page, stack):
    page = new_page()
    page.goto(stack.web + "/?lang=en")
    page.get_by_role("button", name="Ask the Business Bot").click()
    expect(page.get_by_role("dialog", name="Køge Business Bot")).to_be_visible()
    expect(page.locator("section.kw")).to_have_attribute("lang", "en")
    expect(page.locator(".kw-notice")).to_contain_text("stored for 90 days")
    expect(page.locator(".kw-notice").get_by_role("link")).to_have_attribute("href", re.compile(r"/privacy$"))
    expect(page.get_by_label("Type your message")).to_be_focused()
    expect(page.get_by_role("button", name="Talk to a person")).to_be_visible()
    ask(page, "How do I get a building permit for my company?")
    expect(page.locator(".kw-log")).to_contain_text(re.compile(r"Sources?:"))
    expect(page.get_by_role("button", name="Yes, the answer was helpful")).to_be_visible()


def test_english_interface_from_the_page_language(new_page, stack):
    page = new_page()
    page.route(stack.web + "/", lambda route: route.fulfill(
        response=route.fetch(), body=route.fetch().text().replace('<html lang="da">', '<html lang="en">')))
    page.goto(stack.web + "/")
    expect(page.get_by_role("button", name="Ask the Business Bot")).to_be_visible()


def test_unreachable_server_shows_a_danish_message_and_retry_reconnects(page):
    reachable = {"now": False}

    def socket(ws) -> None:  # the widget uses WebSocket only
        if reachable["now"]:
            ws.connect_to_server()
        else:
            ws.send("x")  # not an engine.io packet: the client reports a connection error

    page.route_web_socket(re.compile(r"/socket\.io/"), socket)
    page.reload()  # the routing applies to pages loaded after it is set up
    page.locator(".kw-launcher").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Chatten kan ikke få forbindelse til serveren")
    ask(page, "Hej")
    expect(page.locator(".kw-msg")).to_have_count(0)  # nothing is shown as sent
    expect(page.locator("#kw-input")).to_have_value("Hej")  # and nothing typed is lost

    reachable["now"] = True
    alert.get_by_role("button", name="Prøv igen").click()
    expect(alert).to_have_text("")
    page.locator("#kw-input").press("Enter")
    expect(page.locator(".kw-msg--user .kw-bubble")).to_have_text("Hej")
    expect(page.locator(".kw-log")).to_contain_text("chatbot")


def test_privacy_page_tells_what_is_stored_and_for_how_long(page, stack):
    page.goto(stack.web + "/privatliv")
    text = page.locator("main").inner_text()
    for needed in ("chatbot", "90 dage", "CVR-nummer", "CPR-nummer", "slettet", "Torvet 1, 4600 Køge"):
        assert needed in text, needed


def test_english_privacy_page_says_the_same_and_links_both_ways(page, stack):
    page.goto(stack.web + "/privacy")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    text = page.locator("main").inner_text()
    for needed in ("chatbot", "90 days", "CVR number", "CPR number", "deleted", "Torvet 1, 4600 Køge"):
        assert needed in text, needed
    page.get_by_role("link", name="Læs på dansk").click()
    expect(page).to_have_url(re.compile(r"/privatliv$"))
    page.get_by_role("link", name="Read in English").click()
    expect(page).to_have_url(re.compile(r"/privacy$"))
