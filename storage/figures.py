"""Unit indicators (chỉ tiêu of a unit): figures entered per unit, month and indicator.

What an indicator means, its unit of measure and how it adds up over time are defined in the
indicator catalog (bot/indicators.py); this module stores plain numbers. Every change keeps
the value before it, who made it and when (`unit_figure_history`, and the audit log), so a
correction never hides what was reported first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from storage import audit
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Figure:
    """One entered figure."""

    unit_id: int
    month: str  # 'YYYY-MM', local
    indicator: str
    value: float


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a figure's history (old is None for the first entry)."""

    old: float | None
    new: float
    by: int | None  # Telegram id of who typed it (a pseudonym after her erasure)
    at: str


@dataclass(frozen=True, slots=True)
class Officer:
    """Someone holding a role on a unit: who gets the unit's deadline reminder."""

    member_id: int
    unit_id: int
    locale: str


async def enter(db: Database, figure: Figure, *, by: int | None, at: str) -> float | None:
    """Store a figure (a correction replaces it), with its history and an audit entry.

    Returns the value it replaced (None: the first entry). Typing the same value again changes
    nothing and leaves no history.
    """
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT value FROM unit_figures WHERE unit_id = ? AND month = ? AND indicator = ?",
            (figure.unit_id, figure.month, figure.indicator),
        ) as cursor:
            found = await cursor.fetchone()
        old = found[0] if found else None
        if old == figure.value:
            return old
        await conn.execute(
            "INSERT INTO unit_figures (unit_id, month, indicator, value, entered_by, entered_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit_id, month, indicator) DO UPDATE"
            " SET value = excluded.value, entered_by = excluded.entered_by,"
            " entered_at = excluded.entered_at",
            (figure.unit_id, figure.month, figure.indicator, figure.value, by, at),
        )
        await conn.execute(
            "INSERT INTO unit_figure_history (unit_id, month, indicator, old_value, new_value,"
            " changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (figure.unit_id, figure.month, figure.indicator, old, figure.value, by, at),
        )
        await audit.record(conn, at=at, actor_id=by, action="figure.set", unit_id=figure.unit_id,
                           details={"month": figure.month, "indicator": figure.indicator,
                                    "old": old, "new": figure.value})
    return old


async def of_unit(db: Database, unit_id: int, month: str) -> dict[str, float]:
    """What a unit entered for one month: indicator → value."""
    rows = await db.fetchall(
        "SELECT indicator, value FROM unit_figures WHERE unit_id = ? AND month = ?",
        (unit_id, month))
    return {row[0]: row[1] for row in rows}


async def history(db: Database, unit_id: int, month: str, indicator: str) -> list[Change]:
    """Every change of one figure, oldest first."""
    rows = await db.fetchall(
        "SELECT old_value, new_value, changed_by, changed_at FROM unit_figure_history"
        " WHERE unit_id = ? AND month = ? AND indicator = ? ORDER BY id",
        (unit_id, month, indicator))
    return [Change(*row) for row in rows]


async def in_months(db: Database, first: str, last: str) -> list[Figure]:
    """Every figure entered for the months first..last (the flows of a period)."""
    rows = await db.fetchall(
        "SELECT unit_id, month, indicator, value FROM unit_figures"
        " WHERE month BETWEEN ? AND ?", (first, last))
    return [Figure(*row) for row in rows]


async def sums(db: Database, first: str, last: str,
               indicators: Sequence[str]) -> list[tuple[int, str, float]]:
    """(unit, indicator, sum over the months first..last) of these indicators, per unit."""
    if not indicators:
        return []
    marks = ",".join("?" * len(indicators))
    rows = await db.fetchall(
        f"SELECT unit_id, indicator, sum(value) FROM unit_figures WHERE month BETWEEN ? AND ?"
        f" AND indicator IN ({marks}) GROUP BY unit_id, indicator", (first, last, *indicators))
    return [(row[0], row[1], row[2]) for row in rows]


async def at_units(db: Database, unit_ids: Iterable[int], first: str, last: str) -> list[Figure]:
    """The figures entered by these units for the months first..last."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(
        f"SELECT unit_id, month, indicator, value FROM unit_figures WHERE month BETWEEN ? AND ?"
        f" AND unit_id IN ({marks})", (first, last, *ids))
    return [Figure(*row) for row in rows]


async def of_month(db: Database, indicator: str, month: str) -> list[Figure]:
    """Every unit's figure of one indicator and month."""
    rows = await db.fetchall(
        "SELECT unit_id, month, indicator, value FROM unit_figures WHERE month = ?"
        " AND indicator = ?", (month, indicator))
    return [Figure(*row) for row in rows]


async def latest(db: Database, indicators: Sequence[str], last: str) -> list[Figure]:
    """Per unit, the newest figure up to `last` of each of these indicators (the stocks)."""
    if not indicators:
        return []
    marks = ",".join("?" * len(indicators))
    # SQLite: with max(), the bare columns come from the row holding the maximum.
    rows = await db.fetchall(
        f"SELECT unit_id, max(month), indicator, value FROM unit_figures"
        f" WHERE indicator IN ({marks}) AND month <= ? GROUP BY unit_id, indicator",
        (*indicators, last))
    return [Figure(*row) for row in rows]


async def units_reported(db: Database, month: str) -> set[int]:
    """The units that entered at least one figure for a month."""
    rows = await db.fetchall("SELECT DISTINCT unit_id FROM unit_figures WHERE month = ?",
                             (month,))
    return {row[0] for row in rows}


async def reminded(db: Database, month: str) -> set[int]:
    """The units already reminded of a month's deadline."""
    rows = await db.fetchall("SELECT unit_id FROM figure_reminders WHERE month = ?", (month,))
    return {row[0] for row in rows}


async def mark_reminded(conn: aiosqlite.Connection, unit_id: int, month: str, at: str) -> bool:
    """Inside the caller's transaction: note the reminder; False if it was sent already."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO figure_reminders (unit_id, month, sent_at) VALUES (?, ?, ?)",
        (unit_id, month, at))
    return cursor.rowcount == 1


async def officers(db: Database, unit_ids: Iterable[int]) -> list[Officer]:
    """Active members holding a role on exactly these units (heads, officers)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(
        f"SELECT DISTINCT m.id, r.unit_id, m.locale FROM roles r JOIN members m"
        f" ON m.id = r.member_id WHERE r.unit_id IN ({marks}) AND m.status = 'active'"
        f" ORDER BY r.unit_id, m.id", tuple(ids))
    return [Officer(*row) for row in rows]


async def entered_by(db: Database, telegram_user_id: int) -> list[dict[str, object]]:
    """What she typed (for /mydata): unit, month, indicator, old and new value, when."""
    rows = await db.fetchall(
        "SELECT u.code AS unit_code, h.month, h.indicator, h.old_value, h.new_value,"
        " h.changed_at FROM unit_figure_history h JOIN units u ON u.id = h.unit_id"
        " WHERE h.changed_by = ? ORDER BY h.id", (telegram_user_id,))
    return [dict(row) for row in rows]


async def enter_many(db: Database, rows: Sequence[Figure], *, by: int | None, at: str) -> None:
    """First entries of many figures in one transaction (an import, a benchmark's seed): what
    `enter` writes for each, figure, history and audit, without reading the old values."""
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO unit_figures (unit_id, month, indicator, value, entered_by, entered_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(f.unit_id, f.month, f.indicator, f.value, by, at) for f in rows])
        await conn.executemany(
            "INSERT INTO unit_figure_history (unit_id, month, indicator, old_value, new_value,"
            " changed_by, changed_at) VALUES (?, ?, ?, NULL, ?, ?, ?)",
            [(f.unit_id, f.month, f.indicator, f.value, by, at) for f in rows])
        for f in rows:
            await audit.record(conn, at=at, actor_id=by, action="figure.set", unit_id=f.unit_id,
                               details={"month": f.month, "indicator": f.indicator,
                                        "old": None, "new": f.value})
