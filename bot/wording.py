"""The one home of user-facing wording: the ``responses`` of ``domain.yml``, in Danish and English.

Rasa utters them by name (rules, ``utter_ask_*``, and actions with
``dispatcher.utter_message(response="utter_x", value=...)``, which Rasa fills from the
slots and the given values). Code outside the dialogue – e-mails, the Telegram bridge, the
web server, the staff console – renders the same responses with ``text`` and ``message``.

A response's English variant has the condition ``slot language = en``; the variant without
a condition is Danish and the default. ``{name}`` placeholders are filled from ``values``.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from babel import dates, lists

from bot.settings import ROOT

DOMAIN = ROOT / "domain.yml"
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


class MissingWording(KeyError):
    """No response of that name in domain.yml."""


@lru_cache(maxsize=4)
def responses(domain: Path = DOMAIN) -> dict[str, list[dict[str, Any]]]:
    """Every response of the domain, by name (read once per process)."""
    return (yaml.safe_load(domain.read_text(encoding="utf-8")) or {}).get("responses") or {}


def _language_of(variant: dict[str, Any]) -> str | None:
    for condition in variant.get("condition") or []:
        if condition.get("name") == "language":
            return condition.get("value")
    return None


def variant(name: str, lang: str = "da") -> dict[str, Any]:
    """The variant of response ``name`` for ``lang``: the one conditioned on it, else the
    unconditioned (Danish) one."""
    try:
        variants = responses()[name]
    except KeyError:
        raise MissingWording(name) from None
    default = None
    for candidate in variants:
        found = _language_of(candidate)
        if found == lang:
            return candidate
        if found is None and default is None:
            default = candidate
    if default is None:
        raise MissingWording(f"{name} ({lang})")
    return default


def fill(template: str, values: dict[str, Any]) -> str:
    """``{name}`` placeholders filled as Rasa fills them (unknown ones stay as they are)."""
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
                           template)


def text(response: str, lang: str = "da", /, **values: Any) -> str:
    """The text of ``response`` in ``lang`` with ``values`` filled in."""
    return fill(str(variant(response, lang).get("text", "")).strip(), values)


def message(response: str, lang: str = "da", /, **values: Any) -> dict[str, Any]:
    """Text and buttons of ``response``, as a channel shows them."""
    chosen = variant(response, lang)
    return {"text": fill(str(chosen.get("text", "")).strip(), values),
            "buttons": [dict(b) for b in chosen.get("buttons") or []]}


# --- dates in words (Babel's CLDR data) --------------------------------------------------------

#: Long dates and times as Danish and English readers write them.
DATE_PATTERN = {"da": "d. MMMM y", "en": "d MMMM y"}
WHEN_PATTERN = {"da": "EEEE d. MMMM y 'kl.' HH.mm", "en": "EEEE d MMMM y 'at' HH.mm"}
LANGUAGES = tuple(DATE_PATTERN)


def weekday(day: dt.date, lang: str = "da") -> str:
    """"tirsdag" / "Tuesday"."""
    return dates.format_date(day, "EEEE", locale=lang)


def format_date(day: dt.date, lang: str = "da") -> str:
    """"22. november 2026" / "22 November 2026"."""
    return dates.format_date(day, DATE_PATTERN[lang], locale=lang)


def format_list(items: list[str], lang: str = "da") -> str:
    """"a, b og c" / "a, b, and c"."""
    return lists.format_list(items, locale=lang)


def format_when(start: dt.datetime, lang: str = "da") -> str:
    """"tirsdag 24. november 2026 kl. 10.30" / "Tuesday 24 November 2026 at 10.30"."""
    return dates.format_datetime(start, WHEN_PATTERN[lang], locale=lang)
