"""Update ids already taken for processing (a ring of slots; see bot/dedup.py)."""

from __future__ import annotations

from storage.db import Database

RING = 65_536
_RECORD = (
    "INSERT INTO seen_updates (slot, update_id) VALUES {rows}"
    " ON CONFLICT (slot) DO UPDATE SET update_id = excluded.update_id"
)
_PER_STATEMENT = 400  # rows per INSERT (two variables each; SQLite allows 32,766)


async def record(db: Database, update_ids: list[int]) -> None:
    """Record that these updates are being processed (in one committed statement per 400).

    The slot `update_id % RING` takes the id. (Ids grow by one per update, so a slot is reused
    only after 65,536 newer updates; Telegram restarts ids at a random number after a week of
    silence.) Ids recorded together are distinct, so no two rows of a statement share a slot.
    """
    for start in range(0, len(update_ids), _PER_STATEMENT):
        chunk = update_ids[start:start + _PER_STATEMENT]
        params = tuple(value for uid in chunk for value in (uid % RING, uid))
        await db.execute(_RECORD.format(rows=", ".join(["(?, ?)"] * len(chunk))), params)


async def recent(db: Database) -> list[int]:
    """Every update id still in the ring (the last 65,536 taken)."""
    return [row[0] for row in await db.fetchall("SELECT update_id FROM seen_updates")]


async def latest(db: Database) -> int | None:
    """The newest update id taken (for `python -m bot check`)."""
    row = await db.fetchone("SELECT max(update_id) FROM seen_updates")
    return int(row[0]) if row and row[0] is not None else None
