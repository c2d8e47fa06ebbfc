"""Small reply helpers shared by the feature modules."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import callbacks, orgtree
from bot.callbacks import CallbackData
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, Translator
from bot.permissions import Role
from storage.members import Member

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, Any]]


async def say(
    update: Update, context: BotContext, text: str, markup: ReplyMarkup | None = None
) -> None:
    """Send a new message to the chat the update came from; nothing is read back.

    PTB turns every answer into a `Message` with all its entities and buttons, which costs more
    than many a handler (issue 16); `say_kept` is for the few callers that edit what they sent.
    """
    assert update.effective_chat is not None
    data: dict[str, Any] = {
        "chat_id": update.effective_chat.id, "text": text, "parse_mode": ParseMode.HTML,
    }
    if markup is not None:
        data["reply_markup"] = markup
    # The same request `send_message` makes (through the defaults, the pacer and the Zalo
    # bridge alike); `do_api_request` would warn on every call that `send_message` exists.
    await context.bot._post("sendMessage", data)


async def say_kept(
    update: Update, context: BotContext, text: str, markup: ReplyMarkup | None = None
) -> Message:
    """`say`, returning the sent `Message` (to edit it later, e.g. a progress line)."""
    assert update.effective_chat is not None
    return await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def say_only(update: Update, context: BotContext, text: str) -> None:
    """`say` without buttons (kept for its callers)."""
    await say(update, context, text)


async def edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit a message in place; pressing the button that shows the current view is harmless.

    A message that is gone (deleted, or a forged press naming one that never existed) is left
    alone: the press has been answered already.
    """
    data: dict[str, Any] = {"chat_id": message.chat_id, "message_id": message.message_id,
                            "text": text, "parse_mode": ParseMode.HTML}
    if markup is not None:
        data["reply_markup"] = markup
    try:  # as `message.edit_text`, without reading the edited message back (see `say`)
        await message.get_bot()._post("editMessageText", data)
    except BadRequest as exc:
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise


async def show(update: Update, context: BotContext, text: str,
               keyboard: InlineKeyboardMarkup | None = None,
               message: Message | None = None) -> None:
    """Show a view: in place of `message` (a press), or as a new message (a command, a typed
    answer)."""
    if message is not None:
        await edit(message, text, keyboard)
    else:
        await say(update, context, text, keyboard)


async def acknowledge(update: Update, context: BotContext, text: str | None = None, *,
                      alert: bool = True) -> None:
    """Answer a press (once; `text` as an alert); for a typed answer, say `text` instead."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=alert and text is not None)
    elif text:
        await say(update, context, text)


def press_of(update: Update) -> tuple[CallbackQuery, CallbackData | None, Message | None]:
    """The press being handled: its query, its decoded data (None: not a button of ours) and
    the pressed message (None when it is too old to be edited)."""
    query = update.callback_query
    assert query is not None
    message = query.message if isinstance(query.message, Message) else None
    return query, callbacks.decode(query.data), message


async def retire_buttons(query: CallbackQuery, note: str | None = None) -> None:
    """Take the buttons off a pressed message (so it cannot be pressed again), adding a note."""
    message = query.message
    if not isinstance(message, Message):
        return
    try:
        if note and message.text_html and len(message.text or "") + len(note) < 4000:
            await message.edit_text(f"{message.text_html}\n\n{note}", reply_markup=None)
        elif message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest as exc:  # already edited (double tap) or too old to edit
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise


async def retire_and_say(update: Update, context: BotContext, text: str) -> None:
    """Leave a screen with a last word: a pressed message loses its buttons, then `text`."""
    if update.callback_query is not None:
        await retire_buttons(update.callback_query)
    await say(update, context, text)


def requires(role: Role) -> Callable[[Callback], Callback]:
    """Let the callback run only for someone holding `role` or more; others get a clear no.

    Used on commands and on button presses alike, so a forged press is refused the same way.
    """

    def decorate(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def guarded(update: Update, context: BotContext) -> Any:
            principal = context.principal
            if principal is not None and principal.at_least(role):
                return await callback(update, context)
            await refuse(update, context, role=role)
            return None

        return guarded

    return decorate


# Who may do what a role guards (said with a refusal, so she knows whom to ask).
WHO_MAY = {
    Role.CHAPTER_HEAD: N_("This is for chapter heads and union officers."),
    Role.UNIT_ADMIN: N_("This is for union officers of a ward or a district."),
    Role.SUPER_ADMIN: N_("This is for the people who run this assistant."),
}


async def refuse(update: Update, context: BotContext, *, role: Role | None = None) -> None:
    """Tell her she has no right to do this (an alert for a button, a message otherwise);
    with `role`, also who may."""
    text = context.t._("Sorry, you do not have permission to do this.")
    if role in WHO_MAY:
        text = f"{text}\n{context.t._(WHO_MAY[role])}"
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await say(update, context, text)


def paginate(lines: list[str], *, budget: int = 3500, max_lines: int = 25) -> list[list[str]]:
    """Split lines into pages that stay well under Telegram's 4096 characters."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        line = line if len(line) <= budget else line[: budget - 1] + "…"
        if pages[-1] and (size + len(line) + 1 > budget or len(pages[-1]) >= max_lines):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return pages


def page_buttons(prefix: str, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """◀ n/N ▶ under a paginated message (`prefix:p:<page>`); None for a single page."""
    if pages <= 1:
        return None
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("◀", callback_data=callbacks.encode(prefix, "p", page - 1)))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}",
                                    callback_data=callbacks.encode(prefix, "p", page)))
    if page < pages - 1:
        row.append(InlineKeyboardButton("▶", callback_data=callbacks.encode(prefix, "p", page + 1)))
    return InlineKeyboardMarkup([row])


STALE = N_("This button is no longer active. Please use the latest message.")


async def answer_stale(update: Update, context: BotContext) -> None:
    """Answer a press on a button that no longer applies (old message, finished flow, forged)."""
    if update.callback_query is not None:
        await update.callback_query.answer(context.t._(STALE), show_alert=True)


async def gone(update: Update, context: BotContext, text: str | None = None) -> None:
    """What a press or typed answer was for is no longer there: say so (an alert for a press)."""
    await acknowledge(update, context, text or context.t._(STALE))


def draft_press(update: Update, context: BotContext, key: str) -> CallbackData | None:
    """The press, decoded, if it carries the nonce of the draft `user_data[key]`; else None."""
    assert update.callback_query is not None
    data = callbacks.decode(update.callback_query.data)
    draft = (context.user_data or {}).get(key)
    if data is None or not draft or data.arg(0) != draft.get("nonce"):
        return None
    return data


async def checked_press(update: Update, context: BotContext, key: str) -> CallbackData | None:
    """`draft_press`, with the stale-button answer given when it is None."""
    data = draft_press(update, context, key)
    if data is None:
        await answer_stale(update, context)
    return data


class TreeMove(NamedTuple):
    """Where a unit chooser goes after a navigation press."""

    level: int | None  # the unit whose children are listed (None: the top)
    page: int
    changed: bool  # False: the current page pressed again


async def tree_move(
    context: BotContext, data: CallbackData, *, level: int | None, page: int
) -> TreeMove | None:
    """The navigation part of a unit-chooser press (`…:up` or `…:<step>:p:<page>`) from `level`
    and `page`; None if the press is not navigation."""
    if data.arg(1) == "up":
        unit = await orgtree.get(context.db, level)
        return TreeMove(unit.parent_id if unit else None, 0, True)
    if data.arg(2) == "p" and (data.arg(3) or "").isdigit():
        moved = int(data.arg(3) or 0)
        return TreeMove(level, moved, moved != page)
    return None


async def pressed_option(
    update: Update, context: BotContext, draft_key: str, choice: Choice
) -> Option | None:
    """The option a button of the current draft picked (`…:o:<key>`), with the press answered
    and the buttons replaced by a note of the choice; None (answered as stale) otherwise."""
    query = update.callback_query
    assert query is not None
    data = draft_press(update, context, draft_key)
    option = choice.by_key(data.arg(3)) if data else None
    if option is None:
        await answer_stale(update, context)
        return None
    await query.answer()
    await retire_buttons(query, f"<i>{html.escape(option.label)}</i>")
    return option


async def member_with_chapter(update: Update, context: BotContext) -> Member | None:
    """Her membership with a chapter, or a hint (an alert for a button) and None."""
    t = context.t
    member = context.principal.member if context.principal else None
    text = None
    if member is None:
        text = t._("Please register first with /start.")
    elif member.unit_id is None:
        text = t._("Your profile has no chapter yet. Please choose your chapter with /me first.")
    if text is None:
        return member
    await hint(update, context, text)
    return None


async def registered_member(update: Update, context: BotContext, refusal: str) -> Member | None:
    """The member who wrote, or None after telling her `refusal` (she is not registered)."""
    member = context.principal.member if context.principal else None
    if member is None:
        await hint(update, context, refusal)
    return member


async def hint(update: Update, context: BotContext, text: str) -> None:
    """A short refusal: an alert over the button she pressed, a message otherwise."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await say(update, context, text)


class MemberPress(NamedTuple):
    """A press by a member with a chapter."""

    query: CallbackQuery
    member: Member
    data: CallbackData | None  # None: data that does not decode


async def member_press(update: Update, context: BotContext) -> MemberPress | None:
    """The press, her membership and its data; None (answered with a hint) if she has no
    chapter, so each feature's buttons need not say it again."""
    query = update.callback_query
    assert query is not None
    member = await member_with_chapter(update, context)
    if member is None:
        return None
    return MemberPress(query, member, callbacks.decode(query.data))


def typed_text(update: Update) -> str:
    """The text of the message that came in ('' for a photo, a contact or a press)."""
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def erased_member(t: Translator, actor_id: int | None) -> str | None:
    """Who acted, when she has since erased her data: her pseudonym, never her name.

    Erasure rewrites her Telegram id in actor columns to -N (N: her anonymised member row);
    None for anyone else.
    """
    if actor_id is None or actor_id >= 0:
        return None
    return str(t._("erased member #{n}", n=-actor_id))
