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
from storage import members, watch
from storage.db import Database
from storage.persistence import SQLitePersistence

PRINCIPAL_TTL = 10.0
"""Seconds a looked-up principal is reused. This process's own writes to members and roles
drop it at once (`storage.watch`); the TTL bounds what another process (the CLI) changed."""
PRINCIPAL_CACHE_MAX = 20_000


class PrincipalCache:
    """Who-is-who for recent writers, so most updates need no database trip to start."""

    def __init__(self, clock: Clock, *, ttl: float = PRINCIPAL_TTL) -> None:
        self.clock, self.ttl = clock, ttl
        self._entries: dict[int, tuple[float, Principal]] = {}
        self._changes = 0

    async def install(self, db: Database) -> None:
        """Be told of every change to members and roles made through `db`."""
        await watch.watch_people(db, self._forget)

    def _forget(self, user_id: int | None) -> None:
        # Called in the database thread; single dict operations are atomic.
        self._changes += 1
        if user_id is None:
            self._entries.clear()
        else:
            self._entries.pop(user_id, None)

    async def load(self, db: Database, user_id: int, admin_ids: frozenset[int],
                   *, fresh: bool = False) -> Principal:
        """Her principal: from memory while valid (unless `fresh`), else from the database."""
        now = self.clock.monotonic()
        entry = None if fresh else self._entries.get(user_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        changes = self._changes
        principal = await load_principal(db, user_id, admin_ids)
        if changes == self._changes:  # nothing changed while it was read: keep it
            if len(self._entries) >= PRINCIPAL_CACHE_MAX:
                self._entries.clear()
            self._entries[user_id] = (now + self.ttl, principal)
        return principal


@dataclass
class AppState:
    """Shared resources, kept as the application's bot_data (not persisted)."""

    settings: Settings = field(default_factory=Settings)
    db: Database | None = None
    clock: Clock = field(default_factory=Clock)
    delivery: DeliveryEngine | None = None
    catalog: Catalog | None = None
    chats_with_menus: set[int] = field(default_factory=set)
    principals: PrincipalCache | None = None  # installed when the database opens


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
            self.principal = await _principal(self, self._user_id, fresh=True)
        return self.principal

    @property
    def t(self) -> Translator:
        """The translator for her language."""
        return translator(self.locale)


async def attach_principal(update: object, context: BotContext) -> None:
    """Runs first for every update (group -1): who is this, and which roles does she hold."""
    if isinstance(update, Update) and update.effective_user is not None:
        context.principal = await _principal(context, update.effective_user.id)
        member = context.principal.member
        if member is not None and member.status == "unreachable" and update.message is not None:
            # She blocked the bot once and writes again: she can be reached again.
            await members.set_status(context.db, member.id, "active", only_from="unreachable")
            await context.refresh_principal()


async def _principal(context: BotContext, user_id: int, *, fresh: bool = False) -> Principal:
    cache = context.bot_data.principals
    if cache is None:
        return await load_principal(context.db, user_id, context.settings.admin_ids)
    return await cache.load(context.db, user_id, context.settings.admin_ids, fresh=fresh)


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
