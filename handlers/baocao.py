"""/baocao [UNIT_CODE] [PERIOD] (heads and officers): the report of her scope, as the union
writes it, in chat and as a .docx to print for the conference.

PERIOD: a month (11/2026), a quarter (Q3/2026 or "quý 3/2026"), six months (6t/2026 for
January-June, 6t2/2026 for July-December), a year (2026, the default: this year) or the
congress term ("nhiệm kỳ" for the current one, or 2021-2026). The sentences come from
bot/report.py; long texts are split under Telegram's limit.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import indicators as catalog_of
from bot import report as reports
from bot import stats as figures_of
from bot.context import BotContext
from bot.i18n import N_
from bot.indicators import Period
from bot.permissions import Role
from handlers.kit.days import local_today
from handlers.kit.replies import paginate, refuse, requires, say
from handlers.kit.scope import may_see, roots
from storage import units

FILE_WORD = "bao-cao"


async def _arguments(update: Update, context: BotContext) -> tuple[int | None, Period] | None:
    """(scope, period) from the command, or None after saying what is wrong."""
    t = context.t
    args = [a[:40] for a in (context.args or [])][:6]
    today = local_today(context)
    code, period = None, catalog_of.parse_period(" ".join(args), term_start=context.settings
                                                 .term_start_year, this_year=today.year)
    if period is None and args:
        code = args[0]
        rest = " ".join(args[1:])
        period = catalog_of.parse_period(rest, term_start=context.settings.term_start_year,
                                         this_year=today.year) if rest else None
        if rest and period is None:
            await say(update, context, t._(USAGE))
            return None
    if period is None:
        period = catalog_of.Period("year", catalog_of.month_key(today.year, 1),
                                   catalog_of.month_key(today.year, 12), today.year)
    if period.first > catalog_of.month_key(today.year, today.month) or (
            period.year < figures_of.FIRST_YEAR):
        await say(update, context, t._("That period has not begun yet.") + "\n" + t._(USAGE))
        return None
    if code is None:
        scope = await figures_of.default_scope(context.db, await roots(context))
    else:
        unit = await units.by_code(context.db, code)
        if unit is None:  # "13/2026" is a period mistyped, not a unit code (codes have no /)
            problem = (t._("I could not read the period {period}.", period=html.escape(code))
                       if "/" in code or code.isdigit() else
                       t._("There is no unit with the code {code}.", code=html.escape(code)))
            await say(update, context, problem + "\n" + t._(USAGE))
            return None
        scope = unit.id
    if not await may_see(context, scope, Role.CHAPTER_HEAD):
        await refuse(update, context)
        return None
    return scope, period


USAGE = N_("Usage: /baocao [unit code] [period]. Period: a month 11/2026, a quarter Q3/2026 (or "
         "quý 3/2026), six months 6t/2026 (January-June) or 6t2/2026 (July-December), a year "
         "2026, or the term: nhiệm kỳ or 2021-2026.")


@requires(Role.CHAPTER_HEAD)
async def report_command(update: Update, context: BotContext) -> None:
    """/baocao [UNIT_CODE] [PERIOD]."""
    found = await _arguments(update, context)
    if found is None:
        return
    scope, period = found
    t = context.t
    report = await reports.build(
        context.db, catalog_of.load(context.settings.indicators), t, scope_id=scope,
        period=period, words=reports.words_of(context.catalog, t.locale,
                               min(period.last_year, context.this_year)),
        timezone=context.settings.timezone, now=context.clock.now(),
        disclosure_k=context.settings.disclosure_k,
        ack_hours=context.settings.support_ack_hours)
    for page in paginate(reports.chat_lines(t, report), budget=3800, max_lines=60):
        await say(update, context, "\n".join(page))
    if not report.has_data:
        return
    content = await asyncio.to_thread(reports.to_docx, t, report,
                                      org_name=context.settings.org_name)
    code = report.scope.code if report.scope is not None else "all"
    name = f"{FILE_WORD}-{period.first}-{period.last}-{code}.docx"
    assert update.effective_chat is not None
    await context.bot.send_document(update.effective_chat.id, InputFile(content, filename=name),
                                    caption=t._("📄 The report as a Word document, ready to "
                                                "print."))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [CommandHandler("baocao", report_command, filters.ChatType.PRIVATE)]
