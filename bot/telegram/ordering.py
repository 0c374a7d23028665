"""Messages of one chat are handled in order, different chats concurrently.

PTB handles updates one at a time unless ``concurrent_updates`` is set, and then in any order.
``PerChatProcessor`` lets every update run at once except that updates of the same chat wait
for each other (one ``asyncio.Lock`` per chat, FIFO: the order the updates arrived in). One
slow conversation (a CVR look-up, a long Rasa answer) so holds up only its own chat.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (None: no order to keep)."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class ChatLocks:
    """One FIFO ``asyncio.Lock`` per chat; locks of idle chats are dropped, so memory does
    not grow with the number of chats ever seen."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)



class PerChatProcessor(BaseUpdateProcessor):
    """One chat's updates in order, chats concurrently (at most ``max_concurrent_updates``
    updates in flight; set it well above the number of chats expected at once, because an
    update waiting for its chat's lock holds a slot)."""

    def __init__(self, max_concurrent_updates: int = 512) -> None:
        super().__init__(max_concurrent_updates)
        self.locks = ChatLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        async with self.locks.hold(key):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
