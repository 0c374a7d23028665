"""CPR numbers are masked wherever they are written the usual ways, and nothing else is."""
from __future__ import annotations

import time

import pytest

from bot.redact import PLACEHOLDER, contains_cpr, mask_cpr


@pytest.mark.parametrize("written", [
    "010190-1234", "0101901234", "010190 1234", "010190 - 1234", "010190\u20131234",
    "290200-4321",  # 29 February: any year may be a leap year
    "311299-0001",
])
def test_cpr_numbers_are_masked(written):
    masked, found = mask_cpr(f"Mit CPR er {written}, tak.")
    assert found
    assert masked == f"Mit CPR er {PLACEHOLDER}, tak."
    assert contains_cpr(written)


@pytest.mark.parametrize("text", [
    "320190-1234",  # no 32nd day
    "011390-1234",  # no 13th month
    "311190-1234",  # 31 November
    "12345678",  # a phone or CVR number
    "01019012345",  # eleven digits
    "010190-12345",
    "2026-12-01",  # a date
    "KB-2026-7QH4KM",  # a booking reference
    "ring på 12 34 56 78",
])
def test_other_numbers_are_left_alone(text):
    assert mask_cpr(text) == (text, False)
    assert not contains_cpr(text)


def test_several_numbers_in_one_text():
    masked, found = mask_cpr("a 010190-1234 b 0202021234 c")
    assert found and masked == f"a {PLACEHOLDER} b {PLACEHOLDER} c"


def test_masking_is_fast_on_long_text():
    started = time.perf_counter()
    for text in ("1" * 100_000, "010190 " * 15_000, "010190-1234 " * 8_000):
        mask_cpr(text)
    assert time.perf_counter() - started < 1.0
