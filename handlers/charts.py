"""/chart [UNIT_CODE] [YEAR] (chapter heads and admins): the figures of her scope as pictures.

A unit with units below it gets the registration and achievement rate of each of them against
their targets (lowest registration rate at the top); a unit without (a chapter) gets its own
rates over the last five years. Then the Sunday environment day: the share of members who
took part on each of the last 12 Sundays. Charts are drawn in a worker thread (bot/charts.py),
so other people's replies do not wait, and sent as photos with a short caption; where the chat
cannot show a picture (Zalo without a web address) the same figures come as text lines instead.
"""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import stats as figures_of
from bot.context import BotContext
from bot.i18n import Translator
from bot.permissions import Role
from handlers.kit import offers
from handlers.kit.pictures import send_picture
from handlers.kit.replies import requires, say
from handlers.kit.scope import may_see, parse_scope, scope_name

if TYPE_CHECKING:
    from bot.charts import RateBar


def _rate(part: int, whole: int) -> int | None:
    return figures_of.percent(part, whole)


@requires(Role.CHAPTER_HEAD)
async def chart_command(update: Update, context: BotContext) -> None:
    """/chart [UNIT_CODE] [YEAR]."""
    scope = await parse_scope(update, context, command="chart")
    if scope is not None:
        await send_charts(update, context, scope.unit_id, scope.year)


async def send_charts(update: Update, context: BotContext, unit_id: int | None,
                      year: int) -> None:
    """Draw and send the charts of a scope (checked again here)."""
    from bot import charts  # matplotlib loads only when a chart is drawn

    t = context.t
    if not await may_see(context, unit_id):
        await say(update, context, t._("Sorry, you do not have permission to do this."))
        return
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    where = await scope_name(context, unit_id)
    fig = await figures_of.figures(context.db, unit_id, year, context.settings.timezone)
    labels = charts.Labels(
        title=t._("Registration and achievement {year}", year=year),
        registered=t._("Registered to strive"), achieved=t._("Achieved the standard"),
        target=t._("Target"), axis=t._("% of members"), empty=t._("No units to show"))
    if fig.children:
        rows = figures_of.sort_rows(fig.children, figures_of.DEFAULT_SORT)
        bars = [charts.RateBar(
            row.unit.name,
            _rate(row.counts.standard_registered, row.counts.members),
            _rate(row.counts.standard_achieved, row.counts.members),
            row.targets.get("standard_registered"), row.targets.get("standard_achieved"))
            for row in rows]
        caption = t._("📈 Registration and achievement rate of each unit in {scope}, {year}, "
                      "lowest registration first. Red ticks: targets.", scope=where, year=year)
        if len(bars) > charts.MAX_BARS:
            caption += "\n" + t._("The {n} units with the lowest registration rate are shown; "
                                  "/stats lists them all.", n=charts.MAX_BARS)
        await send_picture(context, chat_id, draw=functools.partial(charts.rates, bars, labels),
                           caption=caption, table=[
                               _rates_line(t, html.escape(bar.name), bar)
                               for bar in bars[:charts.MAX_BARS]])
    else:
        found, goals = await figures_of.trend(context.db, unit_id, year,
                                              context.settings.timezone)
        years = [charts.RateBar(
            str(y.year), _rate(y.standard_registered, y.members),
            _rate(y.standard_achieved, y.members),
            goals.get(y.year, {}).get("standard_registered"),
            goals.get(y.year, {}).get("standard_achieved")) for y in found]
        draw = functools.partial(
            charts.trend, [y.year for y in found], [b.registered for b in years],
            [b.achieved for b in years], [b.registered_target for b in years],
            [b.achieved_target for b in years],
            charts.Labels(title=t._("Registration and achievement {first}–{last}",
                                    first=found[0].year, last=found[-1].year),
                          registered=labels.registered, achieved=labels.achieved,
                          target=labels.target, axis=labels.axis, empty=labels.empty))
        await send_picture(context, chat_id, draw=draw, caption=t._(
            "📈 {scope}: registration and achievement rate over the last years. "
            "Red ticks: targets.", scope=where),
            table=[_rates_line(t, bar.name, bar) for bar in years])
    # Environment days: the share of members who took part on each of the last Sundays.
    tz = context.settings.timezone
    _first, last, _current = figures_of.year_span(year, context.clock.now().astimezone(tz).date())
    # Sundays before anyone here registered are left out: drawn as 0% they read as "nobody came".
    sundays = figures_of.counted_sundays(
        await figures_of.sundays(context.db, unit_id, last, figures_of.SUNDAYS_CHARTED, tz))
    if not sundays:
        await say(update, context, t._(
            "🌳 Sunday environment day in {scope}: no Sunday to show yet. Sundays before the "
            "first member here registered with the assistant are not counted.", scope=where))
        return
    days = [f"{s.day.day}/{s.day.month}" for s in sundays]
    shares = [_rate(s.participants, s.members) for s in sundays]
    draw = functools.partial(
        charts.participation, days, shares, [s.participants for s in sundays],
        charts.Labels(title=t._("Sunday environment day: members taking part"),
                      registered=t._("Took part"), achieved="", target="",
                      axis=labels.axis, empty=labels.empty))
    await send_picture(context, chat_id, draw=draw, caption=t._(
        "🌳 Sunday environment day in {scope}: the share of members who took part on each of "
        "the last {n} Sundays (the number above each point: how many).", scope=where,
        n=len(sundays)), table=[
            t._("• {day}: {n} took part ({share})", day=day, n=t.number(s.participants),
                share=_percent(share)) for day, s, share in zip(days, sundays, shares,
                                                                  strict=True)])


def _percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def _target(t: Translator, value: float | None) -> str:
    """A target in brackets as typed ("(chỉ tiêu 92,5%)"), or nothing."""
    if value is None:
        return ""
    return " " + t._("(target {target}%)", target=figures_of.number(t, figures_of.exact(value)))


def _rates_line(t: Translator, name: str, bar: RateBar) -> str:
    """One bar pair of a rates chart as a line: the same whole percentages and targets."""
    return t._("• {name}: registered {registered}{registered_target}, achieved "
               "{achieved}{achieved_target}", name=name, registered=_percent(bar.registered),
               registered_target=_target(t, bar.registered_target),
               achieved=_percent(bar.achieved), achieved_target=_target(t, bar.achieved_target))


# The /stats summary offers the charts of the scope it shows.
offers.offer_scope_action("chart", send_charts)

def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [CommandHandler("chart", chart_command, filters.ChatType.PRIVATE)]
