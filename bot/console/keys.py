"""The console application's shared objects (aiohttp application keys)."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.store.conversations import ConversationIndex

DB_URL = web.AppKey("db_url", object)  # str | None: the assistant's database (None: the setting)
INDEX = web.AppKey("index", ConversationIndex)
KNOWLEDGE_DIR = web.AppKey("knowledge_dir", Path)
