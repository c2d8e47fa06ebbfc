"""The typed-answer router: the latest question asked in a chat owns the next typed answer.

Several features show choices and questions at the same time. Asking one records its prefix
(`ask`, kept in `user_data["pending_choice"]`); a feature registers, once, what answers its
question (`register`). A typed text goes to the latest question
(`free_message`), and /cancel to the latest question's `cancel`. Multi-step flows
(`kit.flow`) register the same way, so no flow takes a typed answer meant for a later question.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, filters

from bot import callbacks
from bot.choices import CANCEL_WORDS, Choice, fold
from bot.context import BotContext
from handlers.kit import menu
from handlers.kit.replies import answer_stale, retire_buttons, say

# Main-menu buttons always open their feature, whatever question is open.
_MENU_LABELS = (menu.PROFILE, menu.LANGUAGE, menu.HELP, menu.REGISTER, menu.UNITS,
                menu.STANDARD, menu.FAMILY, menu.REPORT, menu.SUPPORT)
MENU_BUTTONS = functools.reduce(operator.or_, (menu.button_filter(label)
                                               for label in _MENU_LABELS))
ANSWER = filters.TEXT & ~filters.COMMAND & ~MENU_BUTTONS
"""A typed answer: text that is neither a command nor a main-menu button."""


def ask(context: BotContext, prefix: str) -> None:
    """This feature's question is now the latest one shown."""
    if context.user_data is not None:
        context.user_data["pending_choice"] = prefix


def release(context: BotContext, prefix: str) -> None:
    """The question was answered or given up: typed numbers no longer go to it."""
    if context.user_data is not None and context.user_data.get("pending_choice") == prefix:
        context.user_data.pop("pending_choice")


def forget(context: BotContext, prefix: str) -> None:
    """The question of `prefix` is answered: what it kept and its claim on typed answers go."""
    if context.user_data is not None:
        context.user_data.pop(prefix, None)
    release(context, prefix)


Typed = Callable[[Update, BotContext, str], Awaitable[bool]]
"""Answers a typed text for a question; False: the text answers nothing there."""
Cancel = Callable[[Update, BotContext], Awaitable[bool]]
"""Leaves a question on /cancel with its own words; False: there was nothing to leave."""
Options = Callable[[BotContext], Awaitable[Choice | None]]
"""The numbered options a question offers now (None: it expects free text)."""
Other = Callable[[Update, BotContext], Awaitable[bool]]
"""Answers a message that is not text (a shared contact, a photo); False: not taken."""

_TYPED: dict[str, Typed] = {}
_CANCEL: dict[str, Cancel] = {}
_OPTIONS: dict[str, Options] = {}
_OTHER: dict[str, Other] = {}


def register(prefix: str, typed: Typed, *, cancel: Cancel | None = None,
             options: Options | None = None, other: Other | None = None) -> None:
    """What answers the question `prefix` when it is the latest, what /cancel says, the
    options it offers (shown again for a number that matches none; a channel without buttons
    lists them), and what takes a message that is not text."""
    _TYPED[prefix] = typed
    if cancel is not None:
        _CANCEL[prefix] = cancel
    if options is not None:
        _OPTIONS[prefix] = options
    if other is not None:
        _OTHER[prefix] = other


async def options_of(context: BotContext) -> Choice | None:
    """The options of the latest question in this chat (None: none, or free text expected)."""
    pending = latest(context)
    found = _OPTIONS.get(pending) if pending else None
    return await found(context) if found is not None else None


def a_number(text: str) -> bool:
    """Whether a typed text is an option's number ("3", "3.")."""
    number = text.strip().rstrip(".")
    return number.isascii() and number.isdigit() and len(number) < 6


async def not_an_option(update: Update, context: BotContext, text: str, *,
                        again: Callable[[], Awaitable[object]] | None = None) -> bool:
    """A typed answer that is none of the screen's options. A number is left to the router
    (False: it answers with the options); other text is asked to tap or type a number, and the
    screen is shown `again` if given (True: answered)."""
    if a_number(text):
        return False
    await say(update, context, context.t._("Please tap one of the buttons or type its number."))
    if again is not None:
        await again()
    return True


async def _no_such_option(update: Update, context: BotContext, text: str) -> bool:
    """A typed number that matches no option of the latest question: say so, with the options."""
    number = text.strip().rstrip(".")
    choice = await options_of(context) if a_number(text) else None
    if choice is None or not choice.options:
        return False
    t = context.t
    lines = [t._("There is no option {number} here. Please type one of these numbers (or tap "
                 "a button of the latest message):", number=number)]
    lines += choice.listed()
    await say(update, context, "\n".join(lines[:60]))
    return True


def latest(context: BotContext) -> str | None:
    """The prefix of the latest question asked in this chat (None: no question is open)."""
    value = (context.user_data or {}).get("pending_choice")
    return value if isinstance(value, str) else None


async def free_message(update: Update, context: BotContext) -> None:
    """Text or media outside any flow: the latest question's answer if it takes it, else a hint."""
    message = update.effective_message
    if message is not None and message.text and fold(message.text) in CANCEL_WORDS:
        await nothing_to_cancel(update, context)  # she typed the word of the "✖ Hủy" button
        return
    pending = latest(context)
    typed = _TYPED.get(pending) if pending else None
    other = _OTHER.get(pending) if pending else None
    if (message is not None and message.text and typed is not None
            and (await typed(update, context, message.text)
                 or await _no_such_option(update, context, message.text))):
        return
    if (message is not None and not message.text and other is not None
            and await other(update, context)):
        return
    t = context.t
    principal = context.principal
    if principal is not None and (principal.member is not None or principal.is_super_admin):
        await say(update, context, t._("Please use the menu buttons below, or send /help to "
                                       "see what I can do."))
    else:
        await say(update, context, t._("Hello! Send /start to register as a member of the "
                                       "Women's Union, or /help to learn more."))


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel outside any flow: leave the latest question, or say there was nothing running."""
    pending = latest(context)
    leave = _CANCEL.get(pending) if pending else None
    if leave is not None and await leave(update, context):
        return
    if context.user_data is not None:
        context.user_data.pop("pending_choice", None)
    await say(update, context, context.t._("There is nothing to cancel. /help lists what I "
                                           "can do."))


async def cancel(update: Update, context: BotContext, prefix: str, said: str) -> int:
    """/cancel in a flow whose question is the latest: leave it (saying `said`), draft and all."""
    release(context, prefix)
    if context.user_data is not None:
        context.user_data.pop(prefix, None)
    await say(update, context, said)
    return ConversationHandler.END


def leave_prompt(prefix: str, said: str) -> Cancel:
    """The /cancel (and "✖ Cancel", `cancel_keyboard`) of a one-question prompt whose pending
    answer is kept in `user_data[prefix]`: drop it, saying `said` (a msgid); False when no
    answer is awaited there."""

    async def leave(update: Update, context: BotContext) -> bool:
        if not (context.user_data or {}).get(prefix):
            return False
        await cancel(update, context, prefix, context.t._(said))
        return True

    return leave


def int_arg(value: str | None) -> int | None:
    """A button's numeric argument (an id, a page), or None if it is not a sane number."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 15:
        return None
    return int(value)


CANCEL_PREFIX = callbacks.CANCEL


def cancel_button(context: BotContext, prefix: str) -> InlineKeyboardButton:
    """"✖ Cancel" under a prompt that waits for typed text: the same as /cancel (older members
    do not type commands)."""
    return InlineKeyboardButton(context.t._("✖ Cancel"),
                                callback_data=callbacks.encode(CANCEL_PREFIX, prefix))


def cancel_keyboard(context: BotContext, prefix: str, *,
                    rows: list[list[InlineKeyboardButton]] | None = None) -> InlineKeyboardMarkup:
    """The keyboard of a free-text prompt of `prefix`: its own `rows`, then "✖ Cancel"."""
    return InlineKeyboardMarkup([*(rows or []), [cancel_button(context, prefix)]])


async def cancel_pressed(update: Update, context: BotContext) -> None:
    """"✖ Cancel" under a prompt: what /cancel does, if that prompt is still the open question
    (an older prompt's button is stale)."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    prefix = data.arg(0) if data else None
    if prefix is None or latest(context) != prefix:
        await answer_stale(update, context)
        await retire_buttons(query)
        return
    await query.answer()
    await retire_buttons(query)
    await nothing_to_cancel(update, context)


def cancel_handler() -> CallbackQueryHandler:
    """The handler of every prompt's "✖ Cancel" (a new one for each application)."""
    return CallbackQueryHandler(cancel_pressed, pattern=callbacks.pattern(CANCEL_PREFIX))
