"""The one reading of a typed time ("6h", "6h30", "06:30", "18.00") and of a typed date and
time ("3/12 7h", "25/12/2026 07:30"), shared by broadcasts and reminder schedules, so a form
one screen accepts is never refused by another."""

from __future__ import annotations

import re
from datetime import datetime

_TIME = re.compile(r"\s*(\d{1,2})\s*(?:(?:[:h.]|giờ)\s*(\d{2})?\s*(?:p|phút)?)?\s*")
_DATE_TIME = re.compile(r"\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}))?\s+(.+)")


def parse_time(text: str) -> str | None:
    """'6:30', '06:30', '6h30', '6h', '6 giờ', '18.00' → 'HH:MM'; None if it is not a time."""
    match = _TIME.fullmatch(text.lower())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_local_datetime(text: str, local_now: datetime) -> datetime | None:
    """'25/12 07:30', '3/12 7h' or '25/12/2026 7h30' in the time zone of `local_now`; a date
    without a year that has passed this year is next year's."""
    match = _DATE_TIME.fullmatch(text)
    clock = parse_time(match.group(4)) if match else None
    if match is None or clock is None:
        return None
    day, month, year = match.group(1), match.group(2), match.group(3)
    hour, minute = (int(part) for part in clock.split(":"))
    try:
        when = local_now.replace(
            year=int(year) if year else local_now.year, month=int(month), day=int(day),
            hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        return None
    if not year and when < local_now:
        try:
            when = when.replace(year=when.year + 1)
        except ValueError:
            return None
    return when
