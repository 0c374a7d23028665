"""Limits in both directions: Telegram's flood limits and errors for what the bridge sends
(``RetryingRateLimiter``), and a per-chat limit on what users send (``FloodGuard``)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger("bot.telegram.limits")


class RetryingRateLimiter(AIORateLimiter):
    """PTB's ``AIORateLimiter`` (throttles to Telegram's flood limits and waits out a 429's
    ``retry_after``, up to ``max_retries`` times) that also retries network errors, timeouts
    and 5xx answers (PTB raises ``NetworkError`` for them) with exponential back-off.
    A ``BadRequest`` (our mistake) and ``Forbidden`` (the user blocked the bot) are not retried.

    A timed-out ``sendMessage`` that Telegram did deliver is sent twice: a rare duplicate is
    better than a lost answer."""

    def __init__(self, network_retries: int = 5, backoff: float = 0.5, max_backoff: float = 8.0,
                 max_retries: int = 5, **throttle: Any) -> None:
        super().__init__(max_retries=max_retries, **throttle)
        self.network_retries, self.backoff, self.max_backoff = network_retries, backoff, max_backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        delay = self.backoff
        for attempt in range(self.network_retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                      rate_limit_args)
            except BadRequest:
                raise
            except NetworkError as err:
                if attempt == self.network_retries:
                    raise
                log.warning("Telegram %s failed (%s); retry %d in %.1f s", endpoint,
                            type(err).__name__, attempt + 1, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable")


class FloodGuard:
    """At most ``limit`` messages per chat in ``window`` seconds. ``check`` says whether a
    message may pass and, when not, whether the chat still has to be told to slow down (once
    per flood, not once per message)."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[int, deque[float]] = {}
        self._told: set[int] = set()

    def check(self, chat_id: int) -> tuple[bool, bool]:
        """(allowed, tell): record one message of ``chat_id``."""
        if self.limit <= 0:
            return True, False
        now = self.clock()
        seen = self._seen.setdefault(chat_id, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(self._seen) > 10_000:
            self._forget_idle(now)
        if len(seen) < self.limit:
            seen.append(now)
            self._told.discard(chat_id)
            return True, False
        tell = chat_id not in self._told
        self._told.add(chat_id)
        return False, tell

    def _forget_idle(self, now: float) -> None:
        for chat_id in [c for c, seen in self._seen.items() if not seen or seen[-1] <= now - self.window]:
            del self._seen[chat_id]
            self._told.discard(chat_id)
