"""Messages on the REST channel (``POST /webhooks/rest/webhook``), as the tests and tools send them."""
from __future__ import annotations

import uuid
from typing import Any

import requests

from bot.channels import REST_WEBHOOK as WEBHOOK

TIMEOUT = 120  # seconds: the first message after a start waits for lazily loaded parts


def post(url: str, sender: str, text: Any, *, stream: bool = False, timeout: float | tuple[float, float] = TIMEOUT,
         **kwargs: Any) -> requests.Response:
    """``{"sender": sender, "message": text}`` to the REST channel of the Rasa server at ``url``
    (also through nginx), whatever the answer's status. ``kwargs`` go to ``requests.post``."""
    return requests.post(url.rstrip("/") + WEBHOOK + ("?stream=true" if stream else ""), timeout=timeout,
                         json={"sender": sender, "message": text}, **kwargs)


def say(url: str, sender: str | None, text: str, timeout: float = TIMEOUT) -> tuple[str, list[dict[str, Any]]]:
    """Send ``text`` as ``sender`` (a new one when None): the reply's texts (one per line) and
    all its buttons; an answer that is not 2xx raises."""
    reply = post(url, sender or uuid.uuid4().hex, text, timeout=timeout)
    reply.raise_for_status()
    messages = reply.json()
    return ("\n".join(m.get("text") or "" for m in messages),
            [b for m in messages for b in m.get("buttons") or []])
