"""/standard: register for this year's women's standard, write commitments, see the result.

"This year" is the local year (`context.this_year`). Buttons carry the year they were shown
for, so a button from last year's message is answered as stale. Every choice is a `Choice`:
a typed number answers the latest one shown (through the router in `kit.answers`), and a typed
text answers the "write your commitment" prompt.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, TypedDict

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_, nfc
from handlers.kit import answers, menu
from handlers.kit.flow import kept
from handlers.kit.replies import (
    STALE,
    edit,
    member_with_chapter,
    retire_and_say,
    say,
)
from handlers.kit.screens import Params, members_options, members_press, remember
from storage import campaigns
from storage.campaigns import COMMITMENT_MAX, STANDARD, AlreadyDecided, Registration, YearClosed
from storage.db import to_iso
from storage.members import Member

PREFIX = "std"  # buttons, and the latest choice shown (typed numbers)
WRITE = "stdw"  # waiting for the text of a commitment
CLEAR = "-"


# --- views -----------------------------------------------------------------------------------


async def _view(
    context: BotContext, member: Member, year: int, note: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The intro (not registered) or her status, with the choice that fits, for `year`."""
    t = context.t
    reg = await campaigns.registration(context.db, STANDARD, member.id, year)
    closed = await campaigns.is_closed(context.db, year,
                                       (reg.unit_id if reg else member.unit_id) or 0)
    lines = [t._("<b>Women's standard {year}</b>", year=year)]
    if note:
        lines += [note, ""]
    choice = _choice(context, reg, closed)
    if reg is None:
        lines.append(t._("The qualities of the standard:"))
        described = [f"• <b>{html.escape(q.label(t.locale))}</b> — "
                     f"{html.escape(q.description(t.locale))}" for q in context.catalog.qualities]
        if sum(len(line) for line in described) > 3000:  # a long catalog: labels only
            described = [f"• <b>{html.escape(q.label(t.locale))}</b>"
                         for q in context.catalog.qualities]
        lines += described
        lines.append("")
        if closed:
            lines.append(t._("🔒 {year} is closed for your chapter: registration is no longer "
                             "possible.", year=year))
        else:
            lines.append(t._("Would you like to register to strive for the standard this year? "
                             "At the end of the year your chapter evaluates who achieved it."))
    else:
        lines += await _status_lines(context, reg)
        if closed:
            lines += ["", t._("🔒 {year} is closed: nothing can be changed any more.", year=year)]
        else:
            lines += ["", t._("Tap a quality (or type its number) to write your commitment.")]
    keyboard = choice.keyboard(PREFIX, year) if choice.options else None
    if keyboard is not None:
        _remember(context, year)
    else:
        _forget(context)
    return "\n".join(lines), keyboard


async def _status_lines(context: BotContext, reg: Registration) -> list[str]:
    t = context.t
    tz = context.settings.timezone
    registered = datetime.fromisoformat(reg.registered_at).astimezone(tz)
    lines = [t._("✅ You registered on {date}.", date=t.date(registered))]
    if reg.result is not None and reg.decided_at is not None:
        decided = t.date(datetime.fromisoformat(reg.decided_at).astimezone(tz))
        if reg.result == campaigns.ACHIEVED:
            lines.append(t._("Result: 🎉 you achieved the standard (evaluated on {date}).",
                             date=decided))
        else:
            lines.append(t._("Result: not achieved this time (evaluated on {date}).",
                             date=decided))
    else:
        lines.append(t._("Result: not evaluated yet; your chapter evaluates at the end of "
                         "the year."))
    written = await campaigns.commitments(context.db, reg.id)
    shown = list(context.catalog.qualities) + [
        e for code in written if (e := context.catalog.find("qualities", code)) and e.retired
    ]
    # Keep the message under Telegram's limit whatever the catalog holds.
    room = max(60, 3000 // max(1, len(shown)))
    lines += ["", t._("<b>Your commitments</b> (optional, up to {limit} characters each):",
                      limit=COMMITMENT_MAX)]
    for quality in shown:
        text = written.get(quality.code)
        if text and len(text) > room:
            text = text[: room - 1] + "…"
        body = f"<i>{html.escape(text)}</i>" if text else "—"
        lines.append(f"• <b>{html.escape(quality.label(t.locale))}</b>: {body}")
    return lines


def _choice(context: BotContext, reg: Registration | None, closed: bool) -> Choice:
    t = context.t
    if closed:
        return Choice([])
    if reg is None:
        return Choice([Option("reg", t._("✅ Register for {year}", year=context.this_year)),
                       Option("later", t._("✖ Not now"))])
    options = [Option(f"q.{q.code}", f"✍️ {q.button(t.locale)}") for q in context.catalog.qualities]
    if reg.result is None:
        options.append(Option("withdraw", t._("↩ Withdraw my registration")))
    return Choice(options, page_size=len(options))


class Shown(TypedDict, total=False):
    """The latest intro or status shown (persisted in `user_data["std"]`)."""

    year: int  # a typed number answers it only in that year


def _shown(context: BotContext) -> Shown:
    """The latest intro or status shown in this chat (an empty one when none was)."""
    return kept(context, PREFIX)


class Writing(TypedDict, total=False):
    """The commitment she is asked to write (persisted in `user_data["stdw"]`)."""

    year: int
    quality: str  # a code of the catalog's qualities


def _writing(context: BotContext) -> Writing:
    """The commitment awaited in this chat (an empty one, kept nowhere, when none is)."""
    return kept(context, WRITE)


def _remember(context: BotContext, year: int) -> None:
    """The latest choice shown, so a typed number can answer it."""
    remember(context, PREFIX, **Shown(year=year))


def _forget(context: BotContext) -> None:
    if context.user_data is not None:
        if context.user_data.get("pending_choice") in (PREFIX, WRITE):
            context.user_data.pop("pending_choice")
        context.user_data.pop(PREFIX, None)
        context.user_data.pop(WRITE, None)


async def _show(update: Update, context: BotContext, member: Member, *,
                message: Message | None = None, note: str | None = None) -> None:
    text, keyboard = await _view(context, member, context.this_year, note)
    if message is not None:
        await edit(message, text, keyboard)
    else:
        await say(update, context, text, keyboard)


# --- entry -----------------------------------------------------------------------------------


async def show_standard(update: Update, context: BotContext) -> None:
    """/standard or the main-menu button: this year's registration or her status."""
    member = await member_with_chapter(update, context)
    if member is None:
        return
    _forget(context)
    await _show(update, context, member)


# --- answers ---------------------------------------------------------------------------------


async def pressed(update: Update, context: BotContext) -> None:
    """A button under the intro or the status (`std:<year>:o:<key>`)."""
    found = await members_press(
        update, context, fits=lambda data: data.arg(1) == "o",
        other_year=N_("This button is from {year}. Send /standard for this year."))
    if found is None:
        return
    member, data, message = found
    await _act(update, context, member, data.arg(2) or "", message)


async def typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed number answering the latest intro or status shown."""
    member = await member_with_chapter(update, context)
    if member is None:
        return True
    shown = _shown(context)
    year = context.this_year
    if shown.get("year") != year:
        await _show(update, context, member, note=context.t._("A new year has begun."))
        return True
    reg = await campaigns.registration(context.db, STANDARD, member.id, year)
    closed = await campaigns.is_closed(context.db, year,
                                       (reg.unit_id if reg else member.unit_id) or 0)
    option = _choice(context, reg, closed).resolve(text)
    if option is None:
        return await answers.not_an_option(update, context, text,
                                           again=lambda: _show(update, context, member))
    await _act(update, context, member, option.key, None)
    return True


async def _act(update: Update, context: BotContext, member: Member, key: str,
               message: Message | None) -> None:
    """Carry out one option; `message` is edited in place when the answer was a press."""
    t = context.t
    query = update.callback_query
    year = context.this_year
    assert member.unit_id is not None
    reg = await campaigns.registration(context.db, STANDARD, member.id, year)
    closed = await campaigns.is_closed(context.db, year,
                                       (reg.unit_id if reg else member.unit_id) or 0)
    option = _choice(context, reg, closed).by_key(key)
    if option is None:  # not offered now: registered meanwhile, decided, closed, or forged
        if query is not None:
            await query.answer(t._(STALE))
        await _show(update, context, member, message=message)
        return
    if query is not None:
        await query.answer()
    try:
        if key == "reg":
            _reg, created = await campaigns.register(
                context.db, STANDARD, year=year, member_id=member.id, unit_id=member.unit_id,
                at=to_iso(context.clock.now()))
            note = (t._("🎉 You are registered for {year}. Good luck!", year=year) if created
                    else t._("You were already registered for {year}.", year=year))
            await _show(update, context, member, message=message, note=note)
        elif key == "later":
            _forget(context)
            await retire_and_say(update, context, t._("All right. You can register at any time "
                                                      "this year with /standard."))
        elif key == "withdraw":
            await campaigns.withdraw(context.db, STANDARD, member.id, year)
            await _show(update, context, member, message=message,
                        note=t._("Your registration for {year} is withdrawn. You can register "
                                 "again at any time this year.", year=year))
        elif key.startswith("q.") and reg is not None:
            await _ask_commitment(update, context, reg, key[2:])
    except YearClosed:
        await _show(update, context, member, message=message,
                    note=t._("🔒 {year} is closed: nothing can be changed any more.", year=year))
    except AlreadyDecided:
        await _show(update, context, member, message=message,
                    note=t._("Your chapter has already evaluated you for {year}, so the "
                             "registration can no longer be withdrawn.", year=year))


async def _ask_commitment(update: Update, context: BotContext, reg: Registration,
                          code: str) -> None:
    t = context.t
    quality = context.catalog.find("qualities", code)
    assert quality is not None
    assert context.user_data is not None
    context.user_data["pending_choice"] = WRITE
    context.user_data[WRITE] = Writing(year=reg.year, quality=code)
    current = (await campaigns.commitments(context.db, reg.id)).get(code)
    lines = [t._("Write your commitment for <b>{quality}</b> in one message (up to {limit} "
                 "characters).", quality=html.escape(quality.label(t.locale)),
                 limit=COMMITMENT_MAX),
             f"<i>{html.escape(quality.description(t.locale))}</i>"]
    if current:
        now = f"<i>{html.escape(current)}</i>"
        lines.append(t._("Now: {text}", text=now))
        lines.append(t._("Send {dash} to remove it.", dash=CLEAR))
    lines.append(t._("Send /cancel to leave it as it is."))
    await say(update, context, "\n".join(lines), answers.cancel_keyboard(context, WRITE))


async def written(update: Update, context: BotContext, text: str) -> bool:
    """The text of a commitment (after tapping a quality)."""
    t = context.t
    member = await member_with_chapter(update, context)
    if member is None:
        return True
    pending = _writing(context)
    year, code = pending.get("year"), pending.get("quality")
    reg = await campaigns.registration(context.db, STANDARD, member.id, context.this_year)
    if year != context.this_year or reg is None or code is None:
        _forget(context)
        await _show(update, context, member, note=t._("That commitment was for {year}; "
                                                      "nothing was saved.",
                                                      year=year or context.this_year))
        return True
    value = nfc(text).strip()
    if answers.a_number(value):  # a slip or a number meant for the status's options
        return await _number_while_writing(update, context, member, reg, value)
    if len(value) > COMMITMENT_MAX:
        await say(update, context, t._("That is {length} characters; a commitment can have at "
                                       "most {limit}. Please shorten it and send it again.",
                                       length=len(value), limit=COMMITMENT_MAX))
        return True
    try:
        await campaigns.set_commitment(context.db, reg.id, code, None if value == CLEAR else value,
                                       at=to_iso(context.clock.now()))
    except YearClosed:
        _forget(context)
        await _show(update, context, member,
                    note=t._("🔒 {year} is closed: nothing can be changed any more.", year=year))
        return True
    _forget(context)
    note = t._("Commitment removed.") if value == CLEAR else t._("✅ Commitment saved.")
    await _show(update, context, member, note=note)
    return True


async def _number_while_writing(update: Update, context: BotContext, member: Member,
                                reg: Registration, number: str) -> bool:
    """A bare number at the commitment prompt is not a commitment: one that names an option of
    her status screen presses it; any other is asked back, and nothing is saved."""
    closed = await campaigns.is_closed(context.db, reg.year, reg.unit_id or 0)
    choice = _choice(context, reg, closed)
    option = choice.resolve(number)
    if option is not None:
        answers.forget(context, WRITE)
        await _act(update, context, member, option.key, None)
        return True
    t = context.t
    lines = [t._("Did you mean “{number}” as your commitment? A commitment is a sentence in "
                 "your own words: please type it, or type the number of one of these:",
                 number=number.rstrip("."))]
    lines += choice.listed()
    await say(update, context, "\n".join(lines), answers.cancel_keyboard(context, WRITE))
    return True


async def cancel_writing(update: Update, context: BotContext) -> bool:
    """/cancel while a commitment is awaited."""
    member = await member_with_chapter(update, context)
    _forget(context)
    if member is not None:
        await _show(update, context, member, note=context.t._("Cancelled; your commitment is "
                                                              "unchanged."))
    return True


# Typed answers to this feature's questions (the latest question asked owns them).
async def _options(context: BotContext, member: Member, shown: Params) -> Choice:
    """The options of the latest intro or status shown to her."""
    year = context.this_year
    reg = await campaigns.registration(context.db, STANDARD, member.id, year)
    closed = await campaigns.is_closed(context.db, year,
                                       (reg.unit_id if reg else member.unit_id) or 0)
    return _choice(context, reg, closed)


answers.register(PREFIX, typed, options=members_options(PREFIX, _options))
answers.register(WRITE, written, cancel=cancel_writing)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [*menu.opened_by("standard", show_standard, menu.STANDARD),
            CallbackQueryHandler(pressed, pattern=callbacks.pattern(PREFIX))]
