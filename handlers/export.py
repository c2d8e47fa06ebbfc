"""/export [UNIT_CODE] [YEAR] [csv] (chapter heads and admins): the figures as a file.

The reply comes at once; the workbook is built in the background (bot/export.py) and sent to
the chat when ready, with its progress shown by editing the first message. One export at a
time per person.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import export
from bot.context import BotContext
from bot.permissions import Role
from handlers.kit import offers
from handlers.kit.replies import refuse, requires, say, say_kept
from handlers.kit.scope import may_see, parse_scope, scope_name
from storage import exports
from storage.db import to_iso

FORMATS = ("csv", "xlsx", "excel")
# File formats someone may ask for that the export does not make (read as a unit code before).
OTHER_FORMATS = frozenset({"pdf", "doc", "docx", "xls", "ods", "odt", "txt", "json", "html",
                           "zip", "png", "jpg", "word"})


@requires(Role.CHAPTER_HEAD)
async def export_command(update: Update, context: BotContext) -> None:
    """/export [UNIT_CODE] [YEAR] [csv]."""
    for arg in context.args or []:
        if arg.casefold().lstrip(".") in OTHER_FORMATS:
            await say(update, context, context.t._(
                "The export is an Excel file (.xlsx), or CSV files if you add csv; it cannot "
                "be a {word} file.", word=html.escape(arg[:20])) + "\n" + _usage(context))
            return
    scope = await parse_scope(update, context, command="export", words=FORMATS)
    if scope is not None:
        await request_export(update, context, unit_id=scope.unit_id, year=scope.year,
                             fmt="csv" if "csv" in scope.rest else "xlsx")


def _usage(context: BotContext) -> str:
    """What /export accepts, said after a word it cannot use."""
    return context.t._("You can add a year and a unit code, e.g. /export {year} or /export "
                       "UNIT_CODE {year}.", year=context.this_year)


async def request_export(update: Update, context: BotContext, *, unit_id: int | None,
                         year: int, fmt: str) -> None:
    """Queue an export of a scope she may see, and start it in the background."""
    t = context.t
    principal = context.principal
    assert principal is not None and update.effective_chat is not None
    if not await may_see(context, unit_id):
        await refuse(update, context)
        return
    if await exports.unfinished(context.db, requested_by=principal.user_id):
        await say(update, context, t._("Your previous export is still being prepared; it will "
                                       "arrive in this chat shortly."))
        return
    where = await scope_name(context, unit_id)
    kind = t._("CSV files") if fmt == "csv" else t._("an Excel file")
    message = await say_kept(update, context, t._(
        "⏳ Preparing {kind} with the statistics {year} for {scope}. It will arrive in this "
        "chat in a moment; you can go on using the bot meanwhile.",
        kind=kind, year=year, scope=where))
    job = await exports.create(
        context.db, requested_by=principal.user_id, chat_id=update.effective_chat.id,
        locale=t.locale, unit_id=unit_id, year=year, format=fmt,
        at=to_iso(context.clock.now()), progress_message_id=message.message_id)
    export.start(context.application, job)



async def _export_xlsx(update: Update, context: BotContext, unit_id: int | None,
                       year: int) -> None:
    await request_export(update, context, unit_id=unit_id, year=year, fmt="xlsx")


# The /stats summary offers the Excel export of the scope it shows.
offers.offer_scope_action("xlsx", _export_xlsx)

def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [CommandHandler("export", export_command, filters.ChatType.PRIVATE)]
