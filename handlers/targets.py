"""/targets [UNIT_CODE] [YEAR] (unit admins): see and set the yearly targets (chỉ tiêu).

The screen lists each metric with its target and the figure now; tapping one (or typing its
number) asks for the value ("95%", "175"; 0 removes it). "Work targets" lists the unit
indicators that /baocao compares with a target (bot/data/indicators.toml), whose targets are
typed like /figures ("1.500" is fifteen hundred; "1,5" only where the unit allows decimals).
Targets can be set for this year and the next, for her unit and any unit below it. Every
press and every typed value is authorised again; every change is in the audit log. Many
targets at once: `python -m bot targets import`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, TypedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, orgtree
from bot import indicators as catalog_of
from bot import stats as figures_of
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import N_
from bot.indicators import Indicator
from bot.permissions import Role
from bot.stats import FIRST_YEAR, METRICS
from bot.target_import import COUNT_MAX, parse_value
from handlers.kit import amounts, answers
from handlers.kit.flow import kept
from handlers.kit.replies import STALE, acknowledge, refuse, requires, say
from handlers.kit.scope import may_see, parse_scope, scope_name
from handlers.kit.screens import Params, Screen, put, remember
from storage import targets
from storage.db import to_iso
from storage.targets import TargetRow

PREFIX = "tg"
VALUE = "tgv"  # waiting for a typed target value
LIST, KIDS, WORK = "l", "k", "i"
PAGE_SIZE = 10
NUMBERS_PER_ROW = 6


class Pending(TypedDict, total=False):
    """The target whose value she is asked to type (persisted in `user_data["tgv"]`)."""

    unit: int  # 0: every unit at once (refused when typed: targets are per unit)
    year: int
    metric: str  # a /stats metric code, or a unit indicator's code when `work`
    work: bool  # a unit indicator of the catalog (read like /figures), not a /stats metric


def _pending(context: BotContext) -> Pending:
    """The value awaited in this chat (an empty one, kept nowhere, when none is)."""
    return kept(context, VALUE)


def _remember(context: BotContext, view: str, **params: Any) -> None:
    remember(context, PREFIX, view=view, **params)
    assert context.user_data is not None
    context.user_data.pop(VALUE, None)  # a screen again: no target value is awaited


async def _list_screen(context: BotContext, unit_id: int | None, year: int,
                       note: str | None = None) -> Screen:
    t = context.t
    fig = await figures_of.figures(context.db, unit_id, year, context.settings.timezone)
    lines = [t._("🎯 <b>Targets {year}</b>", year=year),
             f"<b>{await scope_name(context, unit_id)}</b>"]
    if note:
        lines += [note]
    lines.append("")
    options = []
    for number, metric in enumerate(METRICS, 1):
        value = fig.targets.get(metric.code)
        lines.append(t._("{number}. {label}: no target yet · now {figure}", number=number,
                         label=t._(metric.label),
                         figure=figures_of.figure(t, metric, fig.totals, None))
                     if value is None else
                     t._("{number}. {label}: <b>{target}</b> — now {figure}", number=number,
                         label=t._(metric.label),
                         target=figures_of.target_text(t, metric, value),
                         figure=figures_of.figure_beside_target(t, metric, fig.totals, value)))
        options.append(Option(f"m{number - 1}", t._(metric.button)))
    lines += ["", t._("Tap a target (or type its number) to set or change it.")]
    if unit_id is not None and _work(context):
        options.append(Option("work", t._("📊 Work targets")))
    if fig.children:
        options.append(Option("kids", t._("📋 Units below ({n})",
                                          n=t.number(len(fig.children)))))
    unit = await orgtree.get(context.db, unit_id) if unit_id is not None else None
    if unit is not None and unit.parent_id is not None and await may_see(
            context, unit.parent_id, Role.UNIT_ADMIN):
        options.append(Option("up", t._("⬆ {unit}", unit=html.escape(
            await orgtree.unit_path(context.db, unit.parent_id)))))
    for other in (year - 1, year + 1):
        if FIRST_YEAR <= other <= context.this_year + 1:
            options.append(Option(f"y{other}", t._("📅 Year {year}", year=other)))
    choice = Choice(options, page_size=len(options))
    _remember(context, LIST, unit=unit_id or 0, year=year)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, LIST, unit_id or 0, year), choice)


async def _kids_screen(context: BotContext, unit_id: int | None, year: int,
                       page: int) -> Screen:
    t = context.t
    kids = await orgtree.children(context.db, unit_id)
    choice = Choice([Option(str(u.id), u.name) for u in kids], page=page,
                    page_size=PAGE_SIZE).at_page(page)
    back = Option("back", t._("⬅ Back"))
    keyboard = choice.keyboard(PREFIX, KIDS, unit_id or 0, year, extra_rows=[[
        InlineKeyboardButton(f"{len(kids) + 1}. {back.label}", callback_data=callbacks.encode(
            PREFIX, KIDS, unit_id or 0, year, "o", back.key))]])
    _remember(context, KIDS, unit=unit_id or 0, year=year, page=choice.page)
    text = "\n".join([t._("🎯 <b>Targets {year}</b>", year=year),
                      f"<b>{await scope_name(context, unit_id)}</b>",
                      t._("Which unit? Tap it or type its number.")])
    return Screen(text, keyboard, Choice([*choice.options, back]))


def _work(context: BotContext) -> tuple[Indicator, ...]:
    """The unit indicators /baocao words with a target (the headline figures are metrics)."""
    return tuple(i for i in catalog_of.load(context.settings.indicators).live
                 if i.report is not None)


async def _work_screen(context: BotContext, unit_id: int, year: int,
                       note: str | None = None) -> Screen:
    """The unit indicators with this unit's targets: numbers to tap, the labels in the text."""
    t = context.t
    goals = (await targets.for_units(context.db, [unit_id], year)).get(unit_id, {})
    work = _work(context)
    lines = [t._("🎯 <b>Work targets {year}</b>", year=year),
             f"<b>{await scope_name(context, unit_id)}</b>"]
    if note:
        lines.append(note)
    lines.append("")
    lines += amounts.numbered_lines(context, work, goals, empty=t._("no target yet"))
    lines += ["", t._("Tap (or type) an indicator's number to set or change its target.")]
    args = (PREFIX, WORK, unit_id, year, "o")
    buttons = [InlineKeyboardButton(str(n), callback_data=callbacks.encode(*args, f"c.{i.code}"))
               for n, i in enumerate(work, 1)]
    rows = [buttons[i:i + NUMBERS_PER_ROW] for i in range(0, len(buttons), NUMBERS_PER_ROW)]
    rows.append([InlineKeyboardButton(t._("⬅ Back"), callback_data=callbacks.encode(
        *args, "back"))])
    options = [Option(f"c.{i.code}", i.label(t.locale)) for i in work]
    _remember(context, WORK, unit=unit_id, year=year)
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows),
                  Choice([*options, Option("back", t._("⬅ Back"))], page_size=len(work) + 1))


async def _screen(context: BotContext, view: str, params: Params) -> Screen:
    """The targets screen last shown (to read a typed number against)."""
    unit, year = params.get("unit") or None, params["year"]
    if view == KIDS:
        return await _kids_screen(context, unit, year, params.get("page", 0))
    if view == WORK and unit is not None:
        return await _work_screen(context, unit, year)
    return await _list_screen(context, unit, year)


@requires(Role.UNIT_ADMIN)
async def targets_command(update: Update, context: BotContext) -> None:
    """/targets [UNIT_CODE] [YEAR]."""
    scope = await parse_scope(update, context, role=Role.UNIT_ADMIN, command="targets",
                              years_ahead=1)
    if scope is not None:
        await put(update, context, await _list_screen(context, scope.unit_id, scope.year),
                   None)


@requires(Role.UNIT_ADMIN)
async def pressed(update: Update, context: BotContext) -> None:
    """`tg:<view>:<unit>:<year>:o:<key>` or `…:p:<page>`."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    args = data.args if data else ()
    if (len(args) != 5 or args[0] not in (LIST, KIDS, WORK) or answers.int_arg(args[1]) is None
            or answers.int_arg(args[2]) is None or args[3] not in ("o", "p")
            or (args[3] == "p" and answers.int_arg(args[4]) is None)):
        await query.answer(context.t._(STALE), show_alert=True)
        return
    params = {"unit": answers.int_arg(args[1]), "year": answers.int_arg(args[2])}
    key = args[4]
    if args[3] == "p":
        params["page"], key = int(key), ""
    message = query.message if isinstance(query.message, Message) else None
    await _act(update, context, view=args[0], p=params, key=key, message=message)


async def typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed number answering the latest targets screen."""
    principal = context.principal
    shown = (context.user_data or {}).get(PREFIX) or {}
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "view" not in shown:
        return False
    params = {k: v for k, v in shown.items() if k != "view"}
    if not await _allowed(update, context, params):
        return True
    screen = await _screen(context, shown["view"], params)
    option = screen.choice.resolve(text)
    if option is None:
        return await answers.not_an_option(update, context, text,
                                           again=lambda: put(update, context, screen, None))
    await _act(update, context, view=shown["view"], p=params, key=option.key, message=None)
    return True


async def _allowed(update: Update, context: BotContext, p: Mapping[str, Any]) -> bool:
    if not FIRST_YEAR <= p.get("year", 0) <= context.this_year + 1:
        await acknowledge(update, context, context.t._(STALE))
        return False
    unit = p.get("unit") or None
    if unit is not None and await orgtree.get(context.db, unit) is None:
        await acknowledge(update, context, context.t._(STALE))
        return False
    if not await may_see(context, unit, Role.UNIT_ADMIN):
        await refuse(update, context)
        return False
    return True


async def _act_kids(update: Update, context: BotContext, *, unit: int | None, year: int,
                    page: int, key: str, message: Message | None) -> None:
    """A press on the list of child units: a page, back, or one child's targets."""
    if not key:
        await acknowledge(update, context)
        await put(update, context, await _kids_screen(context, unit, year, page), message)
        return
    if key == "back":
        await acknowledge(update, context)
        await put(update, context, await _list_screen(context, unit, year), message)
        return
    kids = [u.id for u in await orgtree.children(context.db, unit)]
    child = answers.int_arg(key)
    if child not in kids:
        await acknowledge(update, context, context.t._(STALE))
        return
    if not await may_see(context, child, Role.UNIT_ADMIN):
        await refuse(update, context)
        return
    await acknowledge(update, context)
    await put(update, context, await _list_screen(context, child, year), message)


async def _act(update: Update, context: BotContext, *, view: str, p: Params, key: str,
               message: Message | None) -> None:
    t = context.t
    if not await _allowed(update, context, p):
        return
    unit, year = p["unit"] or None, p["year"]
    if view == KIDS:
        await _act_kids(update, context, unit=unit, year=year, page=p.get("page", 0), key=key,
                        message=message)
        return
    if view == WORK:
        await _act_work(update, context, unit=unit, year=year, key=key, message=message)
        return
    if key == "work" and unit is not None:
        await acknowledge(update, context)
        await put(update, context, await _work_screen(context, unit, year), message)
    elif key == "kids":
        await acknowledge(update, context)
        await put(update, context, await _kids_screen(context, unit, year, 0), message)
    elif key == "up":
        found = await orgtree.get(context.db, unit) if unit is not None else None
        parent = found.parent_id if found is not None else None
        if parent is None or not await may_see(context, parent, Role.UNIT_ADMIN):
            await refuse(update, context)
            return
        await acknowledge(update, context)
        await put(update, context, await _list_screen(context, parent, year), message)
    elif key.startswith("y") and answers.int_arg(key[1:]) is not None:
        other = answers.int_arg(key[1:]) or 0
        if not FIRST_YEAR <= other <= context.this_year + 1:
            await acknowledge(update, context, t._(STALE))
            return
        await acknowledge(update, context)
        await put(update, context, await _list_screen(context, unit, other), message)
    elif key.startswith("m") and (answers.int_arg(key[1:]) or 0) < len(METRICS) \
            and answers.int_arg(key[1:]) is not None:
        await acknowledge(update, context)
        await _ask_value(update, context, unit, year, METRICS[answers.int_arg(key[1:]) or 0].code)
    else:
        await acknowledge(update, context, t._(STALE))


async def _act_work(update: Update, context: BotContext, *, unit: int | None, year: int,
                    key: str, message: Message | None) -> None:
    """A press on the work targets: back, or one indicator's target."""
    if key == "back":
        await acknowledge(update, context)
        await put(update, context, await _list_screen(context, unit, year), message)
        return
    indicator = next((i for i in _work(context) if f"c.{i.code}" == key), None)
    if unit is None or indicator is None:
        await acknowledge(update, context, context.t._(STALE))
        return
    await acknowledge(update, context)
    t = context.t
    how = t._("Type the target for “{label}” in {year} for {unit}.", label=html.escape(
        indicator.label(t.locale)), year=year, unit=await scope_name(context, unit))
    assert context.user_data is not None
    context.user_data["pending_choice"] = VALUE
    context.user_data[VALUE] = Pending(unit=unit, year=year, metric=indicator.code, work=True)
    await say(update, context, "\n".join([
        how, amounts.how(context, indicator),
        t._("Send 0 to remove the target, or /cancel to leave it as it is.")]),
              answers.cancel_keyboard(context, VALUE))


async def _ask_value(update: Update, context: BotContext, unit: int | None, year: int,
                     metric_code: str) -> None:
    t = context.t
    metric = figures_of.METRIC_BY_CODE[metric_code]
    where = await scope_name(context, unit)
    if metric.percent:
        how = t._("Type the target for “{label}” in {year} for {unit} as a percentage of the "
                  "members, e.g. 95%.", label=t._(metric.label), year=year, unit=where)
    else:
        how = t._("Type the target for “{label}” in {year} for {unit} as a number, e.g. 175.",
                  label=t._(metric.label), year=year, unit=where)
    assert context.user_data is not None
    context.user_data["pending_choice"] = VALUE
    context.user_data[VALUE] = Pending(unit=unit or 0, year=year, metric=metric_code)
    await say(update, context, how + "\n" + t._("Send 0 to remove the target, or /cancel to "
                                                "leave it as it is."),
              answers.cancel_keyboard(context, VALUE))


async def value_typed(update: Update, context: BotContext, text: str) -> bool:
    """The typed value of a target (after tapping a metric)."""
    t = context.t
    principal = context.principal
    pending = _pending(context)
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "metric" not in pending:
        return False
    if not await _allowed(update, context, pending):  # her role may have changed meanwhile
        _forget(context)
        return True
    if pending.get("work"):
        return await _work_value_typed(update, context, text, pending)
    metric = figures_of.METRIC_BY_CODE[pending["metric"]]
    value = parse_value(text, metric)
    if value is None:
        await say(update, context, t._("Please type a percentage from 0 to 100, e.g. 95%.")
                  if metric.percent else
                  t._("Please type a whole number up to {max}, e.g. 175.",
                      max=t.number(COUNT_MAX)), answers.cancel_keyboard(context, VALUE))
        return True
    unit, year = pending["unit"] or None, pending["year"]
    if unit is None:  # every unit at once has no targets of its own
        _forget(context)
        await say(update, context, t._("Targets are set per unit; please choose a unit."))
        return True
    changed = await targets.set_many(
        context.db, [TargetRow(unit, year, metric.code, value)], by=principal.user_id,
        at=to_iso(context.clock.now()), source="chat")
    _forget(context)
    if not changed:
        note = t._("Nothing changed.")
    elif value <= 0:
        note = t._("🗑 The target “{label}” was removed.", label=t._(metric.label))
    else:
        note = t._("✅ Target saved: {label} {target}.", label=t._(metric.label),
                   target=figures_of.target_text(t, metric, value))
    await put(update, context, await _list_screen(context, unit, year, note=note), None)
    return True


async def _work_value_typed(update: Update, context: BotContext, text: str,
                            pending: Pending) -> bool:
    """The typed target of a unit indicator, read the Vietnamese way like /figures."""
    t = context.t
    principal = context.principal
    assert principal is not None
    indicator = next((i for i in _work(context) if i.code == pending["metric"]), None)
    if indicator is None:  # the catalog changed meanwhile
        _forget(context)
        await say(update, context, t._(STALE))
        return True
    parsed = catalog_of.parse_number(text, indicator)
    if parsed.value is None:
        await say(update, context, amounts.refusal(context, indicator, parsed.error),
                  answers.cancel_keyboard(context, VALUE))
        return True
    unit, year = pending["unit"], pending["year"]
    changed = await targets.set_many(
        context.db, [TargetRow(unit, year, indicator.code, float(parsed.value))],
        by=principal.user_id, at=to_iso(context.clock.now()), source="chat")
    _forget(context)
    label = html.escape(indicator.label(t.locale))
    if not changed:
        note = t._("Nothing changed.")
    elif parsed.value <= 0:
        note = t._("🗑 The target “{label}” was removed.", label=label)
    else:
        note = t._("✅ Target saved: {label} {target}.", label=label,
                   target=amounts.value_text(context, indicator, parsed.value))
    await put(update, context, await _work_screen(context, unit, year, note=note), None)
    return True


def _forget(context: BotContext) -> None:
    answers.forget(context, VALUE)


cancel_value = answers.leave_prompt(VALUE, N_("All right, the target stays as it was."))
"""/cancel while a target value is awaited."""


# Typed answers to this feature's questions (the latest question asked owns them).
async def _options(context: BotContext) -> Choice | None:
    """The options of the latest targets screen (after `typed` checked she may see it)."""
    principal = context.principal
    shown = (context.user_data or {}).get(PREFIX) or {}
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "view" not in shown:
        return None
    return (await _screen(context, shown["view"], shown)).choice


answers.register(PREFIX, typed, options=_options)
answers.register(VALUE, value_typed, cancel=cancel_value)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("targets", targets_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(pressed, pattern=callbacks.pattern(PREFIX)),
    ]
