"""Danish (and basic English) date/time expressions for booking company visits.

``parse("kan I komme på torsdag kl 10?", now)`` finds the day(s), the clock time and the part of the
day a user asks for. Everything is relative to ``now`` (a naive Europe/Copenhagen wall-clock
datetime); the module never looks at the real clock and never decides whether a day is a working day,
a holiday or in the past - that is the booking logic's job.

Ambiguities are decided like this:

* A bare weekday ("torsdag", "på torsdag", "on thursday") is the nearest occurrence *after* today:
  said on a Thursday it means the Thursday a week later, never today.
* "næste tirsdag" / "next tuesday" is the Tuesday of the *following calendar week* (ISO weeks,
  Monday-Sunday). If Tuesday is still ahead in the current week it is therefore *not* that Tuesday but
  the one after it; said on a Wednesday it is the coming Tuesday. Said on a Sunday, "næste mandag" is
  tomorrow.
* The abbreviations "man", "tirs", "ons", "tors", "fre" only count when preceded by "på"/"næste" or
  followed by a time ("tors kl 10") or a date ("fre d. 4/12"). "man" (also the pronoun "one") needs
  "på"/"næste" before it or a date after it.
* A weekday next to an explicit date ("torsdag den 3. december", "i morgen (onsdag)") is taken as a
  label of that date: the date wins. A weekday together with a week ("tirsdag i uge 50", "fredag i
  næste uge") is that weekday in that week.
* A date without a year that has already passed this year (before today) means next year; an explicit
  year is kept even if it is in the past.
* "uge 50" is Monday-Friday of ISO week 50 of this year, or of next year if that week has ended; the
  current week is kept whole (also its past days). "næste uge" / "denne uge" work the same way.
* An hour 1-6 without am/pm, leading zero or part of the day means the afternoon (13-18): "kl. 2" and
  "halv to" are 14:00 and 13:30. "om morgenen"/"om formiddagen" keep the morning hour ("kl. 6 om
  morgenen" is 06:00); "om eftermiddagen"/"om aftenen" move any hour before 12 to the afternoon.
* A bare number is never a time ("ti", "10"): it needs "kl."/"klokken", a colon ("10:00"), minutes
  after a dot ("14.30"), am/pm, "at 10", or a halv/kvart phrase ("halv ti" = 09:30).
* "D.MM" with minutes 01-12 ("10.10") is read as a date, unless the text names another day and no
  other time ("i morgen 10.10" = tomorrow 10:10). "3.12." with a trailing dot is always a date.
  "D-M" needs two-digit parts or a year ("03-12", "3-12-2026"), so "2-3 personer" is no date.
* Numbers followed by a unit or an amount ("50.000 kr", "12.50 kr", "10-12 ansatte") are ignored, as
  are numbers inside longer digit groups (CVR numbers, phone numbers "20 12 34 56"/"20-12-34-56").
* With several times or parts of the day the first one mentioned is used; a clock range
  ("kl. 10-12", "mellem kl. 10 og 12") is returned as the period. Several days are all returned,
  sorted and without duplicates.
"""
from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.nlp.normalize import fold

__all__ = ["PERIODS", "TimeRequest", "parse"]

_t = datetime.time

#: The parts of the day users name, as (start, end) wall-clock times.
PERIODS: dict[str, tuple[datetime.time, datetime.time]] = {
    "morgen": (_t(7), _t(10)),
    "formiddag": (_t(8), _t(12)),
    "eftermiddag": (_t(12), _t(17)),
    "aften": (_t(17), _t(21)),
}


@dataclass(frozen=True)
class TimeRequest:
    """What a user asked for: candidate days, an exact clock time and/or a part of the day.

    ``days`` are sorted and distinct: one day, a week's working days ("uge 50"), several named days,
    or empty when only a time or period was given. ``time`` is the exact clock time ("kl. 10",
    "14.30", "halv ti"). ``period`` is a part of the day as (start, end), e.g. formiddag =
    (08:00, 12:00), or a clock range such as "kl. 10-12".
    """

    days: tuple[datetime.date, ...]
    time: datetime.time | None
    period: tuple[datetime.time, datetime.time] | None

    def is_empty(self) -> bool:
        """True when neither a day, a time nor a period was found."""
        return not self.days and self.time is None and self.period is None


# --------------------------------------------------------------------------- vocabulary (folded spelling)

_MONTHS: dict[str, int] = {
    "januar": 1, "january": 1, "jan": 1,
    "februar": 2, "february": 2, "feb": 2,
    "marts": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "maj": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
#: Month words that are also ordinary words ("may 3 people come"): month-first only with an ordinal.
_AMBIGUOUS_MONTHS = {"may", "mar"}
_WEEKDAYS: dict[str, int] = {
    "mandag": 0, "tirsdag": 1, "onsdag": 2, "torsdag": 3, "fredag": 4,
    "loerdag": 5, "lordag": 5, "soendag": 6, "sondag": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
_WEEKDAY_ABBR: dict[str, int] = {"man": 0, "tirs": 1, "ons": 2, "tors": 3, "fre": 4}
_HOUR_WORDS: dict[str, int] = {
    "et": 1, "en": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
    "syv": 7, "otte": 8, "ni": 9, "ti": 10, "elleve": 11, "tolv": 12,
}
_MINUTE_WORDS: dict[str, int] = {"fem": 5, "ti": 10, "kvart": 15, "tyve": 20}
_PERIOD_WORDS: dict[str, str] = {
    "morgen": "morgen", "morning": "morgen", "formiddag": "formiddag",
    "eftermiddag": "eftermiddag", "afternoon": "eftermiddag", "aften": "aften", "evening": "aften",
}


def _alt(words: Iterable[str]) -> str:
    """A regex alternation, longest word first."""
    return "|".join(sorted(words, key=len, reverse=True))


_MONTH = rf"(?P<month>{_alt(_MONTHS)})\.?(?![a-z])"
_HOUR = rf"(?P<hour>{_alt(_HOUR_WORDS)}|1[0-2]|0?[1-9])(?!\w)"
_NEXT = r"n(?:ae|a|e)ste|next"
_KL = r"\b(?:kl|klokken)\b\.?\s*"
#: No number glued on the left, so "29189374" or "1.250.000" never yield a part.
_NO_NUM_BEFORE = r"(?<!\w)(?<!\d[.,/:-])"
#: No further digits on the right ("20-12-34-56", "50.000").
_NO_NUM_AFTER = r"(?!\d)(?![.,/:-]?\d)"

#: A number followed by one of these is a quantity, not a date or time.
_UNIT_AFTER = re.compile(
    r"\s*(?:kr\b|kroner|dkk|eur\b|euro|usd|,-|%|pct|procent|mio|mia|t\.\s?kr|"
    r"personer|person|pers\b|ansatte|medarbejdere|deltagere|stk|styk|mand\b|"
    r"timer|time\b|min\b|minutter|sekunder|dage\b|doegn|uger\b|maaneder|aar\b|"
    r"m2|kvm|km\b|m\b|meter|cm\b|kg\b|liter|gange|af\b|ud\s+af\b|"
    r"people|persons|employees|hours|minutes|days|weeks|months|years|times|of\b)"
)
#: ... and so is a number preceded by one of these.
_UNIT_BEFORE = re.compile(r"(?:\bkr\.?|\bdkk|\beur|€|\$|\bnr\.?|\bno\.?|\btlf\.?|\btelefon|\bcvr)\s*$")


# --------------------------------------------------------------------------- hits

class _Clock(NamedTuple):
    hour: int
    minute: int
    fixed: bool  # 24-hour form, leading zero or am/pm: never moved to the afternoon


@dataclass
class _Hit:
    start: int
    end: int
    kind: str  # date | week | weekday | time | range | period | soft_today | ambiguous | ignored
    value: Any


@dataclass(frozen=True)
class _Ctx:
    text: str
    today: datetime.date


_Handler = Callable[[re.Match[str], _Ctx], "list[_Hit] | None"]


def _g(m: re.Match[str], name: str) -> str | None:
    """Group ``name`` of ``m``, None if the pattern has no such group."""
    return m[name] if name in m.re.groupindex else None


def _is_quantity(ctx: _Ctx, start: int, end: int) -> bool:
    """A number that is an amount, a count or a phone/CVR number rather than a date or time."""
    return bool(_UNIT_AFTER.match(ctx.text, end)) or bool(_UNIT_BEFORE.search(ctx.text, 0, start))


def _one(m: re.Match[str], kind: str, value: object) -> list[_Hit]:
    return [_Hit(m.start(), m.end(), kind, value)]


def _clock(hour: str, minute: str | None) -> _Clock | None:
    h, mi = int(hour), int(minute) if minute else 0
    if not (0 <= h <= 23 and 0 <= mi <= 59):
        return None
    return _Clock(h, mi, fixed=h == 0 or h >= 13 or (len(hour) == 2 and hour.startswith("0")))


def _word_clock(m: re.Match[str]) -> _Clock | None:
    """'halv ti' (9:30), 'kvart over ni' (9:15), 'kvart i et' (12:45), 'fem over halv to' (1:35)."""
    hour = m["hour"]
    h = _HOUR_WORDS[hour] if hour in _HOUR_WORDS else int(hour)
    total = h * 60 - (30 if m["half"] else 0)
    if m["min"]:
        delta = _MINUTE_WORDS[m["min"]]
        total += delta if m["dir"] == "over" else -delta
    if total < 60:  # a 12-hour dial: 0:45 is 12:45
        total += 12 * 60
    return _Clock(total // 60, total % 60, fixed=False)


def _resolve_clock(c: _Clock, period: str | None) -> datetime.time:
    """The 24-hour time: hours 1-6 mean the afternoon unless fixed or said to be in the morning."""
    hour = c.hour
    if not c.fixed and hour < 12:
        if period in ("eftermiddag", "aften"):
            hour += 12
        elif period not in ("morgen", "formiddag") and 1 <= hour <= 6:
            hour += 12
    return datetime.time(hour, c.minute)


def _day_month(today: datetime.date, day: int, month: int, year: int | None) -> datetime.date | None:
    """An explicit date; without a year the first one from today on (29/2 waits for a leap year)."""
    years = [year] if year is not None else range(today.year, today.year + 9)
    for y in years:
        try:
            d = datetime.date(y, month, day)
        except ValueError:
            continue
        if year is not None or d >= today:
            return d
    return None


def _iso_week_monday(today: datetime.date, week: int) -> datetime.date | None:
    """Monday of ISO week ``week`` this year, or next year if that week has ended."""
    for year in (today.year, today.year + 1):
        try:
            monday = datetime.date.fromisocalendar(year, week, 1)
        except ValueError:
            continue
        if monday + datetime.timedelta(days=6) >= today:
            return monday
    return None


def _monday(d: datetime.date) -> datetime.date:
    return d - datetime.timedelta(days=d.weekday())


# --------------------------------------------------------------------------- handlers

def _h_range(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    """'kl. 10-12', 'kl 10 til 12', 'mellem kl. 10 og 12', 'fra kl. 9 til 11', '14.30-15.00'."""
    a, b = _clock(m["h1"], m["m1"]), _clock(m["h2"], m["m2"])
    if a is None or b is None or _is_quantity(ctx, m.start(), m.end()):
        return None
    return _one(m, "range", (a, b))


def _h_word_clock(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    if _is_quantity(ctx, m.start(), m.end()):
        return None  # "halv 2 liter"
    return _one(m, "time", _word_clock(m))


def _h_kl_digits(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    c = _clock(m["h"], m["m"])
    if c is None or _UNIT_AFTER.match(ctx.text, m.end()):
        return None
    return _one(m, "time", c)


def _h_kl_word(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    return _one(m, "time", _Clock(_HOUR_WORDS[m["hour"]], 0, fixed=False))


def _h_ampm(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    h, mi = int(m["h"]), int(m["m"] or 0)
    if not (1 <= h <= 12 and mi <= 59):
        return None
    h = h % 12 + (12 if m["ampm"].startswith("p") else 0)
    return _one(m, "time", _Clock(h, mi, fixed=True))


def _h_noon(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    return _one(m, "time", _Clock(12, 0, fixed=True))


def _h_clock(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    """'at 10', '10 o'clock', 'ved 10-tiden', '14:30'."""
    c = _clock(m["h"], m["m"])
    if c is None or _is_quantity(ctx, m.start(), m.end()):
        return None
    return _one(m, "time", c)


def _h_dot_clock(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    """'14.30', '10.00'; minutes 01-12 ('10.10') are left to the numeric-date handler."""
    if 1 <= int(m["m"]) <= 12:
        return None
    return _h_clock(m, ctx)


def _h_numeric_date(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    """'3/12', '3.12.', '3.12', '03-12', '3/12-2026', '3.12.2026'; '10.10' may also be a time."""
    if _is_quantity(ctx, m.start(), m.end()):
        return None
    day, month, year_s = m["d"], m["mo"], m["y"]
    if m["sep"] == "-" and not year_s and (len(day) < 2 or len(month) < 2):
        return None  # "2-3 personer"
    year = None if not year_s else int(year_s) + (2000 if len(year_s) == 2 else 0)
    d = _day_month(ctx.today, int(day), int(month), year)
    if m["sep"] == "." and not year_s and not m["dot"] and len(month) == 2:
        c = _clock(day, month)
        if c is not None:
            return _one(m, "ambiguous", (d, c))
    return _one(m, "date", d) if d else None


def _h_month_date(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    """'den 3. december', '3 dec', '3rd of December', 'December 3', 'dec 3, 2026'."""
    month_first = _g(m, "first") is not None
    if month_first and m["month"] in _AMBIGUOUS_MONTHS and not m["ord"]:
        return None
    if _is_quantity(ctx, m.start(), m.end()):
        return None
    d = _day_month(ctx.today, int(m["d"]), _MONTHS[m["month"]], int(m["y"]) if m["y"] else None)
    return _one(m, "date", d) if d else None


def _relative(days: int) -> _Handler:
    def handler(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
        return _one(m, "date", ctx.today + datetime.timedelta(days=days))
    return handler


def _h_tonight(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    return [_Hit(m.start(), m.end(), "soft_today", ctx.today), _Hit(m.start(), m.end(), "period", "aften")]


def _h_week(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    week = int(m["w"])
    if not 1 <= week <= 53 or _is_quantity(ctx, m.start(), m.end()):
        return None
    monday = _iso_week_monday(ctx.today, week)
    return _one(m, "week", monday) if monday else None


def _h_named_week(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    """'næste uge' / 'next week', 'denne uge' / 'this week'."""
    monday = _monday(ctx.today)
    if m["which"] not in ("denne", "this"):
        monday += datetime.timedelta(days=7)
    return _one(m, "week", monday)


def _h_weekday(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    return _one(m, "weekday", (_WEEKDAYS[m["wd"]], bool(m["next"])))


_ABBR_FOLLOW = re.compile(
    rf"\.?\s*,?\s*(?:(?:den|d\.)\s*)?(?:(?P<time>{_KL}\w|(?:halv|kvart)\s|\d{{1,2}}[:.]\d{{2}}(?!\d))|"
    rf"(?P<date>\d{{1,2}}[./-]\d|\d{{1,2}}\.?\s*{_MONTH}))"
)


def _h_weekday_abbr(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    """'tors kl 10', 'fre d. 4/12', 'på ons'; 'man' (also a pronoun) never just before a time."""
    follow = _ABBR_FOLLOW.match(ctx.text, m.end())
    dated = bool(follow and follow["date"])
    timed = bool(follow and follow["time"]) and m["wd"] != "man"
    if not (m["pre"] or dated or timed):
        return None
    return _one(m, "weekday", (_WEEKDAY_ABBR[m["wd"]], bool(m["next"])))


def _h_period(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    if re.search(r"\b(?:god|good)\s*$", ctx.text[: m.start()]):
        return None  # a greeting: "god morgen", "good afternoon"
    hits = _one(m, "period", _PERIOD_WORDS[m["p"]])
    pre = (m["pre"] or "").strip()
    if pre == "this" or (pre == "i" and not m["def"]):
        hits.append(_Hit(m.start(), m.end(), "soft_today", ctx.today))  # "i eftermiddag" = this afternoon
    return hits


def _h_early(m: re.Match[str], ctx: _Ctx) -> list[_Hit] | None:
    if re.search(r"\b(?:saa|for|lidt|meget|hurtigst|snarest|hvor)\s*$", ctx.text[: m.start()]):
        return None  # "så tidligt som muligt", "for tidligt"
    return _one(m, "period", "morgen")


_DIGIT_CLOCK = r"(?P<h{n}>\d{{1,2}})(?:[.:](?P<m{n}>\d{{2}}))?"
_RANGE_END = rf"(?:{_KL})?{_DIGIT_CLOCK.format(n=2)}(?!\d){_NO_NUM_AFTER}"
_WORD_CLOCK = (
    r"(?=(?:fem|ti|tyve|kvart)\s+(?:over|i)\s|halv\s)"
    r"(?:(?P<min>fem|ti|tyve|kvart)\s+(?P<dir>over|i)\s+)?(?P<half>halv\s+)?"
)
#: Without "kl.": "halv X", "kvart over/i X", "fem over/i halv X" ("ti i to" alone may be a count).
_WORD_CLOCK_BARE = (
    r"(?=kvart\s+(?:over|i)\s|(?:(?:fem|ti|tyve)\s+(?:over|i)\s+)?halv\s)"
    r"(?:(?P<min>fem|ti|tyve|kvart)\s+(?P<dir>over|i)\s+)?(?P<half>halv\s+)?"
)
_AT_FOLLOW = (
    r"(?=\s*(?:$|[?!.,;)]|o'?clock|oclock|(?:on|in|or|and|then|please|tomorrow|today|next|this)\b))"
)
_NUM_DATE = (
    rf"{_NO_NUM_BEFORE}(?P<d>\d{{1,2}})(?P<sep>[./-])(?P<mo>\d{{1,2}})"
    rf"(?:[./-](?P<y>\d{{4}}|\d{{2}}))?(?P<dot>\.)?{_NO_NUM_AFTER}"
)
_DAY_FIRST = (
    rf"(?:\b(?:den|d\.|the)\s*)?{_NO_NUM_BEFORE}(?P<d>\d{{1,2}})(?:\.|(?P<ord>st|nd|rd|th))?\s*(?:of\s+)?"
    rf"{_MONTH}(?:\s*,?\s*(?P<y>20\d{{2}})(?!\d))?"
)
_MONTH_FIRST = (
    rf"\b(?P<first>){_MONTH}\s*(?:the\s+)?(?P<d>\d{{1,2}})(?!\d)(?:(?P<ord>st|nd|rd|th)\b|\.)?"
    rf"(?:\s*,?\s*(?P<y>20\d{{2}})(?!\d))?(?![.:/-]\d)"
)

#: In priority order: a match blocks overlapping matches of later patterns.
_PATTERNS: list[tuple[re.Pattern[str], _Handler]] = [(re.compile(p), h) for p, h in [
    # clock ranges
    (rf"\bmellem\s+{_KL}{_DIGIT_CLOCK.format(n=1)}\s+og\s+{_RANGE_END}", _h_range),
    (rf"\bfra\s+{_KL}{_DIGIT_CLOCK.format(n=1)}\s+til\s+{_RANGE_END}", _h_range),
    (rf"{_KL}{_DIGIT_CLOCK.format(n=1)}\s*(?:-|til|to)\s*{_RANGE_END}", _h_range),
    (rf"{_NO_NUM_BEFORE}(?P<h1>\d{{1,2}})[.:](?P<m1>\d{{2}})\s*-\s*(?P<h2>\d{{1,2}})[.:](?P<m2>\d{{2}}){_NO_NUM_AFTER}",
     _h_range),
    # explicit and relative dates
    (_DAY_FIRST, _h_month_date),
    (_MONTH_FIRST, _h_month_date),
    (r"\b(?:i\s*)?overmorgen\b|\b(?:the\s+)?day\s+after\s+tomorrow\b", _relative(2)),
    (r"\bi\s*morgen\b|\btomorrow\b", _relative(1)),
    (r"\bi\s*dag\b|\btoday\b", _relative(0)),
    (r"\btonight\b", _h_tonight),
    # weeks
    (r"\b(?:i\s+|in\s+)?(?:uge|week)\s*(?:nr\.?\s*|nummer\s+|no\.?\s*)?(?P<w>\d{1,2})(?!\d)(?![.,:/]\d)", _h_week),
    (rf"\b(?:i\s+|in\s+)?(?P<which>{_NEXT}|denne|this)\s+(?:uge|week)\b", _h_named_week),
    # clock times
    (rf"{_KL}{_WORD_CLOCK}{_HOUR}", _h_word_clock),
    (rf"{_KL}(?P<h>\d{{1,2}})(?:[.:](?P<m>\d{{2}}))?{_NO_NUM_AFTER}", _h_kl_digits),
    (rf"{_KL}(?P<hour>{_alt(_HOUR_WORDS)})\b", _h_kl_word),
    (rf"\b{_WORD_CLOCK_BARE}{_HOUR}", _h_word_clock),
    (rf"(?:\bat\s+)?{_NO_NUM_BEFORE}(?P<h>\d{{1,2}})(?:[.:](?P<m>\d{{2}}))?\s*(?P<ampm>a\.?m\b\.?|p\.?m\b\.?)", _h_ampm),
    (r"\b(?:at\s+)?(?:noon|midday)\b", _h_noon),
    (rf"\bat\s+(?P<h>\d{{1,2}})(?:[.:](?P<m>\d{{2}}))?{_NO_NUM_AFTER}{_AT_FOLLOW}", _h_clock),
    (rf"{_NO_NUM_BEFORE}(?P<h>\d{{1,2}})(?:[.:](?P<m>\d{{2}}))?\s*(?:o'?clock|oclock|-?tiden)\b", _h_clock),
    (rf"{_NO_NUM_BEFORE}(?P<h>\d{{1,2}}):(?P<m>\d{{2}}){_NO_NUM_AFTER}", _h_clock),
    (rf"{_NO_NUM_BEFORE}(?P<h>\d{{1,2}})\.(?P<m>\d{{2}}){_NO_NUM_AFTER}", _h_dot_clock),
    # numeric dates (after the clock times, which take "kl. 9.30" and "14.30")
    (_NUM_DATE, _h_numeric_date),
    # weekdays
    (rf"\b(?:(?:paa|on|this|denne|kommende|foerstkommende|forstkommende)\s+)?(?:(?P<next>{_NEXT})\s+)?"
     rf"(?P<wd>{_alt(_WEEKDAYS)})(?:en|s)?\b", _h_weekday),
    (rf"\b(?P<pre>(?:paa|(?P<next>{_NEXT}))\s+)?(?P<wd>{_alt(_WEEKDAY_ABBR)})\b", _h_weekday_abbr),
    # parts of the day
    (r"\b(?P<pre>i\s+|om\s+|this\s+|in\s+the\s+)?"
     r"(?P<p>eftermiddag|formiddag|morgen|aften|morning|afternoon|evening)(?P<def>en)?\b", _h_period),
    (r"\btidlig(?:t)?\b(?!\s+som\b)", _h_early),
]]


# --------------------------------------------------------------------------- combining

def _find_hits(ctx: _Ctx) -> list[_Hit]:
    """All expressions in the text, earlier patterns winning overlaps, in text order."""
    taken = bytearray(len(ctx.text))
    hits: list[_Hit] = []
    for pattern, handler in _PATTERNS:
        pos = 0
        while (m := pattern.search(ctx.text, pos)) is not None:
            found = None if any(taken[m.start():m.end()]) else handler(m, ctx)
            if found:
                taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
                hits.extend(found)
                pos = m.end()
            else:
                pos = m.start() + 1
    hits.sort(key=lambda h: h.start)
    return hits


_ADDRESS = re.compile(r"\S+@\S+|\bhttps?://\S+|\bwww\.\S+")
_LABEL_GAP = re.compile(r"[\s,()]*(?:(?:den|d\.|the)\s*)?")


def _is_label(weekday: _Hit, dates: list[_Hit], text: str) -> bool:
    """A weekday written right next to an explicit date ("torsdag den 3. december", "i morgen (onsdag)")."""
    for d in dates:
        gap = text[weekday.end:d.start] if weekday.end <= d.start else text[d.end:weekday.start]
        if _LABEL_GAP.fullmatch(gap):
            return True
    return False


def _settle_ambiguous(hits: list[_Hit]) -> None:
    """'10.10' is a time when another day and no other time is named, otherwise a date."""
    has_day = any(h.kind in ("date", "week", "weekday") for h in hits)
    has_time = any(h.kind == "time" for h in hits)
    for h in hits:
        if h.kind != "ambiguous":
            continue
        d, c = h.value
        if d is None or (has_day and not has_time):
            h.kind, h.value, has_time = "time", c, True
        else:
            h.kind, h.value, has_day = "date", d, True


def _days(hits: list[_Hit], text: str, today: datetime.date) -> tuple[datetime.date, ...]:
    one = datetime.timedelta(days=1)
    dates = [h for h in hits if h.kind == "date"]
    weeks = [h.value for h in hits if h.kind == "week"]
    weekdays = [h.value for h in hits if h.kind == "weekday" and not _is_label(h, dates, text)]
    days = {h.value for h in dates}
    for monday in weeks:
        offsets = [wd for wd, _ in weekdays] if weekdays else range(5)  # "tirsdag i uge 50"
        days.update(monday + one * wd for wd in offsets)
    if not weeks:
        for wd, is_next in weekdays:
            if is_next:  # the weekday in the following calendar week
                days.add(_monday(today) + one * (7 + wd))
            else:  # the nearest one after today
                days.add(today + one * ((wd - today.weekday()) % 7 or 7))
    if not days:
        days.update(h.value for h in hits if h.kind == "soft_today")
    return tuple(sorted(days))


def parse(text: str, now: datetime.datetime) -> TimeRequest | None:
    """The date/time request in ``text``, relative to ``now``; None when it names no day, time or period.

    ``now`` is a naive local (Europe/Copenhagen) datetime. Danish with or without æ/ø/å and basic
    English are understood, with any other words around. The result is not checked against opening
    hours, holidays or the past; see the module docstring for how ambiguous expressions are read.
    """
    # E-mail addresses and web addresses never hold dates; blank them out (keeping the offsets).
    folded = _ADDRESS.sub(lambda m: " " * len(m[0]), fold(text or ""))
    for dash in "\u2010\u2011\u2012\u2013\u2014\u2212":
        folded = folded.replace(dash, "-")
    ctx = _Ctx(folded, now.date())
    hits = _find_hits(ctx)
    _settle_ambiguous(hits)
    if not hits:
        return None

    named = next((h.value for h in hits if h.kind == "period"), None)
    period = PERIODS[named] if named else None
    clock_range = next((h.value for h in hits if h.kind == "range"), None)
    if clock_range:
        period = (_resolve_clock(clock_range[0], named), _resolve_clock(clock_range[1], named))
    clock = next((h.value for h in hits if h.kind == "time"), None)
    result = TimeRequest(
        days=_days(hits, folded, ctx.today),
        time=_resolve_clock(clock, named) if clock else None,
        period=period,
    )
    return None if result.is_empty() else result
