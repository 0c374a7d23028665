"""Rate limits (bot.limits): in memory and in Redis (127.0.0.1:6379, database 15).

Database 15 is this file's own: the cluster tests count bookings (a day's window) in 5-14, and
those keys would be seen here by the scan of every rate-limit key."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis

from bot import limits
from bot.limits import MemoryStore, RedisStore

REDIS_DB = "15"


@pytest.fixture(autouse=True)
def fresh_store():
    limits.reset()
    yield
    limits.reset()


def test_memory_allows_the_limit_then_refuses(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_STORE", "memory")
    key = "test:" + uuid.uuid4().hex
    assert [limits.allow(key, 3, 60) for _ in range(5)] == [True, True, True, False, False]
    assert limits.allow("other:" + key, 3, 60)  # keys are counted apart


def test_zero_means_no_limit():
    assert all(limits.allow("test:unlimited", 0, 60) for _ in range(100))


def test_sliding_window_forgets_old_events():
    store = MemoryStore()
    start = 6000.0  # the beginning of a 60-second window
    assert [store.allow("k", 2, 60, start + 1) for _ in range(3)] == [True, True, False]
    # in the next window the previous one still weighs: 2 * (1 - 0.1) = 1.8 < 2 leaves one
    assert store.allow("k", 2, 60, start + 66)
    assert not store.allow("k", 2, 60, start + 67)
    assert store.allow("k", 2, 60, start + 200)  # two windows later everything is forgotten


def test_a_steady_rate_under_the_limit_is_always_allowed():
    store = MemoryStore()
    for second in range(0, 600, 2):  # 30 a minute against 40 a minute
        assert store.allow("k", 40, 60, 6000.0 + second)


def test_refused_events_are_not_counted():
    store = MemoryStore()
    assert [store.allow("k", 2, 60, 6001.0) for _ in range(12)] == [True, True] + [False] * 10
    # 36 s into the next window the previous one weighs 2 * 0.4 = 0.8 (it would be 4.8 had the
    # ten refused tries counted): two more fit
    assert [store.allow("k", 2, 60, 6096.0) for _ in range(3)] == [True, True, False]


def test_memory_store_drops_old_keys():
    store = MemoryStore()
    for n in range(MemoryStore.PRUNE_EVERY - 1):
        store.allow(f"k{n}", 1, 60, 6000.0)
    store.allow("late", 1, 60, 6000.0 + 300)  # the 1000th check prunes the passed windows
    assert len(store) == 1


def test_async_variant_counts_the_same(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_STORE", "memory")
    key = "test:" + uuid.uuid4().hex

    async def three() -> list[bool]:
        return [await limits.allow_async(key, 2, 60) for _ in range(3)]

    assert asyncio.run(three()) == [True, True, False]


@pytest.fixture
def redis_settings(monkeypatch):
    redis.Redis(host="127.0.0.1", port=6379).ping()  # fails loudly when Redis is not running
    for name, value in (("RATE_LIMIT_STORE", "redis"), ("REDIS_HOST", "127.0.0.1"),
                        ("REDIS_PORT", "6379"), ("REDIS_DB", REDIS_DB)):
        monkeypatch.setenv(name, value)


def test_redis_counts_are_shared_between_processes(redis_settings):
    key = "test:" + uuid.uuid4().hex
    assert isinstance(limits.store(), RedisStore)
    assert [limits.allow(key, 3, 60) for _ in range(2)] == [True, True]
    other = RedisStore("127.0.0.1", 6379, int(REDIS_DB))  # another worker or instance
    assert other.allow(key, 3, 60, time.time())
    assert not limits.allow(key, 3, 60)
    assert asyncio.run(limits.allow_async(key, 3, 60)) is False


def test_redis_keeps_no_key_in_clear_and_lets_counters_expire(redis_settings):
    key = "message:conversation:secret-" + uuid.uuid4().hex
    limits.allow(key, 3, 60)
    client = redis.Redis(host="127.0.0.1", port=6379, db=int(REDIS_DB))
    found = [k.decode() for k in client.scan_iter(match=limits.REDIS_PREFIX + "*", count=1000)]
    assert found and not any("secret" in k for k in found)
    ttls = [client.ttl(k) for k in found]
    assert all(ttl == -2 or 0 < ttl <= 121 for ttl in ttls), ttls  # -2: it expired meanwhile


def test_unreachable_redis_lets_messages_through_quickly(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_STORE", "redis")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", "1")  # nothing listens there
    started = time.perf_counter()
    assert all(limits.allow("test:down", 1, 60) for _ in range(3))
    assert time.perf_counter() - started < 5
