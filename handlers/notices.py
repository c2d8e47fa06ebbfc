"""/stop and resuming notices; following whether she blocked the bot (my_chat_member)."""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, Update
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler, filters

from bot.context import BotContext
from handlers.kit.replies import registered_member, say
from storage import members


async def stop_notices(update: Update, context: BotContext) -> None:
    """/stop: no more notices or reminders until she sends /start."""
    _ = context.t._
    if member := await registered_member(
            update, context, _("You are not registered, so you receive no notices.")):
        await members.set_status(context.db, member.id, "stopped")
        await say(update, context, _("You will receive no more notices or reminders. Send /start "
                                     "whenever you want them again."))


async def chat_member_changed(update: Update, context: BotContext) -> None:
    """She blocked (or unblocked) the bot in her private chat."""
    change = update.my_chat_member
    member = context.principal.member if context.principal else None
    if change is None or member is None:
        return
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        await members.set_status(context.db, member.id, "unreachable", only_from="active")
    elif status == ChatMember.MEMBER:
        await members.set_status(context.db, member.id, "active", only_from="unreachable")


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("stop", stop_notices, filters.ChatType.PRIVATE),
        ChatMemberHandler(chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
