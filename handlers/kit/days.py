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
from bot.i18n import N_, Translator, nfc
from bot.validators import InvalidInput
from storage.activities import Report

PHOTO_PREFIX = "actph"  # "📷 Add a photo" under a recorded reminder: actph:<report id>
EDIT_DAYS = 7
PAUSE_MAX_DAYS = 366  # the longest pause of a reminder schedule
_DATE = re.compile(r"(\d{1,2})\s*[/.]\s*(\d{1,2})(?:\s*[/.]\s*(\d{4}))?")
_RANGE = re.compile(r"\s*(?:–|—|-\s|\s-|đến|to)\s*")


def local_today(context: BotContext) -> date:
    """Today where the union is."""
    return context.clock.now().astimezone(context.settings.timezone).date()


def activity_label(context: BotContext, code: str) -> str:
    """The catalog label of an activity type in her language (the code if it is unknown)."""
    entry = context.catalog.find("activities", code)
    return entry.label(context.t.locale) if entry else code


def activity_button(context: BotContext, code: str) -> str:
    """The short catalog label of an activity type, for a button."""
    entry = context.catalog.find("activities", code)
    return entry.button(context.t.locale) if entry else code


def day_button(day: str | date) -> str:
    """A date on a button, where the year is in the text above: "31/3"."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{value.day}/{value.month}"


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


VIETNAM_ZONES = {"Asia/Ho_Chi_Minh", "Asia/Saigon"}


def zone_name(context: BotContext) -> str:
    """The union's time zone as a member says it: "Việt Nam" rather than Asia/Ho_Chi_Minh."""
    key = str(context.settings.timezone)
    return context.t._("Vietnam") if key in VIETNAM_ZONES else key


def day_text(t: Translator, day: str | date) -> str:
    """A local date as she reads it."""
    return t.date(date.fromisoformat(day) if isinstance(day, str) else day)


def editable_until(report: Report) -> datetime:
    """Until when she may still edit or delete a report (EDIT_DAYS after reporting)."""
    return datetime.fromisoformat(report.created_at) + timedelta(days=EDIT_DAYS)


def is_editable(context: BotContext, report: Report) -> bool:
    """Whether the edit window of a report is still open."""
    return context.clock.now() < editable_until(report)


def summary_lines(context: BotContext, *, code: str, day: str, quantity: float | None,
                  note: str | None, photo: str | None) -> list[str]:
    """What a report holds, one line each."""
    t = context.t
    lines = [t._("Activity: {activity}", activity=html.escape(activity_label(context, code))),
             t._("Date: {date}", date=day_text(t, day))]
    if quantity is not None:
        lines.append(t._("Quantity: {quantity}", quantity=quantity_text(context, code, quantity)))
    written = f"<i>{html.escape(note)}</i>" if note else "—"
    lines.append(t._("Note: {note}", note=written))
    lines.append(t._("Photo: 📷 attached") if photo else t._("Photo: none"))
    return lines


def parse_pause(text: str, today: date) -> tuple[date, date]:
    """'17/2/2027', '17/2' or a range '14/2/2027 – 22/2/2027'; today or later, at most
    PAUSE_MAX_DAYS long. A date without a year is the next one to come. Raises InvalidInput."""
    parts = _RANGE.split(nfc(text).strip(), maxsplit=1)
    days = []
    for part in parts:
        match = _DATE.fullmatch(part.strip())
        if not match:
            raise InvalidInput(N_("Please type a date like 17/2/2027, or a range like "
                                  "14/2/2027 – 22/2/2027."))
        day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
        try:
            found = date(int(year) if year else today.year, month, day)
            if year is None and found < today:
                found = found.replace(year=found.year + 1)
        except ValueError:
            raise InvalidInput(N_("{text} is not a date in the calendar. Please check the day "
                                  "and the month (dd/mm)."),
                               text=html.escape(part.strip())) from None
        days.append(found)
    first, last = days[0], days[-1]
    if first < today or last < first:
        raise InvalidInput(N_("Please give dates from today on, the first one first."))
    if (last - first).days >= PAUSE_MAX_DAYS:
        raise InvalidInput(N_("A pause can last at most {days} days."), days=PAUSE_MAX_DAYS)
    return first, last
