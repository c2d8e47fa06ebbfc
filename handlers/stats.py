"""/stats [UNIT_CODE] [YEAR] (chapter heads and admins): the figures of her scope.

Screens: a summary (members, the women's standard, “5 không, 3 sạch” households, each against
its target) → the table of child units, sorted by a metric (lowest registration rate first:
that is where help is needed), paginated → any child's summary (drill down), and a
privacy-protected breakdown of the family criteria. Every press is authorised again on the
unit it names (`may_act_on_unit`), so forged callback data for another scope is refused.
Every screen is a Choice: a typed number works too.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardButton, Message, Update
from telegram.ext import BaseHandler

from bot import callbacks, orgtree
from bot import stats as figures_of
from bot.catalog import Catalog
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import Translator
from bot.permissions import Role
from bot.stats import FIRST_YEAR, METRIC_BY_CODE, ActivityFigures, Figures, Row
from handlers.kit import answers, menu, offers
from handlers.kit.replies import STALE, acknowledge, refuse, requires
from handlers.kit.scope import may_see, parse_scope, principal_of, roots, scope_name
from handlers.kit.screens import Params, Screen, Views, put, remember
from storage.stats import ActivityCounts, UnitCounts

PREFIX = "st"
SUMMARY, TABLE, CRITERIA, PICK = "s", "t", "c", "p"
PAGE_SIZE = 10
TEXT_LIMIT = 4000  # Telegram allows 4096 characters


# --- screens ---------------------------------------------------------------------------------


def summary_lines(t: Translator, fig: Figures) -> list[str]:
    """The figures of a scope in the union's style (also used for captions of exports)."""
    c, goal = fig.totals, fig.targets
    m = METRIC_BY_CODE
    lines = [
        t._("👥 <b>Members</b>: {figure}",
            figure=figures_of.figure(t, m["members"], c, goal.get("members"))),
        t._("• Receiving notices: {active} · stopped: {stopped} · unreachable: {unreachable}",
            active=t.number(c.active), stopped=t.number(c.stopped),
            unreachable=t.number(c.unreachable)),
        t._("• New in {year}: {figure}", year=fig.year,
            figure=figures_of.figure(t, m["new_members"], c, goal.get("new_members"))),
        "",
        t._("⭐ <b>Women's standard</b>"),
        t._("• Registered to strive: {figure}", figure=figures_of.figure(
            t, m["standard_registered"], c, goal.get("standard_registered"))),
        t._("• Achieved: {figure}", figure=figures_of.figure(
            t, m["standard_achieved"], c, goal.get("standard_achieved"))),
        t._("• Not achieved: {n} · not evaluated yet: {open}",
            n=t.number(c.standard_not_achieved),
            open=t.number(c.standard_registered - c.standard_achieved
                          - c.standard_not_achieved)),
        "",
        t._("🏡 <b>“5 không, 3 sạch” families</b>"),
        t._("• Households registered: {figure}", figure=figures_of.figure(
            t, m["households_registered"], c, goal.get("households_registered"))),
        t._("• Self-assessed as meeting every criterion: {n}",
            n=t.number(c.households_meeting_all)),
        t._("• Recognised: {figure}", figure=figures_of.figure(
            t, m["households_recognised"], c, goal.get("households_recognised"))),
    ]
    return lines


def activity_cell(t: Translator, counts: ActivityCounts, unit: str | None) -> str:
    """'120 reports / 110 members' (and '35,5 kg' for a type with a quantity)."""
    if unit is None or not counts.quantity:
        return t._("{reports} reports / {members} members", reports=t.number(counts.reports),
                   members=t.number(counts.members))
    return t._("{reports} reports / {members} members / {quantity} {unit}",
               reports=t.number(counts.reports), members=t.number(counts.members),
               quantity=figures_of.quantity(t, counts.quantity), unit=html.escape(unit))


def activity_lines(t: Translator, act: ActivityFigures, catalog: Catalog,
                   year: int) -> list[str]:
    """Activities by type (this week, this month, the year) and the last environment days."""
    lines = ["", t._("🌿 <b>Activities</b> (reports marked doubtful are not counted)")]
    shown = 0
    for entry in catalog.entries["activities"]:
        counts = act.by_type.get(entry.code)
        if counts is None:
            continue
        whole, month, week = counts
        unit = entry.unit(t.locale) if entry.unit else None
        label = html.escape(entry.label(t.locale))
        if act.current:
            lines.append(t._("• {activity} — this week: {week} · this month: {month} · "
                             "{year}: {total}", activity=label, year=year,
                             week=activity_cell(t, week, unit),
                             month=activity_cell(t, month, unit),
                             total=activity_cell(t, whole, unit)))
        else:
            lines.append(t._("• {activity} — {year}: {total}", activity=label, year=year,
                             total=activity_cell(t, whole, unit)))
        shown += 1
    if not shown:
        lines.append(t._("No activities reported in {year} yet.", year=year))
    lines += ["", t._("🌳 <b>Sunday environment day</b>: members who took part, of the members "
                      "registered with the assistant by that day")]
    counted = figures_of.counted_sundays(act.sundays)
    lines += [t._("• {date}: {figure}", date=t.date(sunday.day),
                  figure=figures_of.of_members(t, sunday.participants, sunday.members))
              for sunday in reversed(counted)]
    if len(counted) < len(act.sundays):
        # One line for the Sundays before anyone here registered: a line each read as if
        # nobody had taken part in anything.
        lines.append(t._("Sundays before the first member here registered with the assistant "
                         "are not counted."))
    return lines


def fit(lines: list[str], limit: int = TEXT_LIMIT) -> str:
    """The lines joined, shortened from the end of the activity list if over the limit."""
    text = "\n".join(lines)
    while len(text) > limit and len(lines) > 1:
        lines = [*lines[:-2], "…"] if lines[-1] != "…" else [*lines[:-3], "…"]
        text = "\n".join(lines)
    return text


async def _summary_screen(context: BotContext, unit_id: int | None, year: int) -> Screen:
    t = context.t
    tz = context.settings.timezone
    fig = await figures_of.figures(context.db, unit_id, year, tz,
                                   today=context.clock.now().astimezone(tz).date())
    lines = [t._("📊 <b>Statistics {year}</b>", year=year),
             f"<b>{await scope_name(context, unit_id)}</b>", "", *summary_lines(t, fig)]
    if not fig.has_year_data:
        lines += ["", t._("No registrations have been recorded here for {year}.", year=year)]
    if "activities" in fig.extra:
        lines += activity_lines(t, fig.extra["activities"], context.catalog, year)
    options = []
    if fig.children:
        options.append(Option("kids", t._("📋 Units below ({n})", n=t.number(len(fig.children)))))
    options.append(Option("crit", t._("🏡 Family criteria")))
    options.append(Option("chart", t._("📈 Charts")))
    options.append(Option("xlsx", t._("📥 Export to Excel")))
    if offers.scope_action("meet") is not None:
        options.append(Option("meet", t._("🗓 Meetings")))
    if offers.scope_action("support") is not None:
        options.append(Option("support", t._("🤝 Requests for help")))
    up = await _up(context, unit_id)
    if up is not False:
        name = (await scope_name(context, up)) if up is not None else t._("every unit")
        options.append(Option("up", t._("⬆ {unit}", unit=name)))
    for other in (year - 1, year + 1):
        if FIRST_YEAR <= other <= context.this_year:
            options.append(Option(f"y{other}", t._("📅 Year {year}", year=other)))
    if len(await roots(context) or []) > 1:
        options.append(Option("pick", t._("🏢 My other units")))
    choice = Choice(options, page_size=len(options))
    remember(context, PREFIX, view=SUMMARY, unit=unit_id or 0, year=year)
    return Screen(fit(lines), choice.keyboard(PREFIX, SUMMARY, unit_id or 0, year), choice)


async def _up(context: BotContext, unit_id: int | None) -> int | bool | None:
    """Where ⬆ leads (None: every unit), or False when there is nowhere she may go."""
    if unit_id is None:
        return False
    unit = await orgtree.get(context.db, unit_id)
    if unit is None:
        return False
    if unit.parent_id is None:
        several = len(await orgtree.children(context.db, None)) > 1
        return None if several and principal_of(context).is_super_admin else False
    return unit.parent_id if await may_see(context, unit.parent_id) else False


def _marker(row: Row) -> str:
    """✅ every target of the unit met, ⚠️ some short, nothing without targets."""
    results = [figures_of.check(METRIC_BY_CODE[code], row.counts, value)
               for code, value in row.targets.items() if code in METRIC_BY_CODE]
    checked = [r for r in results if r is not None]
    if not checked:
        return ""
    return " ⚠️" if any(r.status == "short" for r in checked) else " ✅"


def _households(t: Translator, c: UnitCounts) -> str:
    """'2/8 hộ được công nhận', or 'chưa có hộ đăng ký' rather than a bare 'hộ 0/0'."""
    if not c.households_registered:
        return t._("no household registered")
    return t._("{recognised}/{households} households recognised",
               recognised=t.number(c.households_recognised),
               households=t.number(c.households_registered))


def _table_line(t: Translator, number: int, row: Row) -> str:
    c: UnitCounts = row.counts
    return t._("{number}. <b>{name}</b>: {members} members · registered {registered} · "
               "achieved {achieved} · {households}",
               number=number, name=html.escape(row.unit.name), members=t.number(c.members),
               registered=figures_of.share(t, c.standard_registered, c.members),
               achieved=figures_of.share(t, c.standard_achieved, c.members),
               households=_households(t, c)) + _marker(row)


async def _table_screen(context: BotContext, *, unit_id: int | None, year: int, sort: str,
                        page: int) -> Screen:
    t = context.t
    fig = await figures_of.figures(context.db, unit_id, year, context.settings.timezone)
    rows = figures_of.sort_rows(fig.children, sort)
    choice = Choice([Option(str(r.unit.id), r.unit.name) for r in rows], page=page,
                    page_size=PAGE_SIZE).at_page(page)
    lines = [t._("📋 <b>Units below — {year}</b>", year=year),
             f"<b>{await scope_name(context, unit_id)}</b>",
             t._("Sorted by {order}.", order=t._(figures_of.SORTS[sort]))]
    if choice.pages > 1:
        lines.append(t._("Page {page} of {pages}.", page=choice.page + 1, pages=choice.pages))
    lines.append("")
    by_id = {str(r.unit.id): r for r in rows}
    lines += [_table_line(t, number, by_id[option.key]) for number, option in choice.visible()]
    if not rows:
        lines.append(t._("There are no units below this one."))
    lines += ["", t._("Tap a unit (or type its number) to see its figures. ✅ every target met, "
                      "⚠️ a target not met yet.")]
    actions = [Option(f"s{key}", t._(figures_of.SORT_BUTTONS[key]))
               for key in figures_of.SORTS if key != sort]
    actions.append(Option("back", t._("⬅ Back to the summary")))
    extra = [[InlineKeyboardButton(
        a.label, callback_data=callbacks.encode(PREFIX, TABLE, unit_id or 0, year, sort, "o",
                                                a.key))]
        for a in actions]
    remember(context, PREFIX, view=TABLE, unit=unit_id or 0, year=year, sort=sort, page=choice.page)
    return Screen("\n".join(lines),
                  choice.keyboard(PREFIX, TABLE, unit_id or 0, year, sort, extra_rows=extra),
                  Choice([*choice.options, *actions]))


async def _criteria_screen(context: BotContext, unit_id: int | None, year: int) -> Screen:
    t = context.t
    criteria_set = context.catalog.criteria_set(year)  # the year's set: what is counted
    entries = [(c.code, c.label(t.locale)) for c in criteria_set.criteria]
    view = await figures_of.criteria(context.db, unit_id, year, codes=[c for c, _ in entries],
                                     k=context.settings.disclosure_k, now=context.clock.now())
    lines = [t._("🏡 <b>Criteria of “{campaign}” — {year}</b>",
                 campaign=html.escape(criteria_set.name(t.locale)), year=year),
             f"<b>{await scope_name(context, unit_id)}</b>", "",
             *[html.escape(line) for line in figures_of.criteria_lines(
                 t, view, entries, k=context.settings.disclosure_k,
                 timezone=context.settings.timezone)]]
    choice = Choice([Option("back", t._("⬅ Back to the summary"))])
    remember(context, PREFIX, view=CRITERIA, unit=unit_id or 0, year=year)
    return Screen("\n".join(lines), choice.keyboard(PREFIX, CRITERIA, unit_id or 0, year),
                  choice)


async def _pick_screen(context: BotContext, year: int) -> Screen:
    t = context.t
    found = [u for u in [await orgtree.get(context.db, i) for i in await roots(context) or []]
             if u is not None]
    choice = Choice([Option(str(u.id), u.name) for u in found], page_size=max(1, len(found)))
    remember(context, PREFIX, view=PICK, unit=0, year=year)
    return Screen(t._("📊 <b>Statistics {year}</b>\nWhich unit? Tap it or type its number.",
                      year=year), choice.keyboard(PREFIX, PICK, 0, year), choice)


# --- entry -----------------------------------------------------------------------------------


@requires(Role.CHAPTER_HEAD)
async def stats_command(update: Update, context: BotContext) -> None:
    """/stats [UNIT_CODE] [YEAR]."""
    scope = await parse_scope(update, context)
    if scope is None:
        return
    found = await roots(context)
    if not context.args and found is not None and len(found) > 1:
        await put(update, context, await _pick_screen(context, scope.year), None)
        return
    await put(update, context, await _summary_screen(context, scope.unit_id, scope.year), None)


# --- presses and typed answers ---------------------------------------------------------------


async def _screen_for(context: BotContext, view: str, p: Params) -> Screen:
    unit = p["unit"] or None
    if view == TABLE:
        return await _table_screen(context, unit_id=unit, year=p["year"], sort=p["sort"],
                                   page=p.get("page", 0))
    if view == CRITERIA:
        return await _criteria_screen(context, unit, p["year"])
    if view == PICK:
        return await _pick_screen(context, p["year"])
    return await _summary_screen(context, unit, p["year"])


async def _allowed(update: Update, context: BotContext, view: str, p: Params) -> bool:
    """The unit is in her scope (0: everything, super-admins only) and the year is valid."""
    if not FIRST_YEAR <= p.get("year", 0) <= context.this_year:
        await acknowledge(update, context, context.t._(STALE))
        return False
    if view == PICK:
        return True
    unit = p.get("unit", 0)
    if unit and await orgtree.get(context.db, unit) is None:
        await acknowledge(update, context, context.t._(STALE))
        return False
    if not await may_see(context, unit or None):
        await refuse(update, context)
        return False
    return True


async def _act(update: Update, context: BotContext, *, view: str, p: Params, key: str,
               message: Message | None) -> None:
    """Carry out one press or typed answer."""
    if not await _allowed(update, context, view, p):
        return
    unit, year = p["unit"] or None, p["year"]
    if view == PICK:
        await _open_unit(update, context, answers.int_arg(key), year, message,
                         among=await roots(context) or [])
    elif view == TABLE and key.startswith("s") and key[1:] in figures_of.SORTS:
        await acknowledge(update, context)
        await put(update, context, await _table_screen(context, unit_id=unit, year=year,
                                                       sort=key[1:], page=0),
                   message)
    elif view == TABLE and key != "back":
        kids = [u.id for u in await orgtree.children(context.db, unit)]
        await _open_unit(update, context, answers.int_arg(key), year, message, among=kids)
    elif key in ("back", "kids", "crit", "chart", "xlsx", "meet", "support", "up",
                 "pick") or (
            key.startswith("y") and answers.int_arg(key[1:]) is not None):
        await _summary_action(update, context, unit=unit, year=year, key=key, message=message)
    else:
        await acknowledge(update, context, context.t._(STALE))


async def _open_unit(update: Update, context: BotContext, unit_id: int | None, year: int,
                     message: Message | None, *, among: list[int]) -> None:
    """Drill into a unit offered on the screen (checked again: forged ids are refused)."""
    if unit_id is None or unit_id not in among:
        await acknowledge(update, context, context.t._(STALE))
        return
    if not await may_see(context, unit_id):
        await refuse(update, context)
        return
    await acknowledge(update, context)
    await put(update, context, await _summary_screen(context, unit_id, year), message)


async def _summary_action(update: Update, context: BotContext, *, unit: int | None, year: int,
                          key: str, message: Message | None) -> None:
    if key == "up":
        up = await _up(context, unit)
        if up is False:
            await refuse(update, context)
            return
        await acknowledge(update, context)
        await put(update, context, await _summary_screen(context, up, year), message)
        return
    if key.startswith("y"):
        other = answers.int_arg(key[1:]) or 0
        if not FIRST_YEAR <= other <= context.this_year:
            await acknowledge(update, context, context.t._(STALE))
            return
        await acknowledge(update, context)
        await put(update, context, await _summary_screen(context, unit, other), message)
        return
    await acknowledge(update, context)
    if key == "kids":
        screen = await _table_screen(context, unit_id=unit, year=year,
                                     sort=figures_of.DEFAULT_SORT, page=0)
    elif key == "crit":
        screen = await _criteria_screen(context, unit, year)
    elif key == "pick":
        screen = await _pick_screen(context, year)
    elif (action := offers.scope_action(key)) is not None:  # the chart, the export
        await action(update, context, unit, year)
        return
    else:  # back
        screen = await _summary_screen(context, unit, year)
    await put(update, context, screen, message)


# This feature's screens: their buttons, and the typed numbers answering the latest one.
VIEWS = Views(
    prefix=PREFIX,
    role=Role.CHAPTER_HEAD,
    shapes={SUMMARY: ("unit", "year"), TABLE: ("unit", "year", "sort"),
            CRITERIA: ("unit", "year"), PICK: ("unit", "year")},
    words={"sort": frozenset(figures_of.SORTS)},
    render=_screen_for,
    allowed=_allowed,
    act=_act,
)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return VIEWS.opened_by("stats", stats_command, menu.STATS)
