"""Members' data rights: everything held about one person (export), erasure, consents.

Erasure keeps statistics right: the member row stays, anonymised (no name, phone, Telegram
account or chat) with status 'deleted', so registrations, decisions and delivery figures that
point at it keep counting; what she wrote or answered (commitments, self-assessment answers,
notes, photos) is deleted. Consent records are deleted too, except the record of the
withdrawal that the erasure itself is.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage import disclosure
from storage.db import Database

# Tables of later features that hold what a member wrote or sent, with the columns to clear.
# Looked up at erasure time, so a feature's migration can come in any order.
_FREE_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "activity_reports": ("note", "photo_file_id"),
}


@dataclass(frozen=True, slots=True)
class ConsentState:
    """Her latest consent record for one purpose."""

    purpose: str
    version: int
    given_at: str
    withdrawn_at: str | None

    @property
    def active(self) -> bool:
        """Given and not withdrawn."""
        return self.withdrawn_at is None


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erasure removed and what it kept (counts), to tell her."""

    member_id: int
    commitments: int
    answers: int
    registrations_kept: int
    deliveries_kept: int
    roles: int


def _rows(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


async def export(db: Database, telegram_user_id: int) -> dict[str, Any]:
    """Everything stored about this Telegram user, as plain JSON-ready data."""
    member = await db.fetchone(
        """SELECT m.id, m.telegram_user_id, m.chat_id, m.full_name, m.phone, m.locale,
                  m.status, m.created_at, m.updated_at, u.code AS unit_code,
                  u.name AS unit_name
           FROM members m LEFT JOIN units u ON u.id = m.unit_id
           WHERE m.telegram_user_id = ? AND m.status != 'deleted'""",
        (telegram_user_id,),
    )
    data: dict[str, Any] = {
        "telegram_user_id": telegram_user_id,
        "member": dict(member) if member else None,
        "consents": _rows(await db.fetchall(
            "SELECT purpose, version, given_at, withdrawn_at FROM consents"
            " WHERE telegram_user_id = ? ORDER BY id", (telegram_user_id,))),
    }
    draft = await db.fetchone("SELECT data FROM user_data WHERE user_id = ?", (telegram_user_id,))
    data["unfinished_entries"] = draft["data"] if draft else None
    if member is None:
        return data
    member_id = member["id"]
    data["roles"] = _rows(await db.fetchall(
        "SELECT r.role, u.code AS unit_code, u.name AS unit_name, r.granted_at FROM roles r"
        " JOIN units u ON u.id = r.unit_id WHERE r.member_id = ? ORDER BY r.id", (member_id,)))
    standard = _rows(await db.fetchall(
        "SELECT s.id, s.year, u.code AS unit_code, s.registered_at, s.result, s.decided_at"
        " FROM standard_registrations s JOIN units u ON u.id = s.unit_id"
        " WHERE s.member_id = ? ORDER BY s.year", (member_id,)))
    commitments = await db.fetchall(
        "SELECT c.registration_id, c.quality_code, c.text, c.updated_at"
        " FROM standard_commitments c JOIN standard_registrations s ON s.id = c.registration_id"
        " WHERE s.member_id = ? ORDER BY c.quality_code", (member_id,))
    for reg in standard:
        reg["commitments"] = [
            {"quality": c["quality_code"], "text": c["text"], "updated_at": c["updated_at"]}
            for c in commitments if c["registration_id"] == reg["id"]
        ]
        del reg["id"]
    households = _rows(await db.fetchall(
        "SELECT h.id, h.year, u.code AS unit_code, h.registered_at, h.assessed_at,"
        " h.meets_all, h.result, h.decided_at, h.criteria_set FROM household_registrations h"
        " JOIN units u ON u.id = h.unit_id WHERE h.member_id = ? ORDER BY h.year", (member_id,)))
    answers = await db.fetchall(
        "SELECT a.household_id, a.criterion_code, a.met, a.answered_at FROM household_answers a"
        " JOIN household_registrations h ON h.id = a.household_id WHERE h.member_id = ?"
        " ORDER BY a.criterion_code", (member_id,))
    for household in households:
        household["meets_all"] = bool(household["meets_all"])
        household["answers"] = [
            {"criterion": a["criterion_code"], "met": bool(a["met"]),
             "answered_at": a["answered_at"]}
            for a in answers if a["household_id"] == household["id"]
        ]
        del household["id"]
    data["womens_standard"] = standard
    data["family_households"] = households
    notices = await db.fetchone(
        "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'sent') AS received,"
        " max(sent_at) AS last_received_at FROM deliveries WHERE member_id = ?", (member_id,))
    data["notices"] = dict(notices) if notices else {}
    data["activity_reports"] = _rows(await db.fetchall(
        "SELECT a.day, a.activity_code, a.quantity, a.note, a.photo_file_id IS NOT NULL AS photo,"
        " u.code AS unit_code, a.source, a.created_at, a.updated_at, a.flag_reason, a.flagged_at"
        " FROM activity_reports a JOIN units u ON u.id = a.unit_id WHERE a.member_id = ?"
        " ORDER BY a.day, a.id", (member_id,)))
    for report in data["activity_reports"]:
        report["photo"] = bool(report["photo"])
    optout = await db.fetchone(
        "SELECT opted_out_at FROM reminder_optouts WHERE member_id = ?", (member_id,))
    data["reminders_off_since"] = optout["opted_out_at"] if optout else None
    # What she did as an officer, and what the audit log says about her (no other names).
    data["notices_sent"] = _rows(await db.fetchall(
        "SELECT b.created_at, u.code AS unit_code, b.status, b.total FROM broadcasts b"
        " JOIN units u ON u.id = b.unit_id WHERE b.created_by = ? AND b.kind = 'notice'"
        " ORDER BY b.id", (telegram_user_id,)))
    data["exports_requested"] = _rows(await db.fetchall(
        "SELECT e.created_at, u.code AS unit_code, e.year, e.format, e.status FROM exports e"
        " LEFT JOIN units u ON u.id = e.unit_id WHERE e.requested_by = ? ORDER BY e.id",
        (telegram_user_id,)))
    data["audit_log"] = _rows(await db.fetchall(
        "SELECT a.at, a.action, u.code AS unit_code, a.actor_id = ? AS by_her"
        " FROM audit_log a LEFT JOIN units u ON u.id = a.unit_id"
        " WHERE a.member_id = ? OR a.actor_id = ? ORDER BY a.id",
        (telegram_user_id, member_id, telegram_user_id)))
    for entry in data["audit_log"]:
        entry["by_her"] = bool(entry["by_her"])
    # Her households whose latest self-check is not in the published statistics yet.
    data["statistics_pending"] = await disclosure.pending_of_member(db, member_id)
    return data


async def _has_table(conn: aiosqlite.Connection, table: str) -> bool:
    async with conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ) as cursor:
        return await cursor.fetchone() is not None


async def erase(
    db: Database, member_id: int, telegram_user_id: int, *, reason: str, purpose: str,
    version: int, at: str,
) -> Erased:
    """Erase her personal data in one transaction (see the module docstring)."""
    async with db.transaction() as conn:

        async def run(sql: str, params: tuple = ()) -> int:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

        commitments = await run(
            "DELETE FROM standard_commitments WHERE registration_id IN"
            " (SELECT id FROM standard_registrations WHERE member_id = ?)", (member_id,))
        answers = await run(
            "DELETE FROM household_answers WHERE household_id IN"
            " (SELECT id FROM household_registrations WHERE member_id = ?)", (member_id,))
        for table, columns in _FREE_TEXT_COLUMNS.items():
            if await _has_table(conn, table):
                cleared = ", ".join(f"{c} = NULL" for c in columns)
                await run(f"UPDATE {table} SET {cleared} WHERE member_id = ?", (member_id,))
        roles = await run("DELETE FROM roles WHERE member_id = ?", (member_id,))
        await run("UPDATE deliveries SET status = 'skipped', last_error = 'deleted'"
                  " WHERE member_id = ? AND status = 'pending'", (member_id,))
        # The row stays for the statistics, without anything that says who she was.
        await run(
            "UPDATE members SET telegram_user_id = -id, chat_id = 0, full_name = '',"
            " phone = NULL, status = 'deleted', updated_at = ? WHERE id = ?", (at, member_id))
        await run("DELETE FROM consents WHERE telegram_user_id = ?", (telegram_user_id,))
        await run(
            "INSERT INTO consents (telegram_user_id, purpose, version, given_at, withdrawn_at)"
            " VALUES (?, ?, ?, ?, ?)", (telegram_user_id, purpose, version, at, at))
        await run("DELETE FROM user_data WHERE user_id = ?", (telegram_user_id,))
        await run("INSERT INTO erasures (member_id, reason, erased_at) VALUES (?, ?, ?)",
                  (member_id, reason, at))
        kept = 0
        for table in ("standard_registrations", "household_registrations"):
            kept += (await (await conn.execute(
                f"SELECT count(*) FROM {table} WHERE member_id = ?", (member_id,))).fetchone())[0]
        deliveries = (await (await conn.execute(
            "SELECT count(*) FROM deliveries WHERE member_id = ?", (member_id,))).fetchone())[0]
    return Erased(member_id, commitments, answers, kept, deliveries, roles)


async def latest_consents(db: Database, telegram_user_id: int) -> dict[str, ConsentState]:
    """Her latest consent record per purpose."""
    rows = await db.fetchall(
        "SELECT purpose, version, given_at, withdrawn_at FROM consents WHERE telegram_user_id = ?"
        " ORDER BY id",
        (telegram_user_id,),
    )
    return {row["purpose"]: ConsentState(*tuple(row)) for row in rows}


async def give_consent(
    db: Database, telegram_user_id: int, purpose: str, version: int, at: str
) -> None:
    """Log a consent given (a new record; earlier ones stay as history)."""
    await db.execute(
        "INSERT INTO consents (telegram_user_id, purpose, version, given_at) VALUES (?, ?, ?, ?)",
        (telegram_user_id, purpose, version, at),
    )


async def outdated_consents(db: Database, purpose: str, version: int) -> set[int]:
    """Telegram ids of current members whose latest consent for `purpose` is older."""
    rows = await db.fetchall(
        """SELECT m.telegram_user_id FROM members m
           WHERE m.status != 'deleted' AND NOT EXISTS (
               SELECT 1 FROM consents c WHERE c.telegram_user_id = m.telegram_user_id
               AND c.purpose = ? AND c.version >= ? AND c.withdrawn_at IS NULL)""",
        (purpose, version),
    )
    return {row[0] for row in rows}


async def withdraw_family_consent(
    db: Database, telegram_user_id: int, member_id: int, *, purpose: str, at: str
) -> int:
    """Withdraw her self-check consent: her answers of every year go, registrations stay.

    Undecided households no longer count as self-assessed; a chapter's decision already
    taken keeps its status (the union's figures of a year stay as decided). Returns the
    number of answers deleted.
    """
    async with db.transaction() as conn:
        answers = (await conn.execute(
            "DELETE FROM household_answers WHERE household_id IN"
            " (SELECT id FROM household_registrations WHERE member_id = ?)", (member_id,)
        )).rowcount
        await conn.execute(
            "UPDATE household_registrations SET meets_all = 0, assessed_at = NULL"
            " WHERE member_id = ? AND result IS NULL", (member_id,))
        await conn.execute(
            "UPDATE consents SET withdrawn_at = ? WHERE telegram_user_id = ? AND purpose = ?"
            " AND withdrawn_at IS NULL", (at, telegram_user_id, purpose))
    return answers
