"""/figures [UNIT_CODE] [MM/YYYY] (heads and officers): enter the unit's figures for a month.

A head enters her chapter's, an officer those of any unit in her scope (the screen lists the
units below). Pick the indicator (tap or type its number), type the number the Vietnamese way
("1.500" is fifteen hundred, "1,5" one and a half where the unit of measure allows decimals).
A correction keeps the value before it, who typed it and when (storage/figures.py and the audit
log). The same screen shows which chapters below have not reported for the month. Every press
and typed value is authorised again, so a forged press for another unit is refused.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import callbacks, figure_deadline, orgtree
from bot import indicators as catalog_of
from bot import stats as figures_of
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_
from bot.indicators import Indicator, Indicators
from bot.permissions import Role
from handlers.kit import amounts, answers
from handlers.kit.amounts import how as _how
from handlers.kit.amounts import refusal as _refusal
from handlers.kit.amounts import value_text as _value_text
from handlers.kit.days import local_today
from handlers.kit.flow import kept
from handlers.kit.replies import STALE, acknowledge, erased_member, refuse, requires, say
from handlers.kit.scope import may_see, roots, scope_name
from handlers.kit.screens import Params, Screen, Views, put, remember
from storage import figures, members, units
from storage.db import to_iso
from storage.figures import Figure
from storage.units import Unit

PREFIX = "fg"
VALUE = "fgv"  # waiting for a typed figure
MENU, KIDS, LATE, CANCEL = "m", "k", "l", "x"
NUMBERS_PER_ROW = 6
HISTORY_SHOWN = 3
LATE_SHOWN = 40


def catalog(context: BotContext) -> Indicators:
    """The indicator catalog of this installation."""
    return catalog_of.load(context.settings.indicators)


def _ym(value: int) -> tuple[int, int]:
    return value // 100, value % 100


def _month(value: int) -> str:
    year, month = _ym(value)
    return catalog_of.month_key(year, month)


def _shift(value: int, months: int) -> int:
    year, month = _ym(value)
    index = year * 12 + month - 1 + months
    return index // 12 * 100 + index % 12 + 1


def _this_month(context: BotContext) -> int:
    today = local_today(context)
    return today.year * 100 + today.month


def _number_rows(prefix_args: tuple[object, ...], count: int) -> list[list[InlineKeyboardButton]]:
    """Buttons "1" … "n" (the list with its labels is in the text) in rows."""
    buttons = [InlineKeyboardButton(str(n), callback_data=callbacks.encode(
        PREFIX, *prefix_args, "o", f"n{n}")) for n in range(1, count + 1)]
    return [buttons[i:i + NUMBERS_PER_ROW] for i in range(0, len(buttons), NUMBERS_PER_ROW)]


def _button(label: str, *args: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(PREFIX, *args))


async def _menu(context: BotContext, unit_id: int, ym: int, note: str | None = None) -> Screen:
    t = context.t
    year, month = _ym(ym)
    entered = await figures.of_unit(context.db, unit_id, _month(ym))
    live = catalog(context).live
    lines = [t._("📊 <b>Figures for {month}/{year}</b>", month=month, year=year),
             f"<b>{await scope_name(context, unit_id)}</b>"]
    if note:
        lines.append(note)
    lines.append("")
    lines += amounts.numbered_lines(context, live, entered, empty="—")
    due = figure_deadline.deadline(_month(ym), context.settings.figures_deadline_day)
    lines += ["", t._("Due by {date}. Tap (or type) an indicator's number to enter or correct "
                      "it.", date=t.date(due))]
    options = [Option(f"n{n}", i.label(t.locale)) for n, i in enumerate(live, 1)]
    args = (MENU, unit_id, ym)
    rows = _number_rows(args, len(live))
    nav = [(_shift(ym, -1), "prev", f"◀ {_ym(_shift(ym, -1))[1]}/{_ym(_shift(ym, -1))[0]}")]
    if ym < _this_month(context):
        nav.append((_shift(ym, 1), "next", f"{_ym(_shift(ym, 1))[1]}/{_ym(_shift(ym, 1))[0]} ▶"))
    rows.append([_button(label, *args, "o", key) for _ym_value, key, label in nav])
    options += [Option(key, label) for _v, key, label in nav]
    if await orgtree.children(context.db, unit_id):
        rows.append([_button(t._("📋 Units below"), *args, "o", "kids")])
        rows.append([_button(t._("⏰ Not reported yet"), *args, "o", "late")])
        options += [Option("kids", t._("📋 Units below")),
                    Option("late", t._("⏰ Not reported yet"))]
    unit = await orgtree.get(context.db, unit_id)
    if unit is not None and unit.parent_id is not None and await may_see(
            context, unit.parent_id, Role.CHAPTER_HEAD):
        rows.append([_button(t._("⬆ Unit above"), *args, "o", "up")])
        options.append(Option("up", t._("⬆ Unit above")))
    remember(context, PREFIX, view=MENU, unit=unit_id, ym=ym)
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows), Choice(options,
                                                                       page_size=len(options)))


async def _kids(context: BotContext, unit_id: int, ym: int) -> Screen:
    t = context.t
    kids = await orgtree.children(context.db, unit_id)
    lines = [t._("📋 <b>Units of {unit}</b>", unit=await scope_name(context, unit_id)),
             t._("Whose figures? Tap or type the number."), ""]
    lines += [f"{n}. {html.escape(u.name)}" for n, u in enumerate(kids, 1)]
    args = (KIDS, unit_id, ym)
    rows = _number_rows(args, len(kids))
    rows.append([_button(t._("⬅ Back"), *args, "o", "back")])
    remember(context, PREFIX, view=KIDS, unit=unit_id, ym=ym)
    options = [Option(f"n{n}", u.name) for n, u in enumerate(kids, 1)]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows),
                  Choice([*options, Option("back", t._("⬅ Back"))], page_size=len(kids) + 1))


async def _late(context: BotContext, unit_id: int, ym: int) -> Screen:
    t = context.t
    year, month = _ym(ym)
    late = await figure_deadline.late_units(context.db, unit_id, _month(ym))
    due = figure_deadline.deadline(_month(ym), context.settings.figures_deadline_day)
    passed = local_today(context) > due
    lines = [t._("⏰ <b>Not reported for {month}/{year}</b>", month=month, year=year),
             f"<b>{await scope_name(context, unit_id)}</b>"]
    reporter = await _reported_above(context, unit_id, _month(ym)) if not late else None
    # The unit's own figures (or those of one above) stand for its chapters: not "all reported".
    if reporter is not None and (reporter.id != unit_id
                                 or await orgtree.children(context.db, unit_id)):
        lines.append(t._("No chapter is asked to report: {unit} entered figures for {month}/{year} "
                         "for all its units.", unit=html.escape(reporter.name), month=month,
                         year=year))
    elif not late:
        lines.append(t._("Every chapter has reported. Thank you!"))
    else:
        lines.append(t._("{n} chapters are late (the deadline was {date}):", n=len(late),
                         date=t.date(due)) if passed else
                     t._("{n} chapters have not reported yet (due by {date}):", n=len(late),
                         date=t.date(due)))
        lines += [f"• {html.escape(u.name)}" for u in late[:LATE_SHOWN]]
        if len(late) > LATE_SHOWN:
            lines.append(t._("… and {n} more.", n=len(late) - LATE_SHOWN))
    rows = [[_button(t._("⬅ Back"), LATE, unit_id, ym, "o", "back")]]
    remember(context, PREFIX, view=LATE, unit=unit_id, ym=ym)
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows),
                  Choice([Option("back", t._("⬅ Back"))]))


async def _reported_above(context: BotContext, unit_id: int, month: str) -> Unit | None:
    """The unit itself, or the nearest unit above it, that entered figures for the month (they
    cover the chapters below, so none of them is late)."""
    by_id = await orgtree.units_by_id(context.db)
    reported = await figures.units_reported(context.db, month)
    current = by_id.get(unit_id)
    while current is not None and current.id not in reported:
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return current


async def _render(context: BotContext, view: str, p: Params) -> Screen | None:
    if view == KIDS:
        return await _kids(context, p["unit"], p["ym"])
    if view == LATE:
        return await _late(context, p["unit"], p["ym"])
    if view == MENU:
        return await _menu(context, p["unit"], p["ym"])
    return None


class Pending(TypedDict, total=False):
    """The figure she is asked to type (persisted in `user_data["fgv"]`)."""

    unit: int
    ym: int  # the month, as yyyymm
    code: str  # the unit indicator's code in the catalog


def _pending(context: BotContext) -> Pending:
    """The figure awaited in this chat (an empty one, kept nowhere, when none is)."""
    return kept(context, VALUE)


def _valid_ym(context: BotContext, ym: Any) -> bool:
    return (isinstance(ym, int) and 1 <= ym % 100 <= 12
            and figures_of.FIRST_YEAR * 100 < ym <= _this_month(context))


async def _allowed(update: Update, context: BotContext, view: str,
                   p: Mapping[str, Any]) -> bool:
    if view == CANCEL:
        return True
    if not _valid_ym(context, p.get("ym")) or await orgtree.get(context.db, p.get("unit")) is None:
        await acknowledge(update, context, context.t._(STALE))
        return False
    if not await may_see(context, p["unit"], Role.CHAPTER_HEAD):
        await refuse(update, context)
        return False
    return True


async def _act(update: Update, context: BotContext, *, view: str, p: Params, key: str,
               message: Message | None) -> None:
    if view == CANCEL:
        await acknowledge(update, context)
        await _leave(update, context)
        return
    if not await _allowed(update, context, view, p):
        return
    unit, ym = p["unit"], p["ym"]
    target = await _target(context, key, view=view, unit=unit, ym=ym)
    if target is None:
        await acknowledge(update, context, context.t._(STALE))
        return
    if isinstance(target, Indicator):
        await acknowledge(update, context)
        await _ask(update, context, unit, ym, target)
        return
    next_unit, next_ym, next_view = target
    if not await may_see(context, next_unit, Role.CHAPTER_HEAD):
        await refuse(update, context)
        return
    await acknowledge(update, context)
    screen = await _render(context, next_view, {"unit": next_unit, "ym": next_ym})
    await put(update, context, screen, message)


async def _target(context: BotContext, key: str, *, view: str, unit: int,
                  ym: int) -> Indicator | tuple[int, int, str] | None:
    """What an option leads to: an indicator to enter, or the screen (unit, month, view)."""
    number = answers.int_arg(key[1:]) if key.startswith("n") else None
    if view == MENU:
        live = catalog(context).live
        if number is not None:
            return live[number - 1] if 1 <= number <= len(live) else None
        if key in ("prev", "next"):
            moved = _shift(ym, -1 if key == "prev" else 1)
            return (unit, moved, MENU) if _valid_ym(context, moved) else None
        if key in ("kids", "late"):
            return unit, ym, KIDS if key == "kids" else LATE
        found = await orgtree.get(context.db, unit)
        if key == "up" and found is not None and found.parent_id is not None:
            return found.parent_id, ym, MENU
        return None
    if key == "back":
        return unit, ym, MENU
    kids = await orgtree.children(context.db, unit) if view == KIDS else []
    if number is not None and 1 <= number <= len(kids):
        return kids[number - 1].id, ym, MENU
    return None


async def _who(context: BotContext, actor: int | None) -> str:
    erased = erased_member(context.t, actor)
    if erased is not None or actor is None:
        return erased or "—"
    member = await members.by_user(context.db, actor)
    return html.escape(member.full_name) if member else context.t._("an administrator")


async def _ask(update: Update, context: BotContext, unit: int, ym: int,
               indicator: Indicator) -> None:
    t = context.t
    year, month = _ym(ym)
    label = html.escape(indicator.label(t.locale))
    lines = [t._("✏️ <b>{label}</b> — {unit}, {month}/{year}", label=label,
                 unit=await scope_name(context, unit), month=month, year=year)]
    changes = await figures.history(context.db, unit, _month(ym), indicator.code)
    if changes:
        lines.append(t._("Now: {value}. Changes:", value=_value_text(
            context, indicator, changes[-1].new)))
        for change in changes[-HISTORY_SHOWN:]:
            when = _local_time(context, change.at)
            lines.append(t._("• {value} — by {who} {when}", value=_value_text(
                context, indicator, change.new), who=await _who(context, change.by), when=when))
    lines.append(_how(context, indicator))
    assert context.user_data is not None
    context.user_data[VALUE] = Pending(unit=unit, ym=ym, code=indicator.code)
    answers.ask(context, VALUE)
    await say(update, context, "\n".join(lines), _cancel_keyboard(context))


def _local_time(context: BotContext, at: str) -> str:
    """A stored instant as 'lúc 06:30 ngày 24/5/2026'."""
    when = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(context.settings.timezone)
    return context.t._("at {time} on {date}", time=f"{when:%H:%M}", date=context.t.date(
        when.date()))


def _cancel_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(context.t._("✖ Cancel"), CANCEL, "o", "x")]])


async def value_typed(update: Update, context: BotContext, text: str) -> bool:
    """The typed figure for the indicator chosen last."""
    pending = _pending(context)
    principal = context.principal
    if principal is None or not principal.at_least(Role.CHAPTER_HEAD) or "code" not in pending:
        return False
    indicator = catalog(context).find(pending["code"])
    if indicator is None or not await _allowed(update, context, MENU, pending):
        _forget(context)
        return True
    parsed = catalog_of.parse_number(text, indicator)
    if parsed.value is None:
        await say(update, context, _refusal(context, indicator, parsed.error),
                  _cancel_keyboard(context))
        return True
    unit, ym = pending["unit"], pending["ym"]
    old = await figures.enter(context.db, Figure(unit, _month(ym), indicator.code,
                                                 float(parsed.value)),
                              by=principal.user_id, at=to_iso(context.clock.now()))
    _forget(context)
    t = context.t
    label = html.escape(indicator.label(t.locale))
    if old is None:
        note = t._("✅ Saved: {label} {value}.", label=label,
                   value=_value_text(context, indicator, parsed.value))
    elif Decimal(str(old)) == parsed.value:
        note = t._("Nothing changed.")
    else:
        note = t._("✅ Corrected: {label} {old} → {value} (the earlier figure is kept in the "
                   "history).", label=label, old=_value_text(context, indicator, old),
                   value=_value_text(context, indicator, parsed.value))
    await put(update, context, await _menu(context, unit, ym, note=note), None)
    return True


def _forget(context: BotContext) -> None:
    answers.forget(context, VALUE)


_leave = answers.leave_prompt(VALUE, N_("All right, the figure stays as it was."))
"""✖ Cancel or /cancel while a figure is awaited."""


def parse_month(text: str) -> int | None:
    """'11/2026' → 202611 (None: not a month)."""
    period = catalog_of.parse_period(text, term_start=2000, this_year=2000)
    if period is None or period.kind != "month":
        return None
    return period.year * 100 + period.number


@requires(Role.CHAPTER_HEAD)
async def figures_command(update: Update, context: BotContext) -> None:
    """/figures [UNIT_CODE] [MM/YYYY]."""
    t = context.t
    ym, code = _this_month(context), None
    for arg in context.args or []:
        month = parse_month(arg)
        if month is not None:
            ym = month
        else:
            code = arg[:40]
    if not _valid_ym(context, ym):
        await say(update, context, t._("Please give a month that has begun, e.g. /figures "
                                       "{example}.", example=f"{local_today(context).month}/"
                                       f"{local_today(context).year}"))
        return
    if code is not None:
        unit = await units.by_code(context.db, code)
        if unit is None:
            await say(update, context, t._("There is no unit with the code {code}.",
                                           code=html.escape(code)))
            return
        unit_id: int | None = unit.id
    else:
        unit_id = await figures_of.default_scope(context.db, await roots(context))
    if unit_id is None or not await may_see(context, unit_id, Role.CHAPTER_HEAD):
        await refuse(update, context)
        return
    await put(update, context, await _menu(context, unit_id, ym), None)


VIEWS = Views(
    prefix=PREFIX,
    role=Role.CHAPTER_HEAD,
    shapes={MENU: ("unit", "ym"), KIDS: ("unit", "ym"), LATE: ("unit", "ym"), CANCEL: ()},
    words={},
    render=_render,
    allowed=_allowed,
    act=_act,
)
VIEWS.register()
answers.register(VALUE, value_typed, cancel=_leave)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [CommandHandler("figures", figures_command, filters.ChatType.PRIVATE),
            VIEWS.handler()]
