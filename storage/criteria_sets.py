"""Criteria sets loaded into the database (`python -m bot criteria load`).

They live here rather than in an installation's catalog file so that loading one is a single
command and survives upgrades of the shipped catalog; `bot.catalog` merges them over the file's
sets at start. Which household registration uses which set is in `storage.campaigns`.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class StoredSet:
    """One loaded set: its id, the first year it applies to (None: replaced), its TOML text."""

    id: str
    from_year: int | None
    definition: str
    loaded_at: str


async def stored(db: Database) -> list[StoredSet]:
    """Every loaded set, oldest first year first (replaced ones last)."""
    rows = await db.fetchall(
        "SELECT id, from_year, definition, loaded_at FROM criteria_sets"
        " ORDER BY from_year IS NULL, from_year, id"
    )
    return [StoredSet(r[0], r[1], r[2], r[3]) for r in rows]


async def save(db: Database, *, set_id: str, from_year: int, definition: str, at: str) -> bool:
    """Store a set as the one from `from_year` on; False if exactly that was stored already.

    A set stored before for the same year keeps its definition (registrations may use it) but
    no longer applies to any year.
    """
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT from_year, definition FROM criteria_sets WHERE id = ?", (set_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0] == from_year and row[1] == definition:
            return False
        await conn.execute(
            "UPDATE criteria_sets SET from_year = NULL WHERE from_year = ? AND id != ?",
            (from_year, set_id),
        )
        await conn.execute(
            "INSERT INTO criteria_sets (id, from_year, definition, loaded_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET from_year = excluded.from_year,"
            " definition = excluded.definition, loaded_at = excluded.loaded_at",
            (set_id, from_year, definition, at),
        )
    return True
