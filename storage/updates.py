"""Update ids already taken for processing (a ring of slots; see bot/dedup.py)."""

from __future__ import annotations

from storage.db import Database

RING = 65_536
_CLAIM = (
    "INSERT INTO seen_updates (slot, update_id) VALUES (?, ?)"
    " ON CONFLICT (slot) DO UPDATE SET update_id = excluded.update_id"
    " WHERE excluded.update_id != seen_updates.update_id"
)


async def claim(db: Database, update_id: int) -> bool:
    """Record that this update is being processed; False if it already was (a redelivery).

    One statement, committed at once: the slot `update_id % RING` takes the id unless it
    already holds that very id. (Ids grow by one per update, so a slot is reused only after
    65,536 newer updates; Telegram restarts ids at a random number after a week of silence.)
    """
    return await db.execute(_CLAIM, (update_id % RING, update_id)) == 1


async def recent(db: Database) -> list[int]:
    """Every update id still in the ring (the last 65,536 taken)."""
    return [row[0] for row in await db.fetchall("SELECT update_id FROM seen_updates")]


async def latest(db: Database) -> int | None:
    """The newest update id taken (for `python -m bot check`)."""
    row = await db.fetchone("SELECT max(update_id) FROM seen_updates")
    return int(row[0]) if row and row[0] is not None else None
