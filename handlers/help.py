"""/help: what she can do, for her roles, one short section at a time.

`/help` gives everybody's and members' commands (her data rights among them) and, to a head
or an admin, one line per section of her extra commands (`/help_chapter`, `/help_admin`), so
no command is hidden and no answer is a wall of 30 lines (every listed command also costs
Telegram and us an entity to send and parse back).
"""

from __future__ import annotations

import functools
import html
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.channels import ZALO, channel_of
from bot.context import BotContext
from bot.i18n import N_, translator
from bot.permissions import Role
from handlers.kit import greeting, menu
from handlers.kit.replies import say_only

# The sections beyond the everyday commands: `/help <name>`, for whom, and its one-line title.
SECTIONS: dict[str, tuple[Role, str]] = {
    "chapter": (Role.CHAPTER_HEAD, N_("/help_chapter — for chapter heads: notices, evaluation, "
                                      "statistics ({count} commands)")),
    "admin": (Role.UNIT_ADMIN, N_("/help_admin — for unit admins: units, roles, targets, "
                                  "reminders ({count} commands)")),
}


SECTION_COMMANDS = [f"help_{name}" for name in SECTIONS]
"""`/help_chapter`, `/help_admin` (`/help chapter` is still understood when typed)."""


def _section(role: Role) -> list[tuple[str, str]]:
    """(command, description msgid) of one `/help <name>` section."""
    return menu.COMMANDS[role]


def _at_least(role: Role | None, needed: Role) -> bool:
    """Whether her highest role is `needed` or a more powerful one (as `Principal.at_least`)."""
    ranks = list(Role)
    return role is not None and ranks.index(role) >= ranks.index(needed)


def _everyday(role: Role | None) -> list[tuple[str, str]]:
    """Everybody's commands, plus members' for a member (and above)."""
    found = list(menu.COMMANDS[None])
    if role is not None:
        found += menu.COMMANDS[Role.MEMBER]
    return found


async def show_help(update: Update, context: BotContext) -> None:
    """Her commands (or the section she asked for), and how to get started."""
    principal = context.principal
    asked = (context.args or [""])[0].lower() if context.args else ""
    typed = update.effective_message.text if update.effective_message else None
    command = (typed or "").split(maxsplit=1)[0].split("@")[0].lower()
    if command.startswith("/help_"):  # one word, so Telegram makes it a tappable link: a tap
        asked = command[len("/help_"):]  # on "/help chapter" only ever sent "/help" again
    chat = update.effective_chat
    member = principal.member if principal else None
    org = await greeting.union_name(context, member.unit_id if member else None)
    await say_only(update, context, _text(
        context.locale,
        role=principal.highest if principal else None,
        registered=principal is not None and principal.member is not None,
        handles=principal is not None and bool(principal.handles),
        on_zalo=chat is not None and channel_of(chat.id) == ZALO,  # no buttons there
        org=org or html.escape(context.settings.org_name),
        asked=asked if asked in SECTIONS else "",
    ))
    if principal is not None and update.effective_chat is not None:
        await menu.ensure_chat_commands(context, update.effective_chat.id, principal)


@functools.lru_cache(maxsize=256)
def _text(locale: str, *, role: Role | None, registered: bool, handles: bool, on_zalo: bool,
          org: str, asked: str) -> str:
    """The /help text: the same for everybody with her language, highest role and channel, so
    it is built once per such combination, not on every /help (issue 16)."""
    t = translator(locale)
    allowed = [name for name, (needed, _title) in SECTIONS.items() if _at_least(role, needed)]
    if asked in allowed:
        needed = SECTIONS[asked][0]
        return "\n".join(f"/{name} — {t._(description)}" for name, description in _section(needed))
    lines = [t._("<b>Assistant of {org}</b>", org=org)]  # already escaped
    if not registered:
        lines.append(t._("Send /start to register as a member; it takes about a minute."))
    elif on_zalo:
        lines.append(t._("Type “menu” for the main menu, or one of these commands:"))
    else:
        lines.append(t._("Use the menu buttons at the bottom of the screen, or these commands:"))
    lines.append("")
    lines += [f"/{name} — {t._(description)}" for name, description in _everyday(role)]
    if handles:  # a request handler ("người tiếp nhận")
        lines.append(f"/requests — {t._(menu.REQUESTS)}")
    extra = [t._(SECTIONS[name][1], count=len(_section(SECTIONS[name][0]))) for name in allowed]
    if extra:
        lines += ["", t._("You see extra commands because of your role in the union:"), *extra]
    if on_zalo:
        lines += ["", t._("Every choice is answered by typing its number. Words that always "
                          "work: “menu” or “0” (the main menu), “start”, “hủy” (stop what you "
                          "are doing), “help”.")]
    else:
        lines += ["", t._("Every choice can be made with a button or by typing its number. "
                          "/cancel (or typing “hủy”) stops what you are doing.")]
    # The persistent main menu is already on her screen; /start brings it back if needed.
    return "\n".join(lines)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler(["help", *SECTION_COMMANDS], show_help, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.HELP), show_help),
    ]
