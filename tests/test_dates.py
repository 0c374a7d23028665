"""Danish (and basic English) date/time expressions, parsed relative to a fixed "now"."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, time

import pytest

from bot.nlp.dates import PERIODS, TimeRequest, parse

#: Monday 23 November 2026, 09:00 (ISO week 48).
NOW = datetime(2026, 11, 23, 9, 0)
#: Thursday 26 November 2026.
THURSDAY = datetime(2026, 11, 26, 14, 0)
#: Monday 28 December 2026 (ISO week 53).
LATE_DECEMBER = datetime(2026, 12, 28, 10, 0)
#: Monday 29 December 2025, which is already ISO week 1 of 2026.
ISO_NEW_YEAR = datetime(2025, 12, 29, 10, 0)
#: Sunday 29 November 2026.
SUNDAY = datetime(2026, 11, 29, 10, 0)

FORMIDDAG = PERIODS["formiddag"]
EFTERMIDDAG = PERIODS["eftermiddag"]
MORGEN = PERIODS["morgen"]


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def workweek(monday: date) -> tuple[date, ...]:
    return tuple(date.fromordinal(monday.toordinal() + i) for i in range(5))


WEEK_50 = workweek(d(12, 7))


@pytest.mark.parametrize(
    ("text", "days"),
    [
        # relative days
        ("i dag", (d(11, 23),)),
        ("idag", (d(11, 23),)),
        ("i morgen", (d(11, 24),)),
        ("imorgen", (d(11, 24),)),
        ("i overmorgen", (d(11, 25),)),
        # weekdays: the nearest one after today; "næste" = the following calendar week
        ("på torsdag", (d(11, 26),)),
        ("paa torsdag", (d(11, 26),)),
        ("torsdag", (d(11, 26),)),
        ("på mandag", (d(11, 30),)),
        ("Lørdag", (d(11, 28),)),
        ("næste tirsdag", (d(12, 1),)),
        ("naeste tirsdag", (d(12, 1),)),
        ("næste fredag", (d(12, 4),)),
        ("førstkommende fredag", (d(11, 27),)),
        ("mandag eller tirsdag", (d(11, 24), d(11, 30))),
        # abbreviations only in a safe context
        ("tors kl 10", (d(11, 26),)),
        ("fre d. 4/12", (d(12, 4),)),
        ("på ons", (d(11, 25),)),
        # dates; a date without year that has passed this year is next year's
        ("den 3. december", (d(12, 3),)),
        ("3. december", (d(12, 3),)),
        ("3 dec", (d(12, 3),)),
        ("3/12", (d(12, 3),)),
        ("3.12.", (d(12, 3),)),
        ("3.12", (d(12, 3),)),
        ("03-12", (d(12, 3),)),
        ("3/12-2026", (d(12, 3),)),
        ("3.12.2026", (d(12, 3),)),
        ("23. november", (d(11, 23),)),
        ("20. november", (d(11, 20, 2027),)),
        ("3. januar", (d(1, 3, 2027),)),
        ("1.1.", (d(1, 1, 2027),)),
        ("29/2", (d(2, 29, 2028),)),
        ("torsdag den 3. december", (d(12, 3),)),
        ("i morgen (tirsdag)", (d(11, 24),)),
        # weeks: Monday-Friday of the ISO week
        ("uge 50", WEEK_50),
        ("i uge 50", WEEK_50),
        ("uge 48", workweek(d(11, 23))),
        ("uge 47", workweek(d(11, 22, 2027))),
        ("næste uge", workweek(d(11, 30))),
        ("tirsdag i uge 50", (d(12, 8),)),
        ("fredag i næste uge", (d(12, 4),)),
        # English
        ("tomorrow", (d(11, 24),)),
        ("today", (d(11, 23),)),
        ("the day after tomorrow", (d(11, 25),)),
        ("next tuesday", (d(12, 1),)),
        ("on thursday", (d(11, 26),)),
        ("3 December", (d(12, 3),)),
        ("December 3", (d(12, 3),)),
        ("the 3rd of December", (d(12, 3),)),
        ("December 3rd, 2026", (d(12, 3),)),
        ("week 50", WEEK_50),
    ],
)
def test_days(text, days):
    result = parse(text, NOW)
    assert result is not None
    assert result.days == days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kl. 10", time(10, 0)),
        ("kl 10", time(10, 0)),
        ("klokken 10", time(10, 0)),
        ("kl.10", time(10, 0)),
        ("10:00", time(10, 0)),
        ("10.00", time(10, 0)),
        ("14.30", time(14, 30)),
        ("14:30", time(14, 30)),
        ("kl. 9.30", time(9, 30)),
        ("kl. 13", time(13, 0)),
        ("kl. 08", time(8, 0)),
        ("kl. ti", time(10, 0)),
        ("halv ti", time(9, 30)),
        ("kl. halv ti", time(9, 30)),
        ("kl. halv to", time(13, 30)),  # hours 1-6 are afternoon hours
        ("kl. 2", time(14, 0)),
        ("kvart over ni", time(9, 15)),
        ("kvart i ti", time(9, 45)),
        ("kvart i et", time(12, 45)),
        ("halv 10", time(9, 30)),
        ("kl. fem over halv to", time(13, 35)),
        ("ved 10-tiden", time(10, 0)),
        ("kl. 6 om morgenen", time(6, 0)),
        ("at 10", time(10, 0)),
        ("10am", time(10, 0)),
        ("2pm", time(14, 0)),
        ("10:30 am", time(10, 30)),
        ("12pm", time(12, 0)),
        ("kl 10 eller kl 14", time(10, 0)),  # the first one mentioned
    ],
)
def test_times(text, expected):
    result = parse(text, NOW)
    assert result is not None
    assert result.time == expected
    assert result.days == ()


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("om formiddagen", FORMIDDAG),
        ("formiddag", FORMIDDAG),
        ("om eftermiddagen", EFTERMIDDAG),
        ("eftermiddag", EFTERMIDDAG),
        ("morgen", MORGEN),
        ("om morgenen", MORGEN),
        ("tidlig", MORGEN),
        ("in the morning", MORGEN),
        ("in the afternoon", EFTERMIDDAG),
        ("kl. 10-12", (time(10), time(12))),
        ("mellem kl. 10 og 12", (time(10), time(12))),
        ("8.30-16.00", (time(8, 30), time(16))),
        ("kl. 1-3", (time(13), time(15))),
    ],
)
def test_periods(text, period):
    result = parse(text, NOW)
    assert result is not None
    assert result.period == period
    assert result.time is None
    assert result.days == ()


@pytest.mark.parametrize(
    ("text", "days", "at", "period"),
    [
        ("i morgen kl. 10", (d(11, 24),), time(10), None),
        ("i morgen tidlig", (d(11, 24),), None, MORGEN),
        ("i morgen formiddag", (d(11, 24),), None, FORMIDDAG),
        ("næste tirsdag kl. 13", (d(12, 1),), time(13), None),
        ("NÆSTE TIRSDAG KL. 13", (d(12, 1),), time(13), None),
        ("den 3. december kl. 14.30", (d(12, 3),), time(14, 30), None),
        ("uge 50 om formiddagen", WEEK_50, None, FORMIDDAG),
        ("på torsdag om formiddagen", (d(11, 26),), None, FORMIDDAG),
        ("kan I komme på torsdag kl 10?", (d(11, 26),), time(10), None),
        ("Kan I komme forbi på torsdag kl. halv to?", (d(11, 26),), time(13, 30), None),
        ("Kan vi mødes torsdag d. 3/12 kl. 9?", (d(12, 3),), time(9), None),
        ("fredag d. 4. december kl. 10.30", (d(12, 4),), time(10, 30), None),
        ("torsdag eftermiddag kl. 2", (d(11, 26),), time(14), EFTERMIDDAG),
        ("i morgen 10.10", (d(11, 24),), time(10, 10), None),  # another day named: 10.10 is a time
        ("10.10", (d(10, 10, 2027),), None, None),  # alone: a date (already passed this year)
        ("i eftermiddag", (d(11, 23),), None, EFTERMIDDAG),
        ("this afternoon", (d(11, 23),), None, EFTERMIDDAG),
        ("tomorrow morning", (d(11, 24),), None, MORGEN),
        ("on monday at 2pm", (d(11, 30),), time(14), None),
        ("at 10 tomorrow", (d(11, 24),), time(10), None),
        ("Mit CVR er 29189374 og tlf 20 12 34 56, vi kommer gerne på torsdag kl 10",
         (d(11, 26),), time(10), None),
        ("Vi har 50.000 kr i budget og kan komme i morgen kl. 9", (d(11, 24),), time(9), None),
    ],
)
def test_combinations(text, days, at, period):
    assert parse(text, NOW) == TimeRequest(days=days, time=at, period=period)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "29189374",
        "Vores CVR er 29189374",
        "20 12 34 56",
        "tlf 20-12-34-56",
        "tlf 20.12.34.56",
        "50.000 kr",
        "Det koster 12.50 kr",
        "Vi omsætter for 1.250.000 kr om året",
        "Hej, vi er et ApS med 12 ansatte",
        "2-3 personer",
        "10-12 personer",
        "det tager 5-10 minutter",
        "2.5 mio",
        "1/2 time",
        "ti",
        "ti medarbejdere",
        "vi er ti i to afdelinger",
        "en halv time",
        "kan man komme forbi?",
        "god morgen",
        "Good afternoon",
        "så tidligt som muligt",
        "Det er vigtigt at 3 personer kommer",
        "may 3 people come",
        "Torvet 12, 4600 Køge",
        "anne.20.12@firma.dk",
        "uge 54",
        "31/11",
        "kl 24",
        "Hvad koster det?",
    ],
)
def test_not_a_date(text):
    assert parse(text, NOW) is None


@pytest.mark.parametrize(
    ("now", "text", "days"),
    [
        # on a Thursday, "torsdag" is next week's Thursday, never today
        (THURSDAY, "på torsdag", (d(12, 3),)),
        (THURSDAY, "torsdag", (d(12, 3),)),
        (THURSDAY, "fredag", (d(11, 27),)),
        (THURSDAY, "næste fredag", (d(12, 4),)),
        (THURSDAY, "næste tirsdag", (d(12, 1),)),
        (THURSDAY, "i dag", (d(11, 26),)),
        (THURSDAY, "uge 48", workweek(d(11, 23))),  # the current week stays whole
        # on a Sunday, "næste mandag" is tomorrow (the next calendar week)
        (SUNDAY, "næste mandag", (d(11, 30),)),
        (SUNDAY, "på søndag", (d(12, 6),)),
        # year roll-over
        (LATE_DECEMBER, "uge 1", workweek(d(1, 4, 2027))),
        (LATE_DECEMBER, "uge 53", workweek(d(12, 28))),
        (LATE_DECEMBER, "uge 52", workweek(d(12, 27, 2027))),
        (LATE_DECEMBER, "3/1", (d(1, 3, 2027),)),
        (LATE_DECEMBER, "den 3. december", (d(12, 3, 2027),)),
        (LATE_DECEMBER, "31/12", (d(12, 31),)),
        (LATE_DECEMBER, "i overmorgen", (d(12, 30),)),
        (LATE_DECEMBER, "næste mandag", (d(1, 4, 2027),)),
        (LATE_DECEMBER, "29. december 2026", (d(12, 29),)),
        (LATE_DECEMBER, "3.12.2026", (d(12, 3),)),  # an explicit year is kept, even in the past
        (ISO_NEW_YEAR, "uge 1", workweek(d(12, 29, 2025))),
        (ISO_NEW_YEAR, "uge 52", workweek(d(12, 21))),
    ],
)
def test_relative_to_other_nows(now, text, days):
    result = parse(text, now)
    assert result is not None
    assert result.days == days


def test_only_now_matters():
    """Everything is relative to ``now``, never to the real clock."""
    assert parse("i morgen", datetime(2031, 2, 28, 12, 0)).days == (date(2031, 3, 1),)


def test_time_request_is_frozen_and_reports_emptiness():
    request = TimeRequest(days=(), time=None, period=None)
    assert request.is_empty()
    assert not TimeRequest(days=(), time=time(10), period=None).is_empty()
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.time = time(10)  # type: ignore[misc]
