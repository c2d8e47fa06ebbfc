"""Oversized input is refused before any handler sees it (group -2).

Telegram itself never delivers a text over 4,096 characters, a caption over 1,024 or button
data over 64 bytes. The flows check their own, smaller limits with a precise answer ("that is
5.000 characters; at most 500"); what is far beyond anything Telegram delivers (a 5 MB text
posted to the webhook) is dropped here with a short answer, so no handler parses, stores or
echoes it. Photos and files are never downloaded anywhere in the bot: only file ids are kept.
"""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.i18n import N_
from bot.processing import set_outcome

TEXT_MAX = 10_000  # Telegram: 4,096
CAPTION_MAX = 4_096  # Telegram: 1,024
CALLBACK_DATA_MAX = 64  # Telegram: 64 bytes
CONTACT_FIELD_MAX = 64

TOO_LONG = N_("That message is too long for me. Please send something shorter.")


def oversized(update: Update) -> bool:
    """Whether the update carries more than Telegram itself would ever deliver."""
    message = update.message or update.edited_message
    if message is not None:
        if message.text is not None and len(message.text) > TEXT_MAX:
            return True
        if message.caption is not None and len(message.caption) > CAPTION_MAX:
            return True
        contact = message.contact
        if contact is not None and any(
            len(value or "") > CONTACT_FIELD_MAX
            for value in (contact.phone_number, contact.first_name, contact.last_name)
        ):
            return True
    query = update.callback_query
    return query is not None and len((query.data or "").encode()) > CALLBACK_DATA_MAX


async def refuse_oversized(update: object, context: BotContext) -> None:
    """The TypeHandler callback: drop an oversized update with a short answer."""
    if not isinstance(update, Update) or not oversized(update):
        return
    set_outcome("oversized")
    await context.refresh_principal()  # her language
    text = context.t._(TOO_LONG)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:
        pass
    raise ApplicationHandlerStop
