"""/me: her profile, with a button into the (shared) registration flow to correct it."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot import orgtree
from bot.context import BotContext
from bot.i18n import LANGUAGE_NAMES
from bot.validators import display_phone
from handlers.kit import answers, menu
from handlers.kit.replies import registered_member, say


async def show_profile(update: Update, context: BotContext) -> None:
    """Show what the bot holds about her and offer to correct it."""
    t = context.t
    registering = ((context.user_data or {}).get("reg") or {}).get("step")  # registration's draft
    member = await registered_member(update, context, t._(
        "You are in the middle of registering. Please answer the last question above to go on, "
        "or send /start to see it again.") if registering else t._(
        "You are not registered yet. Send /start to register."))
    if member is None:
        return
    registered = datetime.fromisoformat(member.created_at).astimezone(context.settings.timezone)
    text = "\n".join(
        [
            t._("<b>Your profile</b>"),
            t._("Full name: {name}", name=html.escape(member.full_name)),
            t._("Phone: {phone}", phone=display_phone(member.phone)),
            t._("Chapter: {unit}",
                unit=html.escape(await orgtree.unit_path(context.db, member.unit_id))),
            t._("Language: {language}", language=LANGUAGE_NAMES[member.locale]),
            t._("Registered on: {date}", date=t.date(registered)),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t._(menu.EDIT_PROFILE), callback_data="me:edit")]]
    )
    await say(update, context, text, keyboard)
    answers.ask(context, "me")  # registration answers it (a typed "1" edits too)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("me", show_profile, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.PROFILE), show_profile),
    ]
