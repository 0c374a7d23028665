"""One Rasa worker's share of the lock store's stress test (tests/test_rasa_ext.py):
``python -m tests.support.lock_worker REDIS_DB ROUNDS`` takes one conversation's lock ROUNDS
times through ``bot.rasa_ext.lock_store`` as Rasa does, and prints a JSON line: how often the
lock could not be had (Rasa's "Could not acquire lock", an HTTP 500) and how often another
process held it at the same time (a Redis counter of holders, which must be 1 inside)."""
from __future__ import annotations

import asyncio
import json
import sys

import redis
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext.lock_store import LockStore


async def take_turns(db: int, rounds: int) -> dict[str, int]:
    store = LockStore(EndpointConfig(url="127.0.0.1", port=6379, db=db, store="redis"))
    holders = redis.Redis(host="127.0.0.1", port=6379, db=db)
    refused = together = 0
    for _ in range(rounds):
        try:
            async with store.lock("conversation", lock_lifetime=10, wait_time_in_seconds=0.001):
                together += holders.incr("holders") != 1
                await asyncio.sleep(0.0005)
                holders.decr("holders")
        except Exception:  # noqa: BLE001 - counted: the test fails on any
            refused += 1
    return {"refused": refused, "together": together}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(take_turns(int(sys.argv[1]), int(sys.argv[2])))))
