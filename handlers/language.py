"""/language: switch between Vietnamese and English (buttons or a typed number)."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.choices import Choice, Option, fold
from bot.context import BotContext
from bot.i18n import LANGUAGE_NAMES
from bot.settings import SUPPORTED_LOCALES
from handlers.kit import answers, menu, offers
from handlers.kit.replies import answer_stale, retire_buttons, say
from storage import members

PREFIX = "lang"
CHOICE = Choice([Option(loc, LANGUAGE_NAMES[loc]) for loc in SUPPORTED_LOCALES])
# What she may type for a language besides its name or number (compared with `fold`).
WORDS = {"tieng anh": "en", "anh": "en", "english": "en", "tieng viet": "vi", "viet": "vi",
         "vietnamese": "vi"}


async def ask_language(update: Update, context: BotContext) -> None:
    """Offer the languages."""
    answers.ask(context, PREFIX)
    await say(
        update,
        context,
        context.t._("Choose your language (tap a button or type its number):"),
        CHOICE.keyboard(PREFIX),
    )


async def language_pressed(update: Update, context: BotContext) -> None:
    """A language button."""
    query = update.callback_query
    assert query is not None
    data = callbacks.decode(query.data)
    option = CHOICE.by_key(data.arg(1)) if data and data.arg(0) == "o" else None
    if option is None:
        await answer_stale(update, context)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await retire_buttons(query)
    await _switch(update, context, option.key)


async def language_typed(update: Update, context: BotContext, text: str) -> bool:
    """A typed number or language name after /language; False when it names none."""
    option = CHOICE.resolve(text) or CHOICE.by_key(WORDS.get(fold(text)))
    if option is None:
        return False
    await _switch(update, context, option.key)
    return True


async def _switch(update: Update, context: BotContext, locale: str) -> None:
    assert context.user_data is not None
    context.user_data.pop("pending_choice", None)
    member = context.principal.member if context.principal else None
    if member is not None:
        await members.set_locale(context.db, member.id, locale)
        await context.refresh_principal()
    else:
        context.user_data["locale"] = locale
    t = context.t
    text = t._("Language changed to {language}.", language=LANGUAGE_NAMES[locale])
    principal = context.principal
    if principal is not None and (principal.member is not None or principal.is_super_admin):
        await say(update, context, text, menu.main_menu(principal, t))
    else:
        await say(update, context, text + "\n" + t._("Send /start to register."))



async def _language_label(context: BotContext) -> str:
    return context.t._("{language} · Language", language=LANGUAGE_NAMES[context.locale])


async def _choose_language(update: Update, context: BotContext) -> str | None:
    await ask_language(update, context)
    return None


offers.offer_setting(offers.Setting("lang", 10, _language_label, lambda context: True,
                                    _choose_language))

# Typed answers to this feature's questions (the latest question asked owns them).
async def _options(context: BotContext) -> Choice:
    return CHOICE


answers.register(PREFIX, language_typed, options=_options)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The handlers of this feature, new for each application."""
    return [
        CommandHandler("language", ask_language, filters.ChatType.PRIVATE),
        MessageHandler(filters.ChatType.PRIVATE & menu.button_filter(menu.LANGUAGE), ask_language),
        CallbackQueryHandler(language_pressed, pattern=callbacks.pattern(PREFIX)),
    ]
