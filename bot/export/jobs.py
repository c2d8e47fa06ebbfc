"""Run: the background export job, one at a time, with progress and resume after a restart."""

from __future__ import annotations

import asyncio
import html
import logging
import time
import warnings
import weakref
from typing import Any

from telegram import InputMediaDocument
from telegram.error import TelegramError
from telegram.ext import Application

from bot import orgtree
from bot import report as reports
from bot.export.data import Collected, Progress
from bot.export.figures import collect
from bot.export.writers import _slug, build
from bot.i18n import N_, Translator, translator
from bot.permissions import Role, load_principal, may_act_on_unit
from storage import audit, exports
from storage.db import Database, to_iso
from storage.exports import ExportJob

log = logging.getLogger(__name__)


EXPORT_TASK = "stats-export"
PROGRESS_SECONDS = 3.0


FILE_WORD = N_("statistics")  # the start of the file name: thong-ke-2026-HM-HL.xlsx


class Runner:
    """Runs an application's exports one at a time (each is CPU-heavy for a few seconds)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()


_runners: weakref.WeakKeyDictionary[Application, Runner] = weakref.WeakKeyDictionary()


def runner(application: Application) -> Runner:
    """The export runner of an application."""
    found = _runners.get(application)
    if found is None:
        found = _runners[application] = Runner()
    return found


def start(application: Application, job: ExportJob) -> asyncio.Task[None]:
    """Run an export job in the background."""
    with warnings.catch_warnings():  # tests and the demo do not `start` the application
        warnings.filterwarnings("ignore", message=".*not running won't be automatically")
        task = application.create_task(run(application, job), name=EXPORT_TASK)
    owner = runner(application)
    owner.tasks.add(task)
    task.add_done_callback(owner.tasks.discard)
    return task


async def resume(application: Application) -> int:
    """After a restart: start the exports that were queued or running; how many."""
    db = application.bot_data.db
    jobs = await exports.unfinished(db)
    for job in jobs:
        start(application, job)
    return len(jobs)


def file_name(t: Translator, data: Collected, suffix: str) -> str:
    """'thong-ke-2026-HM-HL.xlsx'."""
    code = data.scope.code if data.scope is not None else "all"
    return f"{_slug(t._(FILE_WORD)).lstrip('-')}-{data.year}-{code}{suffix}"


async def run(application: Application, job: ExportJob) -> None:
    """One export: check, collect, build in a thread, send; progress shown as it goes."""
    state = application.bot_data
    db: Database = state.db
    bot = application.bot
    t = translator(job.locale)
    progress = Progress()
    owner = runner(application)
    shown: dict[str, Any] = {"at": 0.0, "text": ""}

    async def show(text: str, *, force: bool = False) -> None:
        if job.progress_message_id is None or text == shown["text"]:
            return
        if not force and time.monotonic() - shown["at"] < PROGRESS_SECONDS:
            return
        shown["at"], shown["text"] = time.monotonic(), text
        try:
            await bot.edit_message_text(text, chat_id=job.chat_id,
                                        message_id=job.progress_message_id)
        except TelegramError as exc:
            log.info("export %s: progress not shown: %s", job.id, exc.message)

    try:
        async with owner.lock:
            await exports.set_status(db, job.id, "running")
            principal = await load_principal(db, job.requested_by, state.settings.admin_ids)
            allowed = (principal.is_super_admin if job.unit_id is None else
                       await may_act_on_unit(db, principal, Role.CHAPTER_HEAD, job.unit_id))
            if not allowed:
                await exports.set_status(db, job.id, "failed", at=to_iso(state.clock.now()),
                                         error="not allowed")
                await show(t._("This export was cancelled: you no longer have access to "
                               "these figures."), force=True)
                return
            where = (html.escape(await orgtree.unit_path(db, job.unit_id))
                     if job.unit_id is not None else t._("every unit"))
            catalog = state.catalog
            entries = [(c.code, c.label(t.locale)) for c in catalog.criteria_for(job.year)
                       ] if catalog is not None else []
            activity_entries = [
                (a.code, a.label(t.locale), a.unit(t.locale) if a.unit else None)
                for a in catalog.entries["activities"] if not a.retired
            ] if catalog is not None else []
            # Its own connection (WAL readers run side by side): the export's big reads
            # never queue in front of other people's queries on the shared connection.
            reader = db if str(db.path) == ":memory:" else await Database.connect(
                db.path, migrate=False)
            try:
                data = await collect(reader, job.unit_id, job.year,
                                     timezone=state.settings.timezone, now=state.clock.now(),
                                     locale=job.locale, criteria_entries=entries,
                                     activity_entries=activity_entries,
                                     progress=progress, k=state.settings.disclosure_k,
                                     meeting_kinds=[
                                         (e.code, e.label(t.locale))
                                         for e in catalog.entries["event_kinds"]
                                     ] if catalog is not None else [])
            finally:
                if reader is not db:
                    await reader.close()
            data.report = await reports.for_export(state, t, job.unit_id, job.year)
            text = t._("⏳ Preparing the export {year} for {scope}… {percent}%",
                       year=job.year, scope=where, percent=progress.percent)
            await show(text, force=True)
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(None, build, t, data, job.format, progress)
            while True:
                try:
                    files = await asyncio.wait_for(asyncio.shield(work), PROGRESS_SECONDS)
                    break
                except TimeoutError:
                    await show(t._("⏳ Preparing the export {year} for {scope}… {percent}%",
                                   year=job.year, scope=where, percent=progress.percent))
            caption = t._("📥 Statistics {year} — {scope}: {members} members.", year=job.year,
                          scope=where, members=t.number(data.figures.totals.members))
            names = [file_name(t, data, suffix) for suffix, _content in files]
            if len(files) == 1:
                await bot.send_document(job.chat_id, files[0][1], filename=names[0],
                                        caption=caption)
            else:
                media = [InputMediaDocument(content, filename=name,
                                            caption=caption if i == len(files) - 1 else None)
                         for i, (name, (_s, content)) in enumerate(zip(names, files,
                                                                       strict=True))]
                await bot.send_media_group(job.chat_id, media)
            at = to_iso(state.clock.now())
            await exports.set_status(db, job.id, "done", at=at)
            await audit.log(db, at=at, actor_id=job.requested_by, action="export",
                            unit_id=job.unit_id,
                            details={"year": job.year, "format": job.format,
                                     "members": len(data.members),
                                     "phones": data.with_phone})
            await show(t._("✅ The export {year} for {scope} has been sent.", year=job.year,
                           scope=where), force=True)
    except Exception:
        log.exception("export %s failed", job.id)
        await exports.set_status(db, job.id, "failed", at=to_iso(state.clock.now()),
                                 error="error")
        await show(t._("Sorry, the export could not be made. Please try again later."),
                   force=True)

