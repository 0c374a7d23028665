"""Rate limits: ``allow(key, limit, per_seconds)`` says whether one more event fits.

Counting is a sliding window: the events of the current window of ``per_seconds`` plus the
previous window's, weighted by how much of it still lies within the last ``per_seconds``. This
keeps a burst at a window's edge from passing twice the limit, with two counters per key.
Only allowed events are counted, so a client that keeps trying is let through again as soon
as its rate drops below the limit.

Where the counters live follows ``RATE_LIMIT_STORE``:

- ``memory`` (default): in this process. Each Rasa worker and each process counts for itself.
- ``redis``: in Redis (``REDIS_HOST``, ``REDIS_PORT``, ``REDIS_DB``), shared by every worker and
  instance; one atomic Lua script per check. When Redis cannot be reached the event is allowed
  (a limit must not take the assistant down) and a warning is logged at most once a minute.

A limit of 0 means "no limit". Keys are free text chosen by the caller, e.g.
``f"message:conversation:{sender_id}"``; they are hashed before they reach Redis, so no
conversation id or address is stored there in clear.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from typing import Protocol

from bot import settings

log = logging.getLogger(__name__)

REDIS_PREFIX = "koege:ratelimit:"
REDIS_TIMEOUT = 0.5  # seconds; a slow Redis must not hold a message up


class Store(Protocol):
    def allow(self, key: str, limit: int, per_seconds: float, now: float) -> bool: ...


def _estimate(current: int, previous: int, elapsed_fraction: float) -> float:
    return current + previous * (1.0 - elapsed_fraction)


class MemoryStore:
    """Counters in this process (thread-safe); old windows are dropped as time goes on."""

    PRUNE_EVERY = 1000  # checks between clean-ups of keys whose windows have passed

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: (key, per_seconds) -> [window number, count in it, count in the window before]
        self._counts: dict[tuple[str, float], list[int]] = {}
        self._checks = 0

    def allow(self, key: str, limit: int, per_seconds: float, now: float) -> bool:
        window, fraction = divmod(now / per_seconds, 1.0)
        window = int(window)
        with self._lock:
            self._checks += 1
            if self._checks % self.PRUNE_EVERY == 0:
                self._prune(now)
            entry = self._counts.get((key, per_seconds))
            if entry is None or entry[0] < window - 1:
                entry = [window, 0, 0]
            elif entry[0] == window - 1:
                entry = [window, 0, entry[1]]
            self._counts[(key, per_seconds)] = entry
            if _estimate(entry[1], entry[2], fraction) >= limit:
                return False
            entry[1] += 1
            return True

    def _prune(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[0] >= int(now / k[1]) - 1}

    def __len__(self) -> int:
        return len(self._counts)


# KEYS: current window's counter, previous window's counter.
# ARGV: limit, weight of the previous window (0..1), expiry of the counters in seconds.
_LUA = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if current + previous * tonumber(ARGV[2]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


class RedisStore:
    """Counters in Redis, shared by every process; fails open when Redis is unreachable."""

    def __init__(self, host: str, port: int, db: int) -> None:
        import redis

        self._client = redis.Redis(host=host, port=port, db=db, socket_timeout=REDIS_TIMEOUT,
                                   socket_connect_timeout=REDIS_TIMEOUT)
        self._script = self._client.register_script(_LUA)
        self._errors = (redis.RedisError, OSError)
        self._warned_at = 0.0

    def allow(self, key: str, limit: int, per_seconds: float, now: float) -> bool:
        window, fraction = divmod(now / per_seconds, 1.0)
        digest = hashlib.sha256(f"{key}|{per_seconds}".encode()).hexdigest()[:32]
        keys = [f"{REDIS_PREFIX}{digest}:{int(window)}", f"{REDIS_PREFIX}{digest}:{int(window) - 1}"]
        try:
            return bool(self._script(keys=keys, args=[limit, 1.0 - fraction, int(2 * per_seconds) + 1]))
        except self._errors as err:
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("rate limits not counted: Redis unreachable (%s)", type(err).__name__)
            return True


_store: Store | None = None
_store_config: tuple[str, ...] | None = None
_store_lock = threading.Lock()


def store() -> Store:
    """The store ``RATE_LIMIT_STORE`` names (made once per process and configuration)."""
    global _store, _store_config
    config = (settings.get("RATE_LIMIT_STORE"), settings.get("REDIS_HOST"), settings.get("REDIS_PORT"),
              settings.get("REDIS_DB"))
    with _store_lock:
        if _store is None or config != _store_config:
            if config[0] == "redis":
                _store = RedisStore(config[1], settings.integer("REDIS_PORT"), settings.integer("REDIS_DB"))
            else:
                _store = MemoryStore()
            _store_config = config
        return _store


def reset() -> None:
    """Forget every in-memory counter (tests)."""
    global _store, _store_config
    with _store_lock:
        _store, _store_config = None, None


def allow(key: str, limit: int, per_seconds: float = 60.0) -> bool:
    """Whether one more event under ``key`` stays within ``limit`` per ``per_seconds``; if it
    does, it is counted. ``limit`` 0 (or less) allows everything."""
    if limit <= 0:
        return True
    if per_seconds <= 0:
        raise ValueError("per_seconds must be positive")
    return store().allow(key, limit, per_seconds, time.time())


async def allow_async(key: str, limit: int, per_seconds: float = 60.0) -> bool:
    """``allow`` for an event loop: Redis is asked from a thread, so the loop never waits on it."""
    if limit <= 0 or settings.get("RATE_LIMIT_STORE") != "redis":
        return allow(key, limit, per_seconds)
    return await asyncio.get_running_loop().run_in_executor(None, allow, key, limit, per_seconds)
