"""/year close YEAR [UNIT_CODE] (unit admins): close a year, so its results become read-only.

A closed year (for a unit, an ancestor or everywhere) refuses new decisions and registrations;
/year lists the closures. The scope is checked again when the closure is carried out.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any, TypedDict

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.choices import Choice, Option
from bot.context import BotContext
from bot.i18n import Translator
from bot.permissions import Role
from handlers.kit import answers
from handlers.kit.flow import kept
from handlers.kit.replies import STALE, acknowledge, edit, refuse, requires, say
from handlers.kit.scope import may_see, scope_name
from storage import campaigns, units
from storage.db import to_iso

log = logging.getLogger(__name__)

YEAR_PREFIX = "yr"
FIRST_YEAR = 2000


class Closing(TypedDict, total=False):
    """The closing question awaiting her answer (persisted in `user_data["yr"]`)."""

    year: int
    unit: int  # 0: every unit she administers


def _closing(context: BotContext) -> Closing:
    """The closing question asked in this chat (an empty one, kept nowhere, when none was)."""
    return kept(context, YEAR_PREFIX)


@requires(Role.UNIT_ADMIN)
async def year_command(update: Update, context: BotContext) -> None:
    """/year close YEAR [UNIT_CODE]: make a year read-only (after a confirmation)."""
    t = context.t
    principal = context.principal
    assert principal is not None
    args = context.args or []
    usage = t._("Usage: /year close YEAR [UNIT_CODE], e.g. /year close {year}. A closed year's "
                "registrations and evaluation results become read-only.",
                year=context.this_year)
    if len(args) not in (2, 3) or args[0].lower() != "close" or answers.int_arg(args[1]) is None:
        await say(update, context, usage + "\n\n" + await _closures_text(context))
        return
    year = answers.int_arg(args[1]) or 0
    if not FIRST_YEAR <= year <= context.this_year:
        await say(update, context, t._("Please give a year from {first} to {last}.",
                                       first=FIRST_YEAR, last=context.this_year))
        return
    unit_id: int | None
    if len(args) == 3:
        unit = await units.by_code(context.db, args[2][:40])
        if unit is None:
            await say(update, context, t._("There is no unit with the code {code}.",
                                           code=html.escape(args[2][:40])))
            return
        unit_id = unit.id
    elif principal.is_super_admin:
        unit_id = None
    else:
        admin_units = sorted({g.unit_id for g in principal.grants if g.role == Role.UNIT_ADMIN})
        if len(admin_units) != 1:
            await say(update, context, t._("You administer several units; please add the unit "
                                           "code, e.g. /year close {year} HM-HL.", year=year))
            return
        unit_id = admin_units[0]
    await _ask_close(update, context, year, unit_id)


async def _ask_close(update: Update, context: BotContext, year: int, unit_id: int | None) -> None:
    t = context.t
    if not await may_see(context, unit_id, Role.UNIT_ADMIN):
        await refuse(update, context)
        return
    scope = await scope_name(context, unit_id)
    if unit_id is not None:
        already = await campaigns.is_closed(context.db, year, unit_id)
    else:
        already = any(u is None for _y, u, _at in await campaigns.closures(context.db, [year]))
    if already:
        await say(update, context, t._("{year} is already closed for {scope}.", year=year,
                                       scope=scope))
        return
    lines = [t._("Close {year} for {scope}? Registrations, self-assessments and evaluation "
                 "results of {year} there become read-only. This cannot be undone in the bot.",
                 year=year, scope=scope)]
    if year == context.this_year:
        lines.append(t._("⚠️ {year} is not over yet: members there will no longer be able to "
                         "register or update anything for {year}.", year=year))
    unsent = await campaigns.unsent_count(context.db, year, unit_id)
    if unsent:
        lines.append(t.n_("⚠️ {n} member's results have not been sent to her; once the year is "
                          "closed they will not be sent.",
                          "⚠️ {n} members' results have not been sent to them; once the year is "
                          "closed they will not be sent.", unsent))
    choice = _close_choice(t, year)
    assert context.user_data is not None
    context.user_data["pending_choice"] = YEAR_PREFIX
    context.user_data[YEAR_PREFIX] = Closing(year=year, unit=unit_id or 0)
    await say(update, context, "\n".join(lines),
              choice.keyboard(YEAR_PREFIX, year, unit_id or 0))


def _close_choice(t: Translator, year: int) -> Choice:
    return Choice([Option("yes", t._("🔒 Yes, close {year}", year=year)),
                   Option("no", t._("✖ Cancel"))])


@requires(Role.UNIT_ADMIN)
async def close_pressed(update: Update, context: BotContext) -> None:
    """`yr:<year>:<unit or 0>:o:<yes|no>`."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    year, unit = ((answers.int_arg(data.arg(0)), answers.int_arg(data.arg(1))) if data
                  else (None, None))
    if data is None or year is None or unit is None or data.arg(2) != "o" or data.arg(3) not in (
            "yes", "no"):
        await query.answer(context.t._(STALE), show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    await _close(update, context, year=year, unit_id=unit or None, confirmed=data.arg(3) == "yes",
                 message=message)


async def close_typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed answer to the closing question."""
    principal = context.principal
    shown = _closing(context)
    if principal is None or not principal.at_least(Role.UNIT_ADMIN) or "year" not in shown:
        return False
    option = _close_choice(context.t, shown["year"]).resolve(text)
    if option is None:
        return await answers.not_an_option(update, context, text)
    await _close(update, context, year=shown["year"], unit_id=shown["unit"] or None,
                 confirmed=option.key == "yes", message=None)
    return True


async def _close(update: Update, context: BotContext, *, year: int, unit_id: int | None,
                 confirmed: bool, message: Message | None) -> None:
    t = context.t
    if (not FIRST_YEAR <= year <= context.this_year
            or not await may_see(context, unit_id, Role.UNIT_ADMIN)):
        await refuse(update, context)
        return
    if context.user_data is not None:
        if context.user_data.get("pending_choice") == YEAR_PREFIX:
            context.user_data.pop("pending_choice")
        context.user_data.pop(YEAR_PREFIX, None)
    await acknowledge(update, context)
    scope = await scope_name(context, unit_id)
    if not confirmed:
        text = t._("All right, {year} stays open.", year=year)
    else:
        assert context.principal is not None
        closed = await campaigns.close_year(context.db, year, unit_id,
                                            by=context.principal.user_id,
                                            at=to_iso(context.clock.now()))
        text = (t._("🔒 {year} is now closed for {scope}: its registrations and results are "
                    "read-only.", year=year, scope=scope) if closed
                else t._("{year} is already closed for {scope}.", year=year, scope=scope))
    if message is not None:
        await edit(message, text, None)
    else:
        await say(update, context, text)


async def _closures_text(context: BotContext) -> str:
    t = context.t
    years = [context.this_year, context.this_year - 1]
    found = await campaigns.closures(context.db, years)
    lines = [t._("<b>Closed years</b> (this year and last):")]
    for year, unit_id, closed_at in found:
        when = t.date(datetime.fromisoformat(closed_at).astimezone(context.settings.timezone))
        lines.append(t._("🔒 {year}: {scope} (closed on {date})", year=year,
                         scope=await scope_name(context, unit_id), date=when))
    if not found:
        lines.append(t._("None: {years} are open.", years=" · ".join(map(str, years))))
    return "\n".join(lines)


# Typed answers to this feature's questions (the latest question asked owns them).
async def _close_options(context: BotContext) -> Choice | None:
    """The options of the closing question."""
    shown = _closing(context)
    return _close_choice(context.t, shown["year"]) if "year" in shown else None


answers.register(YEAR_PREFIX, close_typed, options=_close_options)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("year", year_command, filters.ChatType.PRIVATE),
        CallbackQueryHandler(close_pressed, pattern=callbacks.pattern(YEAR_PREFIX)),
    ]
