"""Every setting of the assistant: an environment variable with an embedded default and a type.

The defaults run everything on one machine with no external services (SQLite files under
``var/``, in-memory lock store, e-mails dropped as files under ``var/mail``). The README lists
every variable; production overrides them (PostgreSQL, Redis, several Rasa workers, SMTP).

Each process calls ``check()`` when it starts: a value that does not parse (``SMTP_PORT=abc``)
stops it at once with a message naming the variable, instead of failing at first use. Typed
values come from ``integer``, ``number``, ``flag`` and ``secret``; ``get`` gives the text.
Secrets are never printed: ``describe()`` and errors show ``***`` for them.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


class SettingError(ValueError):
    """A setting's value cannot be used; the message names the variable."""


def _integer(text: str) -> int:
    value = int(text.strip())
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _port(text: str) -> int:
    value = int(text.strip())
    if not 0 < value < 65536:
        raise ValueError("must be a port number (1-65535)")
    return value


def _number(text: str) -> float:
    value = float(text.strip())
    if value < 0 or value != value:
        raise ValueError("must be a non-negative number")
    return value


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError("must be true or false")


def _choice(*values: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in values:
            raise ValueError(f"must be one of: {', '.join(values)}")
        return text
    return parse


def _optional_datetime(text: str) -> str:
    if text:
        import datetime as dt

        dt.datetime.fromisoformat(text)  # ValueError names what is wrong
    return text


def _corrections(text: str) -> str:
    """all, none, or correction numbers separated by commas (which exist: ``bot.rasa_patches``)."""
    if text.strip().lower() in ("all", "none") or all(p.strip().isdigit() for p in text.split(",")):
        return text
    raise ValueError("must be all, none, or correction numbers separated by commas (e.g. 1,8,15)")


def _level(text: str) -> str:
    return _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")(text.upper())


@dataclass(frozen=True)
class Setting:
    default: str
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False


S = Setting
#: Every setting: name -> Setting. The single list the README's table is checked against.
SETTINGS: dict[str, Setting] = {
    "STATE_DIR": S("var", "Folder for the files of one start: generated secrets (mode 600) and the process supervisor's state."),
    # Rasa server
    "RASA_PORT": S("5005", "Port of the Rasa server (REST, socket.io and HTTP API).", _port),
    "RASA_WORKERS": S("1", "Number of Rasa Sanic workers (more than 1 needs LOCK_STORE_TYPE=redis; the processes refuse to start otherwise).", _integer),
    "RASA_INTERFACE": S("127.0.0.1", "Network interface the Rasa server listens on (0.0.0.0 for all)."),
    "RASA_CORS": S("http://localhost:8080 http://127.0.0.1:8080", "Origins (separated by spaces) of the web pages allowed to use the Rasa server from a browser, incl. the chat widget's socket.io and the web server's /api/*; * allows every origin. Unset, it follows WEB_PORT."),
    "RASA_API_TOKEN": S("", "Token for Rasa's HTTP API (conversation logs); empty: a random one per start, written to var/api-token (mode 600). Never on a command line.", secret=True),
    "RASA_MODEL": S("models/koege.tar.gz", "The trained model the server loads."),
    "RASA_PUBLIC_URL": S("http://localhost:5005", "The Rasa server's URL as browsers reach it; the widget connects to its socket.io there. Unset, it follows RASA_PORT."),
    "RASA_LOG_FILE": S("var/rasa.log", "Log file of the Rasa server (no message texts)."),
    "RASA_CORRECTIONS": S("all", "Which of the speed corrections of Rasa's code (bot/rasa_patches/, bot/rasa_ext/) the Rasa server, rasa train, rasa test and the NLU check apply: all, none (Rasa's own code, to compare), or numbers such as 1,8,15. The behaviour corrections (4, 5, 6, 18, 20) are always applied.", _corrections),
    "WIDGET_SESSION_SECRET": S("", "Key of the chat widget's session tokens (an HMAC of the conversation id): a browser resumes or rates only the conversation it was given. Empty: a random one per start, written to var/widget-session-key. Set it (the same on every Rasa instance and web server) in production.", secret=True),
    # web server (widget, demo page, privacy page)
    "WEB_PORT": S("8080", "Port of the web server: the chat widget, its demo page and the privacy page.", _port),
    "WEB_INTERFACE": S("127.0.0.1", "Network interface the web server listens on (0.0.0.0 for all)."),
    # action server
    "ACTION_PORT": S("5055", "Port of the action server.", _port),
    "ACTION_INTERFACE": S("127.0.0.1", "Network interface the action server listens on; keep it private."),
    "ACTION_SERVER_URL": S("http://localhost:5055/webhook", "Where Rasa calls the action server. Unset, it follows ACTION_PORT."),
    "ACTION_SERVER_TOKEN": S("", "Shared secret Rasa sends to the action server (header X-Action-Token); calls without it are refused. Empty: a random one per start, written to var/action-token (mode 600).", secret=True),
    # storage
    "TRACKER_URL": S("sqlite:///var/tracker.db", "SQLAlchemy URL of the conversation tracker store, e.g. postgresql://user:password@host:5432/rasa.", secret=True),
    "BOT_DATABASE_URL": S("sqlite:///var/bot.db", "SQLAlchemy URL of the assistant's own data: bookings, notifications, feedback, staff, audit log.", secret=True),
    "LOCK_STORE_TYPE": S("in_memory", "Lock store: in_memory, or redis for several workers.", _choice("in_memory", "redis")),
    "REDIS_HOST": S("localhost", "Redis host (lock store, socket.io between workers, rate limits when RATE_LIMIT_STORE=redis)."),
    "REDIS_PORT": S("6379", "Redis port.", _port),
    "REDIS_DB": S("1", "Redis database number.", _integer),
    # e-mail
    "STAFF_EMAIL": S("erhvervsservice@localhost", "Where booking and callback notifications go (the business service's mailbox)."),
    "MAIL_FROM": S("erhvervsbot@localhost", "Sender address of the assistant's e-mails."),
    "MAIL_DROP_DIR": S("var/mail", "With SMTP_HOST empty, e-mails are written here as .eml files (development); ignored when SMTP_HOST is set."),
    "SMTP_HOST": S("", "SMTP server for notifications; empty: write them to MAIL_DROP_DIR instead (the default, so a person trying the assistant sees what staff receive)."),
    "SMTP_PORT": S("25", "SMTP port.", _port),
    "SMTP_USER": S("", "SMTP user name (empty: no login)."),
    "SMTP_PASSWORD": S("", "SMTP password.", secret=True),
    "SMTP_STARTTLS": S("false", "Use STARTTLS (true/false).", _flag),
    "NOTIFY_PORT": S("8095", "Port of the notification sender's /health and /metrics.", _port),
    "NOTIFY_INTERFACE": S("127.0.0.1", "Network interface of the notification sender's /health and /metrics."),
    "SMTP_TIMEOUT": S("10", "Seconds before an SMTP attempt gives up (the e-mail stays queued).", _number),
    "NOTIFY_RETRY_SECONDS": S("60", "Seconds before an e-mail that could not be sent is tried again; each further try waits twice as long, at most an hour.", _number),
    # content and privacy
    "KNOWLEDGE_DIR": S("data/knowledge", "Folder with the sourced answers and contacts."),
    "RETENTION_DAYS": S("90", "Days conversation logs with personal data are kept before deletion.", _integer),
    "PURGE_INTERVAL_HOURS": S("6", "Hours between runs of the retention purge (in the action server).", _number),
    "LOG_LEVEL": S("INFO", "Log level of every process.", _level),
    "LOG_FORMAT": S("text", "Log lines of every process: text (one readable line), or json (one JSON object per line, for a log collector); personal data is masked in both.", _choice("text", "json")),
    "METRICS_TOKEN": S("", "Token Prometheus sends (Authorization: Bearer …) to read /metrics of every process; empty: /metrics answers only requests straight from the machine itself (loopback, not through a proxy). Refused requests get 404.", secret=True),
    # limits
    "MAX_MESSAGE_CHARS": S("1500", "A user message longer than this is cut (the user is told).", _integer),
    "RATE_LIMIT_MESSAGES": S("30", "Messages one conversation may send per minute; more are answered with a polite 'slow down'.", _integer),
    "RATE_LIMIT_CLIENT": S("120", "Requests (messages, feedback) one client address may send per minute.", _integer),
    "RATE_LIMIT_BOOKINGS": S("5", "Bookings, changes and cancellations one conversation may make per day.", _integer),
    "RATE_LIMIT_STORE": S("memory", "Where rate limits are counted: memory (one process), or redis (shared by every instance).", _choice("memory", "redis")),
    "TRUSTED_PROXIES": S("", "Addresses (separated by spaces) of reverse proxies in front of the Rasa and web servers; their X-Forwarded-For names the client for RATE_LIMIT_CLIENT. Loopback is always trusted."),
    # CVR register
    "CVR_API_URL": S("http://localhost:8070", "Base URL of Erhvervsstyrelsen's CVR system-to-system API (Elasticsearch); the default is a placeholder nothing listens on, production sets Erhvervsstyrelsen's URL."),
    "CVR_API_USER": S("", "User name for the CVR API (HTTP basic auth), issued by Erhvervsstyrelsen."),
    "CVR_API_PASSWORD": S("", "Password for the CVR API (HTTP basic auth); never logged.", secret=True),
    "CVR_API_TIMEOUT": S("3", "Seconds to wait for the CVR API to connect and to answer, per attempt.", _number),
    "CVR_API_RETRIES": S("2", "Retries (with exponential back-off) after a CVR API connection error, timeout or 5xx answer.", _integer),
    "CVR_CACHE_SECONDS": S("3600", "Seconds a CVR look-up result (found or not found) is kept in memory.", _number),
    # Telegram (bot/telegram)
    "TELEGRAM_BOT_TOKEN": S("", "Token from BotFather; empty: the Telegram bridge is off.", secret=True),
    "TELEGRAM_API_BASE_URL": S("https://api.telegram.org/bot", "Base URL of the Telegram Bot API (tests point it at a local fake)."),
    "TELEGRAM_WEBHOOK_URL": S("", "Public https URL for webhook mode; empty: long polling."),
    "TELEGRAM_WEBHOOK_SECRET": S("", "Secret token Telegram sends with each webhook call (required in webhook mode).", secret=True),
    "TELEGRAM_PORT": S("8090", "Port of the Telegram bridge (webhook and the push endpoint /push).", _port),
    "TELEGRAM_INTERFACE": S("127.0.0.1", "Network interface of the Telegram bridge."),
    "TELEGRAM_PUSH_TOKEN": S("", "Shared secret for the bridge's push endpoint; empty: a random one per start, written to var/telegram-push-token.", secret=True),
    "TELEGRAM_BRIDGE_TOKEN": S("", "Shared secret by which the Telegram bridge proves itself to the REST channel (header X-Bridge-Token); only with it may a message speak for a telegram:<chat id> conversation. Empty: a random one per start, written to var/telegram-bridge-token. Set it (the same on every instance) in production.", secret=True),
    # staff console (bot/console)
    "STAFF_PORT": S("8081", "Port of the staff console.", _port),
    "STAFF_INTERFACE": S("127.0.0.1", "Network interface of the staff console."),
    "STAFF_SESSION_SECRET": S("", "Key for the console's encrypted session cookies (32 url-safe base64 bytes); empty: a random one kept in var/staff-session-key.", secret=True),
    "STAFF_IDLE_MINUTES": S("30", "Minutes without activity before a staff member must sign in again.", _integer),
    "STAFF_SESSION_HOURS": S("12", "Hours a console sign-in lasts at most, however active the staff member is; then they must sign in again (fractions allowed).", _number),
    "STAFF_SECURE_COOKIES": S("false", "Mark console cookies Secure (set true behind HTTPS).", _flag),
    "AUDIT_KEY": S("", "Key of the audit log's conversation pseudonyms (HMAC-SHA256 of the sender id, so the log keeps no sender ids and still finds a conversation's lines). Empty: a random one made once and kept in var/audit-key. Set it (the same for every process, never changed) in production.", secret=True),
    # human handover (bot/handover)
    "RASA_INTERNAL_URL": S("http://127.0.0.1:5005", "The Rasa server's URL for the assistant's own processes (the console's handover replies, the Telegram bridge); behind a load balancer, its URL. Unset, it follows RASA_PORT."),
    "TELEGRAM_PUSH_URL": S("http://127.0.0.1:8090", "The Telegram bridge's URL for the console (staff replies during a handover). Unset, it follows TELEGRAM_PORT."),
    "HANDOVER_CLAIM_MINUTES": S("5", "Minutes a conversation waits in the console's queue; if nobody claims it by then, the user is offered a callback instead (fractions allowed).", _number),
    "HANDOVER_IDLE_MINUTES": S("30", "Minutes a taken conversation may go without a message from the member of staff; then it is handed back to the chatbot and the user told (fractions allowed).", _number),
    "HANDOVER_CLOCK": S("", "For tests and demonstrations only: the local time (ISO, e.g. 2026-12-05T20:00) the handover takes as now when it checks the staffed hours. Empty in production.", _optional_datetime),
}
del S

#: name -> (default, description), as earlier versions had it (README check, child processes).
DEFAULTS: dict[str, tuple[str, str]] = {name: (s.default, s.help) for name, s in SETTINGS.items()}

#: Defaults that follow the port settings, so that changing a port needs no second change.
#: (The values in SETTINGS are what they come to with the default ports.)
DERIVED: dict[str, Callable[[], str]] = {
    "RASA_CORS": lambda: "http://localhost:{0} http://127.0.0.1:{0}".format(get("WEB_PORT")),
    "RASA_PUBLIC_URL": lambda: f"http://localhost:{get('RASA_PORT')}",
    "ACTION_SERVER_URL": lambda: f"http://localhost:{get('ACTION_PORT')}/webhook",
    "RASA_INTERNAL_URL": lambda: f"http://127.0.0.1:{get('RASA_PORT')}",
    "TELEGRAM_PUSH_URL": lambda: f"http://127.0.0.1:{get('TELEGRAM_PORT')}",
}


def get(name: str) -> str:
    """The text of setting ``name``: the environment's, else the embedded default."""
    setting = SETTINGS[name]
    if name in os.environ:
        return os.environ[name]
    return DERIVED[name]() if name in DERIVED else setting.default


def value(name: str) -> Any:
    """The parsed value of setting ``name``; ``SettingError`` names it if it does not parse."""
    setting = SETTINGS[name]
    text = get(name)
    try:
        return setting.parse(text)
    except ValueError as err:
        shown = "***" if setting.secret else repr(text)
        raise SettingError(f"{name}={shown} is not valid: {err}. {setting.help}") from None


def integer(name: str) -> int:
    return int(value(name))


def number(name: str) -> float:
    return float(value(name))


def flag(name: str) -> bool:
    return bool(value(name))


def check() -> None:
    """Parse every setting; raise ``SettingError`` listing each one that is wrong."""
    errors = []
    for name in SETTINGS:
        try:
            value(name)
        except SettingError as err:
            errors.append(str(err))
    if not errors:
        errors = _combination_problems()
    if errors:
        raise SettingError("\n".join(errors))


def _combination_problems() -> list[str]:
    """Settings that parse, but not together."""
    workers = integer("RASA_WORKERS")
    if workers > 1 and get("LOCK_STORE_TYPE") != "redis":
        # each worker would have its own in-memory lock: two could answer one conversation at once
        return [f"RASA_WORKERS={workers} needs LOCK_STORE_TYPE=redis (one conversation's messages are "
                "handled one at a time across the workers only through Redis)"]
    return []


def check_or_exit(process: str) -> None:
    """For a process's start: stop with a clear message when a setting is wrong."""
    try:
        check()
    except SettingError as err:
        raise SystemExit(f"{process}: cannot start, a setting is wrong:\n{err}") from None


def describe() -> dict[str, str]:
    """Every setting's value as text, secrets hidden (for a start-up message)."""
    return {name: ("***" if s.secret and get(name) else get(name)) for name, s in SETTINGS.items()}


def environment() -> dict[str, str]:
    """A copy of ``os.environ`` with every setting filled in (for child processes)."""
    env = dict(os.environ)
    for name in SETTINGS:
        env.setdefault(name, get(name))
    return env


def cors_origins() -> list[str]:
    """``RASA_CORS`` as a list of origins (separated by spaces or commas)."""
    return get("RASA_CORS").replace(",", " ").split()


def retention_days() -> int:
    return integer("RETENTION_DAYS")


def path(name: str) -> Path:
    """A setting that names a file or folder; relative paths are relative to the project."""
    found = Path(get(name))
    return found if found.is_absolute() else ROOT / found


def knowledge_dir() -> Path:
    return path("KNOWLEDGE_DIR")


def state_dir() -> Path:
    """``STATE_DIR``, created if missing."""
    folder = path("STATE_DIR")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def secret_file(name: str, filename: str) -> str:
    """The secret in setting ``name``, or (empty) the random one that ``new_secret`` wrote to
    ``STATE_DIR/<filename>`` (mode 600) for the processes of this start."""
    given = get(name)
    if given:
        return given
    file = state_dir() / filename
    return file.read_text().strip() if file.exists() else ""


def new_secret(name: str, filename: str) -> str:
    """At start (``bot.cli run``): the configured secret, or a new random one written to
    ``STATE_DIR/<filename>`` with mode 600 for the processes of this start."""
    import secrets

    given = get(name)
    if given:
        return given
    file = state_dir() / filename
    token = secrets.token_urlsafe(24)
    file.touch(mode=0o600, exist_ok=True)
    file.chmod(0o600)
    file.write_text(token)
    return token


def kept_secret(name: str, filename: str) -> str:
    """The secret in setting ``name``, else the one kept in ``STATE_DIR/<filename>``: made
    once (mode 600) by whichever process needs it first and then kept across restarts, unlike
    ``new_secret``'s. Created atomically (a hard link), so processes starting together agree."""
    import secrets

    given = get(name)
    if given:
        return given
    file = state_dir() / filename
    if not file.exists():
        draft = file.with_name(f".{filename}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.touch(mode=0o600)
        draft.chmod(0o600)
        draft.write_text(secrets.token_urlsafe(32))
        try:
            os.link(draft, file)  # fails if another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return file.read_text().strip()


def markdown() -> str:
    """docs/settings.md: every setting with its default and meaning (``python -m bot.settings``)."""
    lines = ["# Settings", "",
             "Every setting is an environment variable with an embedded default (`bot/settings.py`, "
             "generated with `python -m bot.settings > docs/settings.md`; a test keeps the two equal). "
             "Each process checks them all when it starts: a value that does not parse stops it with "
             "a message naming the variable. Secrets are never printed.", "",
             "| Variable | Default | Meaning |", "|---|---|---|"]
    for name, setting in SETTINGS.items():
        lines.append(f"| `{name}` | `{setting.default}` | {setting.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
