"""Who may speak as which conversation: the one home of the conversation-id rules.

A conversation id (Rasa's sender id) names one user's conversation in the tracker store, in
the handover queue and in the URL of Rasa's HTTP API. Each channel owns a namespace, and an
id of a namespace is accepted only from the channel that owns it (docs/security.md):

- ``telegram:<chat id>``: the **Telegram bridge** only. A chat id is not secret, so the bridge
  proves itself to the REST channel with ``TELEGRAM_BRIDGE_TOKEN`` (header ``X-Bridge-Token``);
  a request without it that names a ``telegram:`` id, or ``input_channel: telegram``, is refused.
- ``web-<32 hex>``: the **web widget** (socket.io) only. The channel draws the id itself and
  gives the browser a session token, an HMAC of the id under ``WIDGET_SESSION_SECRET``; a
  browser resumes its conversation (a page reload) only with that token, and
  ``/api/feedback`` rates only a conversation whose token comes with it. Knowing an id is
  not enough to act in it.
- anything else of the plain alphabet: the **REST channel** (tests, the evaluation script,
  other integrations), which cannot reach the two namespaces above.

Every id is of a plain alphabet (``A-Z a-z 0-9 _ -``, and the ``telegram:`` prefix), so no id
can change the URL it is put into (no ``/``, ``.``, ``%``, ``?`` or ``#``).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from bot import settings

MAX_CHARS = 128
TELEGRAM = "telegram"
WEB = "web"
REST = "rest"
TELEGRAM_PREFIX = "telegram:"
WEB_PREFIX = "web-"
BRIDGE_HEADER = "X-Bridge-Token"

_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TELEGRAM_ID = re.compile(r"telegram:-?[0-9]{1,20}")
_WEB_ID = re.compile(r"web-[0-9a-f]{32}")

#: Shown to a client whose id breaks the rules (English, like every REST error).
ID_RULE = f"1-{MAX_CHARS} characters of A-Z, a-z, 0-9, '_' and '-'"


def valid(sender_id: object) -> bool:
    """Whether ``sender_id`` is a conversation id of any channel (plain alphabet, or a
    ``telegram:`` id): safe to put into a URL path as it is."""
    return isinstance(sender_id, str) and bool(_PLAIN.fullmatch(sender_id) or _TELEGRAM_ID.fullmatch(sender_id))


def namespace(sender_id: str) -> str:
    """The channel that owns ``sender_id``: ``telegram``, ``web`` or ``rest``."""
    if sender_id.startswith(TELEGRAM_PREFIX):
        return TELEGRAM
    if sender_id.startswith(WEB_PREFIX):
        return WEB
    return REST


def is_web_session(sender_id: object) -> bool:
    """An id the web channel drew (``web-`` and 32 hexadecimal digits)."""
    return isinstance(sender_id, str) and bool(_WEB_ID.fullmatch(sender_id))


def new_web_session() -> str:
    """A new conversation id for the widget (128 random bits)."""
    return WEB_PREFIX + secrets.token_hex(16)


def _key(name: str, filename: str) -> bytes:
    """A shared secret of this start (the setting, else the file ``bot.cli run`` wrote, else a
    new one written for the processes that start after)."""
    return (settings.secret_file(name, filename) or settings.new_secret(name, filename)).encode()


def session_key() -> bytes:
    return _key("WIDGET_SESSION_SECRET", "widget-session-key")


def bridge_token() -> str:
    """The secret by which the Telegram bridge proves itself to the REST channel."""
    return _key("TELEGRAM_BRIDGE_TOKEN", "telegram-bridge-token").decode()


def session_token(sender_id: str, key: bytes | None = None) -> str:
    """The token that proves a browser was given ``sender_id`` by the web channel."""
    digest = hmac.new(key or session_key(), f"web-session:{sender_id}".encode(), hashlib.sha256)
    return digest.hexdigest()


def owns(sender_id: object, token: object, key: bytes | None = None) -> bool:
    """Whether ``token`` is the session token of the web conversation ``sender_id``."""
    if not (is_web_session(sender_id) and isinstance(token, str) and len(token) <= 128):
        return False
    return hmac.compare_digest(session_token(str(sender_id), key), token)


def is_bridge(presented: str | None) -> bool:
    """Whether a request carries the Telegram bridge's secret."""
    if not presented:
        return False
    expected = bridge_token()
    return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())


def rest_problem(sender_id: object, input_channel: str, bridge: bool) -> str | None:
    """Why the REST channel must refuse this sender (a 400), or None.

    ``bridge``: the request proved it comes from the Telegram bridge. The bridge speaks only
    for ``telegram:`` ids on the ``telegram`` input channel; everybody else only for ids of
    the REST namespace."""
    if not valid(sender_id):
        return f"'sender' must be {ID_RULE}"
    owner = namespace(str(sender_id))
    if bridge:
        if owner != TELEGRAM or input_channel != TELEGRAM:
            return "the Telegram bridge speaks only for telegram:<chat id> with input_channel 'telegram'"
        return None
    if owner == TELEGRAM or input_channel == TELEGRAM:
        return "telegram:<chat id> conversations belong to the Telegram channel: only its bridge may use them"
    if owner == WEB:
        return "web-… conversations belong to the web chat: only the widget's own session may use them"
    return None
