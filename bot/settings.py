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
    "RASA_CORS": ("http://localhost:8080 http://127.0.0.1:8080", "Origins (separated by spaces) of the web pages allowed to use the Rasa server from a browser, incl. the chat widget's socket.io and the web server's /api/*; * allows every origin. Unset, it follows WEB_PORT."),
    "RASA_API_TOKEN": ("", "Token for Rasa's HTTP API (conversation logs); empty: a random one per start, written to var/api-token."),
    "RASA_MODEL": ("models/koege.tar.gz", "The trained model the server loads."),
    "WEB_PORT": ("8080", "Port of the web server: the chat widget, its demo page and the privacy page."),
    "WEB_INTERFACE": ("127.0.0.1", "Network interface the web server listens on (0.0.0.0 for all)."),
    "RASA_PUBLIC_URL": ("http://localhost:5005", "The Rasa server's URL as browsers reach it; the widget connects to its socket.io there. Unset, it follows RASA_PORT."),
    "ACTION_PORT": ("5055", "Port of the action server."),
    "ACTION_SERVER_URL": ("http://localhost:5055/webhook", "Where Rasa calls the action server. Unset, it follows ACTION_PORT."),
    "TRACKER_URL": ("sqlite:///var/tracker.db", "SQLAlchemy URL of the conversation tracker store, e.g. postgresql://user:password@host:5432/rasa."),
    "BOT_DATABASE_URL": ("sqlite:///var/bot.db", "SQLAlchemy URL of the assistant's own data: bookings, notifications, feedback."),
    "STAFF_EMAIL": ("erhvervsservice@localhost", "Where booking notifications go (the business service's mailbox)."),
    "MAIL_FROM": ("erhvervsbot@localhost", "Sender address of the assistant's e-mails."),
    "SMTP_HOST": ("localhost", "SMTP server for notifications."),
    "SMTP_PORT": ("8025", "SMTP port."),
    "SMTP_USER": ("", "SMTP user name (empty: no login)."),
    "SMTP_PASSWORD": ("", "SMTP password."),
    "SMTP_STARTTLS": ("false", "Use STARTTLS (true/false)."),
    "SMTP_TIMEOUT": ("10", "Seconds before an SMTP attempt gives up (the e-mail stays queued)."),
    "LOCK_STORE_TYPE": ("in_memory", "Lock store: in_memory, or redis for several workers."),
    "REDIS_HOST": ("localhost", "Redis host for the lock store."),
    "REDIS_PORT": ("6379", "Redis port for the lock store."),
    "REDIS_DB": ("1", "Redis database number for the lock store."),
    "KNOWLEDGE_DIR": ("data/knowledge", "Folder with the sourced answers and contacts."),
    "RETENTION_DAYS": ("90", "Days conversation logs with personal data are kept before deletion."),
    "RASA_LOG_FILE": ("var/rasa.log", "Log file of the Rasa server (no message texts at INFO level)."),
    "LOG_LEVEL": ("INFO", "Log level of the Rasa server and action server."),
    "CVR_API_URL": ("http://localhost:8070", "Base URL of Erhvervsstyrelsen's CVR system-to-system API (Elasticsearch); the default is a placeholder nothing listens on, production sets Erhvervsstyrelsen's URL."),
    "CVR_API_USER": ("", "User name for the CVR API (HTTP basic auth), issued by Erhvervsstyrelsen."),
    "CVR_API_PASSWORD": ("", "Password for the CVR API (HTTP basic auth); never logged."),
    "CVR_API_TIMEOUT": ("3", "Seconds to wait for the CVR API to connect and to answer, per attempt."),
    "CVR_API_RETRIES": ("2", "Retries (with exponential back-off) after a CVR API connection error, timeout or 5xx answer."),
    "CVR_CACHE_SECONDS": ("3600", "Seconds a CVR look-up result (found or not found) is kept in memory."),
}


#: Defaults that follow the port settings, so that changing a port needs no second change.
#: (The values in DEFAULTS are what they come to with the default ports.)
DERIVED = {
    "RASA_CORS": lambda: "http://localhost:{0} http://127.0.0.1:{0}".format(get("WEB_PORT")),
    "RASA_PUBLIC_URL": lambda: f"http://localhost:{get('RASA_PORT')}",
    "ACTION_SERVER_URL": lambda: f"http://localhost:{get('ACTION_PORT')}/webhook",
}


def get(name: str) -> str:
    """The value of setting ``name``: the environment's, else the embedded default."""
    default, _ = DEFAULTS[name]
    if name in os.environ:
        return os.environ[name]
    return DERIVED[name]() if name in DERIVED else default


def environment() -> dict[str, str]:
    """A copy of ``os.environ`` with every setting filled in (for child processes)."""
    env = dict(os.environ)
    for name in DEFAULTS:
        env.setdefault(name, get(name))
    return env


def cors_origins() -> list[str]:
    """``RASA_CORS`` as a list of origins (separated by spaces or commas)."""
    return get("RASA_CORS").replace(",", " ").split()


def retention_days() -> int:
    return int(get("RETENTION_DAYS"))


def knowledge_dir() -> Path:
    path = Path(get("KNOWLEDGE_DIR"))
    return path if path.is_absolute() else ROOT / path
