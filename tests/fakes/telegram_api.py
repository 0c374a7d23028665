"""A real local HTTP server that answers like the Telegram Bot API, for the Telegram bridge.

    with FakeTelegramApi() as api:                  # 127.0.0.1, a free port, in a thread
        env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url}
        api.command(42, "/start")                   # a user writes to the bot
        reply = api.wait_messages(42, 1)[0]         # what the bot sent to chat 42
        api.press(42, reply, 0)                     # the user presses its first button
        api.fail(500, times=2, methods={"sendMessage"})   # the next two sendMessage calls fail

Methods (``POST {base_url}{token}/{method}``, form or JSON parameters as PTB sends them):
getMe, getUpdates (long poll with ``timeout``; ``offset`` confirms), setWebhook, deleteWebhook,
getWebhookInfo, sendMessage, sendChatAction, answerCallbackQuery, editMessageReplyMarkup,
setMyCommands, getMyCommands, close, logOut. A wrong token gets 401; an unknown method 404.
With a webhook set, injected updates are POSTed to it (with the secret token header) instead
of being queued for getUpdates.

Failure modes: ``fail(status, times, methods, retry_after)`` answers the next ``times`` calls
(of ``methods``, or any) with 500/502 or 429 with ``retry_after``; ``block(chat)`` answers
sends to a chat with 403 as when the user blocked the bot. Sends to a chat that never wrote
get 400 "chat not found".
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_ID = 7_000_001
JSON_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "reply_markup", "commands",
               "allowed_updates", "link_preview_options", "reply_parameters", "scope",
               "drop_pending_updates", "max_connections", "show_alert", "cache_time",
               "reply_to_message_id", "disable_notification", "protect_content"}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One API call the fake received."""
    method: str
    params: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class Sent:
    """A message the bot sent (kept up to date by editMessageReplyMarkup)."""
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for row in (self.reply_markup or {}).get("inline_keyboard", []) for b in row]

    @property
    def titles(self) -> list[str]:
        return [b["text"] for b in self.buttons]


@dataclass
class Event:
    """A line of a chat's timeline: what the user did or the bot sent, in order."""
    who: str  # "user" or "bot"
    text: str
    buttons: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)


class FakeTelegramApi:
    def __init__(self, token: str = "123456789:AAFakeTokenForTestsOnly_abcdefghij",
                 username: str = "koege_test_bot") -> None:
        self.token, self.username = token, username
        self.bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Køge Erhvervsbot",
                         "username": username, "can_join_groups": True,
                         "can_read_all_group_messages": False, "supports_inline_queries": False}
        self._lock = threading.Condition(threading.RLock())
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._calls: list[Call] = []
        self._sent: dict[tuple[int, int], Sent] = {}
        self._timeline: dict[int, list[Event]] = {}
        self._failures: list[tuple[int, frozenset[str] | None, int]] = []
        self._blocked: set[int] = set()
        self._known: set[int] = set()
        self._languages: dict[int, str] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] = {}
        self.webhook_answers: list[int] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` (TELEGRAM_API_BASE_URL) must be: the token is appended."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeTelegramApi:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_post("/bot{token}/{method}", self._handle)
            app.router.add_get("/bot{token}/{method}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram-api", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeTelegramApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- failure modes -----------------------------------------------------------------------
    def fail(self, status: int = 500, times: int = 1, methods: Iterable[str] | None = None,
             retry_after: int = 1) -> None:
        """Answer the next ``times`` calls (of ``methods``, or any) with ``status``."""
        with self._lock:
            for _ in range(times):
                self._failures.append((status, frozenset(methods) if methods else None, retry_after))

    def block(self, chat_id: int, blocked: bool = True) -> None:
        with self._lock:
            (self._blocked.add if blocked else self._blocked.discard)(chat_id)

    # -- what users do -----------------------------------------------------------------------
    def _user(self, user_id: int, language_code: str | None) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": "Test", "last_name": f"User{user_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    def _message(self, chat_id: int, text: str | None, user_id: int | None = None,
                 chat_type: str = "private", language_code: str | None = None,
                 **extra: Any) -> dict[str, Any]:
        language_code = language_code or self._languages.get(chat_id, "da")
        self._languages.setdefault(chat_id, language_code)
        chat = ({"id": chat_id, "type": "private", "first_name": "Test"} if chat_type == "private"
                else {"id": chat_id, "type": chat_type, "title": "Testgruppe"})
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": chat, "from": self._user(user_id or chat_id, language_code)}
        if text is not None:
            message["text"] = text
            entities = self._entities(text)
            if entities:
                message["entities"] = entities
        message.update(extra)
        return message

    def _entities(self, text: str) -> list[dict[str, Any]]:
        entities = []
        if text.startswith("/"):
            command = text.split()[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16(command)})
        mention = f"@{self.username}"
        start = text.find(mention)
        if start >= 0:
            entities.append({"type": "mention", "offset": utf16(text[:start]), "length": utf16(mention)})
        return entities

    def inject(self, update: dict[str, Any], shown: str | None = None, chat_id: int | None = None) -> int:
        """Add an update (``update_id`` is set here); ``shown`` goes into the chat's timeline."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            if chat_id is not None:
                self._known.add(chat_id)
                if shown is not None:
                    self._timeline.setdefault(chat_id, []).append(Event("user", shown))
            if self.webhook.get("url"):
                assert self._loop is not None
                asyncio.run_coroutine_threadsafe(self._deliver(update), self._loop)
            else:
                self._updates.append(update)
            self._lock.notify_all()
        return update["update_id"]

    def text(self, chat_id: int, text: str, language_code: str | None = None) -> int:
        """The user writes ``text`` (a command when it starts with /) in a private chat."""
        return self.inject({"message": self._message(chat_id, text, language_code=language_code)},
                           text, chat_id)

    command = text

    def edited(self, chat_id: int, text: str) -> int:
        message = self._message(chat_id, text, edit_date=int(time.time()))
        return self.inject({"edited_message": message}, f"(edits a message: {text})", chat_id)

    def media(self, chat_id: int, kind: str, language_code: str | None = None) -> int:
        """The user sends a photo, sticker, voice message, document or location."""
        payloads = {
            "photo": {"photo": [{"file_id": "p1", "file_unique_id": "up1", "width": 90, "height": 90}]},
            "sticker": {"sticker": {"file_id": "s1", "file_unique_id": "us1", "type": "regular",
                                    "width": 512, "height": 512, "is_animated": False, "is_video": False}},
            "voice": {"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}},
            "document": {"document": {"file_id": "d1", "file_unique_id": "ud1", "file_name": "faktura.pdf"}},
            "location": {"location": {"latitude": 55.4580, "longitude": 12.1821}},
        }
        message = self._message(chat_id, None, language_code=language_code, **payloads[kind])
        return self.inject({"message": message},
                           f"({kind})", chat_id)

    def group_text(self, group_id: int, user_id: int, text: str, reply_to_bot: bool = False) -> int:
        extra: dict[str, Any] = {}
        if reply_to_bot:
            extra["reply_to_message"] = {"message_id": 1, "date": int(time.time()), "text": "…",
                                         "chat": {"id": group_id, "type": "group", "title": "Testgruppe"},
                                         "from": self.bot_user}
        message = self._message(group_id, text, user_id=user_id, chat_type="group", **extra)
        return self.inject({"message": message}, f"[user {user_id}] {text}", group_id)

    def press(self, chat_id: int, message: Sent, button: int | str) -> int:
        """The user presses a button (index, or title) of a message the bot sent."""
        with self._lock:
            current = self._sent[(chat_id, message.message_id)]
            buttons = current.buttons
        chosen = buttons[button] if isinstance(button, int) else next(b for b in buttons if b["text"] == button)
        query = {"id": str(next(self._query_ids)), "chat_instance": f"ci{chat_id}",
                 "from": self._user(chat_id, self._languages.get(chat_id, "da")),
                 "data": chosen["callback_data"], "message": self._message_json(current)}
        return self.inject({"callback_query": query}, f"[presses «{chosen['text']}»]", chat_id)

    async def _deliver(self, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.get("secret_token", "")}
        try:
            async with aiohttp.ClientSession() as session, session.post(
                    self.webhook["url"], json=update, headers=headers) as response:
                self.webhook_answers.append(response.status)
        except aiohttp.ClientError:
            self.webhook_answers.append(0)

    # -- what the bot did --------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, chat_id: int) -> list[Sent]:
        """Messages the bot sent to a chat, in order, as they are now (edits applied)."""
        with self._lock:
            return sorted((m for (c, _), m in self._sent.items() if c == chat_id), key=lambda m: m.message_id)

    def timeline(self, chat_id: int) -> list[Event]:
        with self._lock:
            return list(self._timeline.get(chat_id, []))

    def wait_for(self, condition: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
        """Wait until ``condition()`` is truthy (re-checked on every call the fake receives)."""
        deadline = time.monotonic() + timeout
        with self._lock:  # a re-entrant lock: condition() may use the fake's accessors
            while True:
                result = condition()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
                self._lock.wait(min(left, 0.5))

    def wait_messages(self, chat_id: int, count: int, timeout: float = 60.0, after: int = 0) -> list[Sent]:
        """The first ``count`` messages sent to ``chat_id`` after the first ``after`` ones."""
        def enough() -> list[Sent] | None:
            found = self.messages(chat_id)[after:]
            return found[:count] if len(found) >= count else None
        return self.wait_for(enough, timeout, f"{count} message(s) to chat {chat_id} after {after}")

    # -- serving -----------------------------------------------------------------------------
    def _message_json(self, sent: Sent) -> dict[str, Any]:
        message = {"message_id": sent.message_id, "date": int(time.time()), "from": self.bot_user,
                   "chat": {"id": sent.chat_id, "type": "private" if sent.chat_id > 0 else "group",
                            **({"first_name": "Test"} if sent.chat_id > 0 else {"title": "Testgruppe"})},
                   "text": sent.text}
        if sent.reply_markup and sent.reply_markup.get("inline_keyboard"):
            message["reply_markup"] = sent.reply_markup
        return message

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, str) and key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            params[key] = value
        params.update({k: v for k, v in request.query.items() if k not in params})
        return params

    def _failure_for(self, method: str) -> tuple[int, int] | None:
        for i, (status, methods, retry_after) in enumerate(self._failures):
            if methods is None or method in methods:
                del self._failures[i]
                return status, retry_after
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if request.match_info["token"] != self.token:
            return self._answer(method, params, 401, description="Unauthorized")
        with self._lock:
            failure = self._failure_for(method)
        if failure:
            status, retry_after = failure
            if status == 429:
                return self._answer(method, params, 429, description=f"Too Many Requests: retry after {retry_after}",
                                    parameters={"retry_after": retry_after})
            reasons = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                       504: "Gateway Timeout"}
            return self._answer(method, params, status, description=reasons.get(status, "Error"))
        if method == "getUpdates":
            return await self._get_updates(params)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._answer(method, params, 404, description="Not Found: method not found")
        return handler(params)

    def _answer(self, method: str, params: dict[str, Any], status: int, result: Any = None,
                description: str = "", parameters: dict[str, Any] | None = None) -> web.Response:
        with self._lock:
            self._calls.append(Call(method, params, status))
            self._lock.notify_all()
        if status == 200:
            return web.json_response({"ok": True, "result": result})
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
            if ready or time.monotonic() >= deadline:
                return self._answer("getUpdates", params, 200, ready)
            await asyncio.sleep(0.05)

    def _chat_error(self, chat_id: int) -> tuple[int, str] | None:
        if chat_id in self._blocked:
            return 403, "Forbidden: bot was blocked by the user"
        if chat_id not in self._known:
            return 400, "Bad Request: chat not found"
        return None

    def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return self._answer("getMe", params, 200, self.bot_user)

    def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        text = str(params.get("text") or "")
        with self._lock:
            error = self._chat_error(chat_id)
        if error:
            return self._answer("sendMessage", params, error[0], description=error[1])
        if not text.strip() or utf16(text) > 4096 * 2:  # HTML markup may make it longer than 4096
            return self._answer("sendMessage", params, 400, description="Bad Request: message text is empty or too long")
        if params.get("parse_mode") == "HTML" and _visible_length(text) > 4096:
            return self._answer("sendMessage", params, 400, description="Bad Request: message is too long")
        markup = params.get("reply_markup")
        for button in (b for row in (markup or {}).get("inline_keyboard", []) for b in row):
            if len(str(button.get("callback_data", "")).encode()) > 64:
                return self._answer("sendMessage", params, 400, description="Bad Request: BUTTON_DATA_INVALID")
        with self._lock:
            sent = Sent(chat_id, next(self._message_ids), text, params.get("parse_mode"), markup)
            self._sent[(chat_id, sent.message_id)] = sent
            self._timeline.setdefault(chat_id, []).append(Event("bot", text, sent.titles))
        return self._answer("sendMessage", params, 200, self._message_json(sent))

    def _m_sendChatAction(self, params: dict[str, Any]) -> web.Response:
        with self._lock:
            error = self._chat_error(int(params["chat_id"]))
        if error:
            return self._answer("sendChatAction", params, error[0], description=error[1])
        return self._answer("sendChatAction", params, 200, True)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        return self._answer("answerCallbackQuery", params, 200, True)

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> web.Response:
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._lock:
            sent = self._sent.get(key)
            if sent is not None:
                sent.reply_markup = params.get("reply_markup") or None
        if sent is None:
            return self._answer("editMessageReplyMarkup", params, 400, description="Bad Request: message to edit not found")
        return self._answer("editMessageReplyMarkup", params, 200, self._message_json(sent))

    def _m_setMyCommands(self, params: dict[str, Any]) -> web.Response:
        with self._lock:
            self.commands[str(params.get("language_code") or "")] = list(params.get("commands") or [])
        return self._answer("setMyCommands", params, 200, True)

    def _m_getMyCommands(self, params: dict[str, Any]) -> web.Response:
        return self._answer("getMyCommands", params, 200, self.commands.get(str(params.get("language_code") or ""), []))

    def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        with self._lock:
            self.webhook = {"url": params.get("url"), "secret_token": params.get("secret_token", "")}
        return self._answer("setWebhook", params, 200, True)

    def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        with self._lock:
            self.webhook = {}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return self._answer("deleteWebhook", params, 200, True)

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> web.Response:
        return self._answer("getWebhookInfo", params, 200, {"url": self.webhook.get("url") or "",
                                                             "has_custom_certificate": False,
                                                             "pending_update_count": len(self._updates)})

    def _m_close(self, params: dict[str, Any]) -> web.Response:
        return self._answer("close", params, 200, True)

    def _m_logOut(self, params: dict[str, Any]) -> web.Response:
        return self._answer("logOut", params, 200, True)


def _visible_length(html_text: str) -> int:
    """The length Telegram counts for an HTML message: the text without tags and entities."""
    return utf16(html.unescape(re.sub(r"<[^>]+>", "", html_text)))
