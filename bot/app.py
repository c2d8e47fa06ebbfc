"""Building the PTB Application: settings, persistence, handlers in order, error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot import catalog as campaign_catalog
from bot import export as exports
from bot import figure_deadline, flood, limits, meetings, processing, reminders, retention
from bot import indicators as unit_indicators
from bot import polls as poll_service
from bot.clock import Clock
from bot.context import (
    AppState,
    BotContext,
    PrincipalCache,
    attach_principal,
    flush_persistence,
)
from bot.delivery import DeliveryEngine
from bot.http import make_request
from bot.logging_setup import protect_records
from bot.pacing import PacedRateLimiter
from bot.permissions import Principal
from bot.settings import Settings
from handlers import (
    activities,
    attendance,
    audit,
    baocao,
    broadcast,
    chapter,
    errors,
    evaluation,
    fallback,
    family,
    language,
    my_data,
    my_reports,
    notices,
    one_tap,
    poll_create,
    polls,
    privacy,
    profile,
    registration,
    roles,
    standard,
    support,
    unit_tree,
    units,
    year_close,
)
from handlers import charts as chart_command
from handlers import export as export_command
from handlers import figures as figure_entry
from handlers import help as help_command
from handlers import meetings as meeting_events
from handlers import reminders as reminder_schedules
from handlers import requests as support_requests
from handlers import settings as settings_menu
from handlers import stats as stats_command
from handlers import targets as target_command
from handlers.kit import menu
from storage import campaigns
from storage.db import Database
from storage.persistence import SQLitePersistence

log = logging.getLogger(__name__)

# A syntactically valid token for running against an in-process Bot API (demo, tests).
OFFLINE_TOKEN = "123456789:offline-demo-token-0000000000000000"

def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    background: bool = True,
) -> Application:
    """The bot: one chain of builder calls.

    `request` swaps the HTTP transport and `clock` the time source (tests, demo, benchmarks);
    `background=False` leaves the delivery engine to be driven by `run_until_idle`.
    """
    protect_records()  # no library's record carries SQL parameters or texts
    db = Database(settings.database)
    clock = clock or Clock()
    builder = (
        ApplicationBuilder()
        .token(settings.token or OFFLINE_TOKEN)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.timezone))
        .context_types(ContextTypes(context=BotContext, bot_data=AppState))
        .persistence(SQLitePersistence(db, update_interval=5))
        .rate_limiter(PacedRateLimiter(settings.send_rate, clock=clock))
        .post_init(_post_init if background else _open_and_set_menus)
        .post_shutdown(_post_shutdown)
        # At-most-once processing of update ids and one log line per update.
        .application_class(processing.BotApplication)
        # Different people's updates at once, each person's in order (BOT_CONCURRENCY).
        .concurrent_updates(processing.PerChatProcessor(settings.concurrency))
        .post_stop(_post_stop)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:  # the real Bot API: one connection per concurrent update, plus the outbox's
        builder = builder.request(
            make_request(settings.http_client, pool_size=settings.concurrency + 8)
        ).get_updates_request(make_request(settings.http_client, pool_size=1))
    application = builder.build()
    state: AppState = application.bot_data
    state.settings, state.db, state.clock = settings, db, clock
    # The campaign catalog: a bad file stops here (CatalogError, one line; exit 2 in the CLI).
    state.catalog = campaign_catalog.load(settings.catalog)
    unit_indicators.load(settings.indicators)  # the indicator catalog: checked the same way
    state.delivery = DeliveryEngine(
        db,
        application.bot,
        clock=clock,
        timezone=settings.timezone,
        default_locale=settings.default_locale,
        send_rate=settings.send_rate,
        admin_ids=settings.admin_ids,
    )

    # Gatekeeping before anything reads the database: flooding, then oversized input.
    application.add_handler(TypeHandler(Update, flood.FloodGate()), group=-3)
    application.add_handler(TypeHandler(Update, limits.refuse_oversized), group=-2)
    # Before everything: who is writing, and which roles does she hold.
    application.add_handler(TypeHandler(Update, attach_principal), group=-1)
    # Data rights first in the group: the consent gate asks again for a new consent version
    # before any feature runs; /mydata (my_data) and /deleteme work in every flow.
    application.add_handlers(privacy.handlers())
    application.add_handlers(my_data.handlers())
    # Features. Order matters inside the group: the catch-alls of `fallback` last (it hands
    # typed answers to the chat's latest question, kit.answers).
    for module in (
        attendance,  # before registration: `/start dd-<code>` is a check-in
        meeting_events,
        registration, broadcast, profile, language, notices, help_command, units,
        standard, family, evaluation, year_close, activities, my_reports, one_tap,
        chapter, reminder_schedules, settings_menu, stats_command, chart_command, export_command,
        target_command, figure_entry, baocao, roles, unit_tree, audit, poll_create, polls,
        support, support_requests, fallback,
    ):
        application.add_handlers(module.handlers())
    # After everything: write conversation state at once, so a restart loses nothing.
    application.add_handler(TypeHandler(Update, flush_persistence), group=100)
    application.add_error_handler(errors.on_error)
    processing.instrument(application)
    return application


async def _post_init(application: Application) -> None:
    await _open_and_set_menus(application)
    assert application.bot_data.delivery is not None
    application.bot_data.delivery.start()
    # Exports that were queued or running when the process stopped start again.
    await exports.resume(application)
    # Reminders: every minute, create what is due (exactly once; tests call the tick directly).
    if application.job_queue is not None:
        application.job_queue.run_repeating(_reminder_tick, interval=60, first=5,
                                            name="reminders")
        # Meetings' evening-before reminders (18:00 local), each exactly once.
        application.job_queue.run_repeating(_meeting_tick, interval=60, first=10,
                                            name="meetings")
        # Requests for help not acknowledged in time: the ward's admins are told (once).
        application.job_queue.run_repeating(_support_tick, interval=300, first=30,
                                            name="support")
        # Unit figures: one reminder per late chapter after the monthly deadline.
        application.job_queue.run_repeating(_figures_tick, interval=3600, first=60,
                                            name="figures-deadline")
        # Retention (README "Members' data rights"): once a day in the quiet hours.
        application.job_queue.run_daily(
            _retention_job, retention.RUN_AT.replace(tzinfo=application.bot_data.settings.timezone),
            name="retention")


async def _reminder_tick(context: BotContext) -> None:
    await reminders.tick(context.bot_data)
    await poll_service.tick(context.bot_data)  # surveys that close or remind now


async def _meeting_tick(context: BotContext) -> None:
    await meetings.tick(context.bot_data)


async def _support_tick(context: BotContext) -> None:
    await support.escalate(context)


async def _figures_tick(context: BotContext) -> None:
    await figure_deadline.remind(context.bot_data)


async def _retention_job(context: BotContext) -> None:
    await retention.apply(context.application)


async def _open_and_set_menus(application: Application) -> None:
    state: AppState = application.bot_data
    assert state.db is not None
    await state.db.open()
    state.principals = PrincipalCache(state.clock)
    await state.principals.install(state.db)
    assert state.catalog is not None
    # Criteria sets loaded with `criteria load` win over the file's; a catalog that dropped a
    # code or a set still used by stored data is refused (CatalogError).
    state.catalog = await campaign_catalog.with_stored_sets(state.db, state.catalog)
    await campaign_catalog.check_stored_codes(state.db, state.catalog)
    year = campaign_catalog.campaign_year(state.clock.now(), state.settings.timezone)
    for _year, set_id in await campaigns.criteria_sets_in_use(state.db, from_year=year,
                                                             to_year=year):
        criteria_set = state.catalog.criteria_set(year, set_id)
        await campaigns.refresh_meets_all(state.db, year, [c.code for c in criteria_set.criteria],
                                          criteria_set=set_id)
    await privacy.load_consent_state(application)
    await menu.set_default_commands(application.bot)
    for admin_id in state.settings.admin_ids:
        try:
            principal = Principal(user_id=admin_id, is_super_admin=True)
            await menu.set_chat_commands(application.bot, admin_id, principal)
            state.chats_with_menus.add(admin_id)
        except TelegramError as exc:  # an admin who never opened the bot has no chat yet
            log.warning("no admin command menu for one admin yet: %s", exc.message)


async def _post_stop(application: Application) -> None:
    # Updates are no longer taken: stop sending while the HTTP client is still open, so every
    # message handed to Telegram is recorded (the client closes in `shutdown`).
    if application.bot_data.delivery is not None:
        await application.bot_data.delivery.stop()


async def _post_shutdown(application: Application) -> None:
    state: AppState = application.bot_data
    if state.delivery is not None:
        await state.delivery.stop()
    if state.db is not None:
        await state.db.close()
