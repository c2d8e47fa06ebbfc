"""Time as the bot sees it: wall time in UTC, a monotonic clock and sleeping.

Everything that waits or asks "what time is it" goes through a `Clock`, so tests and
benchmarks can run a controlled one (`ManualClock`) instead of sleeping on the real clock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant (aware, UTC)."""
        return datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for pacing and timeouts)."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait."""
        await asyncio.sleep(max(0.0, seconds))


class ManualClock(Clock):
    """A clock that moves only when told to; `sleep` moves it instead of waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)
        await asyncio.sleep(0)
