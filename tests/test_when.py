"""One parser for typed times: what /reminders accepts, a scheduled notice accepts too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.when import parse_local_datetime, parse_time

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=HANOI)


@pytest.mark.parametrize(("typed", "read"), [
    ("6h", "06:00"), ("6h30", "06:30"), ("06:30", "06:30"), ("18.00", "18:00"),
    ("7 giờ", "07:00"), ("7 giờ 15", "07:15"), (" 19H30 ", "19:30"), ("6", "06:00")])
def test_times_of_day(typed, read):
    assert parse_time(typed) == read


@pytest.mark.parametrize("typed", ["24h", "6h75", "sáu giờ", "", "6:3"])
def test_not_times(typed):
    assert parse_time(typed) is None


@pytest.mark.parametrize(("typed", "read"), [
    ("3/12 7h", datetime(2026, 12, 3, 7, 0, tzinfo=HANOI)),
    ("3/12 07:30", datetime(2026, 12, 3, 7, 30, tzinfo=HANOI)),
    ("25/12/2026 7h30", datetime(2026, 12, 25, 7, 30, tzinfo=HANOI)),
    ("1/12 7h", datetime(2027, 12, 1, 7, 0, tzinfo=HANOI)),  # passed this year: next year's
])
def test_dates_with_times(typed, read):
    assert parse_local_datetime(typed, NOW) == read


@pytest.mark.parametrize("typed", ["3/12", "7h", "31/2 7h", "3/12 25h"])
def test_not_dates_with_times(typed):
    assert parse_local_datetime(typed, NOW) is None

