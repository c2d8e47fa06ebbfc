"""/settings: a small menu of her settings (language, the environment-day reminders).

Each setting is one `kit.offers.Setting`, offered by the feature it belongs to (language,
privacy, the reminders here): a key (goes into the button), its place, a label showing the
current value, whether it applies to her, and what choosing it does. A new setting is one more
`offer_setting`; the menu, its buttons and typed numbers follow.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.choices import Choice, Option
from bot.context import BotContext
from handlers.kit import answers, offers
from handlers.kit.replies import STALE, edit, say
from storage import reminders
from storage.db import to_iso

PREFIX = "set"


# --- reminders -------------------------------------------------------------------------------


async def _reminders_label(context: BotContext) -> str:
    assert context.principal is not None and context.principal.member is not None
    if await reminders.opted_out(context.db, context.principal.member.id):
        return context.t._("🔕 Off · Reminders")
    return context.t._("🔔 On · Reminders")


async def _toggle_reminders(update: Update, context: BotContext) -> str | None:
    assert context.principal is not None and context.principal.member is not None
    member = context.principal.member
    out = not await reminders.opted_out(context.db, member.id)
    await reminders.set_opted_out(context.db, member.id, out, at=to_iso(context.clock.now()))
    t = context.t
    if out:
        return t._("🔕 You will no longer get the environment-day reminders. Your chapter's "
                   "notices still reach you.")
    return t._("🔔 The environment-day reminders are on again.")


offers.offer_setting(offers.Setting("rem", 20, _reminders_label, offers.is_member,
                                    _toggle_reminders))


# --- the menu --------------------------------------------------------------------------------


async def _choice(context: BotContext) -> Choice:
    return Choice([Option(item.key, await item.label(context))
                   for item in offers.settings() if item.applies(context)], numbered=False)


async def _view(context: BotContext, note: str | None) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    lines = [note, ""] if note else []
    lines += [t._("<b>Settings</b>"), t._("Tap a setting (or type its number) to change it.")]
    member = context.principal.member if context.principal else None
    if member is not None and member.status == "stopped":
        lines += ["", t._("You have stopped all notices and reminders with /stop; /start turns "
                          "them on again.")]
    if context.user_data is not None:
        context.user_data["pending_choice"] = PREFIX
    return "\n".join(lines), (await _choice(context)).keyboard(PREFIX)


async def show_settings(update: Update, context: BotContext) -> None:
    """/settings: the menu."""
    text, keyboard = await _view(context, None)
    await say(update, context, text, keyboard)


async def _carry_out(update: Update, context: BotContext, key: str,
                     message: Message | None) -> bool:
    item = next((i for i in offers.settings() if i.key == key and i.applies(context)), None)
    if item is None:
        return False
    if update.callback_query is not None:
        await update.callback_query.answer()
    note = await item.choose(update, context)
    if note is not None:
        text, keyboard = await _view(context, note)
        if message is not None:
            await edit(message, text, keyboard)
        else:
            await say(update, context, text, keyboard)
    return True


async def pressed(update: Update, context: BotContext) -> None:
    """A setting's button (`set:o:<key>`)."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if data is None or data.arg(0) != "o" or not await _carry_out(
            update, context, data.arg(1) or "", message):
        await query.answer(context.t._(STALE), show_alert=True)


async def typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed number answering the settings menu."""
    option = (await _choice(context)).resolve(text)
    if option is None:
        return False
    return await _carry_out(update, context, option.key, None)


# Typed answers to this feature's questions (the latest question asked owns them).
answers.register(PREFIX, typed, options=_choice)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("settings", show_settings, filters.ChatType.PRIVATE),
        CallbackQueryHandler(pressed, pattern=callbacks.pattern(PREFIX)),
    ]
