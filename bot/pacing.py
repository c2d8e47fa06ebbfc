"""Outgoing pacing: one evenly spaced rate for every message the bot sends (BOT_SEND_RATE).

A `python-telegram-bot` rate limiter. Interactive replies and bulk deliveries share the rate,
but bulk sends queue behind one gate, so at most one of them waits for a slot at a time and a
member's reply never waits behind thousands of notices. A 429 (RetryAfter) pauses everything
for the time Telegram asks; interactive calls are then retried, bulk calls re-raise so the
delivery engine keeps the message pending (never dropped).
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

_PACED_PREFIXES = ("send", "copymessage", "forwardmessage", "editmessage")
_INTERACTIVE_RETRIES = 2


class PacedRateLimiter(BaseRateLimiter[str]):
    """Evenly spaced sends at `rate` per second overall (0: no pacing, 429s still honoured)."""

    def __init__(self, rate: float, *, clock: Clock | None = None) -> None:
        self.rate = rate
        self.clock = clock or Clock()
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._slot_lock = asyncio.Lock()
        self._bulk_gate = asyncio.Lock()
        self.retry_after_count = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` (Telegram's RetryAfter)."""
        self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    async def _take_slot(self) -> None:
        async with self._slot_lock:
            while True:
                wait = max(self._next_slot, self._paused_until) - self.clock.monotonic()
                if wait <= 0:
                    break
                await self.clock.sleep(wait)
            self._next_slot = self.clock.monotonic() + self._interval

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a slot (message-producing methods only), call, and handle RetryAfter."""
        paced = endpoint.lower().startswith(_PACED_PREFIXES)
        attempt = 0
        while True:
            if paced and rate_limit_args == BULK:
                async with self._bulk_gate:
                    await self._take_slot()
            elif paced:
                await self._take_slot()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retry_after_count += 1
                delay = retry_seconds(exc)
                log.warning("Telegram asked to wait %.0f s (%s)", delay, endpoint)
                self.pause(delay)
                attempt += 1
                if rate_limit_args == BULK or attempt > _INTERACTIVE_RETRIES:
                    raise


def retry_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, whichever type this PTB version gives it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
