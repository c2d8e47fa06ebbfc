"""The custom CallbackContext every handler receives: database, settings, principal, translator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.catalog import Catalog, campaign_year
from bot.clock import Clock
from bot.delivery import DeliveryEngine
from bot.i18n import Translator, translator
from bot.permissions import Principal, load_principal
from bot.settings import Settings
from storage import members
from storage.db import Database
from storage.persistence import SQLitePersistence


@dataclass
class AppState:
    """Shared resources, kept as the application's bot_data (not persisted)."""

    settings: Settings = field(default_factory=Settings)
    db: Database | None = None
    clock: Clock = field(default_factory=Clock)
    delivery: DeliveryEngine | None = None
    catalog: Catalog | None = None
    chats_with_menus: set[int] = field(default_factory=set)


class BotContext(CallbackContext[ExtBot, dict[str, Any], dict[str, Any], AppState]):
    """Gives handlers `context.db`, `context.settings`, `context.principal` and `context.t`."""

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.principal: Principal | None = None

    @property
    def db(self) -> Database:
        """The open database."""
        assert self.bot_data.db is not None, "database is opened in post_init"
        return self.bot_data.db

    @property
    def delivery(self) -> DeliveryEngine:
        """The outbox sender."""
        assert self.bot_data.delivery is not None
        return self.bot_data.delivery

    @property
    def clock(self) -> Clock:
        """The clock (a controlled one in tests)."""
        return self.bot_data.clock

    @property
    def catalog(self) -> Catalog:
        """The campaign catalog (qualities, criteria, activity types), validated at start."""
        assert self.bot_data.catalog is not None, "the catalog is loaded in build_application"
        return self.bot_data.catalog

    @property
    def this_year(self) -> int:
        """The campaign year now: the local year in the configured time zone."""
        return campaign_year(self.clock.now(), self.settings.timezone)

    @property
    def settings(self) -> Settings:
        """The settings the application was built with."""
        return self.bot_data.settings

    @property
    def locale(self) -> str:
        """Her language: her profile's, else the one she picked before registering, else default."""
        if self.principal is not None and self.principal.member is not None:
            return self.principal.member.locale
        if self.user_data and "locale" in self.user_data:
            return str(self.user_data["locale"])
        return self.settings.default_locale

    async def refresh_principal(self) -> Principal | None:
        """Read her membership and roles again (after she registered or they changed)."""
        if self._user_id is not None:
            self.principal = await load_principal(
                self.db, self._user_id, self.settings.admin_ids
            )
        return self.principal

    @property
    def t(self) -> Translator:
        """The translator for her language."""
        return translator(self.locale)


async def attach_principal(update: object, context: BotContext) -> None:
    """Runs first for every update (group -1): who is this, and which roles does she hold."""
    if isinstance(update, Update) and update.effective_user is not None:
        context.principal = await load_principal(
            context.db, update.effective_user.id, context.settings.admin_ids
        )
        member = context.principal.member
        if member is not None and member.status == "unreachable" and update.message is not None:
            # She blocked the bot once and writes again: she can be reached again.
            await members.set_status(context.db, member.id, "active", only_from="unreachable")
            await context.refresh_principal()


async def flush_persistence(update: object, context: BotContext) -> None:
    """Runs last for every update: write conversation states and drafts at once.

    Skipped for someone with no draft now and none stored (most updates, e.g. /help): flows
    keep their drafts in user_data, so nothing of a flow can be lost that way; the periodic
    persistence job and the shutdown flush cover the rest.
    """
    if not isinstance(update, Update) or update.effective_user is None:
        return
    user_id = update.effective_user.id
    persistence = context.application.persistence
    if not context.user_data and not (
        isinstance(persistence, SQLitePersistence) and persistence.has_stored(user_id)
    ):
        return
    context.application.mark_data_for_update_persistence(user_ids=user_id)
    await context.application.update_persistence()
