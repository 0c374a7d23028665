"""The bridge's HTTP server (aiohttp, ``TELEGRAM_INTERFACE:TELEGRAM_PORT``).

- ``GET /health``: 200 ``{"status": "ok", "mode": "polling"|"webhook"}`` once the bridge is
  connected to Telegram, 503 before.
- ``POST /push`` with ``Authorization: Bearer <TELEGRAM_PUSH_TOKEN>`` and
  ``{"sender_id": "telegram:<chat id>", "text": "…", "buttons": [{"title": …, "payload": …}]}``:
  delivers a message to that chat (a staff reply during a handover, a booking's confirmation
  or change). Answers 200 ``{"delivered": n}``; 401 without the token; 400 for a bad body;
  404 for a sender that is not a Telegram one or a chat Telegram does not know; 410 when the
  user has blocked the bot; 502 when Telegram cannot be reached (after retries).
- In webhook mode, ``POST <path of TELEGRAM_WEBHOOK_URL>``: Telegram's updates, accepted only
  with the header ``X-Telegram-Bot-Api-Secret-Token: <TELEGRAM_WEBHOOK_SECRET>``.
"""
from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.telegram.app import SENDER_PREFIX, Bridge

log = logging.getLogger("bot.telegram.push")

SENDER = re.compile(re.escape(SENDER_PREFIX) + r"(-?\d{1,20})")
MAX_TEXT = 20_000  # characters; split into Telegram messages of 4,096
MAX_BUTTONS = 30
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
READY = web.AppKey("ready", dict)


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def parse_push(body: Any) -> tuple[str, str, list[dict[str, str]]] | str:
    """(sender id, text, buttons) of a push body, or what is wrong with it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    sender, text, buttons = body.get("sender_id"), body.get("text"), body.get("buttons", [])
    if not isinstance(sender, str) or not sender:
        return "sender_id must be a text"
    if not isinstance(text, str) or not text.strip():
        return "text must be a non-empty text"
    if len(text) > MAX_TEXT:
        return f"text must be at most {MAX_TEXT} characters"
    if buttons is None:
        buttons = []
    if not isinstance(buttons, list) or len(buttons) > MAX_BUTTONS:
        return f"buttons must be a list of at most {MAX_BUTTONS} buttons"
    clean = []
    for button in buttons:
        if not (isinstance(button, dict) and isinstance(button.get("title"), str) and button["title"].strip()
                and isinstance(button.get("payload", button.get("url")), str)):
            return "each button needs a title and a payload (or url)"
        if "url" in button and not str(button["url"]).startswith(("https://", "http://")):
            return "a button's url must be http(s)"
        clean.append({k: button[k] for k in ("title", "payload", "url") if k in button})
    return sender, text, clean


def make_app(bridge: Bridge) -> web.Application:
    config = bridge.config
    app = web.Application(client_max_size=256 * 1024)
    app[READY] = {"ready": False}

    async def health(request: web.Request) -> web.Response:
        if not request.app[READY]["ready"]:
            return web.json_response({"status": "starting", "mode": config.mode}, status=503)
        return web.json_response({"status": "ok", "mode": config.mode})

    async def push(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not (auth.startswith("Bearer ") and _same(auth[len("Bearer "):].strip(), config.push_token)):
            return _error(401, "a valid push token is needed (Authorization: Bearer …)",
                          **{"WWW-Authenticate": "Bearer"})
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the body must be JSON")
        parsed = parse_push(body)
        if isinstance(parsed, str):
            return _error(400, parsed)
        sender, text, buttons = parsed
        match = SENDER.fullmatch(sender)
        if match is None:
            return _error(404, "not a Telegram conversation (sender ids look like telegram:<chat id>)")
        if not request.app[READY]["ready"]:
            return _error(503, "the bridge is still connecting to Telegram")
        try:
            delivered = await bridge.push(int(match.group(1)), text, buttons)
        except Forbidden:
            log.info("a pushed message was not delivered: the user has blocked the bot")
            return _error(410, "the user has blocked the bot")
        except BadRequest as err:
            if "not found" in str(err).lower():
                return _error(404, "Telegram does not know this chat")
            log.warning("Telegram refused a pushed message (%s)", type(err).__name__)
            return _error(400, "Telegram refused the message")
        except TelegramError as err:
            log.warning("a pushed message could not be delivered (%s)", type(err).__name__)
            return _error(502, "Telegram could not be reached; try again later")
        log.info("pushed a message to a Telegram chat")
        return web.json_response({"delivered": delivered})

    app.router.add_get("/health", health)
    app.router.add_post("/push", push)
    if config.webhook_url:
        app.router.add_post(webhook_path(config.webhook_url), _webhook_handler(bridge))
    return app


def webhook_path(url: str) -> str:
    """The path Telegram posts to (a reverse proxy passes it through unchanged)."""
    return urlsplit(url).path or "/"


def _webhook_handler(bridge: Bridge):  # noqa: ANN202 - an aiohttp handler
    secret = bridge.config.webhook_secret

    async def webhook(request: web.Request) -> web.Response:
        if not _same(request.headers.get(SECRET_HEADER, ""), secret):
            return _error(403, "wrong or missing secret token")
        if not request.app[READY]["ready"]:
            return _error(503, "starting; Telegram sends the update again")
        try:
            data = json.loads(await request.text())
            update = Update.de_json(data, bridge.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return _error(400, "not a Telegram update")
        if update is None:
            return _error(400, "not a Telegram update")
        await bridge.application.update_queue.put(update)
        return web.json_response({"ok": True})

    return webhook
