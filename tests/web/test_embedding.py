"""The widget embedded on another site (another origin listed in RASA_CORS), in a real browser:
it fetches its settings, chats over socket.io and stores feedback across origins."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from bot.store import feedback
from tests.web.support import ask, session_id

PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Intranet</title>
<link rel="stylesheet" href="{web}/static/widget.css">
<script src="{web}/static/vendor/socket.io.min.js" defer></script>
<script src="{web}/static/widget.js" defer></script>
</head><body><main><h1>Erhverv på en anden side</h1></main></body></html>"""


@pytest.fixture
def other_site(stack, embed_origin: str) -> Iterator[str]:
    """A real HTTP server on ``embed_origin`` whose page embeds the widget from ``stack.web``."""
    body = PAGE.format(web=stack.web).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", urlsplit(embed_origin).port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield embed_origin + "/"
    server.shutdown()
    server.server_close()


def test_widget_on_another_site_gets_its_settings_answers_and_stores_feedback(new_page, stack, other_site):
    page = new_page()
    page.goto(other_site)
    page.locator(".kw-launcher").click()
    notice = page.locator(".kw-notice")
    expect(notice).to_contain_text("90 dage")  # from /api/config, fetched across origins
    expect(notice.get_by_role("link")).to_have_attribute("href", stack.web + "/privatliv")

    ask(page, "Hvor meget kan man få i SMV:Grøn?")
    expect(page.locator(".kw-log")).to_contain_text(re.compile(r"Kilder?:"))
    page.get_by_role("button", name="Ja, svaret var nyttigt").click()
    expect(page.locator(".kw-rate-status")).to_have_text("Tak for din vurdering.")
    rows = [r for r in feedback.recent(url=stack.database) if r.sender_id == session_id(page)]
    assert [r.rating for r in rows] == ["up"]
