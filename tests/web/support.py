"""Helpers of the browser tests: driving the widget, axe-core, screenshots."""
from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"


def open_with_keyboard(page: Page) -> None:
    """Tab to the launcher (as a keyboard user would) and press Enter."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('kw-launcher')"):
            break
    else:
        raise AssertionError("the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()


def ask(page: Page, text: str) -> None:
    """Type ``text`` into the chat and press Enter."""
    page.locator("#kw-input").fill(text)
    page.locator("#kw-input").press("Enter")


def last_answer(page: Page):
    return page.locator(".kw-msg--bot").last


def session_id(page: Page) -> str:
    """The widget's conversation id (kept in sessionStorage for the tab's session)."""
    return page.evaluate("JSON.parse(sessionStorage.getItem('koege-erhvervsbot')).session")


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page (WCAG 2.1 A/AA and best practices), short form.

    The page's context needs ``bypass_csp=True``: the script is injected inline.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in json.loads(result)]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
