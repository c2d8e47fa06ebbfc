"""'✅ I took part' under an environment-day reminder: one tap records that day, once.

The reminder (bot/reminders.py) carries the day in its button; a press within the reminder's
week records a report (source 'button'), and offers to add a photo (the report flow's
`PHOTO_PREFIX` button) while the report may still be edited.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
)

from bot import callbacks
from bot import reminders as schedule
from bot.context import BotContext
from handlers.kit.days import PHOTO_PREFIX, day_text, is_editable, local_today
from handlers.kit.replies import (
    STALE,
    member_with_chapter,
    retire_buttons,
)
from storage import activities
from storage.activities import NewReport
from storage.db import to_iso


async def took_part(update: Update, context: BotContext) -> None:
    """'✅ I took part' under an environment-day reminder: record that day, once."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = callbacks.decode(query.data)
    day = schedule.parse_day(data.arg(0)) if data else None
    today = local_today(context)
    entry = context.catalog.find("activities", schedule.ENVIRONMENT_ACTIVITY)
    if day is None or day > today or entry is None:
        await query.answer(t._(STALE), show_alert=True)
        return
    member = await member_with_chapter(update, context)
    if member is None:
        return
    assert member.unit_id is not None
    if not schedule.button_open(day, today):
        await query.answer(t._(
            "This reminder was for {date}; its week has passed, so the button no longer "
            "records. If you took part that day, report it with /report.",
            date=day_text(t, day)), show_alert=True)
        await retire_buttons(query)
        return
    report, created = await activities.add_once(context.db, NewReport(
        member_id=member.id, unit_id=member.unit_id, activity_code=entry.code,
        day=day.isoformat(), source=activities.BUTTON), at=to_iso(context.clock.now()))
    await query.answer(t._("✅ Recorded. Thank you!") if created
                       else t._("This was already recorded. Thank you!"))
    message = query.message
    if not isinstance(message, Message):
        return
    note = t._("✅ Recorded: you took part in {activity} on {date}. Thank you!",
               activity=html.escape(entry.label(t.locale)), date=day_text(t, day))
    keyboard = None
    if report.photo_file_id is None and is_editable(context, report):
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(
            t._("📷 Add a photo"), callback_data=callbacks.encode(PHOTO_PREFIX, report.id))]])
    body = message.text_html or ""
    if html.unescape(note) not in (message.text or ""):
        body = f"{body}\n\n{note}" if len(body) + len(note) < 4000 else note
    try:
        await message.edit_text(body, reply_markup=keyboard)
    except BadRequest as exc:  # pressed twice: already shows this
        if "not modified" not in exc.message:
            raise


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CallbackQueryHandler(took_part, pattern=callbacks.pattern(schedule.BUTTON_PREFIX)),
    ]
