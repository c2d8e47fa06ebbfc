"""Confidential requests for help ("Địa chỉ tin cậy"): the requests, their threads, the counts.

A request's words, photo, messages and closing note are sensitive: they are read here only for
the member and for the officers the handler screen has already checked; the counts
(`counts`) never touch them. On erasure the contents go and a content-free row stays
(`erase_member`), so the union's figures do not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.db import Database

CATEGORIES = ("family_conflict", "domestic_violence", "legal_advice", "livelihood", "other")
STATUSES = ("new", "acknowledged", "in_progress", "resolved", "referred")
CLOSED = ("resolved", "referred")
AUDIENCES = ("handlers", "with_head")
BODY_MAX = 3000
HANDLER_ROLE = "request_handler"

_COLUMNS = """r.id, r.member_id, r.unit_id, r.category, r.audience, r.status, r.body,
    r.photo_file_id, r.created_at, r.acknowledged_at, r.closed_at, r.closing_note,
    r.escalated_at, r.erased_at"""

_ANCESTORS = """anc(id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM units WHERE id = :unit
    UNION ALL SELECT u.id, u.parent_id, anc.depth + 1 FROM units u JOIN anc ON u.id = anc.parent_id
    WHERE anc.depth < 64)"""


@dataclass(frozen=True, slots=True)
class Request:
    """One request; `body`, `photo_file_id` and `closing_note` are None once erased."""

    id: int
    member_id: int
    unit_id: int
    category: str
    audience: str
    status: str
    body: str | None
    photo_file_id: str | None
    created_at: str
    acknowledged_at: str | None
    closed_at: str | None
    closing_note: str | None
    escalated_at: str | None
    erased_at: str | None


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """One message of a request's thread."""

    id: int
    author: str  # 'member' or 'officer'
    body: str
    at: str


@dataclass(frozen=True, slots=True)
class Counts:
    """Content-free figures of one unit and category over a period."""

    received: int = 0
    acknowledged_in_time: int = 0
    resolved: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.received + other.received,
                      self.acknowledged_in_time + other.acknowledged_in_time,
                      self.resolved + other.resolved)


async def open_request(db: Database, *, member_id: int, unit_id: int, category: str,
                       audience: str, body: str, photo_file_id: str | None, at: str) -> int:
    """Store a new request; its id."""
    if category not in CATEGORIES or audience not in AUDIENCES:
        raise ValueError(category)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO support_requests (member_id, unit_id, category, audience, body,"
            " photo_file_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (member_id, unit_id, category, audience, body, photo_file_id, at))
        assert cursor.lastrowid is not None
        return cursor.lastrowid


async def get(db: Database, request_id: int) -> Request | None:
    """One request (erased ones too: the officer is told it was erased)."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM support_requests r WHERE r.id = ?",
                            (request_id,))
    return Request(*tuple(row)) if row else None


async def of_member(db: Database, member_id: int) -> list[Request]:
    """Her requests, newest first."""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM support_requests r WHERE r.member_id = ?"
                             " ORDER BY r.id DESC", (member_id,))
    return [Request(*tuple(r)) for r in rows]


async def visible_to(db: Database, *, handler_units: Sequence[int], head_units: Sequence[int],
                     everything: bool = False, limit: int = 200) -> list[Request]:
    """Requests made in the subtrees of `handler_units`, and those whose member also allowed
    her chapter head in the subtrees of `head_units` (all for `everything`); newest first."""
    if everything:
        rows = await db.fetchall(f"SELECT {_COLUMNS} FROM support_requests r"
                                 " ORDER BY r.id DESC LIMIT ?", (limit,))
        return [Request(*tuple(r)) for r in rows]
    roots = [(u, 0) for u in handler_units] + [(u, 1) for u in head_units]
    if not roots:
        return []
    values = ", ".join("(?, ?)" for _ in roots)
    rows = await db.fetchall(
        f"""WITH RECURSIVE roots(id, head) AS (VALUES {values}),
            sub(id, head, depth) AS (
                SELECT id, head, 0 FROM roots
                UNION ALL SELECT u.id, sub.head, sub.depth + 1 FROM units u
                JOIN sub ON u.parent_id = sub.id WHERE sub.depth < 64)
            SELECT {_COLUMNS} FROM support_requests r
            WHERE r.unit_id IN (SELECT id FROM sub WHERE head = 0)
               OR (r.audience = 'with_head' AND r.unit_id IN (SELECT id FROM sub WHERE head = 1))
            ORDER BY r.id DESC LIMIT ?""",
        (*[v for pair in roots for v in pair], limit))
    return [Request(*tuple(r)) for r in rows]


async def _officers(db: Database, unit_id: int, role: str, *,
                    nearest: bool) -> list[tuple[int, str]]:
    rows = await db.fetchall(
        f"""WITH RECURSIVE {_ANCESTORS}
            SELECT DISTINCT m.id, m.locale, anc.depth FROM anc JOIN roles r ON r.unit_id = anc.id
            JOIN members m ON m.id = r.member_id
            WHERE r.role = :role AND m.status = 'active' ORDER BY anc.depth, m.id""",
        {"unit": unit_id, "role": role})
    if nearest and rows:
        rows = [r for r in rows if r[2] == rows[0][2]]
    return list(dict.fromkeys((r[0], r[1]) for r in rows))


async def handlers_of(db: Database, unit_id: int) -> list[tuple[int, str]]:
    """(member id, locale) of the request handlers over a unit (its ward, district …)."""
    return await _officers(db, unit_id, HANDLER_ROLE, nearest=False)


async def heads_of(db: Database, unit_id: int) -> list[tuple[int, str]]:
    """(member id, locale) of the chapter heads over a unit (her chapter head)."""
    return await _officers(db, unit_id, "chapter_head", nearest=True)


async def admins_of(db: Database, unit_id: int) -> list[tuple[int, str]]:
    """(member id, locale) of the nearest unit admins over a unit (the ward's, else the
    district's)."""
    return await _officers(db, unit_id, "unit_admin", nearest=True)


async def add_message(db: Database, *, request_id: int, author: str, officer_id: int | None,
                      body: str, at: str) -> bool:
    """Add to the thread; False if the request was erased meanwhile."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO support_messages (request_id, author, officer_id, body, at)"
            " SELECT id, ?, ?, ?, ? FROM support_requests WHERE id = ? AND erased_at IS NULL",
            (author, officer_id, body, at, request_id))
        return cursor.rowcount == 1


async def thread(db: Database, request_id: int) -> list[ThreadMessage]:
    """The thread in order."""
    rows = await db.fetchall("SELECT id, author, body, at FROM support_messages"
                             " WHERE request_id = ? ORDER BY id", (request_id,))
    return [ThreadMessage(*tuple(r)) for r in rows]


async def set_status(db: Database, request_id: int, *, status: str, by: int, at: str,
                     note: str | None = None) -> bool:
    """Set the status (the first move off 'new' is the acknowledgement); False if unchanged
    or erased."""
    if status not in STATUSES or status == "new":
        raise ValueError(status)
    closed = status in CLOSED
    return await db.execute(
        """UPDATE support_requests SET status = :status,
               acknowledged_at = coalesce(acknowledged_at, :at),
               acknowledged_by = coalesce(acknowledged_by, :by),
               closed_at = CASE WHEN :closed THEN :at ELSE NULL END,
               closed_by = CASE WHEN :closed THEN :by ELSE NULL END,
               closing_note = CASE WHEN :closed THEN :note ELSE closing_note END
           WHERE id = :id AND erased_at IS NULL AND (status != :status OR :closed)""",
        {"status": status, "at": at, "by": by, "closed": closed, "note": note,
         "id": request_id}) == 1


async def overdue(db: Database, *, created_before: str) -> list[Request]:
    """Requests still 'new' since before `created_before` and not escalated yet."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM support_requests r WHERE r.status = 'new'"
        " AND r.escalated_at IS NULL AND r.erased_at IS NULL AND r.created_at <= ?"
        " ORDER BY r.id", (created_before,))
    return [Request(*tuple(r)) for r in rows]


async def mark_escalated(db: Database, request_id: int, at: str) -> bool:
    """Escalated once: False if it already was (another tick did it)."""
    return await db.execute("UPDATE support_requests SET escalated_at = ?"
                            " WHERE id = ? AND escalated_at IS NULL", (at, request_id)) == 1


async def counts(db: Database, *, start: str, end: str,
                 ack_hours: float) -> dict[int, dict[str, Counts]]:
    """Per unit where requests were made (her chapter), per category: requests received in
    [start, end) (UTC ISO instants), of them acknowledged within `ack_hours`, and closed
    (resolved or referred). Content-free: no text is read."""
    rows = await db.fetchall(
        """SELECT unit_id, category, count(*),
                  count(*) FILTER (WHERE acknowledged_at IS NOT NULL
                      AND julianday(acknowledged_at) - julianday(created_at) <= :days),
                  count(*) FILTER (WHERE status IN ('resolved', 'referred'))
           FROM support_requests WHERE created_at >= :start AND created_at < :end
           GROUP BY unit_id, category""",
        {"start": start, "end": end, "days": ack_hours / 24})
    found: dict[int, dict[str, Counts]] = {}
    for unit_id, category, received, in_time, resolved in (tuple(r) for r in rows):
        found.setdefault(unit_id, {})[category] = Counts(received, in_time, resolved)
    return found


def ack_deadline(created_at: str, hours: float) -> str:
    """The instant by which a request made at `created_at` should be acknowledged."""
    instant = datetime.fromisoformat(created_at.replace("Z", "+00:00")) + timedelta(hours=hours)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


async def export_of(db: Database, member_id: int) -> list[dict[str, object]]:
    """Her requests with their threads, for /mydata (she may read all of it)."""
    found: list[dict[str, object]] = []
    for request in await of_member(db, member_id):
        found.append({
            "id": request.id, "category": request.category, "audience": request.audience,
            "status": request.status, "text": request.body,
            "photo": request.photo_file_id is not None, "created_at": request.created_at,
            "acknowledged_at": request.acknowledged_at, "closed_at": request.closed_at,
            "closing_note": request.closing_note,
            "messages": [{"from": m.author, "text": m.body, "at": m.at}
                         for m in await thread(db, request.id)],
        })
    return found


async def erase_member(conn: aiosqlite.Connection, member_id: int, at: str) -> int:
    """Inside the erasure's transaction: her requests lose their contents (a content-free row
    stays for the counts); how many."""
    await conn.execute("DELETE FROM support_messages WHERE request_id IN"
                       " (SELECT id FROM support_requests WHERE member_id = ?)", (member_id,))
    cursor = await conn.execute(
        "UPDATE support_requests SET body = NULL, photo_file_id = NULL, closing_note = NULL,"
        " erased_at = coalesce(erased_at, ?) WHERE member_id = ?", (at, member_id))
    return cursor.rowcount
