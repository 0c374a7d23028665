"""The bridge's client for Rasa's REST channel (``POST /webhooks/rest/webhook``).

A message is retried with back-off while the Rasa server cannot be reached (connection refused
or reset, or 502/503/504 from a proxy in front of it): that is what a restart looks like, and
the model takes about a minute to load. Retrying is safe then, because Rasa never saw the
message. A message Rasa received but did not answer in time is *not* sent again (it may have
been processed); the caller apologises instead.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.channels import REST_WEBHOOK, identity

log = logging.getLogger("bot.telegram.rasa")

RETRYABLE_STATUS = frozenset({502, 503, 504})


class RasaUnavailable(Exception):
    """Rasa gave no usable answer (down for longer than the retry budget, or an error)."""


class RasaClient:
    """``await client.send("telegram:42", "Hej")`` -> Rasa's reply messages."""

    def __init__(self, url: str, retry_seconds: float = 90.0, notice_after: float = 3.0,
                 timeout: float = 120.0, bridge_token: str = "") -> None:
        """``retry_seconds``: how long one message is retried while Rasa cannot be reached;
        ``notice_after``: when the caller's ``on_delay`` is called (once) during those retries;
        ``timeout``: how long Rasa may take to answer a message it received; ``bridge_token``:
        the secret by which the REST channel lets this client speak for ``telegram:`` ids."""
        self.url = url.rstrip("/") + REST_WEBHOOK
        self.headers = {identity.BRIDGE_HEADER: bridge_token} if bridge_token else {}
        self.retry_seconds, self.notice_after, self.timeout = retry_seconds, notice_after, timeout
        self._session: aiohttp.ClientSession | None = None
        self._down_since: float | None = None  # when Rasa was first found unreachable

    async def start(self) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.timeout, sock_connect=5)
            self._session = aiohttp.ClientSession(timeout=timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _outage_known(self, now: float) -> bool:
        """Rasa has been unreachable for longer than the retry budget already."""
        return self._down_since is not None and now - self._down_since >= self.retry_seconds

    async def _post_once(self, body: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Rasa's answer, or None when Rasa could not be reached (worth retrying)."""
        assert self._session is not None, "start() first"
        try:
            async with self._session.post(self.url, json=body, headers=self.headers) as response:
                if response.status in RETRYABLE_STATUS:
                    return None
                # 429: the REST channel's per-conversation rate limit; its body is a bot
                # message ("slow down") to show like any other answer
                if response.status not in (200, 429):
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except aiohttp.ClientConnectionError:  # refused, reset, connect timeout: not received
            return None
        except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as err:
            raise RasaUnavailable(f"no usable answer from Rasa ({type(err).__name__})") from None
        if not isinstance(answer, list):
            raise RasaUnavailable("Rasa's answer is not a list of messages")
        return [m for m in answer if isinstance(m, dict)]

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None,
                   on_delay: Callable[[], Awaitable[None]] | None = None) -> list[dict[str, Any]]:
        """Rasa's reply messages to ``text`` from ``sender``; RasaUnavailable when there is none."""
        await self.start()
        body = {"sender": sender, "message": text, "input_channel": "telegram",
                "metadata": metadata or {}}
        started = time.monotonic()
        # During a known outage a new message gets a short try and no "delayed" notice, so a
        # user's next messages are not each held for the whole budget.
        short = self._outage_known(started)
        deadline = started + (min(5.0, self.retry_seconds / 4) if short else self.retry_seconds)
        delay, noticed = 0.5, short
        while True:
            answer = await self._post_once(body)
            if answer is not None:
                if self._down_since is not None:
                    log.info("Rasa server reachable again")
                self._down_since = None
                return answer
            now = time.monotonic()
            if self._down_since is None:
                self._down_since = now
                log.warning("Rasa server not reachable; retrying")
            if now >= deadline:
                raise RasaUnavailable(f"Rasa server not reachable for {now - started:.0f} s")
            if on_delay is not None and not noticed and now - started >= self.notice_after:
                noticed = True
                try:
                    await on_delay()
                except Exception as err:  # noqa: BLE001 - a notice that fails must not lose the message
                    log.warning("could not send the delay notice (%s)", type(err).__name__)
            await asyncio.sleep(min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, 8.0)
