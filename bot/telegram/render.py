"""Rasa replies as Telegram messages: HTML text, split at Telegram's length limit, and buttons as
inline keyboards whose callback data fits Telegram's 64 bytes.

Text: ``[title](https://…)`` becomes a link, ``**bold**`` bold, a bare ``http(s)://`` address a
link; everything else is escaped with ``html.escape`` (HTML parse mode: no character of a Danish
text needs escaping, unlike MarkdownV2). A reply longer than 4,096 characters is split *before*
it is escaped, at a paragraph, line or word boundary, never inside a link or a bold span.

A factual answer (``bot.answers``: ``custom.answer`` beside the text) is one message: the body,
a blank line and its footer (contacts, quoted document, source with its date) in italics, one
line each. Should the whole be longer than Telegram allows, the body is split first and the
footer stays whole, on the last part.

Buttons: a Rasa payload that fits (``p:/deny``) is the callback data itself, so it survives a
restart of the bridge; a longer one (``/ask_contact{"contact_topic":"…"}``) is stored per chat
under a short key derived from the payload (``k:…``), never cut. A key the bridge no longer
knows (after a restart) falls back to the pressed button's title, sent as if typed.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import answers

#: Telegram's limit for one message's text (counted in UTF-16 code units).
MESSAGE_LIMIT = 4096
#: Telegram's limit for a button's callback data, in bytes.
CALLBACK_LIMIT = 64

PAYLOAD, KEY, INTERNAL = "p:", "k:", "x:"

_URL = r"https?://[^\s<>\"]+"
_HREF = r"https?://(?:[^\s()<>\"]|\([^\s()<>\"]*\))+"  # balanced (…) as in Wikipedia addresses
TOKEN = re.compile(
    r"\*\*(?P<bold>.+?)\*\*"
    r"|\[(?P<title>[^\]\n]+)\]\((?P<href>" + _HREF + r")\)"
    r"|(?P<url>" + _URL + ")",
    re.DOTALL,
)
#: Characters that end a sentence rather than an address ("… se https://x.dk.").
_URL_TAIL = ".,;:!?'"


def _url_end(url: str) -> int:
    """The length of a bare address without the punctuation of the sentence around it."""
    end = len(url)
    while end and (url[end - 1] in _URL_TAIL
                   or (url[end - 1] == ")" and url.count(")", 0, end) > url.count("(", 0, end))):
        end -= 1
    return end


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji may count 2)."""
    return len(text.encode("utf-16-le")) // 2


def _link(href: str, title: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(title, quote=False)}</a>'


def to_html(text: str) -> str:
    """``text`` (Rasa's light markdown) as Telegram HTML: links, bold, the rest escaped."""
    out: list[str] = []
    position = 0
    for match in TOKEN.finditer(text):
        out.append(html.escape(text[position:match.start()], quote=False))
        position = match.end()
        if match.group("bold") is not None:
            out.append(f"<b>{to_html(match.group('bold'))}</b>")
        elif match.group("href") is not None:
            out.append(_link(match.group("href"), match.group("title")))
        else:
            url = match.group("url")
            end = _url_end(url)  # give the sentence's full stop (or bracket) back to the text
            url, position = url[:end], match.start() + end
            out.append(_link(url, url))
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def _protected(text: str) -> list[tuple[int, int]]:
    """Spans (links, bold) a split must not cut."""
    return [m.span() for m in TOKEN.finditer(text)]


def _cut_at(text: str, limit: int) -> int:
    """Where to end the first part of ``text``: the last paragraph, line, sentence or word
    break within ``limit`` characters that is outside a link or bold span."""
    end = 0  # the longest prefix within the limit (UTF-16 units)
    for index, char in enumerate(text):
        end += 2 if ord(char) > 0xFFFF else 1
        if end > limit:
            end = index
            break
    else:
        return len(text)
    spans = _protected(text)

    def free(i: int) -> bool:
        return not any(start < i < stop for start, stop in spans)

    for separator in ("\n\n", "\n", ". ", " "):
        i = text.rfind(separator, 0, end)
        while i > 0:
            cut = i + len(separator)
            if cut <= end and free(cut):
                return cut
            i = text.rfind(separator, 0, i)
    return end  # one unbroken run longer than a message: a hard cut is the only way


def split(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit`` characters (before escaping), split at natural
    breaks; no part is empty and joining them gives the text back except for the stripped
    whitespace at the breaks."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        cut = _cut_at(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


class ButtonMap:
    """Rasa payloads <-> callback data, per chat. Long payloads are kept in memory under a key
    derived from the payload (the same payload gets the same key), at most ``per_chat`` per
    chat and ``chats`` chats, the least recently used dropped first."""

    def __init__(self, per_chat: int = 200, chats: int = 10_000) -> None:
        self.per_chat, self.chats = per_chat, chats
        self._stored: OrderedDict[int, OrderedDict[str, str]] = OrderedDict()

    @staticmethod
    def key(payload: str) -> str:
        digest = hashlib.sha256(payload.encode()).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode()  # 16 characters

    def data(self, chat_id: int, payload: str) -> str:
        """The callback data for ``payload`` in chat ``chat_id`` (at most 64 bytes)."""
        direct = PAYLOAD + payload
        if len(direct.encode()) <= CALLBACK_LIMIT:
            return direct
        key = self.key(payload)
        chat = self._stored.setdefault(chat_id, OrderedDict())
        self._stored.move_to_end(chat_id)
        chat[key] = payload
        chat.move_to_end(key)
        while len(chat) > self.per_chat:
            chat.popitem(last=False)
        while len(self._stored) > self.chats:
            self._stored.popitem(last=False)
        return KEY + key

    def payload(self, chat_id: int, data: str) -> str | None:
        """The Rasa payload of a pressed button, None when unknown (or internal)."""
        if data.startswith(PAYLOAD):
            return data[len(PAYLOAD):]
        if data.startswith(KEY):
            return self._stored.get(chat_id, {}).get(data[len(KEY):])
        return None

    def forget(self, chat_id: int) -> None:
        """Drop a chat's stored payloads (after its conversation was erased)."""
        self._stored.pop(chat_id, None)

    def keyboard(self, chat_id: int, buttons: Iterable[Mapping[str, Any]],
                 internal: bool = False) -> InlineKeyboardMarkup | None:
        """An inline keyboard, one button a row (titles are often long). ``internal``: the
        payloads are the bridge's own actions (``x:…``), not Rasa's."""
        rows = []
        for button in buttons:
            title = str(button.get("title") or button.get("payload") or "").strip()
            if not title:
                continue
            if button.get("url"):
                rows.append([InlineKeyboardButton(title, url=str(button["url"]))])
                continue
            payload = str(button.get("payload") or title)
            data = INTERNAL + payload if internal else self.data(chat_id, payload)
            rows.append([InlineKeyboardButton(title, callback_data=data)])
        return InlineKeyboardMarkup(rows) if rows else None


def button_title(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The title of the button with callback ``data`` in a message's keyboard."""
    for row in (markup.inline_keyboard if markup else ()):
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send: HTML text and, on the last part of a reply, its keyboard."""
    html: str
    keyboard: InlineKeyboardMarkup | None = None


def footer_html(lines: Iterable[str]) -> str:
    """An answer's footer lines as Telegram HTML: each in italics, links kept."""
    return "\n".join(f"<i>{to_html(line)}</i>" for line in lines if line.strip())


def render_answer(parts: Mapping[str, Any], keyboard: InlineKeyboardMarkup | None,
                  limit: int = MESSAGE_LIMIT) -> list[Outgoing]:
    """An answer's parts (``bot.answers.parts``) as one message: the body, a blank line, the
    footer; more only when that is longer than ``limit`` (the body split, the footer whole, on
    the last part). Lengths are measured before escaping, links with their address, so a
    message Telegram counts is never longer."""
    lines = [str(line) for line in parts.get("footer") or [] if str(line).strip()]
    footer = "\n".join(lines)
    body = str(parts.get("body") or "").strip()
    if utf16_len(footer) > limit // 2:  # never in practice: then it is text like any other
        pieces = split(body + "\n\n" + footer, limit)
        return [*(Outgoing(to_html(p)) for p in pieces[:-1]), Outgoing(to_html(pieces[-1]), keyboard)]
    pieces = split(body, limit - utf16_len(footer) - 2) or [""]
    last = "\n\n".join(p for p in (to_html(pieces[-1]), footer_html(lines)) if p)
    return [*(Outgoing(to_html(p)) for p in pieces[:-1]), Outgoing(last, keyboard)]


def render(chat_id: int, messages: Iterable[Mapping[str, Any]], buttons: ButtonMap,
           internal: bool = False) -> list[Outgoing]:
    """Rasa's reply messages (``{"text": …, "buttons": [...]}``, ``{"image": url}``, an answer
    with ``custom.answer``) as the Telegram messages to send, in order."""
    out: list[Outgoing] = []
    for message in messages:
        parts = answers.of(message)
        if parts is not None:
            out.extend(render_answer(parts, buttons.keyboard(chat_id, message.get("buttons") or [], internal)))
            continue
        text = str(message.get("text") or "")
        if message.get("image"):
            text = (text + "\n" if text else "") + str(message["image"])
        keyboard = buttons.keyboard(chat_id, message.get("buttons") or [], internal)
        if not text.strip():
            if keyboard is None:
                continue  # e.g. a custom payload: nothing a chat can show
            text = "…"  # Telegram needs text under a keyboard
        parts = split(text)
        out.extend(Outgoing(to_html(part)) for part in parts[:-1])
        out.append(Outgoing(to_html(parts[-1]), keyboard))
    return out
