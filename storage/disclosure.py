"""Published self-assessment figures per unit and year, released in batches of K households.

Why batches: a breakdown computed from live answers changes the moment one member changes
hers, so a head who looks before and after learns her answer. Breakdowns therefore read the
published copy (`disclosure_released`); a unit's copy is recomputed from the live answers only
once at least K of its households changed since its last release (the triggers of migration
0007 flag them in `disclosure_pending`), and its flags are then cleared. Any two published
states of a unit, and so of any sum of units, differ by the changes of 0 or of >= K households.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class Released:
    """A unit's published figures for a year: counts only."""

    unit_id: int
    respondents: int  # households that self-assessed
    failing: int  # of them, not meeting every criterion
    met: dict[str, int]  # criterion code → households meeting it
    released_at: str


DUE_SQL = """SELECT unit_id FROM disclosure_pending WHERE year = :year
             GROUP BY unit_id HAVING count(*) >= :k"""

LIVE_TOTALS_SQL = """SELECT h.unit_id, count(*), count(*) FILTER (WHERE h.meets_all = 0)
    FROM household_registrations h
    WHERE h.year = :year AND h.unit_id IN (SELECT value FROM json_each(:units))
    AND h.assessed_at IS NOT NULL
    AND EXISTS (SELECT 1 FROM household_answers a WHERE a.household_id = h.id)
    GROUP BY h.unit_id"""

LIVE_MET_SQL = """SELECT h.unit_id, a.criterion_code, count(*)
    FROM household_registrations h
    JOIN household_answers a ON a.household_id = h.id AND a.met = 1
    WHERE h.year = :year AND h.unit_id IN (SELECT value FROM json_each(:units))
    AND h.assessed_at IS NOT NULL
    GROUP BY h.unit_id, a.criterion_code"""


async def release_due(db: Database, year: int, *, k: int, at: str) -> int:
    """Release every unit of the year with at least `k` changed households; how many.

    Cheap when nothing is due (one grouped read of the flags); the release itself is one
    transaction, so no change slips in between recomputing and clearing the flags.
    """
    params = {"year": year, "k": k}
    if not await db.fetchall(DUE_SQL, params):
        return 0
    async with db.transaction() as conn:
        async with conn.execute(DUE_SQL, params) as cursor:
            due = [row[0] for row in await cursor.fetchall()]
        wanted = {"year": year, "units": json.dumps(due)}
        found: dict[int, list] = {unit: [0, 0, {}] for unit in due}
        async with conn.execute(LIVE_TOTALS_SQL, wanted) as cursor:
            for unit, respondents, failing in await cursor.fetchall():
                found[unit][:2] = [respondents, failing]
        async with conn.execute(LIVE_MET_SQL, wanted) as cursor:
            for unit, code, count in await cursor.fetchall():
                found[unit][2][code] = count
        await conn.executemany(
            "INSERT INTO disclosure_released (year, unit_id, respondents, failing, met,"
            " released_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (year, unit_id) DO UPDATE SET"
            " respondents = excluded.respondents, failing = excluded.failing,"
            " met = excluded.met, released_at = excluded.released_at",
            [(year, unit, n, f, json.dumps(met, sort_keys=True), at)
             for unit, (n, f, met) in found.items()])
        await conn.execute(
            "DELETE FROM disclosure_pending WHERE year = ?"
            " AND unit_id IN (SELECT value FROM json_each(?))", (year, json.dumps(due)))
    return len(due)


async def released(db: Database, year: int) -> list[Released]:
    """Every unit's published figures for a year (units never released are absent)."""
    rows = await db.fetchall(
        "SELECT unit_id, respondents, failing, met, released_at FROM disclosure_released"
        " WHERE year = ?", (year,))
    return [Released(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]


async def pending_of_member(db: Database, member_id: int) -> list[dict[str, object]]:
    """Her households whose latest changes are not in the published figures yet (/mydata)."""
    rows = await db.fetchall(
        "SELECT p.year, u.code AS unit_code FROM disclosure_pending p"
        " JOIN household_registrations h ON h.id = p.household_id AND h.year = p.year"
        " JOIN units u ON u.id = p.unit_id WHERE h.member_id = ? ORDER BY p.year",
        (member_id,))
    return [dict(row) for row in rows]
