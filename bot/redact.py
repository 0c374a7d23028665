"""CPR numbers (Danish personal identity numbers) masked out of text before it is stored or logged.

A CPR number is a date of birth (DDMMYY) and four digits, written ``DDMMYY-XXXX``,
``DDMMYYXXXX`` or ``DDMMYY XXXX`` (any dash). Only numbers whose first six digits are a real
day and month count, so most other ten-digit numbers (an account number, a booking reference)
are left alone. The modulus-11 check is not used: CPR numbers issued since 2007 need not pass it.

The pattern has a fixed length and no nested repetition, so masking is linear in the text's
length (a 100,000-character message takes milliseconds).
"""
from __future__ import annotations

import re

#: What a CPR number is replaced with (the user is told; staff see it in the transcript).
PLACEHOLDER = "[CPR fjernet]"

_DASHES = r"\-\u2010\u2011\u2012\u2013\u2014\u2212"  # escaped: inside a character class
_CPR = re.compile(
    r"(?<!\d)(?P<day>[0-3][0-9])(?P<month>[01][0-9])(?P<year>[0-9]{2})"
    rf"(?:[ {_DASHES}]|\s?[{_DASHES}]\s?)?(?P<serial>[0-9]{{4}})(?!\d)"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: any year may be a leap year


def _plausible(match: re.Match[str]) -> bool:
    day, month = int(match["day"]), int(match["month"])
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]


def mask_cpr(text: str) -> tuple[str, bool]:
    """``text`` with every CPR number replaced by ``[CPR fjernet]``, and whether there was one."""
    found = False

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        if not _plausible(match):
            return match.group(0)
        found = True
        return PLACEHOLDER

    masked = _CPR.sub(replace, text)
    return masked, found


def contains_cpr(text: str) -> bool:
    """Whether ``text`` holds something that looks like a CPR number."""
    return any(_plausible(m) for m in _CPR.finditer(text))
