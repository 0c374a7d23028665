"""The bridge between Telegram (python-telegram-bot) and the assistant (Rasa's REST channel).

``Bridge`` builds PTB's ``Application`` with the handlers below. Each chat is one Rasa
conversation, ``telegram:<chat id>``, stored with input channel ``telegram``. Wording of the
bridge's own messages comes from ``domain.yml`` (``utter_telegram_*``) through ``bot.wording``.

- Text goes to Rasa; its replies come back as HTML with inline keyboards (``render``).
- Commands: /start (with deep link ``/start velkomstbrev``), /hjaelp, /kontakt, /besoeg,
  /slet (after a confirmation), /privatliv; an unknown command gets a hint.
- A pressed button is answered (``answerCallbackQuery``), its keyboard removed, the choice
  echoed as "› title", and its payload sent to Rasa.
- Photos, voice, stickers, files, locations, edited messages: a polite "text only".
- Group chats: silent unless addressed; then a polite pointer to a private chat, because
  everything said in a group is seen by every member (booking asks for names and e-mails).
- Per chat: in order (``ordering``), a flood limit (``limits.FloodGuard``), a typing action
  while Rasa thinks, repeated every few seconds.
- Logs name no chat, user or message text.
"""
from __future__ import annotations

import asyncio
import html
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Message, MessageEntity, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import settings, wording
from bot.channels import identity
from bot.nlp.language import detect
from bot.telegram.limits import FloodGuard, RetryingRateLimiter
from bot.telegram.ordering import ChatLocks, PerChatProcessor
from bot.telegram.rasa import RasaClient, RasaUnavailable
from bot.telegram.render import INTERNAL, ButtonMap, Outgoing, button_title, render, to_html

log = logging.getLogger("bot.telegram")

#: Telegram command -> the Rasa payload it sends (commands the bridge answers itself are absent).
TO_RASA = {"kontakt": "/ask_contact", "besoeg": "/book_visit"}
#: The commands, in menu order (their descriptions: ``utter_telegram_commands`` in domain.yml).
COMMANDS = ("start", "hjaelp", "kontakt", "besoeg", "privatliv", "slet")
#: ``/start <payload>`` deep links (t.me/<bot>?start=velkomstbrev) -> welcome response.
DEEP_LINKS = {"velkomstbrev": "utter_telegram_start_velkomstbrev"}
SENDER_PREFIX = identity.TELEGRAM_PREFIX


@dataclass(frozen=True)
class Config:
    """What the bridge needs, from ``bot.settings`` (``from_settings``) or a test."""
    token: str
    base_url: str
    rasa_url: str
    interface: str = "127.0.0.1"
    port: int = 8090
    webhook_url: str = ""
    webhook_secret: str = ""
    push_token: str = ""
    bridge_token: str = ""  # proves to the REST channel that a telegram: id comes from here
    rate_limit: int = 30  # messages per chat per minute
    retention_days: int = 90
    rasa_retry_seconds: float = 90.0
    typing_interval: float = 4.0

    @classmethod
    def from_settings(cls) -> Config:
        push_token = (settings.secret_file("TELEGRAM_PUSH_TOKEN", "telegram-push-token")
                      or settings.new_secret("TELEGRAM_PUSH_TOKEN", "telegram-push-token"))
        return cls(
            token=settings.get("TELEGRAM_BOT_TOKEN").strip(),
            base_url=settings.get("TELEGRAM_API_BASE_URL").strip(),
            rasa_url=settings.get("RASA_INTERNAL_URL"),
            interface=settings.get("TELEGRAM_INTERFACE"),
            port=settings.integer("TELEGRAM_PORT"),
            webhook_url=settings.get("TELEGRAM_WEBHOOK_URL").strip(),
            webhook_secret=settings.get("TELEGRAM_WEBHOOK_SECRET").strip(),
            push_token=push_token,
            bridge_token=identity.bridge_token(),
            rate_limit=settings.integer("RATE_LIMIT_MESSAGES"),
            retention_days=settings.retention_days(),
        )

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    def problem(self) -> str | None:
        """What keeps the bridge from starting with this configuration, if anything."""
        if not self.token:
            return "TELEGRAM_BOT_TOKEN is not set"
        if self.webhook_url:
            if not self.webhook_secret:
                return "webhook mode (TELEGRAM_WEBHOOK_URL is set) needs TELEGRAM_WEBHOOK_SECRET"
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", self.webhook_secret):
                return "TELEGRAM_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - (at most 256)"
            if not self.webhook_url.startswith(("https://", "http://")):
                return "TELEGRAM_WEBHOOK_URL must be an http(s):// address (Telegram needs https)"
        return None


def sender_id(chat_id: int) -> str:
    return f"{SENDER_PREFIX}{chat_id}"


def language_code(update: Update) -> str:
    """``en`` for a Telegram client set to English, else ``da``."""
    user = update.effective_user
    return "en" if user is not None and (user.language_code or "").lower().startswith("en") else "da"


class Bridge:
    """The Telegram side of the assistant; ``application`` is PTB's, ready to start."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rasa = RasaClient(config.rasa_url, retry_seconds=config.rasa_retry_seconds,
                               bridge_token=config.bridge_token)
        self.buttons = ButtonMap()
        self.flood = FloodGuard(config.rate_limit)
        self.processor = PerChatProcessor()
        self._sending = ChatLocks()  # one reply's messages are not interleaved with a push
        self._languages: OrderedDict[int, str] = OrderedDict()  # last language a chat wrote in
        self.application: Application = (
            ApplicationBuilder()
            .token(config.token)
            .base_url(config.base_url)
            .rate_limiter(RetryingRateLimiter())
            .concurrent_updates(self.processor)
            .job_queue(None)  # not used; its APScheduler is Rasa's older one
            .connection_pool_size(64)
            .connect_timeout(10).read_timeout(20).write_timeout(20).pool_timeout(30)
            .get_updates_connect_timeout(10).get_updates_pool_timeout(10)
            .build()
        )
        self._add_handlers(self.application)

    # -- wiring ------------------------------------------------------------------------------
    def _add_handlers(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(MessageHandler(filters.UpdateType.EDITED, self.on_edited))
        app.add_handler(CommandHandler("start", self.on_start))
        app.add_handler(CommandHandler("hjaelp", self.on_help))
        app.add_handler(CommandHandler("privatliv", self.on_privacy))
        app.add_handler(CommandHandler("slet", self.on_erase))
        app.add_handler(CommandHandler(list(TO_RASA), self.on_rasa_command))
        app.add_handler(MessageHandler(filters.COMMAND, self.on_unknown_command))
        app.add_handler(MessageHandler(filters.TEXT, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(filters.ALL, self.on_not_text))
        app.add_error_handler(self.on_error)

    async def register_commands(self) -> None:
        """The command menu in Danish (default) and English (``setMyCommands``)."""
        bot = self.application.bot
        for lang, code in (("da", None), ("en", "en")):
            menu = wording.message("utter_telegram_commands", lang)["buttons"]
            commands = [BotCommand(b["payload"].lstrip("/"), b["title"]) for b in menu]
            await bot.set_my_commands(commands, language_code=code)

    # -- language ----------------------------------------------------------------------------
    def language(self, update: Update) -> str:
        """The language of the bridge's own messages: the one the chat last wrote in, else the
        Telegram client's."""
        chat = update.effective_chat
        if chat is not None and chat.id in self._languages:
            return self._languages[chat.id]
        return language_code(update)

    def _remember_language(self, chat_id: int, text: str) -> None:
        found = detect(text) if not text.startswith("/") else None
        if found:
            self._languages[chat_id] = found
            self._languages.move_to_end(chat_id)
            while len(self._languages) > 10_000:
                self._languages.popitem(last=False)

    # -- sending -----------------------------------------------------------------------------
    async def send(self, chat_id: int, messages: list[Outgoing]) -> int:
        """Send rendered messages in order (not interleaved with another reply to the same
        chat); returns how many were sent. Telegram errors after retries propagate."""
        sent = 0
        async with self._sending.hold(chat_id):
            for out in messages:
                await self._send_one(chat_id, out)
                sent += 1
        return sent

    async def _send_one(self, chat_id: int, out: Outgoing) -> None:
        bot = self.application.bot
        try:
            await bot.send_message(chat_id, out.html, parse_mode=ParseMode.HTML,
                                   reply_markup=out.keyboard,
                                   link_preview_options=LinkPreviewOptions(is_disabled=True))
        except BadRequest as err:
            if "parse" not in str(err).lower():
                raise
            # Telegram refused our HTML: the same text without formatting rather than nothing
            log.warning("Telegram refused the HTML of a reply; sending it as plain text")
            await bot.send_message(chat_id, _plain(out.html), reply_markup=out.keyboard)

    async def say(self, chat_id: int, name: str, lang: str, internal: bool = False,
                  **values: Any) -> None:
        """Send the bridge's own response ``name`` (domain.yml) in ``lang``."""
        message = wording.message(name, lang, **values)
        await self.send(chat_id, render(chat_id, [message], self.buttons, internal=internal))

    async def push(self, chat_id: int, text: str, buttons: list[Mapping[str, Any]]) -> int:
        """A message from the rest of the system (a staff reply, a booking change) to a chat.
        It does not wait for the chat's conversation (Rasa may be slow or down), only for a
        reply being sent. Telegram errors propagate to the caller."""
        return await self.send(chat_id, render(chat_id, [{"text": text, "buttons": buttons}],
                                               self.buttons))

    @asynccontextmanager
    async def typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" until the block ends (Telegram shows it for about 5 s: repeat)."""
        async def keep_typing() -> None:
            while True:
                with suppress(TelegramError):
                    await self.application.bot.send_chat_action(chat_id, ChatAction.TYPING)
                await asyncio.sleep(self.config.typing_interval)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def converse(self, update: Update, text: str) -> None:
        """Send ``text`` to Rasa as this chat's message and its replies to the chat."""
        chat = update.effective_chat
        assert chat is not None
        lang = self.language(update)
        metadata = {"telegram": {"language_code": language_code(update), "chat_type": chat.type}}

        async def delayed() -> None:
            await self.say(chat.id, "utter_telegram_delayed", lang)

        async with self.typing(chat.id):
            try:
                replies = await self.rasa.send(sender_id(chat.id), text, metadata, on_delay=delayed)
            except RasaUnavailable as err:
                log.warning("no answer from Rasa: %s", err)
                replies = None
        if replies is None:
            await self.say(chat.id, "utter_telegram_unavailable", lang)
            return
        await self.send(chat.id, render(chat.id, replies, self.buttons))

    # -- handlers ----------------------------------------------------------------------------
    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Before every handler: groups and channels, and the per-chat flood limit."""
        chat = update.effective_chat
        if chat is None or (update.effective_message is None and update.callback_query is None):
            raise ApplicationHandlerStop  # inline queries, a user blocking the bot …: nothing to answer
        group = chat.type != ChatType.PRIVATE
        if group and not self.addressed(update):
            raise ApplicationHandlerStop  # group talk not meant for the bot: stay silent
        allowed, tell = self.flood.check(chat.id)
        if not allowed:
            if update.callback_query is not None:
                with suppress(TelegramError):
                    await update.callback_query.answer()
            if tell:
                # the REST channel's wording: the same limit (RATE_LIMIT_MESSAGES) and note
                await self.say(chat.id, "utter_channel_slow_down", self.language(update))
            raise ApplicationHandlerStop
        if group:
            await self.say(chat.id, "utter_telegram_group", language_code(update),
                           username=context.bot.username)
            raise ApplicationHandlerStop

    def addressed(self, update: Update) -> bool:
        """In a group: a mention of the bot, a reply to it, or a command (to it or to all)."""
        message = update.effective_message
        bot = self.application.bot
        if message is None:
            return False
        if message.reply_to_message is not None and message.reply_to_message.from_user is not None:
            if message.reply_to_message.from_user.id == bot.id:
                return True
        username = f"@{bot.username}".lower()
        for entity, text in message.parse_entities().items():
            if entity.type == MessageEntity.MENTION and text.lower() == username:
                return True
            if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
                return True
            if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
                _, _, target = text.partition("@")
                if not target or f"@{target}".lower() == username:
                    return True
        return False

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        name = DEEP_LINKS.get((context.args or [""])[0].lower(), "utter_telegram_start")
        await self.say(update.effective_chat.id, name, self.language(update),
                       days=self.config.retention_days)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.say(update.effective_chat.id, "utter_telegram_help", self.language(update))

    async def on_privacy(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.say(update.effective_chat.id, "utter_telegram_privacy", self.language(update),
                       days=self.config.retention_days)

    async def on_erase(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.say(update.effective_chat.id, "utter_telegram_erase_confirm",
                       self.language(update), internal=True)

    async def on_rasa_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        command = (update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()
        await self.converse(update, TO_RASA[command])

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.say(update.effective_chat.id, "utter_telegram_unknown_command", self.language(update))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Length (MAX_MESSAGE_CHARS), CPR numbers and control characters are handled by the REST
        # channel for every channel alike (bot/channels/rest.py), with its own notes.
        text = update.effective_message.text or ""
        self._remember_language(update.effective_chat.id, text)
        await self.converse(update, text)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.say(update.effective_chat.id, "utter_telegram_edited", self.language(update))

    async def on_not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.say(update.effective_chat.id, "utter_telegram_text_only", self.language(update))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat_id = update.effective_chat.id
        data = query.data or ""
        with suppress(TelegramError):
            await query.answer()  # stops the button's spinner
        message = query.message if isinstance(query.message, Message) else None
        title = button_title(message.reply_markup if message else None, data)
        lang = self.language(update)
        payload = self.buttons.payload(chat_id, data)
        if payload is None and not data.startswith(INTERNAL):
            payload = title  # a key the bridge no longer has (restarted): the title as typed
        if payload is None and not data.startswith(INTERNAL):
            await self.say(chat_id, "utter_telegram_button_expired", lang)
            return
        if message is not None:
            with suppress(BadRequest):  # already removed, or the message is too old to edit
                await message.edit_reply_markup(reply_markup=None)
        if title:
            await self.send(chat_id, [Outgoing(f"<i>› {to_html(title)}</i>")])
        if data.startswith(INTERNAL):
            await self.on_internal(update, data[len(INTERNAL):], lang)
        else:
            await self.converse(update, payload)

    async def on_internal(self, update: Update, action: str, lang: str) -> None:
        """The bridge's own buttons: the erasure confirmation."""
        chat_id = update.effective_chat.id
        if action != "erase_yes":
            await self.say(chat_id, "utter_telegram_erase_kept", lang)
            return
        from bot.store import retention

        try:
            await asyncio.to_thread(retention.erase, sender_id(chat_id))
        except Exception as err:  # noqa: BLE001 - the database may be unreachable: tell the user
            log.error("erasure of a Telegram conversation failed (%s)", type(err).__name__)
            await self.say(chat_id, "utter_telegram_erase_failed", lang)
            return
        self.buttons.forget(chat_id)
        self._languages.pop(chat_id, None)
        log.info("a Telegram conversation was erased at the user's request")
        await self.say(chat_id, "utter_telegram_erased", lang)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what went wrong without personal data; never crash the bridge."""
        err = context.error
        if isinstance(err, Forbidden):
            log.info("a user has blocked the bot; the reply was dropped")
            return
        log.error("handling an update failed: %s", type(err).__name__,
                  exc_info=(type(err), err, err.__traceback__) if err is not None
                  and not isinstance(err, TelegramError) else None)


def _plain(html_text: str) -> str:
    """Telegram HTML back to plain text (the fallback when Telegram refuses our HTML)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))
