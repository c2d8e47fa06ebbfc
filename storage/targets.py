"""Yearly targets (chỉ tiêu) per unit and metric; every change is audited.

What a metric means and whether its value is a percentage or a count is defined in
bot/stats.py (METRICS); this module stores and reads plain numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage import audit
from storage.db import Database


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One target as imported or typed."""

    unit_id: int
    year: int
    metric: str
    value: float


async def for_units(
    db: Database, unit_ids: Iterable[int], year: int
) -> dict[int, dict[str, float]]:
    """Targets of these units for one year: unit id → metric → value (one query)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(
        f"SELECT unit_id, metric, value FROM targets WHERE year = ? AND unit_id IN ({marks})",
        (year, *ids),
    )
    found: dict[int, dict[str, float]] = {}
    for unit_id, metric, value in rows:
        found.setdefault(unit_id, {})[metric] = value
    return found


async def for_unit_years(
    db: Database, unit_id: int, years: Sequence[int]
) -> dict[int, dict[str, float]]:
    """Targets of one unit over several years: year → metric → value."""
    marks = ",".join("?" * len(years)) or "NULL"
    rows = await db.fetchall(
        f"SELECT year, metric, value FROM targets WHERE unit_id = ? AND year IN ({marks})",
        (unit_id, *years),
    )
    found: dict[int, dict[str, float]] = {}
    for year, metric, value in rows:
        found.setdefault(year, {})[metric] = value
    return found


async def set_many(
    db: Database, rows: Sequence[TargetRow], *, by: int | None, at: str, source: str
) -> int:
    """Set (or with value 0 remove) targets in one transaction, each change audited.

    Returns how many targets changed; setting a target to its current value is no change.
    """
    changed = 0
    async with db.transaction() as conn:
        for row in rows:
            async with conn.execute(
                "SELECT value FROM targets WHERE unit_id = ? AND year = ? AND metric = ?",
                (row.unit_id, row.year, row.metric),
            ) as cursor:
                found = await cursor.fetchone()
            old = found[0] if found else None
            if row.value <= 0:
                if old is None:
                    continue
                await conn.execute(
                    "DELETE FROM targets WHERE unit_id = ? AND year = ? AND metric = ?",
                    (row.unit_id, row.year, row.metric),
                )
            elif old == row.value:
                continue
            else:
                await conn.execute(
                    "INSERT INTO targets (unit_id, year, metric, value, set_by, set_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit_id, year, metric) DO UPDATE"
                    " SET value = excluded.value, set_by = excluded.set_by,"
                    " set_at = excluded.set_at",
                    (row.unit_id, row.year, row.metric, row.value, by, at),
                )
            await audit.record(
                conn, at=at, actor_id=by,
                action="target.remove" if row.value <= 0 else "target.set",
                unit_id=row.unit_id,
                details={"year": row.year, "metric": row.metric, "old": old,
                         "new": row.value if row.value > 0 else None, "source": source},
            )
            changed += 1
    return changed
