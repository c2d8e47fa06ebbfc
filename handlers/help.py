"""/help: what she can do, for her roles."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.permissions import Role
from handlers.kit import menu
from handlers.kit.replies import say


async def show_help(update: Update, context: BotContext) -> None:
    """The commands of her roles, with one line each, and how to get started."""
    t = context.t
    principal = context.principal
    role = principal.highest if principal else None
    lines = [t._("<b>Women's Union bot</b>")]
    if principal is None or principal.member is None:
        lines.append(t._("Send /start to register as a member; it takes about a minute."))
    else:
        lines.append(t._("Use the menu buttons at the bottom of the screen, or these commands:"))
    lines.append("")
    lines += [f"/{name} — {t._(description)}" for name, description in menu.commands_for(role)]
    if role in (Role.CHAPTER_HEAD, Role.UNIT_ADMIN, Role.SUPER_ADMIN):
        lines += ["", t._("You see extra commands because of your role in the union.")]
    lines += ["", t._("Every choice can be made with a button or by typing its number. "
                      "/cancel stops what you are doing.")]
    # The persistent main menu is already on her screen; /start brings it back if needed.
    await say(update, context, "\n".join(lines))
    if principal is not None and update.effective_chat is not None:
        await menu.ensure_chat_commands(context, update.effective_chat.id, principal)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("help", show_help, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.HELP), show_help),
    ]
