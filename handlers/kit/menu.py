"""The persistent main menu (reply keyboard) and the per-role command menus (setMyCommands)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.i18n import N_, Translator, translator
from bot.permissions import Principal, Role
from bot.settings import SUPPORTED_LOCALES

log = logging.getLogger(__name__)

PROFILE = N_("👤 My profile")
LANGUAGE = N_("🌐 Language")
HELP = N_("❓ Help")
REGISTER = N_("📝 Register as a member")
UNITS = N_("🏢 Units")
STATS = N_("📊 Statistics")
STANDARD = N_("⭐ Women's standard")
FAMILY = N_("🏡 5 không, 3 sạch")
REPORT = N_("📋 Report an activity")
EDIT_PROFILE = N_("✏️ Edit my details")
PRIVACY = N_("🔒 Privacy")
SUPPORT = N_("🤝 Ask the union for help")
REQUESTS = N_("Requests for help you may read")

# (command, description) per role; a role's menu is its own commands plus the lower roles'.
COMMANDS: dict[Role | None, list[tuple[str, str]]] = {
    None: [
        ("start", N_("Register or open the main menu")),
        ("language", N_("Choose the language")),
        ("help", N_("What this bot can do")),
        ("privacy", N_("How your data is used, and your rights")),
        ("cancel", N_("Stop what you are doing")),
    ],
    Role.MEMBER: [
        ("me", N_("See and correct your profile")),
        ("stop", N_("Stop receiving notices (/start turns them on)")),
        ("standard", N_("This year's women's standard: register, commitments, result")),
        ("family", N_("“5 không, 3 sạch” family: register, self-assess")),
        ("mydata", N_("Everything the bot holds about you (also as a file)")),
        ("deleteme", N_("Delete your data from the bot")),
        ("report", N_("Report an activity (e.g. Sunday environment day)")),
        ("myreports", N_("Your activity reports: see, edit, delete")),
        ("settings", N_("Settings: language, reminders")),
        ("meetings", N_("Your meetings: answer an invitation; officers: QR code, attendance")),
        ("polls", N_("Surveys to answer, and the results you may see")),
        ("support", N_("Ask the union for help, in confidence")),
    ],
    Role.CHAPTER_HEAD: [
        ("broadcast", N_("Send a notice to your members")),
        ("meeting", N_("Invite members to a meeting or event")),
        ("poll", N_("Ask your members' opinion with a poll")),
        ("broadcasts", N_("Recent notices: progress, cancel")),
        ("evaluate", N_("Year-end evaluation of your chapter")),
        ("stats", N_("Statistics of your chapter or unit: /stats [year]")),
        ("chart", N_("Charts: rates against targets, environment days")),
        ("export", N_("Excel export of your figures: /export [year] [csv]")),
        ("chapter", N_("Your chapter's activity this week and this month")),
        ("requests", REQUESTS),
        ("figures", N_("Your unit's monthly figures (chỉ tiêu): /figures [code] [11/2026]")),
        ("baocao", N_("The report in the union's words, also as Word: /baocao [code] "
                      "[11/2026 | Q3/2026 | 6t/2026 | 6t2/2026 | 2026 | nhiệm kỳ]")),
    ],
    Role.UNIT_ADMIN: [
        ("units", N_("The organisation tree and member counts")),
        ("year", N_("Close a year: its results become read-only")),
        ("targets", N_("Yearly targets (chỉ tiêu) of your units")),
        ("grant", N_("Make a member a chapter head or unit admin")),
        ("revoke", N_("Take a role away from a member")),
        ("unit", N_("Add, rename, move or merge units")),
        ("audit", N_("Who changed what, and when")),
        ("reminders", N_("Reminder schedules: days, times, texts, pauses")),
    ],
    Role.SUPER_ADMIN: [],
}


def button_labels(label: str) -> list[str]:
    """A main-menu button's text in every language."""
    return [translator(locale)._(label) for locale in SUPPORTED_LOCALES]


def button_filter(label: str) -> filters.MessageFilter:
    """Matches a main-menu button press in any language."""
    return filters.Text(button_labels(label))


def opened_by(command: str, callback: Callable[..., Coroutine[Any, Any, Any]],
              label: str | None = None) -> list[BaseHandler[Any, Any, Any]]:
    """/`command` in a private chat and, when the main menu has it, its button `label` (in any
    language) open the same screen (new handlers for each application)."""
    found: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler(command, callback, filters.ChatType.PRIVATE)]
    if label is not None:
        found.append(MessageHandler(filters.ChatType.PRIVATE & button_filter(label), callback))
    return found


def main_menu(principal: Principal | None, t: Translator) -> ReplyKeyboardMarkup:
    """The reply keyboard for her roles (listing only what exists)."""
    rows: list[list[str]] = []
    if principal is not None and principal.at_least(Role.CHAPTER_HEAD):
        rows.append([t._(STATS)])
    if principal is not None and principal.at_least(Role.UNIT_ADMIN):
        rows.append([t._(UNITS)])
    if principal is not None and principal.member is not None:
        rows.insert(0, [t._(PROFILE)])
    else:
        rows.append([t._(REGISTER)])
    if principal is not None and principal.member is not None:
        rows.insert(1, [t._(STANDARD), t._(FAMILY)])
        rows.insert(1, [t._(REPORT)])
        rows.insert(3, [t._(SUPPORT)])
    rows.append([t._(LANGUAGE), t._(HELP), t._(PRIVACY)])
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label) for label in row] for row in rows],
        resize_keyboard=True,
        is_persistent=True,
    )


def commands_for(role: Role | None) -> list[tuple[str, str]]:
    """(command, description msgid) for someone whose highest role is `role`, in menu order."""
    found = list(COMMANDS[None])
    if role is not None:
        for lower in list(Role)[: list(Role).index(role) + 1]:
            found.extend(COMMANDS[lower])
    return found


def _bot_commands(commands: list[tuple[str, str]], t: Translator) -> list[BotCommand]:
    return [BotCommand(name, t._(description)) for name, description in commands]


async def set_default_commands(bot: Bot) -> None:
    """The menu everybody sees (members' commands), in every language."""
    member = commands_for(Role.MEMBER)
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(
            _bot_commands(member, translator(locale)), BotCommandScopeDefault(), locale
        )
    await bot.set_my_commands(_bot_commands(member, translator(SUPPORTED_LOCALES[0])))


async def set_chat_commands(bot: Bot, chat_id: int, principal: Principal) -> None:
    """A chat-scoped menu for someone with more than the member's commands."""
    scope = BotCommandScopeChat(chat_id)
    commands = commands_for(principal.highest)
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(_bot_commands(commands, translator(locale)), scope, locale)
    await bot.set_my_commands(_bot_commands(commands, translator(SUPPORTED_LOCALES[0])), scope)


async def ensure_chat_commands(context: BotContext, chat_id: int, principal: Principal) -> None:
    """Give someone with a role her chat-scoped command menu (once per process and chat)."""
    done = context.bot_data.chats_with_menus
    if chat_id in done or not principal.at_least(Role.CHAPTER_HEAD):
        return
    await set_chat_commands(context.bot, chat_id, principal)
    done.add(chat_id)
