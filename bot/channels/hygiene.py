"""What every channel does to a user's message before Rasa sees it (REST, socket.io and, through
REST, Telegram), and the limits every channel applies.

- ``clean``: broken text mended (lone UTF-16 surrogates become U+FFFD), line breaks made ``\\n``,
  control characters removed (newlines and tabs stay), bidirectional overrides and other
  invisible format controls that can disguise text removed, CPR numbers masked
  (``bot.redact``), and the text cut at ``MAX_MESSAGE_CHARS``. What happened comes back as
  notes (response names) the channel shows the user before the answer.
- ``allow_message``: the per-conversation (``RATE_LIMIT_MESSAGES``) and per-client
  (``RATE_LIMIT_CLIENT``) rate limits, per minute, counted by ``bot.limits``.
- ``client_address``: which client a request comes from, for the per-client limit.
- ``note``: a note's text (``utter_channel_*`` in domain.yml, rendered by ``bot.wording``) in
  the conversation's language, else the message's (``bot.nlp.language.detect``), else Danish.

Masking happens here, in the channel, so a CPR number never reaches Rasa: it is in no tracker
event, no log line and no e-mail built from the conversation.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from bot import limits, metrics, redact, settings, wording
from bot.nlp.language import detect

log = logging.getLogger(__name__)

#: Notes a channel shows before the answer; each is a response in domain.yml.
CUT = "utter_channel_message_cut"
CPR = "utter_channel_cpr_removed"
SLOW_DOWN = "utter_channel_slow_down"
ERROR = "utter_channel_error"
LANGUAGES = ("da", "en")

# C0 and C1 controls except tab and newline, DEL; bidi embeddings, overrides and isolates;
# the byte-order mark and the two non-characters U+FFFE/U+FFFF.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")


@dataclass(frozen=True)
class Cleaned:
    text: str
    notes: tuple[str, ...] = ()


def mend(text: str) -> str:
    """``text`` that can be encoded as UTF-8: surrogate pairs joined, lone surrogates U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def strip_controls(text: str) -> str:
    """Line breaks as ``\\n``; control and invisible direction characters removed."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", text))


def max_message_chars() -> int:
    return settings.integer("MAX_MESSAGE_CHARS")


def clean(text: str, max_chars: int | None = None) -> Cleaned:
    """The message as Rasa should see it, and the notes for the user (``CPR``, ``CUT``)."""
    limit = max_message_chars() if max_chars is None else max_chars
    notes: list[str] = []
    text, had_cpr = redact.mask_cpr(strip_controls(mend(text)))
    if had_cpr:
        notes.append(CPR)
    text = text.strip()
    if limit and len(text) > limit:
        text = text[:limit].rstrip()
        notes.append(CUT)
    return Cleaned(text, tuple(notes))


def clean_stored_text(text: str, max_chars: int) -> str:
    """Text kept outside Rasa (feedback): mended, controls removed, CPR masked, cut."""
    return clean(text, max_chars).text


def trusted_proxies() -> set[str]:
    return set(settings.get("TRUSTED_PROXIES").replace(",", " ").split())


def client_address(peer: str | None, forwarded_for: str | None) -> str | None:
    """The address the per-client limit counts, or None for no per-client limit.

    A request from loopback or from a proxy in ``TRUSTED_PROXIES`` is counted for the client
    its ``X-Forwarded-For`` names (the last entry: the one the proxy added); without that
    header it comes from a service on this host (the Telegram bridge, the staff console),
    which carries many users' messages and is not limited per address. Anything else is
    counted for its own address; its ``X-Forwarded-For`` is not believed.
    """
    if not peer:
        return None
    if metrics.is_loopback(peer) or peer in trusted_proxies():
        named = (forwarded_for or "").split(",")[-1].strip()
        return named[:64] or None
    return peer


async def allow_message(sender_id: str, client: str | None) -> bool:
    """Whether one more message from this conversation and client fits the rate limits."""
    if client is not None and not await limits.allow_async(
            f"message:client:{client}", settings.integer("RATE_LIMIT_CLIENT"), 60):
        return False
    return await limits.allow_async(f"message:conversation:{sender_id}",
                                    settings.integer("RATE_LIMIT_MESSAGES"), 60)


def language(text: str, known: str | None = None) -> str:
    """The language to answer in: the message's if it shows one, else ``known``, else Danish."""
    found = detect(text[:2000]) if text else None
    if found in LANGUAGES:
        return found
    return known if known in LANGUAGES else "da"


def note(name: str, lang: str) -> str:
    """A note's text in ``lang`` (``{max_chars}`` filled in)."""
    return wording.text(name, lang, max_chars=max_message_chars())


async def conversation_language(app: Any, sender_id: str) -> str | None:
    """The ``language`` slot of the conversation in Rasa's tracker store, if there is one.

    Asked only when a note must be shown and the message itself shows no language."""
    try:
        tracker = await app.ctx.agent.tracker_store.retrieve(sender_id)
    except Exception as err:  # noqa: BLE001 - a note in Danish is better than no answer
        log.debug("language of the conversation unknown: %s", type(err).__name__)
        return None
    value = tracker.get_slot("language") if tracker is not None else None
    return value if value in LANGUAGES else None


async def notes_language(app: Any, sender_id: str, text: str) -> str:
    """The language of the notes for a message: the message's, the conversation's, or Danish."""
    found = detect(text[:2000]) if text else None
    if found in LANGUAGES:
        return found
    return language("", await conversation_language(app, sender_id))
