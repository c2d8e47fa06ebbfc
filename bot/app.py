"""Building the PTB Application: settings, persistence, handlers in order, error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot.context import AppState, BotContext, attach_principal, flush_persistence
from bot.permissions import Principal
from bot.settings import Settings
from handlers import errors, fallback, language, menu, profile, registration, units
from handlers import help as help_command
from storage.db import Database
from storage.persistence import SQLitePersistence

log = logging.getLogger(__name__)

# A syntactically valid token for running against an in-process Bot API (demo, tests).
OFFLINE_TOKEN = "123456789:offline-demo-token-0000000000000000"

def build_application(settings: Settings, *, request: BaseRequest | None = None) -> Application:
    """The bot: one chain of builder calls; `request` swaps the HTTP transport (tests, demo)."""
    db = Database(settings.database)
    builder = (
        ApplicationBuilder()
        .token(settings.token or OFFLINE_TOKEN)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.timezone))
        .context_types(ContextTypes(context=BotContext, bot_data=AppState))
        .persistence(SQLitePersistence(db, update_interval=5))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if settings.send_rate > 0:
        builder = builder.rate_limiter(
            AIORateLimiter(overall_max_rate=settings.send_rate, overall_time_period=1)
        )
    application = builder.build()
    application.bot_data.settings = settings
    application.bot_data.db = db

    # Before everything: who is writing, and which roles does she hold.
    application.add_handler(TypeHandler(Update, attach_principal), group=-1)
    # Features. Order matters inside the group: the registration conversation first (it owns
    # text while a member registers), the catch-alls of `fallback` last.
    for module in (registration, profile, language, help_command, units, fallback):
        application.add_handlers(module.HANDLERS)
    # After everything: write conversation state at once, so a restart loses nothing.
    application.add_handler(TypeHandler(Update, flush_persistence), group=100)
    application.add_error_handler(errors.on_error)
    return application


async def _post_init(application: Application) -> None:
    state: AppState = application.bot_data
    assert state.db is not None
    await state.db.open()
    await menu.set_default_commands(application.bot)
    for admin_id in state.settings.admin_ids:
        try:
            principal = Principal(user_id=admin_id, is_super_admin=True)
            await menu.set_chat_commands(application.bot, admin_id, principal)
            state.chats_with_menus.add(admin_id)
        except TelegramError as exc:  # an admin who never opened the bot has no chat yet
            log.warning("no admin command menu for one admin yet: %s", exc.message)


async def _post_shutdown(application: Application) -> None:
    state: AppState = application.bot_data
    if state.db is not None:
        await state.db.close()
