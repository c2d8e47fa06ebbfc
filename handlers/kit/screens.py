"""One screen mechanism: a view is rendered as a `Screen`, remembered as the chat's latest
question (so a typed number answers it like a press), and put in place of the pressed message
or as a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update

from bot.choices import Choice
from bot.context import BotContext
from handlers.kit import answers
from handlers.kit.replies import show


@dataclass(frozen=True)
class Screen:
    """What one screen shows, and the choice a typed number answers."""

    text: str
    keyboard: InlineKeyboardMarkup | None
    choice: Choice


def remember(context: BotContext, prefix: str, **params: Any) -> None:
    """The screen of `prefix` with `params` is the latest shown: a typed number answers it."""
    assert context.user_data is not None
    answers.ask(context, prefix)
    context.user_data[prefix] = params


async def put(update: Update, context: BotContext, screen: Screen | None,
              message: Message | None) -> None:
    """Show a screen in place of the pressed `message`, or as a new message (None: nothing)."""
    if screen is not None:
        await show(update, context, screen.text, screen.keyboard, message)
