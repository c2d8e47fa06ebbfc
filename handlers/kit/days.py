"""Days and activities as a member reads them: today where the union is, dates, quantities.

Shared by the report flow, /myreports, the one-tap environment day, /chapter, the reminder
schedules, /broadcast's schedule, /meeting and /poll.
"""

from __future__ import annotations

import html
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
