"""WCAG 2.1 AA checks of the demo page and the widget: axe-core with the widget closed and open,
at desktop and phone width and at 200 % zoom; reduced motion. Screenshots go to var/screenshots/."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.support import ask, axe_violations, screenshot

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {"viewport": {"width": 320, "height": 640}},
    # 1280 × 800 at 200 % zoom: the page has 640 × 400 CSS pixels
    "zoom-200": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}


@pytest.mark.parametrize("size", SIZES)
def test_axe_finds_no_violations_with_the_widget_closed_and_open(new_page, stack, kb, size):
    page = new_page(bypass_csp=True, **SIZES[size])  # axe is injected as an inline script
    page.goto(stack.web + "/")
    assert axe_violations(page) == [], "widget closed"
    screenshot(page, f"page-{size}")

    page.locator(".kw-launcher").click()
    screenshot(page, f"widget-{size}-start")
    ask(page, "Hvor meget kan man få i SMV:Grøn?")
    expect(page.locator(f'.kw-log a[href="{kb.entries["ask_grant_smv_groen"].source}"]')).to_be_visible()
    page.get_by_role("button", name="Ja, svaret var nyttigt").click()
    expect(page.locator(".kw-rate-status")).to_have_text("Tak for din vurdering.")
    assert axe_violations(page) == [], "widget open, with an answer"
    screenshot(page, f"widget-{size}")

    viewport = page.viewport_size
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], "horizontal scrolling"
    # only the conversation scrolls: header and footer of the chat always stay in view
    assert page.evaluate("(p => p.scrollHeight <= p.clientHeight)(document.getElementById('kw-panel'))")
    for selector in ("#kw-input", ".kw-send", ".kw-human", ".kw-close"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], selector


@pytest.mark.parametrize("path", ["/privatliv", "/privacy"])
def test_the_privacy_pages_have_no_axe_violations(new_page, stack, path):
    page = new_page(bypass_csp=True)
    page.goto(stack.web + path)
    assert axe_violations(page) == []


@pytest.mark.parametrize(("motion", "animated"), [("reduce", False), ("no-preference", True)])
def test_typing_indicator_respects_reduced_motion(new_page, stack, motion, animated):
    page = new_page(reduced_motion=motion)
    page.goto(stack.web + "/")
    name = page.evaluate("getComputedStyle(document.querySelector('.kw-dots span')).animationName")
    assert (name != "none") is animated
