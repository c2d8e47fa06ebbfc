"""Reminder schedules (with texts per unit scope and pause dates), what happened to each
occurrence, members' opt-outs, and turning one occurrence into a broadcast exactly once.

Exactly once: `enqueue` writes the occurrence's `reminder_runs` row, its broadcast (unique
draft_key) and every delivery in one transaction, after checking that neither exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage import audit, deliveries
from storage.db import Database, utc_now
from storage.deliveries import NewBroadcast, Variant

ENVIRONMENT, HEADS_UP, SUMMARY = "environment", "heads_up", "summary"
KINDS = (ENVIRONMENT, HEADS_UP, SUMMARY)
SENT, SKIPPED, PAUSED = "sent", "skipped", "paused"
TEXT_MAX = 1000

_SCHEDULE_COLUMNS = (
    "id, code, kind, unit_id, weekday, local_time, enabled, active_since, updated_by, updated_at"
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a reminder goes out: weekday (0 = Monday … 6 = Sunday) and local time 'HH:MM'."""

    id: int
    code: str
    kind: str
    unit_id: int | None
    weekday: int
    local_time: str
    enabled: bool
    active_since: str | None  # None: the scheduler has not run yet
    updated_by: int | None
    updated_at: str


@dataclass(frozen=True, slots=True)
class ScheduleText:
    """A schedule's message for a unit's subtree (unit_id None: everyone it addresses)."""

    schedule_id: int
    unit_id: int | None
    text_html: str
    updated_by: int
    updated_at: str


@dataclass(frozen=True, slots=True)
class Pause:
    """Local dates (inclusive) on which a schedule sends nothing."""

    id: int
    schedule_id: int
    first_day: str
    last_day: str


@dataclass(frozen=True, slots=True)
class Run:
    """What happened to one occurrence (schedule, local date)."""

    schedule_id: int
    day: str
    status: str
    due_at: str
    recorded_at: str
    broadcast_id: int | None


@dataclass(frozen=True, slots=True)
class Head:
    """A chapter head who can be sent her summary."""

    member_id: int
    unit_id: int
    locale: str


def _schedule(row: Sequence) -> Schedule:
    values = list(row)[:10]
    values[6] = bool(values[6])
    return Schedule(*values)


# --- schedules -------------------------------------------------------------------------------


async def schedules(db: Database) -> list[Schedule]:
    """Every schedule, in a stable order."""
    rows = await db.fetchall(f"SELECT {_SCHEDULE_COLUMNS} FROM reminder_schedules ORDER BY id")
    return [_schedule(r) for r in rows]


async def get(db: Database, schedule_id: int) -> Schedule | None:
    """One schedule."""
    row = await db.fetchone(
        f"SELECT {_SCHEDULE_COLUMNS} FROM reminder_schedules WHERE id = ?", (schedule_id,)
    )
    return _schedule(row) if row else None


async def _audited(db: Database, sql: str, params: tuple, *, by: int | None, at: str,
                   action: str, details: dict[str, Any], unit_id: int | None = None) -> int:
    """Run one change and its /audit entry in one transaction (no texts in the entry: they
    may be personal); the number of rows changed."""
    async with db.transaction() as conn:
        cursor = await conn.execute(sql, params)
        if cursor.rowcount:
            await audit.record(conn, at=at, actor_id=by, action=action, unit_id=unit_id,
                               details=details)
        return cursor.rowcount


async def set_enabled(db: Database, schedule_id: int, enabled: bool, *, by: int, at: str) -> None:
    """Switch on or off; switching on takes effect from the next occurrence."""
    await _audited(
        db, "UPDATE reminder_schedules SET enabled = ?, updated_by = ?, updated_at = ?,"
        " active_since = CASE WHEN ? AND NOT enabled THEN ? ELSE active_since END"
        " WHERE id = ?", (int(enabled), by, at, int(enabled), at, schedule_id),
        by=by, at=at, action="reminder.on" if enabled else "reminder.off",
        details={"schedule": schedule_id})


async def begin(db: Database, schedule_ids: list[int], since: str) -> None:
    """The scheduler's first run: these schedules count occurrences from `since` on."""
    marks = ",".join("?" * len(schedule_ids))
    await db.execute(
        f"UPDATE reminder_schedules SET active_since = ? WHERE id IN ({marks})"
        " AND active_since IS NULL",
        (since, *schedule_ids),
    )


async def set_when(
    db: Database, schedule_id: int, *, weekday: int, local_time: str, by: int, at: str
) -> None:
    """Change the day or time; it takes effect from the next occurrence."""
    await _audited(
        db, "UPDATE reminder_schedules SET weekday = ?, local_time = ?, active_since = ?,"
        " updated_by = ?, updated_at = ? WHERE id = ?",
        (weekday, local_time, at, by, at, schedule_id), by=by, at=at, action="reminder.when",
        details={"schedule": schedule_id, "weekday": weekday, "time": local_time})


# --- texts -----------------------------------------------------------------------------------


async def texts(db: Database, schedule_id: int | None = None) -> list[ScheduleText]:
    """The texts of one schedule (or of all)."""
    sql = "SELECT schedule_id, unit_id, text_html, updated_by, updated_at FROM reminder_texts"
    if schedule_id is None:
        rows = await db.fetchall(sql)
    else:
        rows = await db.fetchall(sql + " WHERE schedule_id = ?", (schedule_id,))
    return [ScheduleText(*tuple(r)) for r in rows]


async def set_text(
    db: Database, schedule_id: int, unit_id: int | None, text_html: str, *, by: int, at: str
) -> None:
    """Set the message for a unit's subtree (None: everyone the schedule addresses)."""
    async with db.transaction() as conn:
        await conn.execute(
            "DELETE FROM reminder_texts WHERE schedule_id = ? AND ifnull(unit_id, 0) = ?",
            (schedule_id, unit_id or 0),
        )
        await conn.execute(
            "INSERT INTO reminder_texts (schedule_id, unit_id, text_html, updated_by,"
            " updated_at) VALUES (?, ?, ?, ?, ?)",
            (schedule_id, unit_id, text_html, by, at),
        )
        await audit.record(conn, at=at, actor_id=by, action="reminder.text", unit_id=unit_id,
                           details={"schedule": schedule_id})


async def clear_text(db: Database, schedule_id: int, unit_id: int | None, *,
                     by: int | None = None, at: str | None = None) -> bool:
    """Remove a unit's text (the next broader one applies again)."""
    changed = await _audited(
        db, "DELETE FROM reminder_texts WHERE schedule_id = ? AND ifnull(unit_id, 0) = ?",
        (schedule_id, unit_id or 0), by=by, at=at or utc_now(), action="reminder.text_removed",
        details={"schedule": schedule_id}, unit_id=unit_id)
    return changed == 1


# --- pauses ----------------------------------------------------------------------------------


async def pauses(db: Database, *, from_day: str, schedule_id: int | None = None) -> list[Pause]:
    """Pauses that end on or after `from_day`, of one schedule (or of all), by first day."""
    sql = "SELECT id, schedule_id, first_day, last_day FROM reminder_pauses WHERE last_day >= ?"
    params: tuple = (from_day,)
    if schedule_id is not None:
        sql += " AND schedule_id = ?"
        params += (schedule_id,)
    rows = await db.fetchall(sql + " ORDER BY first_day, id", params)
    return [Pause(*tuple(r)) for r in rows]


async def add_pause(
    db: Database, schedule_id: int, first_day: str, last_day: str, *, by: int, at: str
) -> None:
    """Pause a schedule on these local dates (inclusive)."""
    await _audited(
        db, "INSERT INTO reminder_pauses (schedule_id, first_day, last_day, created_by,"
        " created_at) VALUES (?, ?, ?, ?, ?)", (schedule_id, first_day, last_day, by, at),
        by=by, at=at, action="reminder.pause",
        details={"schedule": schedule_id, "first": first_day, "last": last_day})


async def remove_pause(db: Database, pause_id: int, schedule_id: int, *,
                       by: int | None = None, at: str | None = None) -> bool:
    """Delete a pause of this schedule; False if it is gone."""
    changed = await _audited(
        db, "DELETE FROM reminder_pauses WHERE id = ? AND schedule_id = ?",
        (pause_id, schedule_id), by=by, at=at or utc_now(), action="reminder.unpause",
        details={"schedule": schedule_id})
    return changed == 1


# --- occurrences -----------------------------------------------------------------------------


async def runs_since(db: Database, first_day: str) -> dict[tuple[int, str], Run]:
    """Recorded occurrences from `first_day` on, by (schedule id, day)."""
    rows = await db.fetchall(
        "SELECT schedule_id, day, status, due_at, recorded_at, broadcast_id FROM reminder_runs"
        " WHERE day >= ?",
        (first_day,),
    )
    return {(r[0], r[1]): Run(*tuple(r)) for r in rows}


async def last_runs(db: Database, schedule_id: int, limit: int = 3) -> list[Run]:
    """A schedule's latest occurrences, newest first."""
    rows = await db.fetchall(
        "SELECT schedule_id, day, status, due_at, recorded_at, broadcast_id FROM reminder_runs"
        " WHERE schedule_id = ? ORDER BY day DESC LIMIT ?",
        (schedule_id, limit),
    )
    return [Run(*tuple(r)) for r in rows]


async def record(
    db: Database, schedule_id: int, day: str, status: str, *, due_at: str, at: str
) -> bool:
    """Record an occurrence that sends nothing (skipped, paused); False if already recorded."""
    changed = await db.execute(
        "INSERT INTO reminder_runs (schedule_id, day, status, due_at, recorded_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (schedule_id, day, status, due_at, at),
    )
    return changed == 1


_MEMBERS_BY_MAP = """
    INSERT INTO deliveries (broadcast_id, member_id, variant)
    SELECT :broadcast, m.id, j.value ->> 2
    FROM json_each(:map) AS j
    JOIN members m ON m.unit_id = (j.value ->> 0) AND m.status = 'active'
    WHERE m.locale = (j.value ->> 1)
      AND NOT EXISTS (SELECT 1 FROM reminder_optouts o WHERE o.member_id = m.id)
"""

INTRODUCED_WITHIN = 12
"""A member counts as new to a schedule kind when none of its last this-many reminders
reached her (about three months of weekly ones): a newcomer, or back after a long break."""

_FIRST_TIME = """
    WITH earlier(id) AS (
        SELECT r.broadcast_id FROM reminder_runs r
        JOIN reminder_schedules s ON s.id = r.schedule_id
        WHERE s.kind = (SELECT kind FROM reminder_schedules WHERE id = :schedule)
          AND r.broadcast_id IS NOT NULL AND r.broadcast_id != :broadcast
        ORDER BY r.day DESC LIMIT :within)
    UPDATE deliveries SET variant = variant + :shift
    WHERE broadcast_id = :broadcast AND NOT EXISTS (
        SELECT 1 FROM earlier JOIN deliveries d
          ON d.broadcast_id = earlier.id AND d.member_id = deliveries.member_id
        WHERE d.status = 'sent')
"""


async def enqueue(
    db: Database,
    schedule_id: int,
    day: str,
    new: NewBroadcast,
    variants: list[Variant],
    *,
    due_at: str,
    at: str,
    unit_map: list[tuple[int, str, int]] | None = None,
    recipients: list[tuple[int, int]] | None = None,
    first_time_shift: int | None = None,
) -> tuple[int, int] | None:
    """Create the occurrence's broadcast with its deliveries, once: (broadcast id, total).

    Recipients are either `unit_map` — (unit id, locale, variant) for members' reminders: the
    active members of those units in that language who did not opt out — or `recipients`,
    (member id, variant) pairs (the heads' summaries). With `first_time_shift`, a member whom
    none of the last INTRODUCED_WITHIN reminders of this schedule's kind reached gets the
    variant that many places on (the one that introduces it). None if the occurrence was
    recorded before (sent, skipped or paused): nothing is written then.
    """
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT 1 FROM reminder_runs WHERE schedule_id = ? AND day = ?", (schedule_id, day)
        ) as cur:
            if await cur.fetchone() is not None:
                return None
        broadcast_id = await deliveries.insert_running(conn, new, variants, at)
        if broadcast_id is None:
            return None
        if unit_map is not None:
            await conn.execute(_MEMBERS_BY_MAP, {"broadcast": broadcast_id,
                                                 "map": json.dumps(unit_map)})
        if first_time_shift:
            await conn.execute(_FIRST_TIME, {"broadcast": broadcast_id,
                                             "shift": first_time_shift,
                                             "schedule": schedule_id,
                                             "within": INTRODUCED_WITHIN})
        if recipients:
            await conn.executemany(
                "INSERT OR IGNORE INTO deliveries (broadcast_id, member_id, variant)"
                " VALUES (?, ?, ?)",
                [(broadcast_id, member_id, variant) for member_id, variant in recipients],
            )
        total = await deliveries.set_total(conn, broadcast_id)
        await conn.execute(
            "INSERT INTO reminder_runs (schedule_id, day, status, due_at, recorded_at,"
            " broadcast_id) VALUES (?, ?, 'sent', ?, ?, ?)",
            (schedule_id, day, due_at, at, broadcast_id),
        )
    return broadcast_id, total


# --- members ---------------------------------------------------------------------------------


async def opted_out(db: Database, member_id: int) -> bool:
    """Whether she turned the reminders off."""
    row = await db.fetchone("SELECT 1 FROM reminder_optouts WHERE member_id = ?", (member_id,))
    return row is not None


async def set_opted_out(db: Database, member_id: int, out: bool, *, at: str) -> None:
    """Turn her reminders off (True) or on again (False)."""
    if out:
        await db.execute(
            "INSERT INTO reminder_optouts (member_id, opted_out_at) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (member_id, at),
        )
    else:
        await db.execute("DELETE FROM reminder_optouts WHERE member_id = ?", (member_id,))


async def heads(db: Database) -> list[Head]:
    """Active chapter heads with the unit of each grant."""
    rows = await db.fetchall(
        """SELECT m.id, r.unit_id, m.locale FROM roles r JOIN members m ON m.id = r.member_id
           WHERE r.role = 'chapter_head' AND m.status = 'active' ORDER BY m.id, r.unit_id"""
    )
    return [Head(*tuple(r)) for r in rows]
