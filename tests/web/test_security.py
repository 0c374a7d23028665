"""The web server's security headers and feedback API, and the socket.io channel's Origin check.

Rasa 3.6's ``--cors`` only adds CORS headers, which browsers do not apply to WebSocket; the
channel in bot/channels/socketio.py refuses socket.io handshakes from origins not in RASA_CORS.
"""
from __future__ import annotations

import asyncio
import gzip
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import websockets

from bot.channels import identity

FOREIGN = "https://evil.example"


def test_pages_carry_a_strict_content_security_policy(stack):
    for path in ("/", "/privatliv", "/privacy", "/static/widget.js", "/api/config"):
        headers = requests.get(stack.web + path, timeout=10).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        rasa_host = stack.rasa.split("://")[1]
        assert f"http://{rasa_host}" in csp and f"ws://{rasa_host}" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_config_tells_the_widget_where_rasa_is(stack):
    config = requests.get(stack.web + "/api/config", timeout=10).json()
    assert config["rasa_url"] == stack.rasa and config["retention_days"] == 90
    assert config["privacy_url"] == "/privatliv" and config["privacy_url_en"] == "/privacy"


def test_api_answers_cross_origin_only_to_listed_origins(stack, embed_origin):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = requests.options(stack.web + "/api/feedback", timeout=10,
                               headers={"Origin": embed_origin, **preflight})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == embed_origin
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    foreign = requests.options(stack.web + "/api/feedback", timeout=10, headers={"Origin": FOREIGN, **preflight})
    assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign.headers

    config = requests.get(stack.web + "/api/config", headers={"Origin": embed_origin}, timeout=10)
    assert config.headers["Access-Control-Allow-Origin"] == embed_origin and config.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Origin" not in requests.get(
        stack.web + "/api/config", headers={"Origin": FOREIGN}, timeout=10).headers
    assert "Access-Control-Allow-Origin" not in requests.get(  # pages are not shared cross-origin
        stack.web + "/privatliv", headers={"Origin": embed_origin}, timeout=10).headers


def test_feedback_api_refuses_what_it_cannot_store(stack):
    url = stack.web + "/api/feedback"
    sender = identity.new_web_session()
    key = (stack.var / "widget-session-key").read_text().strip().encode()
    good = {"sender_id": sender, "session_token": identity.session_token(sender, key), "bot_message": "Svar",
            "rating": "up"}
    assert requests.post(url, json=good, timeout=10).status_code == 201
    # a rating for a conversation the caller was not given (no token, another's token) is refused
    assert requests.post(url, json={**good, "session_token": None}, timeout=10).status_code == 403
    other = identity.new_web_session()
    assert requests.post(url, json={**good, "sender_id": other}, timeout=10).status_code == 403
    assert requests.post(url, json={**good, "rating": "maybe"}, timeout=10).status_code == 400
    assert requests.post(url, json={"rating": "up"}, timeout=10).status_code == 400
    assert requests.post(url, data="rating=up", timeout=10).status_code == 415  # no plain form posts
    json_type = {"Content-Type": "application/json"}
    for data, headers, status in ((b"[" * 5000, json_type, 400), (b"[]", json_type, 400),
                                  (b"x" * 20_000, json_type, 413),
                                  (gzip.compress(json.dumps(good).encode()), {**json_type, "Content-Encoding": "gzip"}, 415),
                                  (json.dumps(good), {"Content-Type": "application/json; charset=x-nope"}, 415)):
        reply = requests.post(url, data=data, headers=headers, timeout=10)
        assert reply.status_code == status and "error" in reply.json()


def test_socketio_offers_websocket_only(stack):
    """Long-polling would send a conversation's requests to different Rasa workers; only the
    WebSocket transport is offered (docs/limits.md), from any origin."""
    url = stack.rasa + "/socket.io/?EIO=4&transport=polling"
    for origin in (FOREIGN, stack.web):
        assert requests.get(url, headers={"Origin": origin}, timeout=10).status_code == 400


def test_socketio_websocket_handshake_from_a_foreign_origin_is_refused(stack):
    url = stack.rasa.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"

    async def handshake(origin: str) -> str:
        async with websockets.connect(url, origin=origin, open_timeout=10) as ws:
            return await asyncio.wait_for(ws.recv(), 10)  # engine.io's OPEN packet

    def run(origin: str) -> str:  # in a thread: Playwright's event loop may run in this one
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, handshake(origin)).result()

    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        run(FOREIGN)
    assert refused.value.status_code == 400
    assert run(stack.web).startswith("0{")
