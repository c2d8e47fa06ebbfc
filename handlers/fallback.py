"""Last in line: unknown commands, free text outside a flow, and stale button presses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from handlers import admin as people_and_units
from handlers import evaluation, family, language, privacy, standard
from handlers import settings as settings_menu
from handlers import stats as stats_screens
from handlers import targets as target_screens
from handlers.kit.replies import answer_stale, retire_buttons, say

# Choices offered outside a conversation that may be answered by typing their number.
TYPED_CHOICES: dict[str, Callable[[Update, BotContext, str], Awaitable[bool]]] = {
    language.PREFIX: language.language_typed,
    standard.PREFIX: standard.typed,
    standard.WRITE: standard.written,
    family.PREFIX: family.typed,
    evaluation.PREFIX: evaluation.typed,
    evaluation.YEAR_PREFIX: evaluation.close_typed,
    privacy.PREFIX: privacy.typed,
    settings_menu.PREFIX: settings_menu.typed,
    stats_screens.PREFIX: stats_screens.typed,
    target_screens.PREFIX: target_screens.typed,
    target_screens.VALUE: target_screens.value_typed,
    people_and_units.GRANT: people_and_units.grant_typed,
    people_and_units.UNIT: people_and_units.unit_typed,
}
# Pending prompts that /cancel leaves with their own words (instead of "nothing to cancel").
CANCELLABLE: dict[str, Callable[[Update, BotContext], Awaitable[bool]]] = {
    standard.WRITE: standard.cancel_writing,
    target_screens.VALUE: target_screens.cancel_value,
    people_and_units.GRANT: people_and_units.cancel_grant,
    people_and_units.UNIT: people_and_units.cancel_unit,
}


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel outside any flow: forget a pending choice and say there was nothing running."""
    if context.user_data is not None:
        pending = context.user_data.get("pending_choice")
        if pending in CANCELLABLE and await CANCELLABLE[pending](update, context):
            return
        context.user_data.pop("pending_choice", None)
    await say(update, context, context.t._("There is nothing to cancel. /help lists what I "
                                           "can do."))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have."""
    await say(update, context, context.t._("I do not know that command. /help lists what I "
                                           "can do."))


async def free_message(update: Update, context: BotContext) -> None:
    """Text or media outside any flow: a typed choice if one is pending, else a hint."""
    message = update.effective_message
    pending = (context.user_data or {}).get("pending_choice")
    if (
        message is not None
        and message.text
        and pending in TYPED_CHOICES
        and await TYPED_CHOICES[pending](update, context, message.text)
    ):
        return
    t = context.t
    principal = context.principal
    if principal is not None and (principal.member is not None or principal.is_super_admin):
        await say(update, context, t._("Please use the menu buttons below, or send /help to "
                                       "see what I can do."))
    else:
        await say(update, context, t._("Hello! Send /start to register as a member of the "
                                       "Women's Union, or /help to learn more."))


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
        CallbackQueryHandler(stale_press),
    ]
