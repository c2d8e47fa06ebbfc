"""Typed answers inside the activity, chapter and reminder conversations.

Several features show choices and questions at the same time; the latest one shown owns a
typed answer (`user_data["pending_choice"]`, as for the stateless features in
`fallback.TYPED_CHOICES`). A conversation whose question is no longer the latest passes a
typed text or /cancel on to the fallback, and keeps its own state and draft.
"""

from __future__ import annotations

import functools
import operator

from telegram import Update
from telegram.ext import ConversationHandler, filters

from bot.context import BotContext
from handlers.kit import menu
from handlers.kit.replies import say

# Main-menu buttons always open their feature, whatever question is open.
_MENU_LABELS = (menu.PROFILE, menu.LANGUAGE, menu.HELP, menu.REGISTER, menu.UNITS,
                menu.STANDARD, menu.FAMILY, menu.REPORT)
MENU_BUTTONS = functools.reduce(operator.or_, (menu.button_filter(label)
                                               for label in _MENU_LABELS))
ANSWER = filters.TEXT & ~filters.COMMAND & ~MENU_BUTTONS
"""A typed answer: text that is neither a command nor a main-menu button."""


def ask(context: BotContext, prefix: str) -> None:
    """This feature's question is now the latest one shown."""
    if context.user_data is not None:
        context.user_data["pending_choice"] = prefix


def owns(context: BotContext, prefix: str) -> bool:
    """Whether this feature's question is still the latest one shown."""
    return (context.user_data or {}).get("pending_choice") == prefix


def release(context: BotContext, prefix: str) -> None:
    """The question was answered or given up: typed numbers no longer go to it."""
    if context.user_data is not None and context.user_data.get("pending_choice") == prefix:
        context.user_data.pop("pending_choice")


async def pass_on(update: Update, context: BotContext) -> None:
    """Give a typed text to whichever choice is the latest (or the usual hint)."""
    from handlers import fallback  # fallback imports the feature modules

    await fallback.free_message(update, context)


async def pass_on_cancel(update: Update, context: BotContext) -> None:
    """/cancel meant for the latest question, which is another feature's."""
    from handlers import fallback

    await fallback.nothing_to_cancel(update, context)


async def cancel(update: Update, context: BotContext, prefix: str, said: str) -> int | None:
    """/cancel in a feature's flow: leave it (saying `said`) if its question is the latest one;
    otherwise the /cancel belongs to another question and is passed on."""
    if not owns(context, prefix):
        await pass_on_cancel(update, context)
        return None
    release(context, prefix)
    if context.user_data is not None:
        context.user_data.pop(prefix, None)
    await say(update, context, said)
    return ConversationHandler.END


def int_arg(value: str | None) -> int | None:
    """A button's numeric argument (an id, a page), or None if it is not a sane number."""
    if value is None or not value.isdigit() or len(value) > 15:
        return None
    return int(value)
