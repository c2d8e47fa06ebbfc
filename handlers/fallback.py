"""Last in line: unknown commands, free text outside a flow (to the typed-answer router), and
stale button presses."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from handlers.kit.answers import cancel_handler, free_message, nothing_to_cancel
from handlers.kit.replies import answer_stale, retire_buttons, say


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have."""
    await say(update, context, context.t._("I do not know that command. /help lists what I "
                                           "can do."))


async def stale_press(update: Update, context: BotContext) -> None:
    """A button nobody handles any more (old message, finished flow, forged data)."""
    query = update.callback_query
    assert query is not None
    await answer_stale(update, context)
    await retire_buttons(query)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("cancel", nothing_to_cancel, filters.ChatType.PRIVATE),
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command),
        MessageHandler(filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL, free_message),
        cancel_handler(),
        CallbackQueryHandler(stale_press),
    ]
