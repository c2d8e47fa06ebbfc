"""Activity reports: what members did (a catalog activity type on a local date), with an
optional quantity, note and photo (a Telegram file_id only), and a chapter head's doubt flag.

A report keeps the unit the member was in when she reported, so moves and merges of units
never rewrite history; chapter views count a unit's subtree. Days are local dates as
'YYYY-MM-DD' text, so weeks and months are index range scans on (unit_id, day).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database

NOTE_MAX = 500
FLAG_REASON_MAX = 200
BUTTON, REPORT = "button", "report"

_COLUMNS = (
    "r.id, r.member_id, r.unit_id, r.activity_code, r.day, r.quantity, r.note, r.photo_file_id,"
    " r.source, r.created_at, r.updated_at, r.flagged_by, r.flag_reason, r.flagged_at"
)
_SUBTREE = """sub(id) AS (
    SELECT :unit UNION ALL SELECT units.id FROM units JOIN sub ON units.parent_id = sub.id)"""


class DuplicateReport(Exception):
    """She already reported this activity type on that day; nothing was changed."""

    def __init__(self, existing_id: int) -> None:
        super().__init__(f"duplicate of report {existing_id}")
        self.existing_id = existing_id


@dataclass(frozen=True, slots=True)
class Report:
    """One activity report."""

    id: int
    member_id: int
    unit_id: int
    activity_code: str
    day: str
    quantity: float | None
    note: str | None
    photo_file_id: str | None
    source: str
    created_at: str
    updated_at: str
    flagged_by: int | None
    flag_reason: str | None
    flagged_at: str | None


@dataclass(frozen=True, slots=True)
class NewReport:
    """What the report flow (or the one-tap button) collects."""

    member_id: int
    unit_id: int
    activity_code: str
    day: str
    quantity: float | None = None
    note: str | None = None
    photo_file_id: str | None = None
    source: str = REPORT


@dataclass(frozen=True, slots=True)
class ReportLine:
    """A report with the member's name, for a chapter's list."""

    report: Report
    full_name: str


@dataclass(frozen=True, slots=True)
class Total:
    """Reports of one type in a period: how many, by how many members, summed quantity."""

    activity_code: str
    reports: int
    members: int
    quantity: float
    flagged: int


def _report(row: sqlite3.Row | tuple) -> Report:
    return Report(*tuple(row)[:14])


# --- her own reports -------------------------------------------------------------------------


async def add(db: Database, new: NewReport, *, at: str) -> Report:
    """Store a report; DuplicateReport if she has one of this type on that day."""
    report, created = await add_once(db, new, at=at)
    if not created:
        raise DuplicateReport(report.id)
    return report


async def add_once(db: Database, new: NewReport, *, at: str) -> tuple[Report, bool]:
    """Store a report unless one of this type exists for her on that day: (report, created)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            """INSERT INTO activity_reports
                   (member_id, unit_id, activity_code, day, quantity, note, photo_file_id,
                    source, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (member_id, activity_code, day) DO NOTHING""",
            (new.member_id, new.unit_id, new.activity_code, new.day, new.quantity, new.note,
             new.photo_file_id, new.source, at, at),
        )
        created = cursor.rowcount == 1
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM activity_reports r"
        " WHERE member_id = ? AND activity_code = ? AND day = ?",
        (new.member_id, new.activity_code, new.day),
    )
    assert row is not None
    return _report(row), created


async def add_many(db: Database, reports: Iterable[NewReport], *, at: str) -> int:
    """Store many reports in one transaction (a seed of a million); a member's second report
    of a type on a day is skipped, as `add_once` does. How many were stored."""
    async with db.transaction() as conn:
        cursor = await conn.executemany(
            """INSERT INTO activity_reports
                   (member_id, unit_id, activity_code, day, quantity, note, photo_file_id,
                    source, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (member_id, activity_code, day) DO NOTHING""",
            ((r.member_id, r.unit_id, r.activity_code, r.day, r.quantity, r.note,
              r.photo_file_id, r.source, at, at) for r in reports),
        )
        return cursor.rowcount


async def get(db: Database, report_id: int) -> Report | None:
    """One report."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM activity_reports r WHERE id = ?", (report_id,)
    )
    return _report(row) if row else None


async def on_day(db: Database, member_id: int, activity_code: str, day: str) -> Report | None:
    """Her report of this type on that day, if any (the one a new report would duplicate)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM activity_reports r"
        " WHERE member_id = ? AND activity_code = ? AND day = ?",
        (member_id, activity_code, day),
    )
    return _report(row) if row else None


async def of_member(db: Database, member_id: int, *, limit: int, offset: int = 0) -> list[Report]:
    """Her reports, newest activity day first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM activity_reports r WHERE member_id = ?"
        " ORDER BY day DESC, id DESC LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )
    return [_report(r) for r in rows]


async def count_of_member(db: Database, member_id: int) -> int:
    """How many reports she has."""
    row = await db.fetchone(
        "SELECT count(*) FROM activity_reports WHERE member_id = ?", (member_id,)
    )
    return int(row[0]) if row else 0


async def update(
    db: Database, report_id: int, member_id: int, *, activity_code: str, day: str,
    quantity: float | None, note: str | None, photo_file_id: str | None, at: str,
) -> bool:
    """Change her report (False if it is not hers or gone); DuplicateReport on a clash."""
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT id FROM activity_reports WHERE member_id = ? AND activity_code = ?"
            " AND day = ? AND id != ?",
            (member_id, activity_code, day, report_id),
        ) as cur:
            clash = await cur.fetchone()
        if clash is not None:
            raise DuplicateReport(clash[0])
        cursor = await conn.execute(
            """UPDATE activity_reports SET activity_code = ?, day = ?, quantity = ?, note = ?,
                   photo_file_id = ?, updated_at = ?
               WHERE id = ? AND member_id = ?""",
            (activity_code, day, quantity, note, photo_file_id, at, report_id, member_id),
        )
        return cursor.rowcount == 1


async def set_photo(db: Database, report_id: int, member_id: int, file_id: str, *,
                    at: str) -> bool:
    """Attach a photo (its Telegram file_id) to her report."""
    changed = await db.execute(
        "UPDATE activity_reports SET photo_file_id = ?, updated_at = ?"
        " WHERE id = ? AND member_id = ?",
        (file_id, at, report_id, member_id),
    )
    return changed == 1


async def delete(db: Database, report_id: int, member_id: int) -> bool:
    """Delete her report; False if it is not hers or already gone."""
    changed = await db.execute(
        "DELETE FROM activity_reports WHERE id = ? AND member_id = ?", (report_id, member_id)
    )
    return changed == 1


# --- chapter heads ---------------------------------------------------------------------------


async def flag(db: Database, report_id: int, *, by: int, reason: str, at: str) -> bool:
    """Mark a report as doubtful (by a Telegram user id) with a reason."""
    changed = await db.execute(
        "UPDATE activity_reports SET flagged_by = ?, flag_reason = ?, flagged_at = ?"
        " WHERE id = ?",
        (by, reason, at, report_id),
    )
    return changed == 1


async def unflag(db: Database, report_id: int) -> bool:
    """Take the doubt mark off a report; False if it had none."""
    changed = await db.execute(
        "UPDATE activity_reports SET flagged_by = NULL, flag_reason = NULL, flagged_at = NULL"
        " WHERE id = ? AND flagged_at IS NOT NULL",
        (report_id,),
    )
    return changed == 1


async def in_subtree(db: Database, unit_id: int, first_day: str, last_day: str) -> list[ReportLine]:
    """Reports made in the unit's subtree between two local dates, newest first, with names."""
    rows = await db.fetchall(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT {_COLUMNS}, m.full_name FROM activity_reports r
            JOIN members m ON m.id = r.member_id
            WHERE r.unit_id IN (SELECT id FROM sub) AND r.day BETWEEN :first AND :last
              AND m.status != 'deleted'
            ORDER BY r.day DESC, r.id DESC""",
        {"unit": unit_id, "first": first_day, "last": last_day},
    )
    return [ReportLine(_report(r), r["full_name"]) for r in rows]


async def totals(db: Database, unit_id: int, first_day: str, last_day: str) -> list[Total]:
    """Per activity type in the unit's subtree between two local dates."""
    rows = await db.fetchall(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT activity_code, count(*), count(DISTINCT member_id), total(quantity),
                   count(flagged_at)
            FROM activity_reports
            WHERE unit_id IN (SELECT id FROM sub) AND day BETWEEN :first AND :last
            GROUP BY activity_code""",
        {"unit": unit_id, "first": first_day, "last": last_day},
    )
    return [Total(r[0], r[1], r[2], r[3], r[4]) for r in rows]


async def members_in_subtree(db: Database, unit_id: int) -> int:
    """Members (not deleted) whose unit is in the subtree now."""
    row = await db.fetchone(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT count(*) FROM members
            WHERE unit_id IN (SELECT id FROM sub) AND status != 'deleted'""",
        {"unit": unit_id},
    )
    return int(row[0]) if row else 0


# --- participation on given days, all units at once (the heads' summaries) -------------------


async def participants(db: Database, activity_code: str, day: str) -> list[tuple[int, int, str]]:
    """(unit_id, member_id, full_name) of everyone who reported this type on that day."""
    rows = await db.fetchall(
        """SELECT r.unit_id, r.member_id, m.full_name FROM activity_reports r
           JOIN members m ON m.id = r.member_id
           WHERE r.activity_code = ? AND r.day = ? AND m.status != 'deleted'""",
        (activity_code, day),
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def counts_by_unit(db: Database, activity_code: str, day: str) -> dict[int, int]:
    """Members (not deleted) who reported this type on that day, per unit of the report."""
    rows = await db.fetchall(
        """SELECT r.unit_id, count(DISTINCT r.member_id) FROM activity_reports r
           JOIN members m ON m.id = r.member_id
           WHERE r.activity_code = ? AND r.day = ? AND m.status != 'deleted'
           GROUP BY r.unit_id""",
        (activity_code, day),
    )
    return {r[0]: r[1] for r in rows}


async def members_by_unit(db: Database) -> dict[int, int]:
    """Members (not deleted) directly in each unit now."""
    rows = await db.fetchall(
        "SELECT unit_id, count(*) FROM members WHERE unit_id IS NOT NULL"
        " AND status != 'deleted' GROUP BY unit_id"
    )
    return {r[0]: r[1] for r in rows}


async def codes_in_use(db: Database) -> dict[str, int]:
    """Activity codes that stored reports use, with how many."""
    rows = await db.fetchall(
        "SELECT activity_code, count(*) FROM activity_reports GROUP BY activity_code"
    )
    return {r[0]: r[1] for r in rows}
