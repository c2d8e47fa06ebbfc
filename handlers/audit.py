"""/audit (unit admins): who changed what, and when, in her units."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot import indicators as indicators_of
from bot import stats as figures_of
from bot.context import BotContext
from bot.i18n import N_
from bot.permissions import Role
from bot.reminders import KIND_LABELS, WEEKDAYS
from bot.stats import METRIC_BY_CODE
from handlers.kit.days import day_text
from handlers.kit.replies import STALE, erased_member, page_buttons, paginate, requires, say
from handlers.kit.replies import edit as edit_message
from handlers.kit.scope import ROLE_LABELS, admin_roots
from storage import audit, meetings, reminders

AUDIT = "au"

ACTIONS = {
    "role.grant": N_("made {member} {role} of {unit}"),
    "role.revoke": N_("took the role {role} of {unit} from {member}"),
    "unit.add": N_("added the unit {unit} ({code})"),
    "unit.rename": N_("renamed {old} to {unit}"),
    "unit.recode": N_("changed the code of {unit} from {old} to {new}"),
    "unit.move": N_("moved {unit}"),
    "unit.merge": N_("merged {old} ({code}) into {unit}"),
    "target.set": N_("set the target {metric} {year} of {unit} to {new}"),
    "target.remove": N_("removed the target {metric} {year} of {unit}"),
    "export": N_("exported the statistics {year} of {unit}"),
    "support.read": N_("read the request for help #{request} (made in {unit})"),
    "reminder.on": N_("switched on the reminder “{schedule}”"),
    "reminder.off": N_("switched off the reminder “{schedule}”"),
    "reminder.when": N_("moved the reminder “{schedule}” to {when}"),
    "reminder.text": N_("changed the text of the reminder “{schedule}” for {unit}"),
    "reminder.text_removed": N_("removed the own text of the reminder “{schedule}” for {unit}"),
    "reminder.pause": N_("paused the reminder “{schedule}” from {first} to {last}"),
    "reminder.unpause": N_("removed a pause of the reminder “{schedule}”"),
    "figure.set": N_("entered “{indicator}” of {unit} for {month}: {value}"),
    "meeting.cancel": N_("cancelled the meeting “{meeting}” of {unit}"),
}


# --- /audit --------------------------------------------------------------------------------------


async def _audit_lines(context: BotContext) -> list[str]:
    t = context.t
    roots = admin_roots(context)
    entries = []
    for root in roots if roots is not None else [None]:
        entries += await audit.recent(context.db, root, limit=200)
    entries = sorted({e.id: e for e in entries}.values(), key=lambda e: e.id, reverse=True)
    lines = []
    for entry in entries[:200]:
        when = t.datetime(datetime.fromisoformat(entry.at.replace("Z", "+00:00")).astimezone(
            context.settings.timezone))
        who = entry.actor_name or erased_member(t, entry.actor_id) or (
            t._("the command line") if entry.actor_id is None
            else t._("administrator {id}", id=entry.actor_id))
        d = entry.details
        metric = d.get("metric")
        values = {
            "member": entry.member_name or erased_member(
                t, None if entry.member_id is None else -entry.member_id) or "—",
            "role": t._(ROLE_LABELS[d["role"]]) if d.get("role") in ROLE_LABELS else "",
            "unit": entry.unit_name or "—", "code": d.get("code") or d.get("from") or "",
            "old": d.get("from_name") or d.get("old") or "",
            "new": (figures_of.target_text(t, METRIC_BY_CODE[metric], d.get("new"))
                    if metric in METRIC_BY_CODE else d.get("new") or ""),
            "metric": t._(METRIC_BY_CODE[metric].label) if metric in METRIC_BY_CODE else "",
            "year": d.get("year", ""), "request": d.get("request", ""),
            **await _reminder_values(context, d), **await _other_values(context, d),
        }
        what = t._(ACTIONS[entry.action], **values) if entry.action in ACTIONS else entry.action
        lines.append(f"• {when} · <b>{html.escape(who)}</b>: {html.escape(what)}")
    return lines


async def _reminder_values(context: BotContext, d: dict[str, Any]) -> dict[str, str]:
    """The schedule's title and when/dates of a reminder entry ('' for other entries)."""
    t = context.t
    schedule = await reminders.get(context.db, d["schedule"]) if "schedule" in d else None
    when = ""
    if "weekday" in d and "time" in d:
        when = t._("{weekday} at {time}", weekday=t._(WEEKDAYS[int(d["weekday"]) % 7]),
                   time=d["time"])
    return {"schedule": t._(KIND_LABELS[schedule.kind]) if schedule else "",
            "when": when,
            "first": day_text(t, d["first"]) if d.get("first") else "",
            "last": day_text(t, d["last"]) if d.get("last") else ""}


async def _other_values(context: BotContext, d: dict[str, Any]) -> dict[str, str]:
    """An entered unit figure (indicator, month, value) and a cancelled meeting's title, so the
    log reads in the union's words rather than "figure.set"."""
    t = context.t
    indicator = (indicators_of.load(context.settings.indicators).find(d["indicator"])
                 if "indicator" in d else None)
    value = ""
    if indicator is not None and d.get("new") is not None:
        value = f"{t.number(indicators_of.exact(d['new']))} {indicator.unit(t.locale)}"
    year, _, month = str(d.get("month", "")).partition("-")
    event = await meetings.get(context.db, int(d["event"])) if "event" in d else None
    return {"indicator": indicator.label(t.locale) if indicator else str(d.get("indicator", "")),
            "month": f"{int(month)}/{year}" if month.isdigit() else "", "value": value,
            "meeting": event.title if event else ""}


async def _audit_page(context: BotContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    t = context.t
    lines = await _audit_lines(context)
    if not lines:
        return t._("Nothing has been recorded in your units yet."), None
    pages = paginate(lines, max_lines=15)
    page = min(max(page, 0), len(pages) - 1)
    header = t._("<b>Audit log</b> (newest first; page {page} of {pages})", page=page + 1,
                 pages=len(pages))
    return "\n".join([header, *pages[page]]), page_buttons(AUDIT, page, len(pages))


@requires(Role.UNIT_ADMIN)
async def audit_command(update: Update, context: BotContext) -> None:
    """/audit: the newest entries about her units."""
    text, keyboard = await _audit_page(context, 0)
    await say(update, context, text, keyboard)


@requires(Role.UNIT_ADMIN)
async def audit_pressed(update: Update, context: BotContext) -> None:
    """Another page (her scope is read again on every press)."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    if data is None or data.arg(0) != "p" or not (data.arg(1) or "").isdigit():
        await query.answer(context.t._(STALE), show_alert=True)
        return
    await query.answer()
    text, keyboard = await _audit_page(context, int(data.arg(1) or 0))
    if isinstance(query.message, Message):
        await edit_message(query.message, text, keyboard)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("audit", audit_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(audit_pressed, pattern=callbacks.pattern(AUDIT)),
    ]
