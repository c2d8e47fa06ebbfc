"""Running and looking after the bot: `run` (polling or webhook) with a graceful stop, `check`
and `backup`.

Graceful stop (SIGTERM from systemd or Docker, SIGINT from Ctrl-C): stop taking updates,
stop the delivery engine after the messages in flight (each result recorded, so a restart
resumes without sending twice), finish the updates already taken (their database writes),
write conversation state, close the database. Each step has a deadline, so the process is
gone within `STOP_BUDGET` seconds (systemd and Docker wait 10 s before SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application
from telegram.request import BaseRequest

from bot.logging_setup import mask
from bot.settings import DEFAULT_ORG_NAME, SUPPORTED_LOCALES, Settings
from bot.webhook import WebhookServer
from storage import maintenance

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
STOP_BUDGET = 8.0
UPDATER_STOP = 2.0
ENGINE_STOP = 4.0


# --- run -----------------------------------------------------------------------------------------


async def serve(
    application: Application,
    settings: Settings,
    *,
    webhook: bool = False,
    stop_signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
    on_ready: Callable[[], None] | None = None,
    stop_event: asyncio.Event | None = None,
) -> None:
    """Run until a stop signal (or `stop_event`), then stop gracefully (module docstring)."""
    loop = asyncio.get_running_loop()
    stopping = stop_event or asyncio.Event()
    for sig in stop_signals:
        loop.add_signal_handler(sig, stopping.set)
    server: WebhookServer | None = None
    try:
        await application.initialize()  # getMe: an unreachable Bot API fails here
    except Exception:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
        await _close_transports(application)
        raise
    try:
        assert application.post_init is not None
        await application.post_init(application)
        updater = application.updater
        assert updater is not None
        if webhook:
            assert settings.webhook_url is not None and settings.webhook_secret is not None
            server = WebhookServer(
                application, path=urlsplit(settings.webhook_url).path,
                secret=settings.webhook_secret, listen=settings.webhook_listen,
                port=settings.webhook_port,
            )
            server.start()
            await application.bot.set_webhook(
                url=settings.webhook_url, allowed_updates=ALLOWED_UPDATES,
                secret_token=settings.webhook_secret,
            )
            log.info("webhook listening on %s:%s", settings.webhook_listen, settings.webhook_port)
        else:
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            log.info("long polling started")
        await application.start()
        if on_ready is not None:
            on_ready()
        await stopping.wait()
        log.info("stop signal received: stopping gracefully")
        await stop_gracefully(application, webhook_server=server)
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
        if server is not None:
            await server.stop()
        await close_application(application)
        log.info("stopped")


async def _close_transports(application: Application) -> None:
    """Close the HTTP sessions of an Application whose `initialize` failed half-way (PTB's
    shutdown skips a bot that never finished initializing, leaving them open)."""
    for request in getattr(application.bot, "_request", ()):
        with contextlib.suppress(Exception):
            await request.shutdown()


def start_failure(exc: BaseException, settings: Settings) -> str | None:
    """The one line `run` prints when the bot cannot start talking to its API, or None."""
    from bot.channels.zalo.client import ZaloError

    host = urlsplit(settings.api_base_url).netloc or settings.api_base_url
    if isinstance(exc, InvalidToken):
        return ("Cannot start: the Bot API refused TELEGRAM_BOT_TOKEN (Unauthorized); check it "
                "with: python -m bot check")
    if isinstance(exc, NetworkError):  # TimedOut too
        return (f"Cannot start: the Bot API at {host} cannot be reached ({mask(exc.message)}); "
                "check the network or TELEGRAM_API_BASE_URL")
    if isinstance(exc, TelegramError):
        return f"Cannot start: the Bot API refused getMe ({mask(exc.message)})"
    zalo_host = urlsplit(settings.zalo_api_base_url).netloc
    if isinstance(exc, ZaloError):
        return (f"Cannot start: Zalo refused the bot ({exc.code}); check ZALO_BOT_TOKEN (and "
                "ZALO_WEBHOOK_URL in webhook mode) with: python -m bot check")
    if isinstance(exc, httpx.HTTPError):
        return (f"Cannot start: Zalo at {zalo_host} cannot be reached ({type(exc).__name__}); "
                "check the network or ZALO_API_BASE_URL")
    return None


async def close_application(application: Application) -> None:
    """Stop it if it still runs, shut it down and close what post_init opened (the database)."""
    if application.running:
        with contextlib.suppress(Exception):
            await application.stop()
    await application.shutdown()
    assert application.post_shutdown is not None
    await application.post_shutdown(application)


async def stop_gracefully(
    application: Application,
    *,
    webhook_server: WebhookServer | None = None,
) -> None:
    """Stop taking updates and sending; finish what was taken; within STOP_BUDGET seconds."""
    deadline = time.monotonic() + STOP_BUDGET
    engine = application.bot_data.delivery
    engine_stopped = asyncio.ensure_future(engine.stop(timeout=ENGINE_STOP)) if engine else None
    if webhook_server is not None:
        try:
            await asyncio.wait_for(webhook_server.stop(), UPDATER_STOP)
        except TimeoutError:
            log.warning("the webhook server did not stop in %ss", UPDATER_STOP)
    updater = application.updater
    if updater is not None and updater.running:
        try:
            await asyncio.wait_for(updater.stop(), UPDATER_STOP)
        except TimeoutError:
            log.warning("the updater did not stop in %ss", UPDATER_STOP)
    if engine_stopped is not None:
        await engine_stopped
    if application.running:
        try:
            # Finishes the updates already taken and the tasks they started, writes state.
            await asyncio.wait_for(application.stop(), max(0.5, deadline - time.monotonic()))
        except TimeoutError:
            log.warning("background work still running at the stop deadline was cut off")


# --- check ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of `python -m bot check`."""

    ok: bool
    what: str
    detail: str
    warning: bool = False  # works, but something should be looked at

    def __str__(self) -> str:
        mark = "FAIL" if not self.ok else "warn" if self.warning else "ok  "
        return f"{mark}  {self.what}: {self.detail}"


async def check(settings: Settings, *, request: BaseRequest | None = None) -> list[Finding]:
    """Settings (already valid when we get here), database and migrations, translation
    catalogs, the campaign catalog, and with a token the Bot API (getMe)."""
    findings = [Finding(True, "settings", f"database {settings.database}, time zone "
                        f"{settings.timezone.key}, default language {settings.default_locale}")]
    findings.append(_check_privacy_notice(settings))
    findings.append(_check_admins(settings))
    findings.append(await _check_database(settings.database))
    findings.append(_check_translations())
    findings.append(await _check_campaign_catalog(settings))
    if settings.token:
        findings.append(await _check_telegram(settings, request))
    else:
        findings.append(Finding(True, "telegram", "no TELEGRAM_BOT_TOKEN: not checked"))
    if settings.zalo_token:
        findings.append(await _check_zalo(settings))
    return findings


async def _check_zalo(settings: Settings) -> Finding:
    """The Zalo token works (getMe against ZALO_API_BASE_URL)."""
    from bot.channels.zalo.client import ZaloClient, ZaloError

    assert settings.zalo_token is not None
    client = ZaloClient(token=settings.zalo_token, base_url=settings.zalo_api_base_url)
    try:
        me = await client.get_me()
    except ZaloError as exc:
        return Finding(False, "zalo", f"getMe refused ({exc.code}): check ZALO_BOT_TOKEN")
    except Exception as exc:  # network: say which kind, never the token
        return Finding(False, "zalo", f"cannot reach {settings.zalo_api_base_url.split('/bot')[0]}"
                       f" ({type(exc).__name__})")
    finally:
        await client.close()
    name = me.get("display_name") or me.get("account_name") or "?"
    return Finding(True, "zalo", f"token ok: {name}")


def _check_admins(settings: Settings) -> Finding:
    """Someone must be a super-admin: without one nobody can appoint officers or reach the
    whole ward from the chat (the bot still runs, so a warning, not a failure)."""
    if not settings.admin_ids and not settings.zalo_admin_ids:
        return Finding(True, "admins", "BOT_ADMIN_IDS and ZALO_ADMIN_IDS are empty: nobody can "
                       "administer the bot; set BOT_ADMIN_IDS to your Telegram user id",
                       warning=True)
    return Finding(True, "admins", f"{len(settings.admin_ids)} on Telegram, "
                   f"{len(settings.zalo_admin_ids)} on Zalo")


def _check_privacy_notice(settings: Settings) -> Finding:
    """The privacy notice names the controller: an installation should name its own union."""
    unset = [name for name, missing in (
        ("BOT_ORG_NAME", settings.org_name == DEFAULT_ORG_NAME),
        ("BOT_ORG_CONTACT", settings.org_contact is None)) if missing]
    retention = (f"deliveries kept {settings.retain_deliveries_days} days, members who left "
                 f"{settings.retain_left_members_years} years")
    if unset:
        return Finding(True, "privacy notice", f"set {' and '.join(unset)} to name your union "
                       f"and how to reach it; {retention}", warning=True)
    return Finding(True, "privacy notice", f"controller {settings.org_name}; {retention}")


async def _check_database(path: Path) -> Finding:
    """Read-only: integrity, migrations applied against those shipped, member count."""
    from storage.db import available_migrations

    if not await asyncio.to_thread(path.exists):
        return Finding(True, "database", f"{path} does not exist yet; it is created at start")
    try:
        found = maintenance.inspect(path)
    except sqlite3.Error as exc:
        return Finding(False, "database", f"cannot read {path}: {exc}")
    if found.integrity != "ok":
        return Finding(False, "database", f"integrity check failed: {found.integrity}")
    applied, members = set(found.applied_migrations), found.members
    shipped = {version for version, _name, _sql in available_migrations()}
    unknown = sorted(applied - shipped)
    if unknown:
        return Finding(False, "database", f"migrations {unknown} are newer than this program "
                       "(restore the matching version of the bot)")
    pending = sorted(shipped - applied)
    detail = f"integrity ok, {len(applied)}/{len(shipped)} migrations applied"
    if pending:
        detail += f" ({len(pending)} pending, applied at start)"
    return Finding(True, "database", f"{detail}, {members} members")


def _check_translations() -> Finding:
    from babel.messages.pofile import read_po

    from bot.i18n import load_catalog

    parts, untranslated = [], []
    for locale in SUPPORTED_LOCALES:
        try:
            load_catalog(locale)
            from importlib import resources

            po = resources.files("locales") / locale / "LC_MESSAGES" / "messages.po"
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        except Exception as exc:  # a broken .po file: say which
            return Finding(False, "translations", f"{locale}: {exc}")
        missing = sum(1 for m in catalog if m.id and not (
            all(m.string) if isinstance(m.string, tuple) else m.string))
        if missing:
            untranslated.append(f"{locale}: {missing} untranslated, shown in English")
        parts.append(f"{locale} {sum(1 for m in catalog if m.id)} messages")
    return Finding(True, "translations", ", ".join(parts + untranslated),
                   warning=bool(untranslated))


async def _check_campaign_catalog(settings: Settings) -> Finding:
    from bot.catalog import CatalogError, check_stored_codes, load, with_stored_sets
    from storage.db import Database

    try:
        catalog = load(settings.catalog)
        if settings.database.exists() and maintenance.readable(settings.database):
            db = await Database.connect(settings.database, migrate=False)
            try:
                catalog = await with_stored_sets(db, catalog)
                await check_stored_codes(db, catalog)
            except sqlite3.OperationalError:
                pass  # tables not there yet: nothing stored uses a code
            finally:
                await db.close()
    except CatalogError as exc:
        return Finding(False, "campaign catalog", " ".join(str(exc).split()))
    counts = ", ".join(f"{len(getattr(catalog, section))} {section}"
                       for section in ("qualities", "criteria", "activities"))
    return Finding(True, "campaign catalog", f"{settings.catalog or 'shipped catalog'}: {counts}")


async def _check_telegram(settings: Settings, request: BaseRequest | None) -> Finding:
    assert settings.token is not None
    bot = Bot(settings.token, base_url=settings.api_base_url,
              base_file_url=settings.api_base_file_url, request=request)
    try:
        async with bot:
            me = bot.bot
        return Finding(True, "telegram", f"getMe: @{me.username} (id {me.id})")
    except InvalidToken:
        return Finding(False, "telegram", "getMe failed: the token was refused (Unauthorized)")
    except TelegramError as exc:
        return Finding(False, "telegram", f"getMe failed: {mask(exc.message)}")
    except Exception as exc:  # network trouble
        return Finding(False, "telegram", f"getMe failed: {type(exc).__name__}")


# --- backup --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backup:
    """A finished backup."""

    path: Path
    size: int
    members: int


class BackupError(Exception):
    """The backup could not be made; nothing was left behind."""


def backup(source: Path, target: Path) -> Backup:
    """A consistent copy of the live database (see `storage.maintenance.copy_database`),
    renamed into place only when complete. `target` may be a folder: a timestamped name is
    chosen.
    """
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = target / f"hoivien-{stamp}.sqlite3"
    if target.resolve() == source.resolve():
        raise BackupError("the backup cannot replace the live database")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        members = maintenance.copy_database(source, partial)
        partial.replace(target)
    except (sqlite3.Error, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(str(exc)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, target.stat().st_size, int(members))
