"""/units (admins): the organisation tree in her scope with member counts, paginated."""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks, orgtree
from bot.context import BotContext
from bot.permissions import Principal, Role
from handlers.kit import menu
from handlers.kit.replies import answer_stale, edit, page_buttons, paginate, requires, say
from storage import members
from storage.db import Database

PREFIX = "units"
LINES_PER_PAGE = 25


async def _lines(db: Database, principal: Principal) -> list[tuple[str, int]]:
    """(name line, member count) for every unit she may see."""
    if principal.is_super_admin:
        roots: list[int | None] = [None]
    else:
        roots = [*sorted({g.unit_id for g in principal.grants if g.role == Role.UNIT_ADMIN})]
    counts = await members.subtree_counts(db)
    seen: set[int] = set()
    lines = []
    for root in roots:
        for unit, depth in await orgtree.sorted_tree(db, root):
            if unit.id in seen:
                continue
            seen.add(unit.id)
            lines.append((f"{'    ' * depth}• {html.escape(unit.name)} <code>"
                          f"{html.escape(unit.code)}</code>", counts.get(unit.id, 0)))
    return lines


async def _render(context: BotContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    t = context.t
    assert context.principal is not None
    lines = [
        t.n_("{line} — {n} member", "{line} — {n} members", count, line=text)
        for text, count in await _lines(context.db, context.principal)
    ]
    if not lines:
        return t._("No units yet. Load them with: python -m bot units import FILE.csv"), None
    pages = paginate(lines)
    page = min(max(page, 0), len(pages) - 1)
    header = t._("<b>Units of the union</b> (page {page} of {pages}). Each count includes the "
                 "units below.", page=page + 1, pages=len(pages))
    return "\n".join([header, *pages[page]]), page_buttons(PREFIX, page, len(pages))


@requires(Role.UNIT_ADMIN)
async def show_units(update: Update, context: BotContext) -> None:
    """The first page of the tree."""
    text, keyboard = await _render(context, 0)
    await say(update, context, text, keyboard)


@requires(Role.UNIT_ADMIN)
async def units_page(update: Update, context: BotContext) -> None:
    """Another page (permission checked again on the press)."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    if data is None or data.arg(0) != "p" or not (data.arg(1) or "").isdigit():
        await answer_stale(update, context)
        return
    await query.answer()
    text, keyboard = await _render(context, int(data.arg(1) or 0))
    if isinstance(query.message, Message):
        await edit(query.message, text, keyboard)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("units", show_units, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.UNITS), show_units),
        CallbackQueryHandler(units_page, pattern=callbacks.pattern(PREFIX)),
    ]
