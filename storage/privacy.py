"""Members' data rights: everything held about one person (export), erasure, consents.

Erasure keeps statistics right: the member row stays, anonymised (no name, phone, Telegram
account or chat) with status 'deleted', so registrations, decisions and delivery figures that
point at it keep counting; what she wrote or answered (commitments, self-assessment answers,
notes, photos, the words of her notices) is deleted. Consent records are deleted too, except the
record of the withdrawal that the erasure itself is.

Where she acted on others (decided, flagged, edited, sent, exported) her Telegram id becomes her
pseudonym, the negated id of her anonymised member row ("erased member #N"); where others wrote
about her (a notice, the heads' summary, a doubt mark's reason, the audit log) her name, phone
and Telegram id are replaced by "[#N]". Her scheduled and running notices are cancelled.
tests/test_erasure.py scans every table and column afterwards, so a new table that keeps her
data fails there until it is handled here.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage import disclosure, figures, polls, support
from storage.db import Database
from storage.deliveries import SYSTEM_SENDER, cancel_in

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
    broadcasts_cancelled: tuple[int, ...] = ()  # her notices stopped (the engine is told)


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
    account = await db.fetchone("SELECT channel, external_id, created_at FROM channel_accounts"
                                " WHERE internal_id = ?", (telegram_user_id,))
    data["channel_account"] = dict(account) if account else None  # her Zalo id, if on Zalo
    prompt = await db.fetchone("SELECT prompt, updated_at FROM channel_prompts"
                               " WHERE internal_id = ?", (telegram_user_id,))
    data["channel_latest_list"] = dict(prompt) if prompt else None  # what a typed number means
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
    data["meetings"] = _rows(await db.fetchall(
        "SELECT e.title, e.kind, e.day, e.starts_at, i.answer, i.answered_at, i.attended_at,"
        " i.attended_how FROM event_invitations i JOIN events e ON e.id = i.event_id"
        " WHERE i.member_id = ? ORDER BY e.starts_at", (member_id,)))
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
    # Her survey answers while they link to her (an anonymous one until the survey closes).
    data["survey_answers"] = await polls.of_member(db, member_id)
    data["surveys_created"] = await polls.created_by(db, telegram_user_id)
    # Her requests for help with their threads (only she and the officers she allowed read them).
    data["support_requests"] = await support.export_of(db, member_id)
    # Unit figures she typed as a head or officer (the figures themselves are the unit's).
    data["unit_figures_entered"] = await figures.entered_by(db, telegram_user_id)
    # Her households whose latest self-check is not in the published statistics yet.
    data["statistics_pending"] = await disclosure.pending_of_member(db, member_id)
    return data


async def _has_table(conn: aiosqlite.Connection, table: str) -> bool:
    async with conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ) as cursor:
        return await cursor.fetchone() is not None


async def _count(conn: aiosqlite.Connection, table: str, member_id: int) -> int:
    """How many rows of ``table`` (a name from this module, never input) are hers."""
    cursor = await conn.execute(f"SELECT count(*) FROM {table} WHERE member_id = ?", (member_id,))
    row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def erase(
    db: Database, member_id: int, telegram_user_id: int, *, reason: str, purpose: str,
    version: int, at: str,
) -> Erased:
    """Erase her personal data in one transaction (see the module docstring)."""
    async with db.transaction() as conn:

        async def run(sql: str, params: tuple = ()) -> int:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

        found = await (await conn.execute(
            "SELECT full_name, phone, chat_id FROM members WHERE id = ?", (member_id,)
        )).fetchone()
        name, phone, chat_id = tuple(found) if found else ("", None, telegram_user_id)
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
        # Her survey answers (with any words she typed for "other") go; published counts stay.
        await run("DELETE FROM poll_pending WHERE answer_id IN"
                  " (SELECT id FROM poll_answers WHERE member_id = ?)", (member_id,))
        await run("DELETE FROM poll_answers WHERE member_id = ?", (member_id,))
        roles = await run("DELETE FROM roles WHERE member_id = ?", (member_id,))
        # Requests for help: words, photos, threads and notes go; a content-free row stays.
        await support.erase_member(conn, member_id, at)
        await run("UPDATE deliveries SET status = 'skipped', last_error = 'deleted'"
                  " WHERE member_id = ? AND status = 'pending'", (member_id,))
        # Messages written to her alone (results, role changes, doubt marks with their reason).
        await run(
            "UPDATE broadcast_variants SET text_html = '', reply_markup = NULL"
            " WHERE (broadcast_id, variant) IN (SELECT d.broadcast_id, d.variant FROM deliveries d"
            " WHERE d.member_id = ? AND NOT EXISTS (SELECT 1 FROM deliveries o"
            " WHERE o.broadcast_id = d.broadcast_id AND o.variant = d.variant"
            " AND o.member_id <> d.member_id))", (member_id,))
        cancelled = await _stop_her_notices(conn, telegram_user_id, at)
        await run("UPDATE exports SET status = 'failed', error = 'erased', finished_at = ?"
                  " WHERE requested_by = ? AND status IN ('queued', 'running')",
                  (at, telegram_user_id))
        await _pseudonymise(conn, member_id=member_id, telegram_user_id=telegram_user_id,
                            chat_id=chat_id)
        await _scrub_mentions(conn, Mentions(
            member_id=member_id, telegram_user_id=telegram_user_id, name=name, phone=phone))
        # The row stays for the statistics, without anything that says who she was.
        await run(
            "UPDATE members SET telegram_user_id = -id, chat_id = 0, full_name = '',"
            " phone = NULL, status = 'deleted', updated_at = ? WHERE id = ?", (at, member_id))
        await run("DELETE FROM consents WHERE telegram_user_id = ?", (telegram_user_id,))
        await run(
            "INSERT INTO consents (telegram_user_id, purpose, version, given_at, withdrawn_at)"
            " VALUES (?, ?, ?, ?, ?)", (telegram_user_id, purpose, version, at, at))
        await run("DELETE FROM user_data WHERE user_id = ?", (telegram_user_id,))
        await run("DELETE FROM channel_accounts WHERE internal_id = ?", (telegram_user_id,))
        await run("DELETE FROM channel_prompts WHERE internal_id = ?", (telegram_user_id,))
        await run("DELETE FROM reminder_optouts WHERE member_id = ?", (member_id,))
        await run("INSERT INTO erasures (member_id, reason, erased_at) VALUES (?, ?, ?)",
                  (member_id, reason, at))
        kept = 0
        for table in ("standard_registrations", "household_registrations"):
            kept += await _count(conn, table, member_id)
        deliveries = await _count(conn, "deliveries", member_id)
    return Erased(member_id, commitments, answers, kept, deliveries, roles,
                  broadcasts_cancelled=cancelled)


# Columns that hold the Telegram id of whoever acted (decided, flagged, set, edited, asked).
# After her erasure they hold her pseudonym, the negated id of her anonymised member row
# ("erased member #N"), which nothing maps back to her.
_ACTOR_COLUMNS: dict[str, tuple[str, ...]] = {
    "standard_registrations": ("decided_by",),
    "household_registrations": ("decided_by",),
    "evaluation_decisions": ("decided_by",),
    "closed_years": ("closed_by",),
    "broadcasts": ("created_by",),
    "activity_reports": ("flagged_by",),
    "reminder_schedules": ("updated_by",),
    "reminder_texts": ("updated_by",),
    "reminder_pauses": ("created_by",),
    "targets": ("set_by",),
    "audit_log": ("actor_id",),
    "exports": ("requested_by",),
    "events": ("created_by",),
    "event_invitations": ("marked_by",),
    "polls": ("created_by",),
    "support_requests": ("acknowledged_by", "closed_by"),
    "support_messages": ("officer_id",),
    "unit_figures": ("entered_by",),
    "unit_figure_history": ("changed_by",),
}

# Texts others wrote that may name her (a head's notice, the heads' summary listing who took
# part, a doubt mark's reason, a reminder text): her name and phone become "[#N]".
_TEXTS_BY_OTHERS: dict[str, tuple[str, ...]] = {
    "broadcasts": ("text_html",),
    "broadcast_variants": ("text_html",),
    "reminder_texts": ("text_html",),
    "activity_reports": ("flag_reason",),
    "exports": ("error",),
    "events": ("title", "place", "agenda"),
    "polls": ("question", "options"),
    "support_requests": ("closing_note",),
    "support_messages": ("body",),
}


async def _stop_her_notices(conn: aiosqlite.Connection, telegram_user_id: int,
                            at: str) -> tuple[int, ...]:
    """Cancel her scheduled and running notices; clear the words of all of them.

    What was delivered stays in the members' chats (she is told); the counts stay here.
    """
    async with conn.execute(
        "SELECT id FROM broadcasts WHERE created_by = ? AND status IN ('scheduled', 'running')",
        (telegram_user_id,),
    ) as cursor:
        active = [row[0] for row in await cursor.fetchall()]
    for broadcast_id in active:
        await cancel_in(conn, broadcast_id, at, reason="erased")
    await conn.execute(
        "DELETE FROM broadcast_variants WHERE broadcast_id IN"
        " (SELECT id FROM broadcasts WHERE created_by = ?)", (telegram_user_id,))
    await conn.execute(
        "UPDATE broadcasts SET text_html = '', photo_file_id = NULL, reply_markup = NULL"
        " WHERE created_by = ?", (telegram_user_id,))
    return tuple(active)


async def _pseudonymise(conn: aiosqlite.Connection, *, member_id: int, telegram_user_id: int,
                        chat_id: int) -> None:
    """Her Telegram id and chat become her pseudonym (or nobody) wherever she acted."""
    pseudonym = -member_id
    await conn.execute(
        "UPDATE broadcasts SET sender_chat_id = ?, progress_chat_id = NULL,"
        " progress_message_id = NULL, draft_key = ? || substr(draft_key, instr(draft_key, ':'))"
        " WHERE created_by = ?", (SYSTEM_SENDER, str(pseudonym), telegram_user_id))
    await conn.execute(
        "UPDATE polls SET draft_key = ? || substr(draft_key, instr(draft_key, ':'))"
        " WHERE created_by = ?", (str(pseudonym), telegram_user_id))
    await conn.execute(
        "UPDATE exports SET chat_id = 0, progress_message_id = NULL WHERE chat_id IN (?, ?)",
        (telegram_user_id, chat_id))
    for table, columns in _ACTOR_COLUMNS.items():
        if await _has_table(conn, table):
            for column in columns:
                await conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?",
                                   (pseudonym, telegram_user_id))


@dataclass(frozen=True, slots=True)
class Mentions:
    """What identifies her in a text others wrote, and what replaces it."""

    member_id: int
    telegram_user_id: int
    name: str
    phone: str | None

    @property
    def mark(self) -> str:
        """What stands in a text where she was named: her pseudonym's number."""
        return f"[#{self.member_id}]"

    def pattern(self) -> re.Pattern[str]:
        """Her name (any case, HTML-escaped too), phone (+84… or 0…, spaced) and Telegram id."""
        parts = [rf"(?<!\d){self.telegram_user_id}(?!\d)"]
        name = unicodedata.normalize("NFC", self.name).strip()
        if len(name) >= 3:
            for form in {name, html.escape(name)}:
                parts.append(rf"(?<!\w){re.escape(form)}(?!\w)")
        digits = re.sub(r"\D", "", self.phone or "")
        if digits.startswith("84") and len(digits) > 8:
            national = r"[\s.\-]?".join(digits[2:])
            parts.append(rf"(?<!\d)(?:\+?84|0)[\s.\-]?{national}(?!\d)")
        return re.compile("|".join(parts), re.IGNORECASE)


async def _scrub_mentions(conn: aiosqlite.Connection, mentions: Mentions) -> None:
    """Replace her name, phone and Telegram id in texts others wrote, and in the audit log."""
    pattern = mentions.pattern()

    def scrub(text: str | None) -> str | None:
        if not text:
            return text
        fixed = pattern.sub(mentions.mark, unicodedata.normalize("NFC", text))
        return fixed if fixed != unicodedata.normalize("NFC", text) else text

    await conn.create_function("hv_erasure_scrub", 1, scrub, deterministic=True)
    for table, columns in _TEXTS_BY_OTHERS.items():
        if await _has_table(conn, table):
            for column in columns:
                await conn.execute(
                    f"UPDATE {table} SET {column} = hv_erasure_scrub({column})"
                    f" WHERE {column} IS NOT NULL AND hv_erasure_scrub({column}) IS NOT {column}")
    # Doubt marks on her own reports were written about her: their reasons go.
    await conn.execute("UPDATE activity_reports SET flag_reason = NULL WHERE member_id = ?",
                       (mentions.member_id,))
    async with conn.execute("SELECT id, details FROM audit_log") as cursor:
        rows = await cursor.fetchall()
    changed = []
    for entry_id, details in rows:
        value = json.loads(details)
        fixed = _scrub_json(value, scrub, mentions)
        if fixed != value:
            changed.append((json.dumps(fixed, ensure_ascii=False, sort_keys=True), entry_id))
    await conn.executemany("UPDATE audit_log SET details = ? WHERE id = ?", changed)


def _scrub_json(value: Any, scrub: Any, mentions: Mentions) -> Any:
    """Details of an audit entry with her name, phone and id replaced by her pseudonym."""
    if isinstance(value, dict):
        return {k: _scrub_json(v, scrub, mentions) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v, scrub, mentions) for v in value]
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, int) and value == mentions.telegram_user_id:
        return -mentions.member_id
    return value


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
    """Telegram ids of current members whose latest consent for `purpose` is older.

    Runs at every start: the lookup goes by member (INDEXED BY), as SQLite otherwise picks
    the purpose index and reads every consent once per member (77 s at district scale).
    """
    rows = await db.fetchall(
        """SELECT m.telegram_user_id FROM members m
           WHERE m.status != 'deleted' AND NOT EXISTS (
               SELECT 1 FROM consents c INDEXED BY consents_by_user
               WHERE c.telegram_user_id = m.telegram_user_id
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
