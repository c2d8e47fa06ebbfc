"""A redelivered update is not processed twice: at-most-once processing of update ids.

Telegram delivers an update again when it did not learn that we took it: with long polling,
after a crash between fetching a batch and confirming it with the next getUpdates offset;
with a webhook, when our answer did not reach it. So before an update is processed, its id
is recorded in SQLite (`storage.updates.record`); an id already there is dropped.

Why mark before processing (at-most-once) and not after (at-least-once): a crash in the middle
of an update then loses that one update (she gets no answer and taps again), whereas marking
after would run it twice (two consent records, a notice sent twice, a press applied twice).
For people on ordinary phones a missing reply is the smaller harm, and it is visible to her.
The check itself is in memory (the ids of the last 65,536 updates, read from SQLite once at
start), so it costs no database trip; the id is then written in the background and every
pending write is finished before shutdown. One writer records, in one committed statement,
every id taken since its last write: under load (many updates a second) that is one database
trip for many updates instead of one each, and nothing waits for it. The only gap: a crash
within the millisecond or so between taking an update and that commit lets a redelivery of it
run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from storage import updates
from storage.db import Database

log = logging.getLogger(__name__)


class UpdateLedger:
    """The update ids taken recently: checked in memory, recorded in SQLite in the background."""

    def __init__(self) -> None:
        self._ids: set[int] | None = None
        self._order: deque[int] = deque()
        self._pending: list[int] = []  # taken, not yet handed to the writer
        self._writer: asyncio.Task[None] | None = None

    async def claim(self, db: Database, update_id: int) -> bool:
        """Take this update for processing; False if it was taken before (drop it)."""
        if self._ids is None:
            self._ids = set(await updates.recent(db))
            self._order.extend(sorted(self._ids))
        if update_id in self._ids:
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > updates.RING:
            self._ids.discard(self._order.popleft())
        self._pending.append(update_id)
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write(db))
        return True

    async def _write(self, db: Database) -> None:
        """Record what is pending, again and again, until nothing is."""
        try:
            while self._pending:
                taken, self._pending = self._pending, []
                try:
                    await updates.record(db, taken)
                except Exception as exc:  # the database closed under us (a crash, a test)
                    log.warning("%d update ids not recorded: %s", len(taken), type(exc).__name__)
        finally:
            self._writer = None

    async def drain(self) -> None:
        """Finish recording every id taken so far."""
        while self._writer is not None:
            await self._writer


async def claim(application: Any, update_id: int) -> bool:
    """Take this update for processing; False if it was taken before (drop it)."""
    db = application.bot_data.db
    if db is None or not db.is_open:
        return True
    ledger: UpdateLedger | None = getattr(application, "ledger", None)
    if ledger is None:
        ledger = application.ledger = UpdateLedger()
    return await ledger.claim(db, update_id)


async def finish(application: Any) -> None:
    """Record every pending id (at shutdown, while the database is still open)."""
    ledger: UpdateLedger | None = getattr(application, "ledger", None)
    if ledger is not None:
        await ledger.drain()
