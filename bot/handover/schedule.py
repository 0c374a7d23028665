"""When a person answers the chat: the staffed hours and closing days.

The default is ``data/knowledge/staffed_hours.yml``; staff change it in the console, which
stores each version in the ``staffed_hours`` table (the newest row is live, the rest is the
history). Danish public holidays (``holidays``) are never staffed. ``now()`` is the local time
in Copenhagen, or ``HANDOVER_CLOCK`` when a test or a demonstration sets one.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
import yaml

from bot import settings
from bot.store import db
from bot.store.models import StaffedHours

TZ = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Danish names, for the console.
WEEKDAY_NAMES = ("Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag")


class ScheduleError(ValueError):
    """A schedule that cannot be used; the message says why, in Danish (the console shows it)."""


def now() -> dt.datetime:
    """The local time (naive, Europe/Copenhagen) the handover decides by."""
    clock = settings.get("HANDOVER_CLOCK")
    if clock:
        return dt.datetime.fromisoformat(clock).replace(tzinfo=None)
    return dt.datetime.now(TZ).replace(tzinfo=None)


def _time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(text).strip())
    except ValueError:
        raise ScheduleError(f"«{text}» er ikke et klokkeslæt (skriv fx 09:00).") from None


@dataclass(frozen=True)
class Schedule:
    """Opening (from, to) per weekday (0 = Monday); closing days; the holidays' country."""

    hours: dict[int, tuple[dt.time, dt.time]]
    closed_dates: frozenset[dt.date] = frozenset()
    holiday_country: str = "DK"
    _holidays: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_mapping(cls, raw: dict) -> Schedule:
        """From the YAML file's or the console's form: ``{"weekdays": {"mon": ["09:00", "15:00"]},
        "closed_dates": ["2026-12-24"], "holidays": "DK"}``."""
        hours = {}
        for day, span in (raw.get("weekdays") or {}).items():
            if day not in WEEKDAYS:
                raise ScheduleError(f"«{day}» er ikke en ugedag.")
            if not span:
                continue
            if not isinstance(span, (list, tuple)) or len(span) != 2:
                raise ScheduleError(f"{WEEKDAY_NAMES[WEEKDAYS.index(day)]}: skriv både start- og sluttid.")
            start, end = _time(span[0]), _time(span[1])
            if end <= start:
                raise ScheduleError(f"{WEEKDAY_NAMES[WEEKDAYS.index(day)]}: sluttiden skal være efter starttiden.")
            hours[WEEKDAYS.index(day)] = (start, end)
        closed = set()
        for day in raw.get("closed_dates") or []:
            try:
                closed.add(dt.date.fromisoformat(str(day).strip()))
            except ValueError:
                raise ScheduleError(f"«{day}» er ikke en dato (skriv fx 2026-12-24).") from None
        return cls(hours, frozenset(closed), str(raw.get("holidays") or "DK"))

    @classmethod
    def from_file(cls, path: Path | None = None) -> Schedule:
        path = path or settings.knowledge_dir() / "staffed_hours.yml"
        return cls.from_mapping(yaml.safe_load(path.read_text(encoding="utf-8"))["staffed_hours"])

    def as_mapping(self) -> dict:
        return {
            "weekdays": {WEEKDAYS[d]: [s.strftime("%H:%M"), e.strftime("%H:%M")]
                         for d, (s, e) in sorted(self.hours.items())},
            "closed_dates": sorted(d.isoformat() for d in self.closed_dates),
            "holidays": self.holiday_country,
        }

    def holiday_name(self, day: dt.date) -> str | None:
        if day.year not in self._holidays:
            self._holidays[day.year] = holidays.country_holidays(self.holiday_country, years=day.year,
                                                                 language="da")
        return self._holidays[day.year].get(day)

    def is_staffed(self, when: dt.datetime) -> bool:
        """Whether a person answers the chat at this local time."""
        span = self.hours.get(when.weekday())
        if span is None or when.date() in self.closed_dates or self.holiday_name(when.date()):
            return False
        return span[0] <= when.time() < span[1]


def current(url: str | None = None) -> Schedule:
    """The live schedule: the console's newest version, else the file."""
    with db.session(url) as s:
        row = s.scalars(sa.select(StaffedHours).order_by(StaffedHours.id.desc()).limit(1)).first()
    return Schedule.from_mapping(json.loads(row.schedule)) if row else Schedule.from_file()


def save(schedule: Schedule, author: str, url: str | None = None) -> None:
    """Make ``schedule`` the live one (a new version; the earlier stay as history)."""
    with db.session(url) as s:
        s.add(StaffedHours(schedule=json.dumps(schedule.as_mapping()), author=author[:64]))


def staffed_now(url: str | None = None) -> bool:
    return current(url).is_staffed(now())
