"""/help: what she can do, for her roles, one short section at a time.

`/help` gives everybody's and members' commands (her data rights among them) and, to a head
or an admin, one line per section of her extra commands (`/help chapter`, `/help admin`), so
no command is hidden and no answer is a wall of 30 lines (every listed command also costs
Telegram and us an entity to send and parse back).
"""

from __future__ import annotations

import html
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.channels import ZALO, channel_of
from bot.context import BotContext
from bot.i18n import N_
from bot.permissions import Role
from handlers.kit import menu
from handlers.kit.replies import say_only

# The sections beyond the everyday commands: `/help <name>`, for whom, and its one-line title.
SECTIONS: dict[str, tuple[Role, str]] = {
    "chapter": (Role.CHAPTER_HEAD, N_("/help chapter — for chapter heads: notices, evaluation, "
                                      "statistics ({count} commands)")),
    "admin": (Role.UNIT_ADMIN, N_("/help admin — for unit admins: units, roles, targets, "
                                  "reminders ({count} commands)")),
}


def _section(role: Role) -> list[tuple[str, str]]:
    """(command, description msgid) of one `/help <name>` section."""
    return menu.COMMANDS[role]


def _everyday(role: Role | None) -> list[tuple[str, str]]:
    """Everybody's commands, plus members' for a member (and above)."""
    found = list(menu.COMMANDS[None])
    if role is not None:
        found += menu.COMMANDS[Role.MEMBER]
    return found


async def show_help(update: Update, context: BotContext) -> None:
    """Her commands (or the section she asked for), and how to get started."""
    t = context.t
    principal = context.principal
    asked = (context.args or [""])[0].lower() if context.args else ""
    section = SECTIONS.get(asked)
    if section is not None and principal is not None and principal.at_least(section[0]):
        lines = [f"/{name} — {t._(description)}" for name, description in _section(section[0])]
        await say_only(update, context, "\n".join(lines))
        return
    role = principal.highest if principal else None
    chat = update.effective_chat
    on_zalo = chat is not None and channel_of(chat.id) == ZALO  # no buttons there
    lines = [t._("<b>Assistant of {org}</b>", org=html.escape(context.settings.org_name))]
    if principal is None or principal.member is None:
        lines.append(t._("Send /start to register as a member; it takes about a minute."))
    elif on_zalo:
        lines.append(t._("Type “menu” for the main menu, or one of these commands:"))
    else:
        lines.append(t._("Use the menu buttons at the bottom of the screen, or these commands:"))
    lines.append("")
    lines += [f"/{name} — {t._(description)}" for name, description in _everyday(role)]
    if principal is not None and principal.handles:  # a request handler ("người tiếp nhận")
        lines.append(f"/requests — {t._(menu.REQUESTS)}")
    extra = [t._(title, count=len(_section(needed))) for needed, title in SECTIONS.values()
             if principal is not None and principal.at_least(needed)]
    if extra:
        lines += ["", t._("You see extra commands because of your role in the union:"), *extra]
    if on_zalo:
        lines += ["", t._("Every choice is answered by typing its number. Words that always "
                          "work: “menu” or “0” (the main menu), “start”, “hủy” (stop what you "
                          "are doing), “help”.")]
    else:
        lines += ["", t._("Every choice can be made with a button or by typing its number. "
                          "/cancel stops what you are doing.")]
    # The persistent main menu is already on her screen; /start brings it back if needed.
    await say_only(update, context, "\n".join(lines))
    if principal is not None and update.effective_chat is not None:
        await menu.ensure_chat_commands(context, update.effective_chat.id, principal)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("help", show_help, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.HELP), show_help),
    ]
