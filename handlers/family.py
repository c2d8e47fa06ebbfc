"""/family: register the household for "Gia đình 5 không, 3 sạch" and self-assess it.

The self-assessment is a checklist keyboard: each press toggles one criterion and edits the
same message in place (saved at once), Done closes it. The answers are sensitive: they are
shown to the member herself only; everybody else sees whether the household self-assessed as
meeting every criterion, never which. Buttons carry the year they were shown for; a typed
number answers the latest choice shown (through the router in `kit.answers`). The criteria are
those of the set her registration was made under (before she registers: this year's set), so
a new set loaded for the year never changes a checklist she has started.

Entering the checklist needs her separate consent to the self-check (sensitive data,
`bot.consent.FAMILY_TEXT`): asked with two explicit buttons the first time, and again when its
version changes. Declining keeps her household registered and stores no answer.
"""

from __future__ import annotations

import contextlib
import html
from datetime import datetime
from typing import Any, TypedDict

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks, consent
from bot.catalog import CriteriaSet, Entry
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_
from handlers.kit import answers, menu
from handlers.kit.flow import kept
from handlers.kit.replies import (
    STALE,
    edit,
    member_with_chapter,
    retire_and_say,
    say_kept,
)
from handlers.kit.screens import Params, members_options, members_press, remember
from storage import campaigns, privacy
from storage.campaigns import FAMILY, AlreadyDecided, Registration, YearClosed
from storage.db import to_iso
from storage.members import Member

PREFIX = "fam"
INTRO, CHECKLIST, STATUS, CONSENT = "i", "c", "s", "k"
DONE = "done"
TICK, EMPTY = "✅", "⬜"


# --- views -----------------------------------------------------------------------------------


async def _state(context: BotContext, member: Member) -> tuple[Registration | None, bool]:
    year = context.this_year
    reg = await campaigns.registration(context.db, FAMILY, member.id, year)
    assert member.unit_id is not None
    closed = await campaigns.is_closed(context.db, year, reg.unit_id if reg else member.unit_id)
    return reg, closed


def _criteria_set(context: BotContext, reg: Registration | None) -> CriteriaSet:
    """The set her registration was made under; before she registers, this year's."""
    return context.catalog.criteria_set(context.this_year, reg.criteria_set if reg else None)


def _choice(context: BotContext, *, view: str, reg: Registration | None, closed: bool,
            answers: dict[str, bool]) -> Choice:
    """What can be chosen in a view, given her registration now."""
    t = context.t
    year = context.this_year
    if closed:
        return Choice([])
    if view == INTRO and reg is None:
        return Choice([Option("reg", t._("✅ Register {year}", year=year)),
                       Option("later", t._("✖ Not now"))])
    if reg is None or reg.result is not None:
        return Choice([])
    if view == CHECKLIST:
        options = [
            Option(c.code, f"{TICK if answers.get(c.code) else EMPTY} {c.button(t.locale)}")
            for c in _criteria_set(context, reg).criteria
        ]
        options.append(Option(DONE, t._("✔ Done")))
        return Choice(options, page_size=len(options), numbered=False)
    if view == CONSENT:
        return Choice([Option("yes", t._("✅ I agree")), Option("no", t._("✖ I do not agree"))])
    if view == STATUS:
        return Choice([Option("update", t._("✏️ Update self-check")),
                       Option("withdraw", t._("↩ Withdraw household"))])
    return Choice([])


def _intro_lines(context: BotContext, criteria: tuple[Entry, ...], *,
                 closed: bool) -> list[str]:
    """What the campaign asks, before she registers her household."""
    t = context.t
    year = context.this_year
    lines = [t._("A household that meets every criterion below can be recognised by "
                 "its chapter:")]
    # Bullets, not "1.": the options under the text are numbered (typed numbers on Zalo).
    described = [f"• <b>{html.escape(c.label(t.locale))}</b> — "
                 f"{html.escape(c.description(t.locale))}" for c in criteria]
    if sum(len(line) for line in described) > 2500:  # a long catalog: labels only
        described = [f"• <b>{html.escape(c.label(t.locale))}</b>" for c in criteria]
    lines += described
    lines += ["", _privacy(context)]
    if closed:
        lines.append(t._("🔒 {year} is closed for your chapter: registration is no longer "
                         "possible.", year=year))
    else:
        lines.append(t._("Register your household for {year}? You then tick the criteria "
                         "it meets, and can update them at any time during the year.",
                         year=year))
    return lines


async def _render(context: BotContext, member: Member, view: str,
                  note: str | None = None) -> tuple[str, InlineKeyboardMarkup | None, str]:
    """(text, keyboard, view actually shown) for this year."""
    t = context.t
    year = context.this_year
    reg, closed = await _state(context, member)
    if reg is None:
        view = INTRO
    elif view == INTRO or (view in (CHECKLIST, CONSENT) and (closed or reg.result is not None)):
        view = STATUS
    elif view == CHECKLIST and not await consent.family_consented(
            context.db, member.telegram_user_id):
        view = CONSENT  # her first self-check, or a new version of the consent text
    answers = await campaigns.answers(context.db, reg.id) if reg else {}
    criteria_set = _criteria_set(context, reg)
    lines = [t._("<b>{campaign} {year}</b>", campaign=html.escape(criteria_set.name(t.locale)),
                 year=year)]
    if note:
        lines += [note, ""]
    criteria = criteria_set.criteria
    met = sum(1 for c in criteria if answers.get(c.code))
    if view == INTRO:
        lines += _intro_lines(context, criteria, closed=closed)
    elif view == CONSENT:
        lines += [t._(consent.FAMILY_TEXT), "", t._("Tap a button or type its number.")]
    elif view == CHECKLIST:
        lines += [t._("<b>Your self-assessment</b>"),
                  t._("Tap (or type the number of) each criterion your household meets; "
                      "again to untick. Then Done. Every change is saved at once."), ""]
        lines += [f"{n}. {TICK if answers.get(c.code) else EMPTY} {html.escape(c.label(t.locale))}"
                  for n, c in enumerate(criteria, 1)]
        lines += [t._("{number}. ✔ Done", number=len(criteria) + 1), "",
                  t.n_("Met: {n} of {total} criterion.", "Met: {n} of {total} criteria.",
                       met, total=len(criteria)),
                  _privacy(context)]
    else:
        assert reg is not None
        tz = context.settings.timezone
        registered = datetime.fromisoformat(reg.registered_at).astimezone(tz)
        lines += [t._("🏡 Your household is registered (on {date}).", date=t.date(registered)),
                  "", t._("<b>Your self-assessment</b> (only you can see it):")]
        lines += [f"{TICK if answers.get(c.code) else EMPTY} {html.escape(c.label(t.locale))}"
                  for c in criteria]
        lines.append(t.n_("Met: {n} of {total} criterion.", "Met: {n} of {total} criteria.",
                          met, total=len(criteria)))
        lines += ["", _result_line(context, reg)]
        if not closed and reg.result is None and not await consent.family_consented(
                context.db, member.telegram_user_id):
            lines.append(t._("You have not agreed to the self-check (sensitive data) yet: "
                             "“✏️ Update self-check” asks you first."))
        if closed:
            lines.append(t._("🔒 {year} is closed: nothing can be changed any more.", year=year))
    choice = _choice(context, view=view, reg=reg, closed=closed, answers=answers)
    keyboard = choice.keyboard(PREFIX, year, view) if choice.options else None
    if keyboard is not None:
        _remember(context, view)
    else:
        _forget(context)
    return "\n".join(lines), keyboard, view


def _privacy(context: BotContext) -> str:
    return context.t._("🔒 Your answers are private: only you can see them. Your chapter head "
                       "and the union see only whether your household meets every criterion.")


def _result_line(context: BotContext, reg: Registration) -> str:
    t = context.t
    if reg.result is None or reg.decided_at is None:
        return t._("Chapter evaluation: not yet (your chapter evaluates at the end of the year).")
    decided = t.date(datetime.fromisoformat(reg.decided_at).astimezone(context.settings.timezone))
    if reg.result == campaigns.RECOGNISED:
        return t._("Chapter evaluation: 🎉 recognised as a “5 không, 3 sạch” family "
                   "(on {date}).", date=decided)
    return t._("Chapter evaluation: not recognised this time (on {date}).", date=decided)


class Shown(TypedDict, total=False):
    """The latest intro, checklist or status shown (persisted in `user_data["fam"]`)."""

    year: int  # a typed number answers it only in that year
    view: str  # INTRO, CHECKLIST, STATUS or CONSENT
    message_id: int  # its message: a newer one takes the buttons off it


def _shown(context: BotContext) -> Shown:
    """The latest screen shown in this chat (an empty one, kept nowhere, when none was)."""
    return kept(context, PREFIX)


def _remember(context: BotContext, view: str) -> None:
    remember(context, PREFIX, **Shown(year=context.this_year, view=view))


def _forget(context: BotContext) -> None:
    answers.forget(context, PREFIX)


async def _show(update: Update, context: BotContext, member: Member, view: str, *,
                message: Message | None = None, note: str | None = None) -> None:
    """Edit `message` (a press) or send a new message (the older one then loses its buttons,
    so only one checklist can be pressed)."""
    old = _shown(context).get("message_id")
    text, keyboard, _view = await _render(context, member, view, note)
    if message is not None:
        await edit(message, text, keyboard)
    else:
        message = await say_kept(update, context, text, keyboard)
        if old and old != message.message_id:
            with contextlib.suppress(BadRequest):  # already without buttons, or gone
                await context.bot.edit_message_reply_markup(message.chat_id, old,
                                                            reply_markup=None)
    if keyboard is not None and context.user_data is not None and PREFIX in context.user_data:
        context.user_data[PREFIX]["message_id"] = message.message_id


# --- entry -----------------------------------------------------------------------------------


async def show_family(update: Update, context: BotContext) -> None:
    """/family or the main-menu button: the intro, or her household's status."""
    member = await member_with_chapter(update, context)
    if member is None:
        return
    await _show(update, context, member, STATUS)


# --- answers ---------------------------------------------------------------------------------


async def pressed(update: Update, context: BotContext) -> None:
    """`fam:<year>:<view>:o:<key>`: a choice in the intro, the checklist or the status."""
    views = (INTRO, CHECKLIST, STATUS, CONSENT)
    found = await members_press(
        update, context, fits=lambda data: data.arg(2) == "o" and data.arg(1) in views,
        other_year=N_("This button is from {year}. Send /family for this year."))
    if found is None:
        return
    member, data, message = found
    await _act(update, context, member=member, view=data.arg(1) or "", key=data.arg(3) or "",
               message=message)


async def typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed number answering the latest intro, checklist or status shown."""
    member = await member_with_chapter(update, context)
    if member is None:
        return True
    shown = _shown(context)
    view = shown.get("view", STATUS)
    if shown.get("year") != context.this_year:
        await _show(update, context, member, STATUS, note=context.t._("A new year has begun."))
        return True
    reg, closed = await _state(context, member)
    given = await campaigns.answers(context.db, reg.id) if reg else {}
    option = _choice(context, view=view, reg=reg, closed=closed, answers=given).resolve(text)
    if option is None:
        return await answers.not_an_option(update, context, text,
                                           again=lambda: _show(update, context, member, view))
    await _act(update, context, member=member, view=view, key=option.key, message=None)
    return True


async def _carry_out(update: Update, context: BotContext, *, member: Member, view: str,
                     key: str, message: Message | None, reg: Registration | None,
                     given: dict[str, bool]) -> None:
    """The option `key`, checked already; a closed year or a decided household raises."""
    t = context.t
    year = context.this_year
    if key == "reg":
        assert member.unit_id is not None
        await campaigns.register(context.db, FAMILY, year=year, member_id=member.id,
                                 unit_id=member.unit_id, at=to_iso(context.clock.now()),
                                 criteria_set=context.catalog.criteria_set(year).id)
        await _show(update, context, member, CHECKLIST, message=message,
                    note=t._("🎉 Your household is registered for {year}.", year=year))
    elif key == "later":
        _forget(context)
        await retire_and_say(update, context, t._("All right. You can register your household "
                                                  "at any time this year with /family."))
    elif key == "update":
        await _show(update, context, member, CHECKLIST, message=message)
    elif key == "withdraw":
        await campaigns.withdraw(context.db, FAMILY, member.id, year)
        await _show(update, context, member, INTRO, message=message,
                    note=t._("Your household's registration for {year} is withdrawn, with "
                             "its self-assessment.", year=year))
    elif view == CONSENT:
        await _consent_answered(update, context, member, key == "yes", message)
    elif key == DONE:
        await _show(update, context, member, STATUS, message=message,
                    note=t._("✅ Your self-assessment is saved. You can update it at any "
                             "time this year with /family."))
    elif not await consent.family_consented(context.db, member.telegram_user_id):
        await _show(update, context, member, CHECKLIST, message=message)  # asks first
    else:  # a criterion: toggle it
        assert reg is not None
        await campaigns.set_answer(context.db, reg.id, key, not given.get(key),
                                   live_codes=[c.code for c in
                                               _criteria_set(context, reg).criteria],
                                   at=to_iso(context.clock.now()))
        await _show(update, context, member, CHECKLIST, message=message)


async def _act(update: Update, context: BotContext, *, member: Member, view: str, key: str,
               message: Message | None) -> None:
    """Carry out one option; a press edits its message in place, a typed answer replies."""
    t = context.t
    query = update.callback_query
    year = context.this_year
    reg, closed = await _state(context, member)
    answers = await campaigns.answers(context.db, reg.id) if reg else {}
    option = _choice(context, view=view, reg=reg, closed=closed, answers=answers).by_key(key)
    if option is None:  # decided or closed meanwhile, an old view, or forged
        if query is not None:
            await query.answer(t._(STALE))
        await _show(update, context, member, STATUS, message=message)
        return
    if query is not None:
        await query.answer()
    try:
        await _carry_out(update, context, member=member, view=view, key=key, message=message,
                         reg=reg, given=answers)
    except YearClosed:
        await _show(update, context, member, STATUS, message=message,
                    note=t._("🔒 {year} is closed: nothing can be changed any more.", year=year))
    except AlreadyDecided:
        await _show(update, context, member, STATUS, message=message,
                    note=t._("Your chapter has already evaluated your household for {year}, so "
                             "this can no longer be changed.", year=year))


async def _consent_answered(update: Update, context: BotContext, member: Member, agreed: bool,
                            message: Message | None) -> None:
    """Her answer to the self-check consent: logged with its version, or nothing stored."""
    t = context.t
    now = to_iso(context.clock.now())
    if agreed:
        if not await consent.family_consented(context.db, member.telegram_user_id):
            await privacy.give_consent(context.db, member.telegram_user_id,
                                       consent.FAMILY_PURPOSE, consent.FAMILY_VERSION, now)
        await _show(update, context, member, CHECKLIST, message=message,
                    note=t._("Thank you: your consent is recorded. You can withdraw it at any "
                             "time in /settings."))
        return
    # No answer without this consent (also any stored before the consent was asked for).
    await privacy.withdraw_family_consent(context.db, member.telegram_user_id, member.id,
                                          purpose=consent.FAMILY_PURPOSE, at=now)
    await _show(update, context, member, STATUS, message=message,
                note=t._("Understood: no self-check answer is stored. Your household stays "
                         "registered; you can do the self-check later with /family."))


# Typed answers to this feature's questions (the latest question asked owns them).
async def _options(context: BotContext, member: Member, shown: Params) -> Choice:
    """The options of the latest intro, checklist or status shown to her."""
    reg, closed = await _state(context, member)
    given = await campaigns.answers(context.db, reg.id) if reg else {}
    return _choice(context, view=shown.get("view", STATUS), reg=reg, closed=closed, answers=given)


answers.register(PREFIX, typed, options=members_options(PREFIX, _options))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [*menu.opened_by("family", show_family, menu.FAMILY),
            CallbackQueryHandler(pressed, pattern=callbacks.pattern(PREFIX))]
