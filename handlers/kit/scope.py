"""Whose figures a command is about: her scope (a unit's subtree or everything) and a year.

Shared by /stats, /chart, /export and /targets; every press naming a unit is checked again with
`may_see`, so forged callback data for another scope is refused.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import Update

from bot import orgtree
from bot import stats as figures_of
from bot.choices import Option
from bot.context import BotContext
from bot.i18n import N_
from bot.permissions import Principal, Role, may_act_on_unit
from bot.stats import FIRST_YEAR
from handlers.kit.replies import refuse, say
from storage import units

ROLE_LABELS = {"chapter_head": N_("chapter head"), "unit_admin": N_("unit admin"),
               "request_handler": N_("request handler")}


@dataclass(frozen=True, slots=True)
class Scope:
    """What a command is about: a unit's subtree (None: every unit) and a year."""

    unit_id: int | None
    year: int
    rest: tuple[str, ...] = ()  # arguments that were neither a year nor a unit code


async def roots(context: BotContext) -> list[int] | None:
    """The units at the top of her scope (None: everything, for a super-admin).

    A grant inside another of her grants (head of a chapter of the ward she administers) adds
    nothing and is left out.
    """
    principal = principal_of(context)
    if principal.is_super_admin:
        return None
    held = {g.unit_id for g in principal.grants}
    by_id = await orgtree.units_by_id(context.db)

    def inside_another(unit_id: int) -> bool:
        unit = by_id.get(unit_id)
        for _ in range(64):
            if unit is None or unit.parent_id is None:
                return False
            if unit.parent_id in held:
                return True
            unit = by_id.get(unit.parent_id)
        return False

    return sorted(u for u in held if not inside_another(u))


async def may_see(context: BotContext, unit_id: int | None, role: Role = Role.CHAPTER_HEAD
                  ) -> bool:
    """Whether she may see (or, with UNIT_ADMIN, manage) this scope."""
    principal = context.principal
    assert principal is not None
    if unit_id is None:
        return principal.is_super_admin
    return await may_act_on_unit(context.db, principal, role, unit_id)


def year_of(text: str) -> int | None:
    """A four-digit year typed as an argument."""
    return int(text) if text.isascii() and text.isdigit() and len(text) == 4 else None


async def parse_scope(update: Update, context: BotContext, *, role: Role = Role.CHAPTER_HEAD,
                      command: str = "stats", years_ahead: int = 0,
                      words: tuple[str, ...] = ()) -> Scope | None:
    """[UNIT_CODE] [YEAR] (and any of `words`) from the command; answers and returns None when
    the year or the unit is wrong or not hers."""
    t = context.t
    principal = context.principal
    assert principal is not None
    year, code, rest = context.this_year, None, []
    for arg in context.args or []:
        if year_of(arg) is not None or (arg.isascii() and arg.isdigit()):
            year = int(arg) if arg.isdigit() and len(arg) < 7 else -1
        elif arg.casefold() in words:
            rest.append(arg.casefold())
        else:
            code = arg
    last = context.this_year + years_ahead
    if year > last:
        await say(update, context, t._("{year} has not come yet. Please give a year from {first} "
                                       "to {last}, e.g. /{command} {this}.", year=year,
                                       first=FIRST_YEAR, last=last, command=command,
                                       this=context.this_year))
        return None
    if year < FIRST_YEAR:
        await say(update, context, t._("Please give a year from {first} to {last}, e.g. "
                                       "/{command} {this}.", first=FIRST_YEAR, last=last,
                                       command=command, this=context.this_year))
        return None
    if code is not None:
        unit = await units.by_code(context.db, code[:40])
        if unit is None:
            await say(update, context, t._("There is no unit with the code {code}.",
                                           code=html.escape(code[:40])))
            return None
        if not await may_see(context, unit.id, role):
            await refuse(update, context)
            return None
        return Scope(unit.id, year, tuple(rest))
    found = await roots(context)
    if found is not None:
        allowed = [u for u in found if await may_see(context, u, role)]
        if not allowed:
            await refuse(update, context)
            return None
        found = allowed
    return Scope(await figures_of.default_scope(context.db, found), year, tuple(rest))


async def scope_name(context: BotContext, unit_id: int | None) -> str:
    """The scope as shown (escaped)."""
    if unit_id is None:
        return context.t._("every unit")
    return html.escape(await orgtree.unit_path(context.db, unit_id))


def principal_of(context: BotContext) -> Principal:
    """Who is asking (set for every update by `attach_principal`)."""
    assert context.principal is not None
    return context.principal


def admin_roots(context: BotContext) -> list[int] | None:
    """The units she administers (None: everything, for a super-admin)."""
    principal = principal_of(context)
    if principal.is_super_admin:
        return None
    return sorted({g.unit_id for g in principal.grants if g.role == Role.UNIT_ADMIN})


async def escaped_path(context: BotContext, unit_id: int | None) -> str:
    """A unit's path as shown (escaped)."""
    return html.escape(await orgtree.unit_path(context.db, unit_id))


async def tree_level(context: BotContext, node: int, *,
                     roots: Callable[[BotContext], Awaitable[Sequence[units.Unit]]], pick: str,
                     here: Callable[[units.Unit], str]) -> list[Option]:
    """One level of the unit tree to choose a unit from: at `node`, first the unit itself
    (labelled `here(unit)`), then its children; at 0 her `roots`. A unit with units below goes
    down (`i<id>`); the unit itself and one without units below are picked (`<pick><id>`)."""
    options: list[Option] = []
    if node:
        unit = await orgtree.get(context.db, node)
        if unit is not None:
            options.append(Option(f"{pick}{unit.id}", here(unit)))
        found: Sequence[units.Unit] = await orgtree.children(context.db, node)
    else:
        found = await roots(context)
    for unit in found:
        nested = await orgtree.has_children(context.db, unit.id)
        options.append(Option(f"{'i' if nested else pick}{unit.id}", unit.name))
    return options
