"""Which visit slots exist and which one fits what the user asked for.

The slots come from ``data/knowledge/visit_availability.yml`` (staff-editable): weekdays,
start times, lead time, horizon, Danish public holidays (``holidays``) and closing days.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import holidays
import yaml

from bot import settings

if TYPE_CHECKING:
    from bot.nlp.dates import TimeRequest

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOUR = dt.time(10, 0)

# Why a requested time cannot be booked.
PAST, WEEKEND, HOLIDAY, CLOSED, OUTSIDE_HOURS, TOO_SOON, TOO_FAR, TAKEN = (
    "past", "weekend", "holiday", "closed", "outside_hours", "too_soon", "too_far", "taken")


@dataclass(frozen=True)
class Availability:
    weekdays: frozenset[int]
    slot_times: tuple[dt.time, ...]
    duration_minutes: int
    lead_time_working_days: int
    horizon_days: int
    holiday_country: str
    closed_dates: frozenset[dt.date]
    suggestions: int = 3
    _holidays: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_file(cls, path: Path | None = None) -> Availability:
        path = path or settings.knowledge_dir() / "visit_availability.yml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))["availability"]
        return cls(
            weekdays=frozenset(WEEKDAYS.index(d) for d in raw["weekdays"]),
            slot_times=tuple(sorted(dt.time.fromisoformat(t) for t in raw["slot_times"])),
            duration_minutes=int(raw["duration_minutes"]),
            lead_time_working_days=int(raw["lead_time_working_days"]),
            horizon_days=int(raw["horizon_days"]),
            holiday_country=raw.get("holidays", "DK"),
            closed_dates=frozenset(dt.date.fromisoformat(str(d)) for d in raw.get("closed_dates", [])),
            suggestions=int(raw.get("suggestions", 3)),
        )

    def holiday_name(self, day: dt.date) -> str | None:
        if day.year not in self._holidays:
            self._holidays[day.year] = holidays.country_holidays(self.holiday_country, years=day.year,
                                                                 language="da")
        return self._holidays[day.year].get(day)

    def is_open(self, day: dt.date) -> bool:
        return (day.weekday() in self.weekdays and day not in self.closed_dates
                and self.holiday_name(day) is None)

    def earliest_day(self, now: dt.datetime) -> dt.date:
        """The first day that can be booked: ``lead_time_working_days`` open days after today."""
        day, counted = now.date(), 0
        while counted < self.lead_time_working_days:
            day += dt.timedelta(days=1)
            counted += self.is_open(day)
        return day

    def slots(self, now: dt.datetime, booked: Iterable[dt.datetime] = ()) -> list[dt.datetime]:
        """Every free slot from the earliest day to the horizon, in time order."""
        taken = set(booked)
        first = self.earliest_day(now)
        result = []
        for offset in range(self.horizon_days + 1):
            day = now.date() + dt.timedelta(days=offset)
            if day < first or not self.is_open(day):
                continue
            result += [s for t in self.slot_times
                       if (s := dt.datetime.combine(day, t)) > now and s not in taken]
        return result


@dataclass(frozen=True)
class Choice:
    """The slot that matches a request exactly, or the nearest free slots and why."""
    slot: dt.datetime | None
    suggestions: tuple[dt.datetime, ...]
    reason: str | None = None
    holiday: str | None = None


def _target(request: TimeRequest, now: dt.datetime) -> dt.datetime:
    day = request.days[0] if request.days else now.date()
    time = request.time or (request.period[0] if request.period else DEFAULT_HOUR)
    return dt.datetime.combine(day, time)


def _matches(slot: dt.datetime, request: TimeRequest) -> bool:
    if request.days and slot.date() not in request.days:
        return False
    if request.time and slot.time() != request.time:
        return False
    if request.period and not (request.period[0] <= slot.time() < request.period[1]):
        return False
    return True


def names_exactly(request: TimeRequest, slot: dt.datetime) -> bool:
    """Whether ``request`` asks for exactly ``slot`` (its one day and clock time): ``choose``
    books that slot for it whenever the slot is free."""
    return len(request.days) == 1 and request.time is not None and _matches(slot, request)


def _reason(request: TimeRequest, now: dt.datetime, avail: Availability,
            booked: set[dt.datetime]) -> tuple[str | None, str | None]:
    for day in request.days[:1]:
        if day < now.date() or (request.time and dt.datetime.combine(day, request.time) <= now):
            return PAST, None
        if name := avail.holiday_name(day):
            return HOLIDAY, name
        if day.weekday() >= 5 and day.weekday() not in avail.weekdays:
            return WEEKEND, None
        if not avail.is_open(day):
            return CLOSED, None
        if day < avail.earliest_day(now):
            return TOO_SOON, None
        if day > now.date() + dt.timedelta(days=avail.horizon_days):
            return TOO_FAR, None
        if request.time and dt.datetime.combine(day, request.time) in booked:
            return TAKEN, None
    if request.time and request.time not in avail.slot_times:
        return OUTSIDE_HOURS, None
    return None, None


def choose(request: TimeRequest, now: dt.datetime, avail: Availability,
           booked: Iterable[dt.datetime] = ()) -> Choice:
    """The exact free slot for ``request`` when there is one, else the nearest free slots.

    A request for one day and a time is exact; a day, a week or a period gives the free
    slots inside it as suggestions; a time in the past, at a weekend, on a holiday, outside
    the visit times or already taken gives the free slots nearest to it.
    """
    booked = set(booked)
    free = avail.slots(now, booked)
    inside = [s for s in free if _matches(s, request)]
    exact = len(request.days) == 1 and request.time is not None
    if exact and inside:
        return Choice(slot=inside[0], suggestions=())
    if inside and not exact:
        return Choice(slot=None, suggestions=tuple(inside[:avail.suggestions]))
    reason, holiday = _reason(request, now, avail, booked)
    target = max(_target(request, now), now)
    nearest = sorted(free, key=lambda s: (abs((s - target).total_seconds()), s))[:avail.suggestions]
    return Choice(slot=None, suggestions=tuple(sorted(nearest)), reason=reason or TAKEN, holiday=holiday)


@lru_cache(maxsize=1)
def default() -> Availability:
    return Availability.from_file()
