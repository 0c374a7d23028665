"""Logging without personal data, for every process of the assistant.

Every log record's message is masked before any handler sees it (``mask_every_record``):
CPR numbers, e-mail addresses and runs of digits that may be phone or CVR numbers become
placeholders. That covers Rasa's and the libraries' own log lines, which may quote a user's
message (e.g. when an action or a response fails), not only ours.

``LOG_FORMAT=json`` writes one JSON object per line (``time``, ``level``, ``logger``,
``message``, ``process``) for a log collector, with python-json-logger; Rasa's own lines too
(``rasa_logging_config``, given to ``rasa run --logging-config-file``).
"""
from __future__ import annotations

import logging
import re

from bot import settings
from bot.redact import mask_cpr

EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
DIGITS = re.compile(r"(?<![\w-])(?:\+?\d[\s-]?){8,}(?![\w-])")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def mask(text: str) -> str:
    """``text`` with CPR numbers, e-mail addresses and long digit runs replaced."""
    text, _ = mask_cpr(text)
    return DIGITS.sub("[tal]", EMAIL.sub("[e-mail]", text))


def mask_every_record() -> None:
    """From now on, every log record of this process is created with a masked message."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks", False):
        return

    def masked(*args, **kwargs) -> logging.LogRecord:  # noqa: ANN002, ANN003 - the factory's own signature
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: keep the record as logging would
            return record
        record.msg, record.args = mask(message), None
        return record

    masked.masks = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked)


JSON_FIELDS = {"asctime": "time", "levelname": "level", "name": "logger"}


def formatter(process: str) -> logging.Formatter:
    """The formatter ``LOG_FORMAT`` asks for."""
    if settings.get("LOG_FORMAT") == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(FORMAT, rename_fields=JSON_FIELDS, static_fields={"process": process})
    return logging.Formatter(FORMAT)


def configure(process: str) -> None:
    """Log level from ``LOG_LEVEL``, masked records, one line (text or JSON) per record on
    standard error."""
    mask_every_record()
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(process))
    logging.basicConfig(level=settings.value("LOG_LEVEL"), handlers=[handler], force=True)
    logging.getLogger(__name__).debug("%s logging configured", process)


def rasa_logging_config(process: str = "rasa server") -> dict:
    """A ``logging.config.dictConfig`` for Rasa with ``LOG_FORMAT=json``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": FORMAT,
                                "rename_fields": JSON_FIELDS, "static_fields": {"process": process}}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": settings.value("LOG_LEVEL"), "handlers": ["console"]},
    }
