"""Days and activities as a member reads them: today where the union is, dates, quantities.

Shared by the report flow, /myreports, the one-tap environment day, /chapter, the reminder
schedules, /broadcast's schedule, /meeting and /poll.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta

from bot.catalog import Entry
from bot.context import BotContext
from bot.i18n import Translator
from storage.activities import Report

PHOTO_PREFIX = "actph"  # "📷 Add a photo" under a recorded reminder: actph:<report id>
EDIT_DAYS = 7


def local_today(context: BotContext) -> date:
    """Today where the union is."""
    return context.clock.now().astimezone(context.settings.timezone).date()


def parse_local_datetime(text: str, local_now: datetime) -> datetime | None:
    """'25/12 07:30' or '25/12/2026 7:30' in the local time zone of `local_now`."""
    match = re.fullmatch(
        r"\s*(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?\s+(\d{1,2})[:h.](\d{2})\s*", text)
    if not match:
        return None
    day, month, year, hour, minute = match.groups()
    try:
        when = local_now.replace(
            year=int(year) if year else local_now.year, month=int(month), day=int(day),
            hour=int(hour), minute=int(minute), second=0, microsecond=0)
    except ValueError:
        return None
    if not year and when < local_now:
        try:
            when = when.replace(year=when.year + 1)
        except ValueError:
            return None
    return when


def activity_label(context: BotContext, code: str) -> str:
    """The catalog label of an activity type in her language (the code if it is unknown)."""
    entry = context.catalog.find("activities", code)
    return entry.label(context.t.locale) if entry else code


def unit_of(context: BotContext, code: str | None) -> str | None:
    """The unit an activity is counted in (kg, trees), or None when it is only counted."""
    entry: Entry | None = context.catalog.find("activities", code) if code else None
    return entry.unit(context.t.locale) if entry and entry.unit else None


def quantity_text(context: BotContext, code: str, quantity: float | None) -> str:
    """'2,5 kg'."""
    if quantity is None:
        return ""
    unit = unit_of(context, code)
    number = context.t.number(round(quantity, 2))
    return f"{number} {html.escape(unit)}" if unit else number


def day_text(t: Translator, day: str | date) -> str:
    """A local date as she reads it."""
    return t.date(date.fromisoformat(day) if isinstance(day, str) else day)


def editable_until(report: Report) -> datetime:
    """Until when she may still edit or delete a report (EDIT_DAYS after reporting)."""
    return datetime.fromisoformat(report.created_at) + timedelta(days=EDIT_DAYS)


def is_editable(context: BotContext, report: Report) -> bool:
    """Whether the edit window of a report is still open."""
    return context.clock.now() < editable_until(report)

