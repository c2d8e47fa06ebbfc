"""The delivery engine: sends the outbox (notices, reminders, heads' summaries) to members.

- Paced by the application's `PacedRateLimiter` (BOT_SEND_RATE overall) as bulk traffic, so
  interactive replies are never queued behind it; at most one message per second per chat.
- Before a message goes out its row is marked 'sending' and committed; the answer is written
  right after (both group-committed: one commit per round of the workers, the answer of a
  worker's last message together with the mark of its next). A row is sent at most once: if
  the answer is lost (a timeout after the request may have reached Telegram) or the process
  dies during the send, it ends as 'maybe_sent' and is not sent again. We prefer a member
  missing one notice (the sender sees "maybe delivered" in the report) to a second copy.
- 429: the pacer pauses everything for the time asked and the delivery stays pending.
  403: the member is marked unreachable and skipped until she writes again. 400: failed with
  the reason. A timeout while connecting (nothing was sent) and other network errors: retried
  with backoff, at most `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import senders
from bot.channels import channel_of
from bot.clock import Clock
from bot.i18n import N_, Translator, translator
from bot.pacing import BULK
from storage import deliveries, members, units
from storage.db import Database, to_iso
from storage.deliveries import Broadcast, Delivery, Progress

log = logging.getLogger(__name__)

Sent = tuple[int, int, str]  # (delivery id, Telegram message id, sent at)

PER_CHAT_INTERVAL = 1.0
PROGRESS_EVERY = 3.0
IDLE_POLL = 1.0
BAR_WIDTH = 10


class DeliveryEngine:
    """Works through due broadcasts; `run_until_idle` for one pass, `start` for the loop."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        clock: Clock,
        timezone: ZoneInfo,
        default_locale: str,
        send_rate: float,
        concurrency: int = 8,
        admin_ids: frozenset[int] = frozenset(),
    ) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.timezone = timezone
        self.default_locale = default_locale
        self.send_rate = send_rate
        self.concurrency = concurrency
        self.admin_ids = admin_ids
        # The bots of other channels (Zalo): a member is reached through her channel's bot.
        self.channel_bots: dict[str, Bot] = {}
        # About three seconds of sending per batch, so progress is shown that often.
        self.batch_size = int(min(500, max(25, send_rate * PROGRESS_EVERY))) if send_rate else 500
        self._last_sent: dict[int, float] = {}
        self._last_progress: dict[int, float] = {}
        self._cancelled: set[int] = set()
        self._records: set[asyncio.Future[Any]] = set()
        # Group commit: (delivery to mark 'sending', an earlier result to write, its waiter).
        self._journal: list[tuple[int, Sent | None, asyncio.Future[bool]]] = []
        self._settled = False  # rows left 'sending' by an earlier run are settled once
        self._committer: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- running ------------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background until `stop`."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="delivery-engine")

    def wake(self) -> None:
        """Something new is due: look now rather than at the next poll."""
        self._wake.set()

    def cancelled(self, broadcast_id: int) -> None:
        """A broadcast was cancelled: send nothing more of it."""
        self._cancelled.add(broadcast_id)

    # The deadline bounds the send in flight only; the results are written after it either way,
    # which a caller's asyncio.timeout() would cut short.
    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Finish the message in flight, record every result, stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self.drain()
        self._settled = False

    async def drain(self) -> None:
        """Wait until every result already obtained is written."""
        while self._records:
            await asyncio.gather(*list(self._records), return_exceptions=True)

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_until_idle()
            except Exception:
                log.exception("delivery pass failed; retrying shortly")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_POLL)

    async def run_until_idle(self) -> int:
        """Start due broadcasts and send everything due now; returns how many were attempted."""
        attempted = 0
        if not self._settled:
            self._settled = True
            if interrupted := await deliveries.settle_interrupted(self.db):
                log.warning("%d deliveries were being sent when the bot stopped: counted as maybe"
                            " delivered, not sent again", interrupted)
        while not self._stopping:
            now = self.clock.now()
            await self._stop_unauthorised(to_iso(now))
            for broadcast_id in await deliveries.start_due(
                self.db, to_iso(now), now.astimezone(self.timezone).year
            ):
                await self._announce_start(broadcast_id)
            running = await deliveries.running(self.db)
            batch: list[Delivery] = []
            share = max(1, self.batch_size // max(1, len(running)))
            for broadcast in running:
                batch += await deliveries.claim(
                    self.db, broadcast.id, after_id=0, now=to_iso(now), limit=share
                )
            if batch:
                await self._send_batch(batch, {b.id: b for b in running})
                await self.drain()  # every result is written before claiming again
                attempted += len(batch)
            for broadcast in running:
                await self._report(broadcast)
            if not batch:
                break
        return attempted

    async def _stop_unauthorised(self, now: str) -> None:
        """Before starting or going on: cancel notices whose sender lost the right to send."""
        for broadcast_id in await senders.stop_unauthorised(self.db, self.admin_ids, now):
            self.cancelled(broadcast_id)

    def _bot_for(self, chat_id: int) -> Bot:
        """The bot of the channel this chat is on (Telegram's unless another serves it)."""
        return self.channel_bots.get(channel_of(chat_id), self.bot)

    # --- sending ------------------------------------------------------------------------------

    async def _send_batch(self, batch: list[Delivery], by_id: dict[int, Broadcast]) -> None:
        queue = list(reversed(batch))

        async def worker() -> None:
            done: Sent | None = None  # delivered; written with the next attempt's mark
            try:
                while queue and not self._stopping:
                    delivery = queue.pop()
                    broadcast = by_id[delivery.broadcast_id]
                    if broadcast.id in self._cancelled:
                        continue
                    if delivery.member_status != "active":
                        reason = delivery.member_status
                        await self._record(deliveries.mark_skipped(self.db, delivery.id, reason))
                        continue
                    last = self._last_sent.get(delivery.chat_id)
                    if last is not None:
                        await self.clock.sleep(PER_CHAT_INTERVAL - (self.clock.monotonic() - last))
                    claimed = await self._start_sending(delivery.id, done)
                    done = None
                    if claimed:  # not cancelled or erased meanwhile
                        done = await self._deliver(delivery, broadcast)
            finally:
                if done is not None:  # written even when stopped or cancelled
                    await self._record(deliveries.mark_sent(self.db, [done]))

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(batch)))))

    async def _deliver(self, delivery: Delivery, broadcast: Broadcast) -> Sent | None:
        """Send one message (its row is 'sending'); the result if sent, else it is recorded."""
        text = delivery.text_html or broadcast.text_html
        markup = _markup(delivery.reply_markup or broadcast.reply_markup)
        try:
            if broadcast.photo_file_id:
                message = await self._bot_for(delivery.chat_id).send_photo(
                    delivery.chat_id, broadcast.photo_file_id, caption=text,
                    reply_markup=markup, rate_limit_args=BULK,  # type: ignore[call-arg]
                )
            else:
                message = await self._bot_for(delivery.chat_id).send_message(
                    delivery.chat_id, text, reply_markup=markup,
                    rate_limit_args=BULK,  # type: ignore[call-arg]
                )
        except RetryAfter:  # refused, not sent; the pacer holds every send for the time asked
            await self._record(deliveries.release(self.db, delivery.id))
        except Forbidden as exc:
            await self._record(deliveries.mark_blocked(self.db, delivery, exc.message))
        except BadRequest as exc:
            await self._record(deliveries.mark_failed(self.db, delivery.id, exc.message))
        except TimedOut as exc:
            if _never_sent(exc):
                await self._retry(delivery, exc)
            else:  # the request may have reached Telegram: never risk a second copy
                await self._record(deliveries.mark_maybe_sent(self.db, delivery.id, str(exc)))
        except (NetworkError, TelegramError) as exc:  # connection problems: nothing was sent
            await self._retry(delivery, exc)
        else:
            self._last_sent[delivery.chat_id] = self.clock.monotonic()
            return delivery.id, message.message_id, to_iso(self.clock.now())
        return None

    async def _retry(self, delivery: Delivery, exc: Exception) -> None:
        backoff = 2 ** (delivery.attempts + 1)
        retry_at = to_iso(self.clock.now() + timedelta(seconds=backoff))
        await self._record(deliveries.retry_later(self.db, delivery, str(exc), retry_at))

    async def _start_sending(self, delivery_id: int, done: Sent | None) -> bool:
        """Commit 'sending' for this delivery (and the worker's previous result) before the
        send; False if it is no longer pending.

        The marks and results of all workers are committed together (group commit): one
        database trip for a round of messages.
        """
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._journal.append((delivery_id, done, waiter))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.ensure_future(self._commit_journal())
            self._records.add(self._committer)
            self._committer.add_done_callback(self._records.discard)
        return await asyncio.shield(waiter)

    async def _commit_journal(self) -> None:
        while self._journal:
            batch, self._journal = self._journal, []
            try:
                claimed = await deliveries.start_sending(
                    self.db, [d for d, _, _ in batch], sent=[s for _, s, _ in batch if s])
            except Exception as exc:  # the workers see it; their results are written apart
                for *_, waiter in batch:
                    waiter.set_exception(exc)
                continue
            for delivery_id, _, waiter in batch:
                waiter.set_result(delivery_id in claimed)

    async def _record(self, write: Coroutine[Any, Any, Any]) -> None:
        """Write a result before sending the next message; completes even if we are cancelled."""
        task = asyncio.ensure_future(write)
        self._records.add(task)
        task.add_done_callback(self._records.discard)
        await asyncio.shield(task)

    # --- telling the sender -------------------------------------------------------------------

    async def _sender_translator(self, broadcast: Broadcast) -> Translator:
        member = await members.by_user(self.db, broadcast.created_by)
        return translator(member.locale if member else self.default_locale)

    async def _announce_start(self, broadcast_id: int) -> None:
        """A scheduled broadcast began: give its sender a status message to follow."""
        broadcast = await deliveries.get(self.db, broadcast_id)
        if (broadcast is None or broadcast.progress_message_id is not None
                or broadcast.sender_chat_id == deliveries.SYSTEM_SENDER):
            return
        t = await self._sender_translator(broadcast)
        counts = await deliveries.progress(self.db, broadcast.id)
        text = await self.progress_text(t, broadcast, counts)
        with contextlib.suppress(TelegramError):
            message = await self._bot_for(broadcast.sender_chat_id).send_message(
                broadcast.sender_chat_id, text)
            await deliveries.set_progress_message(
                self.db, broadcast.id, broadcast.sender_chat_id, message.message_id
            )

    async def _report(self, broadcast: Broadcast) -> None:
        """Edit the sender's status message (at most every few seconds) and report the end."""
        await self.drain()
        finished = await deliveries.finish(self.db, broadcast.id, to_iso(self.clock.now()))
        now = self.clock.monotonic()
        due = now - self._last_progress.get(broadcast.id, -PROGRESS_EVERY) >= PROGRESS_EVERY
        if not (finished or due):
            return
        self._last_progress[broadcast.id] = now
        fresh = await deliveries.get(self.db, broadcast.id)
        if fresh is None:
            return
        if fresh.sender_chat_id == deliveries.SYSTEM_SENDER:  # a reminder: nobody to tell
            if finished:
                self._last_progress.pop(broadcast.id, None)
                counts = await deliveries.progress(self.db, fresh.id)
                log.info("%s #%d finished: sent %d of %d, maybe %d, blocked %d, failed %d,"
                         " skipped %d", fresh.kind, fresh.id, counts.sent, counts.total,
                         counts.maybe_sent, counts.blocked, counts.failed, counts.skipped)
            return
        t = await self._sender_translator(fresh)
        counts = await deliveries.progress(self.db, fresh.id)
        text = await self.progress_text(t, fresh, counts)
        if fresh.progress_message_id is not None and fresh.progress_chat_id is not None:
            with contextlib.suppress(TelegramError):
                await self._bot_for(fresh.progress_chat_id).edit_message_text(
                    text, chat_id=fresh.progress_chat_id, message_id=fresh.progress_message_id
                )
        if finished:
            self._last_progress.pop(broadcast.id, None)
            with contextlib.suppress(TelegramError):
                await self._bot_for(fresh.sender_chat_id).send_message(
                    fresh.sender_chat_id, report_text(t, fresh, counts))

    async def progress_text(self, t: Translator, broadcast: Broadcast, counts: Progress) -> str:
        """The status message: figures, a text progress bar, time left."""
        unit = await units.get(self.db, broadcast.unit_id)
        done = counts.total - counts.pending
        share = done / counts.total if counts.total else 1.0
        filled = round(share * BAR_WIDTH)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        lines = [
            t._("📋 Survey to {unit}", unit=html.escape(unit.name if unit else "?"))
            if broadcast.kind == "poll" else  # its own number is the poll's, not this one
            t._("📣 Notice #{id} to {unit}", id=broadcast.id,
                unit=html.escape(unit.name if unit else "?")),
            " · ".join([t._("Sent {sent}/{total}", sent=t.number(counts.sent),
                            total=t.number(counts.total)), *troubles(t, counts)]),
            f"{bar} {round(share * 100)}%",
        ]
        if counts.maybe_sent:
            lines.insert(2, t._(MAYBE_LINE, n=t.number(counts.maybe_sent)))
        if broadcast.status == "running" and counts.pending:
            seconds = counts.pending / self.send_rate if self.send_rate else 0
            minutes = t.number(max(1, round(seconds / 60)))
            lines.append(t._("About {minutes} min left", minutes=minutes))
        elif broadcast.status == "cancelled":
            lines.append(t._("Cancelled."))
        elif broadcast.status == "done":
            lines.append(t._("Finished."))
        return "\n".join(lines)


def troubles(t: Translator, counts: Progress) -> list[str]:
    """"not delivered 2", "blocked the assistant 1": only figures that are not zero (a "failed
    0 · blocked 0" on every notice reads as a fault)."""
    found = []
    if counts.failed:
        found.append(t._("not delivered {n}", n=t.number(counts.failed)))
    if counts.blocked:
        found.append(t._("blocked the assistant {n}", n=t.number(counts.blocked)))
    return found


def report_text(t: Translator, broadcast: Broadcast, counts: Progress) -> str:
    """The delivery report sent when a broadcast is finished."""
    lines = [
        t._("✅ The survey has been delivered.") if broadcast.kind == "poll" else
        t._("✅ Notice #{id} has been delivered.", id=broadcast.id),
        t._("Delivered: {sent} of {total}", sent=t.number(counts.sent),
            total=t.number(counts.total)),
    ]
    if counts.maybe_sent:
        lines.append(t._(MAYBE_LINE, n=t.number(counts.maybe_sent)))
    if counts.blocked:
        lines.append(t._(BLOCKED_LINE, n=t.number(counts.blocked)))
    if counts.failed:
        lines.append(t._("Could not be delivered: {n}", n=t.number(counts.failed)))
    if counts.skipped:
        lines.append(t._("Skipped (stopped notices): {n}", n=t.number(counts.skipped)))
    return "\n".join(lines)


def _never_sent(exc: TimedOut) -> bool:
    """A timeout before the request left: no connection to Telegram, or none free in the pool."""
    return isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def _markup(data: str | None) -> InlineKeyboardMarkup | None:
    """Stored buttons (JSON of an InlineKeyboardMarkup) as PTB's object."""
    return InlineKeyboardMarkup.de_json(json.loads(data), None) if data else None


BLOCKED_LINE = N_("Have blocked the bot (will be skipped until they write again): {n}")
MAYBE_LINE = N_("Maybe delivered (no answer from Telegram, not sent again so nobody gets it "
                "twice): {n}")


