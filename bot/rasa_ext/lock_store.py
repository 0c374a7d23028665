"""The conversations' lock: one conversation's messages are handled one at a time. endpoints.yml
names ``LockStore``, which builds Rasa's in-memory store for one worker (``LOCK_STORE_TYPE=
in_memory``, the default) and, for several workers (``LOCK_STORE_TYPE=redis``), Rasa's
``RedisLockStore`` with correction 20 (numbered in ``bot.rasa_patches``):

20. **A worker's ticket is never lost.** Rasa queues a conversation's messages with a ticket lock
   kept as one JSON value in Redis, and changes it by reading it, changing it in the worker and
   writing it back. Two workers doing that at the same moment overwrite each other: a ticket
   that was just issued is deleted with the lock of the message before it (Rasa then answers
   "Could not acquire lock", an HTTP 500, and the message is lost), or two workers get the same
   number and handle one conversation at once. Here every change of the value is one Redis
   transaction (``WATCH`` the key, read, ``MULTI``/``EXEC`` the new value; redis-py retries it
   when another worker changed the key in between), and the last ticket out deletes the key in
   the same transaction. A key left by a worker that died expires with its last ticket.

The in-memory store (one worker, the default) changes its lock without awaiting in between and
has no such race. The lock is taken exactly as Rasa takes it (``LockStore.lock``); what
differs is only how a change reaches Redis.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core import lock_store
from rasa.core.lock import TicketLock
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_patches

T = TypeVar("T")

#: Seconds a key outlives its last ticket (the tickets carry their own expiry; this only
#: removes the key of a conversation nobody writes to again).
_MARGIN = 5


class LockStore(lock_store.LockStore):
    """The store endpoints.yml's ``store:`` (``LOCK_STORE_TYPE``) chooses. Rasa builds the
    class endpoints.yml names with ``endpoint_config=``; this one hands back the chosen store."""

    def __new__(cls, endpoint_config: EndpointConfig) -> lock_store.LockStore:  # type: ignore[misc]
        kwargs = dict(endpoint_config.kwargs)
        store = kwargs.pop("store", "in_memory")
        if store == "in_memory":
            return lock_store.InMemoryLockStore()
        if store == "redis":
            return RedisLockStore(EndpointConfig(url=endpoint_config.url, **kwargs))
        raise ValueError(f"lock store '{store}' is neither in_memory nor redis (LOCK_STORE_TYPE)")


class RedisLockStore(lock_store.RedisLockStore):
    """``RedisLockStore`` whose every change of a conversation's lock is atomic (correction 20)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        rasa_patches.check_carried(20)
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: str,
                change: Callable[[TicketLock | None], tuple[TicketLock | None, T]]) -> T:
        """In one transaction: give ``change`` the conversation's lock (None: there is none) and
        store the lock it hands back (deleted when it holds no ticket). Returns its result."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> T:
            stored = pipe.get(key)
            lock, result = change(TicketLock.from_dict(json.loads(stored)) if stored else None)
            pipe.multi()
            if lock is not None and lock.is_someone_waiting():
                last = max(ticket.expires for ticket in lock.tickets)
                pipe.set(key, lock.dumps(), ex=max(1, math.ceil(last - time.time())) + _MARGIN)
            else:
                pipe.delete(key)
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._change(conversation_id, issue)

    def _remove(self, conversation_id: str, remove: Callable[[TicketLock], None]) -> None:
        def edit(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                remove(lock)
            return lock, None

        self._change(conversation_id, edit)

    def update_lock(self, conversation_id: str) -> None:
        """Remove expired tickets. A lock left without tickets is deleted, so a worker whose own
        ticket expired while it waited gets Rasa's ``LockError`` instead of waiting forever."""
        self._remove(conversation_id, TicketLock.remove_expired_tickets)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket; the last one out deletes the lock in the same transaction."""
        self._remove(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Rasa's reads the lock again to delete it when nobody waits: a ticket issued between
        # that read and the delete was lost. ``finish_serving`` does both at once.
        self.finish_serving(conversation_id, ticket_number)
