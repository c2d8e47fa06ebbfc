"""Running the bot on Zalo: the second Application, the admins' ids, and the event poller."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from urllib.parse import urlsplit

import httpx
from telegram.ext import Application

from bot.app import build_application
from bot.channels.zalo import CHANNEL
from bot.channels.zalo.bridge import ZaloBridge
from bot.channels.zalo.client import ZaloClient, ZaloError, backoff
from bot.channels.zalo.files import FileLinks
from bot.channels.zalo.webhook import ZaloWebhookServer
from bot.clock import Clock
from bot.ops import close_application
from bot.settings import Settings
from storage import channels
from storage.db import Database, to_iso

log = logging.getLogger(__name__)
SWEEP_EVERY = 60.0  # seconds between deletions of expired file links' files


async def with_zalo_admins(settings: Settings, clock: Clock | None = None) -> Settings:
    """The settings with ZALO_ADMIN_IDS mapped to internal ids and added to the admins
    (both Applications must see them, or a Zalo admin's notice would be stopped)."""
    if not settings.zalo_admin_ids:
        return settings
    db = await Database.connect(settings.database)
    try:
        at = to_iso((clock or Clock()).now())
        mapped = {await channels.internal_id(db, channel=CHANNEL, external_id=zalo_id, at=at)
                  for zalo_id in sorted(settings.zalo_admin_ids)}
    finally:
        await db.close()
    return dataclasses.replace(settings, admin_ids=settings.admin_ids | mapped)


def build_zalo_application(
    settings: Settings, *, client: ZaloClient, clock: Clock | None = None,
    background: bool = True,
) -> tuple[Application, ZaloBridge]:
    """The same bot as on Telegram, talking through the bridge; paced at ZALO_SEND_RATE.

    With a Telegram Application in the same process pass `background=False` and register the
    Zalo bot in its delivery engine (`route_deliveries`): one engine sends the whole outbox.
    """
    bridge = ZaloBridge(client, clock=clock, default_locale=settings.default_locale,
                        timezone=settings.timezone)
    if settings.zalo_webhook_url and settings.zalo_webhook_secret:  # a public address
        bridge.files = FileLinks(folder=settings.database.parent / "zalo-files",
                                 base_url=settings.zalo_webhook_url,
                                 minutes=settings.zalo_file_link_minutes, clock=clock)
    zalo_settings = dataclasses.replace(settings, send_rate=settings.zalo_send_rate,
                                        webhook_url=None, webhook_secret=None)
    application = build_application(zalo_settings, request=bridge, clock=clock,
                                    background=background)
    bridge.attach(application)
    route_deliveries(application, application)
    return application, bridge


def route_deliveries(engine_app: Application, zalo_app: Application) -> None:
    """Deliveries to Zalo members go out through the Zalo Application's bot."""
    engine_app.bot_data.delivery.channel_bots[CHANNEL] = zalo_app.bot


async def poll(bridge: ZaloBridge, client: ZaloClient, stop: asyncio.Event) -> None:
    """getUpdates in a loop until `stop`: 408 means nothing yet; errors back off."""
    failures = 0
    while not stop.is_set():
        try:
            event = await client.get_update()
        except Exception as exc:  # the loop must go on: log the code, back off
            failures += 1
            delay = backoff(failures)
            log.warning("zalo getUpdates failed (%s); retrying in %.0f s",
                        getattr(exc, "code", type(exc).__name__), delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            continue
        failures = 0
        if event is None:
            await asyncio.sleep(0)  # let others run when a transport answers 408 at once
            continue
        if event is not None:
            try:
                await bridge.handle_event(event)
            except Exception:
                log.exception("zalo event failed")


async def _sweep_until(links: FileLinks | None, stop: asyncio.Event) -> None:
    """Wait for `stop`, deleting expired file links' files once a minute meanwhile."""
    while not stop.is_set():
        if links is not None:
            links.sweep()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_EVERY)


@dataclasses.dataclass
class Prepared:
    """The Zalo side, built and wired before anything starts sending."""

    application: Application
    bridge: ZaloBridge
    client: ZaloClient


def prepare(settings: Settings, *,
            telegram: Application | None = None) -> Prepared:
    """Build the Zalo Application; beside `telegram`, whose engine then sends Zalo's outbox
    too (routed before that engine starts, so no Zalo delivery ever goes to Telegram)."""
    assert settings.zalo_token is not None
    client = ZaloClient(token=settings.zalo_token, base_url=settings.zalo_api_base_url)
    application, bridge = build_zalo_application(settings, client=client,
                                                 background=telegram is None)
    if telegram is not None:
        route_deliveries(telegram, application)
    return Prepared(application, bridge, client)


async def verify(prepared: Prepared) -> None:
    """getMe before anything starts: a wrong token or an unreachable Zalo stops `run` with one
    line (ZaloError or httpx.HTTPError, see `bot.ops.start_failure`), as on Telegram."""
    try:
        await prepared.client.get_me()
    except BaseException:
        await prepared.client.close()
        raise


async def serve(prepared: Prepared, stop: asyncio.Event, settings: Settings) -> None:
    """Serve Zalo until `stop`: webhook mode when ZALO_WEBHOOK_URL and _SECRET are set,
    else long polling."""
    application, client = prepared.application, prepared.client
    server: ZaloWebhookServer | None = None
    await application.initialize()
    try:
        assert application.post_init is not None
        await application.post_init(application)
        await application.start()
        if settings.zalo_webhook_url and settings.zalo_webhook_secret:
            server = ZaloWebhookServer(
                prepared.bridge, path=urlsplit(settings.zalo_webhook_url).path,
                secret=settings.zalo_webhook_secret, listen=settings.webhook_listen,
                port=settings.zalo_webhook_port)
            server.start()
            await client.set_webhook(settings.zalo_webhook_url, settings.zalo_webhook_secret)
            log.info("zalo webhook listening on %s:%s", settings.webhook_listen,
                     settings.zalo_webhook_port)
            await _sweep_until(prepared.bridge.files, stop)
        else:
            with contextlib.suppress(ZaloError, httpx.HTTPError):
                await client.delete_webhook()  # getUpdates is refused while a webhook is set
            log.info("zalo long polling started")
            await poll(prepared.bridge, client, stop)
    finally:
        if server is not None:
            await server.stop()
        await close_application(application)
        await client.close()
