"""Outgoing pacing: only what Telegram limits, and a member's reply before the outbox.

A `python-telegram-bot` rate limiter. Telegram's Bot FAQ limits *new messages*: about 30 a
second overall when sending to many chats, one a second in a single chat (short bursts pass),
20 a minute in a group. Edits, callback answers, chat actions and the rest are not paced.

- Overall: new messages are evenly spaced at `rate` per second (BOT_SEND_RATE, under 30).
  A reply to a member who just wrote takes the next free slot ahead of the outbox: bulk sends
  (`rate_limit_args=BULK`) queue behind one gate, and the one holding it gives its slot up
  while a reply waits. So a broadcast running at the full rate delays a reply by at most one
  slot, and replies plus bulk never exceed the rate together.
- Per chat: a token bucket of `PER_CHAT_BURST` messages refilled at one a second (a group:
  one every three seconds), for replies and bulk alike.
- A 429 (RetryAfter) pauses every paced send for the time Telegram asks; interactive calls
  are then retried, bulk calls re-raise so the delivery engine keeps the message pending.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.clock import Clock

log = logging.getLogger(__name__)

BULK = "bulk"
"""Pass as `rate_limit_args=BULK` for deliveries of the outbox."""

# Methods that create a message (sendChatAction creates none); edits are not counted.
_PACED_PREFIXES = ("send", "copymessage", "forwardmessage")
_UNPACED = frozenset({"sendchataction"})
_INTERACTIVE_RETRIES = 2
PER_CHAT_INTERVAL = 1.0  # "avoid sending more than one message per second" in one chat
GROUP_INTERVAL = 3.0  # "no more than 20 messages per minute to the same group"
PER_CHAT_BURST = 3  # "we may allow short bursts that go over this limit"
_PRUNE_AT = 4096  # forget idle chats' buckets once this many are kept


class PacedRateLimiter(BaseRateLimiter[str]):
    """New messages at `rate` per second overall, replies first, per-chat buckets (rate 0: no
    pacing at all; 429s still honoured)."""

    def __init__(self, rate: float, *, clock: Clock | None = None) -> None:
        self.rate = rate
        self.clock = clock or Clock()
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._slot_lock = asyncio.Lock()
        self._bulk_gate = asyncio.Lock()
        self._replies_waiting = 0
        self._no_reply_waiting = asyncio.Event()
        self._no_reply_waiting.set()
        # chat id -> the instant its bucket is empty again ("theoretical arrival time").
        self._chat_due: dict[int, float] = {}
        self.retry_after_count = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` (Telegram's RetryAfter)."""
        self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    async def _take_slot(self, *, reply: bool) -> None:
        """Wait for an overall slot; a bulk send yields it to any reply waiting meanwhile."""
        if reply:
            self._replies_waiting += 1
            self._no_reply_waiting.clear()
        try:
            while True:
                if not reply:
                    await self._no_reply_waiting.wait()
                async with self._slot_lock:
                    while (wait := max(self._next_slot, self._paused_until)
                           - self.clock.monotonic()) > 0:
                        await self.clock.sleep(wait)
                    if reply or not self._replies_waiting:
                        self._next_slot = self.clock.monotonic() + self._interval
                        return
        finally:
            if reply:
                self._replies_waiting -= 1
                if not self._replies_waiting:
                    self._no_reply_waiting.set()

    def _chat_wait(self, chat_id: object) -> float:
        """Seconds until this chat's bucket has room (a @username is not keyed: overall only)."""
        if not isinstance(chat_id, int) or self.rate <= 0:
            return 0.0
        now = self.clock.monotonic()
        interval = GROUP_INTERVAL if chat_id < 0 else PER_CHAT_INTERVAL
        due = self._chat_due.get(chat_id, now)
        return max(0.0, due - (PER_CHAT_BURST - 1) * interval - now)

    def _chat_take(self, chat_id: object) -> bool:
        """Count a message to this chat as going out now; False if its bucket filled meanwhile.

        Counted when it goes out, not when it started waiting: a message counted early and held
        for its overall slot would let the bucket refill past its size, and the next messages
        to that chat would then come faster than Telegram's bucket allows (429s).
        """
        if not isinstance(chat_id, int) or self.rate <= 0:
            return True
        if self._chat_wait(chat_id) > 0:
            return False
        now = self.clock.monotonic()
        interval = GROUP_INTERVAL if chat_id < 0 else PER_CHAT_INTERVAL
        if len(self._chat_due) >= _PRUNE_AT:
            self._chat_due = {c: d for c, d in self._chat_due.items() if d > now}
        self._chat_due[chat_id] = max(now, self._chat_due.get(chat_id, now)) + interval
        return True

    async def _turn(self, chat_id: object, *, bulk: bool) -> None:
        """Wait for room in the chat's bucket and an overall slot (again if another message to
        the same chat took the room meanwhile)."""
        while True:
            while (wait := self._chat_wait(chat_id)) > 0:
                await self.clock.sleep(wait)
            if bulk:
                async with self._bulk_gate:
                    await self._take_slot(reply=False)
            else:
                await self._take_slot(reply=True)
            if self._chat_take(chat_id):
                return

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the chat's turn and a slot (new messages only), call, handle RetryAfter."""
        lower = endpoint.lower()
        paced = lower.startswith(_PACED_PREFIXES) and lower not in _UNPACED
        bulk = rate_limit_args == BULK
        attempt = 0
        while True:
            if paced:
                await self._turn(data.get("chat_id"), bulk=bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retry_after_count += 1
                delay = retry_seconds(exc)
                log.warning("Telegram asked to wait %.0f s (%s)", delay, endpoint)
                self.pause(delay)
                attempt += 1
                if bulk or attempt > _INTERACTIVE_RETRIES:
                    raise


def retry_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, whichever type this PTB version gives it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
