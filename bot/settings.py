"""Every setting of the assistant: an environment variable with an embedded default.

The defaults run everything on one machine with no external services (SQLite files under
``var/``, in-memory lock store). The README lists every variable; production overrides them
(PostgreSQL tracker store, Redis lock store, several Rasa workers).
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name -> (default, description). The single list the README's table is checked against.
DEFAULTS: dict[str, tuple[str, str]] = {
    "RASA_PORT": ("5005", "Port of the Rasa server (REST, socket.io and HTTP API)."),
    "RASA_WORKERS": ("1", "Number of Rasa Sanic workers (more than 1 needs a Redis lock store)."),
    "RASA_INTERFACE": ("127.0.0.1", "Network interface the Rasa server listens on (0.0.0.0 for all)."),
    "RASA_CORS": ("*", "Origins allowed to call the Rasa server from a browser."),
    "RASA_API_TOKEN": ("", "Token for Rasa's HTTP API (conversation logs); empty: a random one per start, written to var/api-token."),
    "RASA_MODEL": ("models/koege.tar.gz", "The trained model the server loads."),
    "ACTION_PORT": ("5055", "Port of the action server."),
    "ACTION_SERVER_URL": ("http://localhost:5055/webhook", "Where Rasa calls the action server."),
    "TRACKER_URL": ("sqlite:///var/tracker.db", "SQLAlchemy URL of the conversation tracker store, e.g. postgresql://user:password@host:5432/rasa."),
    "BOT_DATABASE_URL": ("sqlite:///var/bot.db", "SQLAlchemy URL of the assistant's own data: bookings, notifications, feedback."),
    "LOCK_STORE_TYPE": ("in_memory", "Lock store: in_memory, or redis for several workers."),
    "REDIS_HOST": ("localhost", "Redis host for the lock store."),
    "REDIS_PORT": ("6379", "Redis port for the lock store."),
    "REDIS_DB": ("1", "Redis database number for the lock store."),
    "KNOWLEDGE_DIR": ("data/knowledge", "Folder with the sourced answers and contacts."),
    "RETENTION_DAYS": ("90", "Days conversation logs with personal data are kept before deletion."),
    "LOG_LEVEL": ("INFO", "Log level of the Rasa server and action server."),
}


def get(name: str) -> str:
    """The value of setting ``name``: the environment's, else the embedded default."""
    default, _ = DEFAULTS[name]
    return os.environ.get(name, default)


def environment() -> dict[str, str]:
    """A copy of ``os.environ`` with every setting filled in (for child processes)."""
    env = dict(os.environ)
    for name, (default, _) in DEFAULTS.items():
        env.setdefault(name, default)
    return env


def retention_days() -> int:
    return int(get("RETENTION_DAYS"))


def knowledge_dir() -> Path:
    path = Path(get("KNOWLEDGE_DIR"))
    return path if path.is_absolute() else ROOT / path
