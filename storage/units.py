"""The organisation tree: units with data-defined kinds and stable codes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database, utc_now

_COLUMNS = "id, code, name, kind, parent_id, merged_into"


@dataclass(frozen=True, slots=True)
class Unit:
    """One node of the tree (district, ward, chapter, group … as data)."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    merged_into: int | None = None  # merged units stay, hidden, as a child of the survivor


@dataclass(frozen=True, slots=True)
class UnitRow:
    """A unit as imported: parents are named by code."""

    code: str
    name: str
    kind: str
    parent_code: str | None


class TreeError(ValueError):
    """An import would break the tree; names the unit code and why. Nothing was changed."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def _unit(row: sqlite3.Row) -> Unit:
    return Unit(row["id"], row["code"], row["name"], row["kind"], row["parent_id"],
                row["merged_into"])


async def get(db: Database, unit_id: int) -> Unit | None:
    """The unit with this id."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM units WHERE id = ?", (unit_id,))
    return _unit(row) if row else None


async def by_code(db: Database, code: str) -> Unit | None:
    """The unit with this code (case-insensitive), or with it as a former code (alias).

    The code of a unit merged into another resolves to the surviving unit, so old deep links
    and printed QR codes keep working.
    """
    row = await db.fetchone(
        f"""SELECT {_COLUMNS} FROM units WHERE id = coalesce(
                (SELECT coalesce(merged_into, id) FROM units WHERE code = :code COLLATE NOCASE),
                (SELECT coalesce(u.merged_into, u.id) FROM unit_aliases a
                 JOIN units u ON u.id = a.unit_id WHERE a.code = :code))""",
        {"code": code.strip()},
    )
    return _unit(row) if row else None


async def children(db: Database, parent_id: int | None) -> list[Unit]:
    """Direct children of a unit (or the roots for None), by name; merged units left out."""
    if parent_id is None:
        sql = (f"SELECT {_COLUMNS} FROM units WHERE parent_id IS NULL AND merged_into IS NULL"
               " ORDER BY name")
        rows = await db.fetchall(sql)
    else:
        sql = (f"SELECT {_COLUMNS} FROM units WHERE parent_id = ? AND merged_into IS NULL"
               " ORDER BY name")
        rows = await db.fetchall(sql, (parent_id,))
    return [_unit(r) for r in rows]


async def has_children(db: Database, unit_ids: Iterable[int]) -> set[int]:
    """Which of these units have at least one child (merged units do not count)."""
    ids = list(unit_ids)
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(
        f"SELECT DISTINCT parent_id FROM units WHERE parent_id IN ({marks})"
        " AND merged_into IS NULL", tuple(ids)
    )
    return {r[0] for r in rows}


async def ancestry(db: Database, unit_id: int) -> list[Unit]:
    """The unit and its ancestors, from the root down to the unit itself."""
    rows = await db.fetchall(
        f"""WITH RECURSIVE up(id, depth) AS (
                SELECT ?, 0
                UNION ALL
                SELECT units.parent_id, up.depth + 1 FROM units JOIN up ON units.id = up.id
                WHERE units.parent_id IS NOT NULL)
            SELECT {_COLUMNS} FROM units JOIN up USING (id) ORDER BY up.depth DESC""",
        (unit_id,),
    )
    return [_unit(r) for r in rows]


async def tree(db: Database, root_id: int | None = None) -> list[tuple[Unit, int]]:
    """(unit, depth) for the whole tree or one subtree, parents before children."""
    start = "parent_id IS NULL" if root_id is None else "id = :root"
    rows = await db.fetchall(
        f"""WITH RECURSIVE walk(id, depth, path) AS (
                SELECT id, 0, name FROM units WHERE {start}
                UNION ALL
                SELECT units.id, walk.depth + 1, walk.path || char(31) || units.name
                FROM units JOIN walk ON units.parent_id = walk.id)
            SELECT {_COLUMNS}, walk.depth FROM units JOIN walk USING (id) ORDER BY walk.path""",
        {"root": root_id},
    )
    return [(_unit(r), r["depth"]) for r in rows]


async def upsert_many(db: Database, rows: list[UnitRow]) -> tuple[int, int]:
    """Insert or update units by code in one transaction; parents must come first.

    Returns (created, updated). Raises TreeError for an unknown parent or a cycle.
    """
    created = updated = 0
    moved: list[int] = []
    now = utc_now()
    async with db.transaction() as conn:
        for row in rows:
            parent_id = None
            if row.parent_code:
                async with conn.execute(
                    "SELECT id FROM units WHERE code = ? COLLATE NOCASE", (row.parent_code,)
                ) as cur:
                    found = await cur.fetchone()
                if found is None:
                    raise TreeError(
                        row.code, f"no unit with code {row.parent_code!r} in the file or database"
                    )
                parent_id = found[0]
            async with conn.execute(
                "SELECT id, name, kind, parent_id FROM units WHERE code = ? COLLATE NOCASE",
                (row.code,),
            ) as cur:
                existing = await cur.fetchone()
            if existing is None:
                await conn.execute(
                    "INSERT INTO units (code, name, kind, parent_id, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (row.code, row.name, row.kind, parent_id, now, now),
                )
                created += 1
            elif tuple(existing)[1:] != (row.name, row.kind, parent_id):
                await conn.execute(
                    "UPDATE units SET name = ?, kind = ?, parent_id = ?, updated_at = ?"
                    " WHERE id = ?",
                    (row.name, row.kind, parent_id, now, existing[0]),
                )
                updated += 1
                if existing["parent_id"] != parent_id:
                    moved.append(existing[0])
        # Only a moved unit can close a cycle: the tree had none before.
        for unit_id in moved:
            async with conn.execute(_REACHES_ITSELF, {"start": unit_id}) as cur:
                looped = await cur.fetchone()
            if looped is not None:
                raise TreeError(looped[0], "this would make the unit its own ancestor")
    return created, updated


_REACHES_ITSELF = """
    WITH RECURSIVE up(id, n) AS (
        SELECT parent_id, 1 FROM units WHERE id = :start
        UNION ALL
        SELECT units.parent_id, up.n + 1 FROM units JOIN up ON units.id = up.id
        WHERE up.id != :start AND up.n < 10000)
    SELECT code FROM units WHERE id = :start AND EXISTS (SELECT 1 FROM up WHERE id = :start)
"""
