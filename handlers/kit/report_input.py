"""What a member types into an activity report: its date and its quantity.

Pure parsing (text in, value or `InvalidInput` with a reason out), apart from the report flow
in `handlers/activities.py` so it reads, and is tested, on its own.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from bot.i18n import N_, nfc
from bot.validators import InvalidInput

QUANTITY_MAX = 1000
_TODAY_WORDS = {"hôm nay", "hom nay", "today", "nay"}
_YESTERDAY_WORDS = {"hôm qua", "hom qua", "yesterday", "qua"}
_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2}|\d{4}))?")
_NUMBER = re.compile(r"(\d+)(?:[.,](\d+))?")


def parse_date(text: str, today: date) -> date:
    """'hôm nay', 'hôm qua', 'dd/mm' or 'dd/mm/yyyy' (also with - or .) as a date.

    Without a year, the date is this year's, or last year's when this year's is more than
    half a year ahead (28/12 typed in January). Raises InvalidInput with a reason.
    """
    answer = nfc(text).strip().casefold()
    if answer in _TODAY_WORDS:
        return today
    if answer in _YESTERDAY_WORDS:
        return today - timedelta(days=1)
    match = _DATE.fullmatch(answer)
    if not match:
        raise InvalidInput(N_("Please type the date as dd/mm or dd/mm/yyyy, e.g. {example}."),
                           example=f"{today.day}/{today.month}/{today.year}")
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    full_year = (2000 + int(year) if len(year) == 2 else int(year)) if year else today.year
    try:
        found = date(full_year, month, day)
    except ValueError:
        raise InvalidInput(N_("{text} is not a date in the calendar. Please check the day and "
                              "the month (dd/mm)."), text=html.escape(text.strip())) from None
    if year is None and (found - today).days > 183:
        found = found.replace(year=found.year - 1)
    return found


def check_report_date(day: date, today: date) -> None:
    """Not in the future, not before 1 January of last year; raises InvalidInput."""
    earliest = date(today.year - 1, 1, 1)
    if day > today:
        raise InvalidInput(N_("That date is in the future. Please report what you have "
                              "already done."))
    if day < earliest:
        raise InvalidInput(N_("That is too long ago: reports can go back to {date}."),
                           date=f"{earliest.day}/{earliest.month}/{earliest.year}")


def parse_quantity(text: str, unit: str | None = None) -> float:
    """'2,5', '2.5', '3 kg': a positive number with at most two decimals, at most
    QUANTITY_MAX. Raises InvalidInput with a reason."""
    answer = nfc(text).strip().casefold()
    if unit and answer.endswith(unit.casefold()):
        answer = answer[: -len(unit)].strip()
    if answer.startswith("-"):
        raise InvalidInput(N_("The quantity must be more than 0."))
    match = _NUMBER.fullmatch(answer)
    if not match:
        raise InvalidInput(N_("Please type just a number, e.g. 2 or 2,5."))
    if match.group(2) is not None and len(match.group(2)) > 2:
        raise InvalidInput(N_("Please type the number with at most two decimals, e.g. 2,5 "
                              "(without thousands separators)."))
    value = float(f"{match.group(1)}.{match.group(2) or 0}")
    if value <= 0:
        raise InvalidInput(N_("The quantity must be more than 0."))
    if value > QUANTITY_MAX:
        raise InvalidInput(N_("That is more than {limit}. Please check the number."),
                           limit=QUANTITY_MAX)
    return value
