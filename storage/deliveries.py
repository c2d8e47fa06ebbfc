"""The outbox: broadcasts, their recipients (one delivery row each) and delivery results.

A delivery's status: 'pending' (to send, perhaps after a retry time) → 'sending' (committed
before the message goes out) → 'sent', 'failed', 'blocked' or 'maybe_sent' (no answer from
Telegram, or the process died during the send: perhaps delivered, never sent again);
'skipped' when she stopped notices, was erased or the broadcast was cancelled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.db import Database, utc_now

_BROADCAST_COLUMNS = (
    "id, created_by, sender_chat_id, unit_id, audience, kind, text_html, photo_file_id, status, "
    "scheduled_at, created_at, started_at, finished_at, total, progress_chat_id, "
    "progress_message_id, reply_markup, cancel_reason"
)
MAX_ATTEMPTS = 5
SYSTEM_SENDER = 0  # created_by / sender_chat_id of reminders and summaries: nobody to report to


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A message to many members, sent by the delivery engine."""

    id: int
    created_by: int
    sender_chat_id: int
    unit_id: int
    audience: str
    kind: str
    text_html: str
    photo_file_id: str | None
    status: str
    scheduled_at: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    total: int
    progress_chat_id: int | None
    progress_message_id: int | None
    reply_markup: str | None = None  # JSON of an InlineKeyboardMarkup
    cancel_reason: str | None = None  # 'erased' / 'permission'; None: cancelled by a person


@dataclass(frozen=True, slots=True)
class NewBroadcast:
    """What the composer hands over."""

    draft_key: str
    created_by: int
    sender_chat_id: int
    unit_id: int
    audience: str
    text_html: str
    photo_file_id: str | None
    scheduled_at: str
    kind: str = "notice"
    reply_markup: str | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    """One version of a broadcast's message; deliveries name the variant they get."""

    variant: int
    text_html: str
    reply_markup: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One pending message to one member, with what is needed to send it."""

    id: int
    broadcast_id: int
    member_id: int
    chat_id: int
    member_status: str
    attempts: int
    text_html: str | None = None  # her variant's text (None: the broadcast's)
    reply_markup: str | None = None  # her variant's buttons (JSON)


@dataclass(frozen=True, slots=True)
class Progress:
    """Counts by delivery status."""

    total: int
    sent: int
    failed: int
    blocked: int
    skipped: int
    pending: int  # including the ones being sent right now
    maybe_sent: int = 0  # no answer from Telegram: perhaps delivered, not sent again


def _broadcast(row: Iterable[Any]) -> Broadcast:
    return Broadcast(*tuple(row))


async def create(db: Database, new: NewBroadcast) -> Broadcast | None:
    """Store a broadcast (scheduled); None if this draft was already stored (double tap)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            """INSERT OR IGNORE INTO broadcasts
                   (draft_key, created_by, sender_chat_id, unit_id, audience, kind, text_html,
                    photo_file_id, status, scheduled_at, created_at, reply_markup)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?)""",
            (new.draft_key, new.created_by, new.sender_chat_id, new.unit_id, new.audience,
             new.kind, new.text_html, new.photo_file_id, new.scheduled_at, utc_now(),
             new.reply_markup),
        )
        if cursor.rowcount == 0:
            return None
        broadcast_id = cursor.lastrowid
    return await get(db, broadcast_id or 0)


async def insert_running(
    conn: aiosqlite.Connection, new: NewBroadcast, variants: list[Variant], now: str
) -> int | None:
    """Inside the caller's transaction: a broadcast that starts at once, with its variants.

    The caller adds the deliveries (its own recipients, each with a variant) in the same
    transaction and then calls `set_total`. None if `draft_key` exists already (exactly once).
    """
    cursor = await conn.execute(
        """INSERT OR IGNORE INTO broadcasts
               (draft_key, created_by, sender_chat_id, unit_id, audience, kind, text_html,
                photo_file_id, status, scheduled_at, created_at, started_at, reply_markup)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)""",
        (new.draft_key, new.created_by, new.sender_chat_id, new.unit_id, new.audience,
         new.kind, new.text_html, new.photo_file_id, new.scheduled_at, now, now,
         new.reply_markup),
    )
    if cursor.rowcount == 0:
        return None
    broadcast_id = cursor.lastrowid
    assert broadcast_id is not None
    await conn.executemany(
        "INSERT INTO broadcast_variants (broadcast_id, variant, text_html, reply_markup)"
        " VALUES (?, ?, ?, ?)",
        [(broadcast_id, v.variant, v.text_html, v.reply_markup) for v in variants],
    )
    return broadcast_id


async def set_total(conn: aiosqlite.Connection, broadcast_id: int) -> int:
    """Inside the caller's transaction: record how many deliveries a broadcast has."""
    await conn.execute(
        "UPDATE broadcasts SET total = (SELECT count(*) FROM deliveries"
        " WHERE broadcast_id = :id) WHERE id = :id",
        {"id": broadcast_id},
    )
    async with conn.execute("SELECT total FROM broadcasts WHERE id = ?", (broadcast_id,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def insert_personal(
    conn: aiosqlite.Connection, new: NewBroadcast, texts: Sequence[tuple[int, str]], now: str
) -> int | None:
    """Inside the caller's transaction: a broadcast that starts at once with each member's own
    text, (member id, text) pairs: one variant and one delivery each. None if `draft_key` exists.

    For messages meant for one person only (her evaluation result): nothing in the broadcast's
    own text, so a delivery without its variant could never show somebody else's message.
    """
    variants = [Variant(number, text) for number, (_member, text) in enumerate(texts)]
    broadcast_id = await insert_running(conn, new, variants, now)
    if broadcast_id is None:
        return None
    await conn.executemany(
        "INSERT OR IGNORE INTO deliveries (broadcast_id, member_id, variant) VALUES (?, ?, ?)",
        [(broadcast_id, member_id, number) for number, (member_id, _text) in enumerate(texts)],
    )
    await set_total(conn, broadcast_id)
    return broadcast_id


async def enqueue_personal(
    db: Database, new: NewBroadcast, texts: Sequence[tuple[int, str]], *, now: str
) -> int | None:
    """A personal message to each of these members through the outbox (see `insert_personal`)."""
    async with db.transaction() as conn:
        return await insert_personal(conn, new, texts, now)


async def get(db: Database, broadcast_id: int) -> Broadcast | None:
    """One broadcast."""
    row = await db.fetchone(
        f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
    )
    return _broadcast(row) if row else None


async def set_progress_message(
    db: Database, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the sender's status message, edited in place while sending."""
    await db.execute(
        "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
        (chat_id, message_id, broadcast_id),
    )


def audience_sql(audience: str) -> str:
    """Extra SQL condition on `m` (members) for an audience filter; '' for everyone."""
    return AUDIENCE_FILTERS.get(audience, "")


# Audience filters: extra SQL on `m` (members), with the named parameter :year (local year).
# "Has not reported this week" comes with the activity reports.
AUDIENCE_FILTERS: dict[str, str] = {
    "all": "",
    "no_standard": "AND NOT EXISTS (SELECT 1 FROM standard_registrations s"
    " WHERE s.member_id = m.id AND s.year = :year)",
    "no_household": "AND NOT EXISTS (SELECT 1 FROM household_registrations h"
    " WHERE h.member_id = m.id AND h.year = :year)",
}

_RECIPIENTS = """
    WITH RECURSIVE scope(id) AS (
        SELECT :unit UNION ALL SELECT units.id FROM units JOIN scope ON units.parent_id = scope.id)
    SELECT m.id FROM members m JOIN scope ON m.unit_id = scope.id
    WHERE m.status = 'active' AND m.telegram_user_id != :sender {extra}
"""


async def count_recipients(
    db: Database, unit_id: int, audience: str, year: int, *, sender: int
) -> int:
    """How many members (other than the sender) a broadcast would reach now."""
    extra = audience_sql(audience)
    row = await db.fetchone(
        f"SELECT count(*) FROM ({_RECIPIENTS.format(extra=extra)})",
        {"unit": unit_id, "year": year, "sender": sender},
    )
    return int(row[0]) if row else 0


async def start_due(db: Database, now: str, year: int) -> list[int]:
    """Turn scheduled broadcasts that are due into running ones, creating their deliveries.

    The recipients are chosen at this moment, in the same transaction (bulk INSERT … SELECT).
    """
    rows = await db.fetchall(
        "SELECT id, unit_id, audience, created_by FROM broadcasts WHERE status = 'scheduled'"
        " AND scheduled_at <= ? ORDER BY scheduled_at, id",
        (now,),
    )
    started = []
    for broadcast_id, unit_id, audience, sender in rows:
        recipients = _RECIPIENTS.format(extra=audience_sql(audience))
        async with db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE broadcasts SET status = 'running', started_at = :now"
                " WHERE id = :id AND status = 'scheduled'",
                {"now": now, "id": broadcast_id},
            )
            if cursor.rowcount == 0:
                continue
            await conn.execute(
                f"INSERT OR IGNORE INTO deliveries (broadcast_id, member_id) "
                f"SELECT :id, id FROM ({recipients})",
                {"id": broadcast_id, "unit": unit_id, "year": year, "sender": sender},
            )
            await conn.execute(
                "UPDATE broadcasts SET total = (SELECT count(*) FROM deliveries"
                " WHERE broadcast_id = :id) WHERE id = :id",
                {"id": broadcast_id},
            )
        started.append(broadcast_id)
    return started


async def running(db: Database) -> list[Broadcast]:
    """Broadcasts being sent, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'running' ORDER BY id"
    )
    return [_broadcast(r) for r in rows]


async def claim(
    db: Database, broadcast_id: int, *, after_id: int, now: str, limit: int
) -> list[Delivery]:
    """The next pending deliveries of a broadcast that are due (not waiting for a retry)."""
    rows = await db.fetchall(
        """SELECT d.id, d.broadcast_id, d.member_id, m.chat_id, m.status, d.attempts,
                  v.text_html, v.reply_markup
           FROM deliveries d JOIN members m ON m.id = d.member_id
           LEFT JOIN broadcast_variants v
                  ON v.broadcast_id = d.broadcast_id AND v.variant = d.variant
           WHERE d.broadcast_id = ? AND d.status = 'pending' AND d.id > ?
             AND d.next_attempt_at <= ?
           ORDER BY d.id LIMIT ?""",
        (broadcast_id, after_id, now, limit),
    )
    return [Delivery(*tuple(r)) for r in rows]


async def has_pending(db: Database, broadcast_id: int) -> bool:
    """Whether anything of this broadcast is still to be sent (including later retries)."""
    row = await db.fetchone(
        "SELECT 1 FROM deliveries WHERE broadcast_id = ? AND status IN ('pending', 'sending')"
        " LIMIT 1",
        (broadcast_id,),
    )
    return row is not None


_MARK_SENT = (
    "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, message_id = ?,"
    " sent_at = ?, last_error = NULL WHERE id = ?"
)


async def mark_sent(db: Database, sent: list[tuple[int, int, str]]) -> None:
    """Record delivered messages: (delivery id, Telegram message id, sent at), one commit."""
    async with db.transaction() as conn:
        await conn.executemany(
            _MARK_SENT, [(message_id, at, delivery_id) for delivery_id, message_id, at in sent]
        )


async def start_sending(
    db: Database, attempts: list[int], *, sent: Sequence[tuple[int, int, str]] = ()
) -> set[int]:
    """Mark deliveries 'sending' before their messages go out, with earlier results, one commit.

    `sent` as in `mark_sent`. Returns the ids of `attempts` that were still pending: one that
    was cancelled or erased meanwhile must not be sent.
    """
    async with db.transaction() as conn:
        if sent:
            await conn.executemany(
                _MARK_SENT, [(message_id, at, delivery_id) for delivery_id, message_id, at in sent]
            )
        if not attempts:
            return set()
        marks = ",".join("?" * len(attempts))
        async with conn.execute(
            f"UPDATE deliveries SET status = 'sending' WHERE status = 'pending'"
            f" AND id IN ({marks}) RETURNING id", attempts,
        ) as cursor:
            return {row[0] for row in await cursor.fetchall()}


async def release(db: Database, delivery_id: int) -> None:
    """Telegram refused the message for now (429): it was not sent; pending again."""
    await db.execute(
        "UPDATE deliveries SET status = 'pending' WHERE id = ? AND status = 'sending'",
        (delivery_id,),
    )


async def mark_maybe_sent(db: Database, delivery_id: int, error: str) -> None:
    """No answer from Telegram after the message may have reached it: never sent again."""
    await db.execute(
        "UPDATE deliveries SET status = 'maybe_sent', attempts = attempts + 1, last_error = ?"
        " WHERE id = ?",
        (error[:200], delivery_id),
    )


async def settle_interrupted(db: Database) -> int:
    """At start: sends the last process did not live to see answered become 'maybe_sent'."""
    return await db.execute(
        "UPDATE deliveries SET status = 'maybe_sent', last_error = 'interrupted during the send'"
        " WHERE status = 'sending'"
    )


async def mark_blocked(db: Database, delivery: Delivery, error: str) -> None:
    """She blocked the bot or deleted her account: skip her until she writes again."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE deliveries SET status = 'blocked', attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (error[:200], delivery.id),
        )
        await conn.execute(
            "UPDATE members SET status = 'unreachable', updated_at = ?"
            " WHERE id = ? AND status = 'active'",
            (utc_now(), delivery.member_id),
        )


async def mark_skipped(db: Database, delivery_id: int, reason: str) -> None:
    """Not sent: she stopped notices or became unreachable after the broadcast started."""
    await db.execute(
        "UPDATE deliveries SET status = 'skipped', last_error = ? WHERE id = ?",
        (reason, delivery_id),
    )


async def mark_failed(db: Database, delivery_id: int, error: str) -> None:
    """Permanently failed (e.g. chat not found)."""
    await db.execute(
        "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?"
        " WHERE id = ?",
        (error[:200], delivery_id),
    )


async def retry_later(db: Database, delivery: Delivery, error: str, at: str) -> bool:
    """A transient failure: try again at `at`, or give up after MAX_ATTEMPTS (returns False)."""
    if delivery.attempts + 1 >= MAX_ATTEMPTS:
        await mark_failed(db, delivery.id, error)
        return False
    await db.execute(
        "UPDATE deliveries SET status = 'pending', attempts = attempts + 1, last_error = ?,"
        " next_attempt_at = ? WHERE id = ?",
        (error[:200], at, delivery.id),
    )
    return True


async def progress(db: Database, broadcast_id: int) -> Progress:
    """Counts by status."""
    rows = await db.fetchall(
        "SELECT status, count(*) FROM deliveries WHERE broadcast_id = ? GROUP BY status",
        (broadcast_id,),
    )
    counts = Counter({r[0]: r[1] for r in rows})
    return Progress(
        total=sum(counts.values()), sent=counts["sent"], failed=counts["failed"],
        blocked=counts["blocked"], skipped=counts["skipped"],
        pending=counts["pending"] + counts["sending"], maybe_sent=counts["maybe_sent"],
    )


async def finish(db: Database, broadcast_id: int, now: str) -> bool:
    """Mark a running broadcast done once nothing is pending; True if it just finished."""
    changed = await db.execute(
        "UPDATE broadcasts SET status = 'done', finished_at = ?"
        " WHERE id = ? AND status = 'running' AND NOT EXISTS (SELECT 1 FROM deliveries"
        " WHERE broadcast_id = ? AND status IN ('pending', 'sending'))",
        (now, broadcast_id, broadcast_id),
    )
    return changed == 1


async def cancel(
    db: Database, broadcast_id: int, now: str, *, reason: str | None = None
) -> bool:
    """Stop a scheduled or running broadcast; what was sent stays sent. True if cancelled."""
    async with db.transaction() as conn:
        return await cancel_in(conn, broadcast_id, now, reason=reason)


async def cancel_in(
    conn: aiosqlite.Connection, broadcast_id: int, now: str, *, reason: str | None = None
) -> bool:
    """`cancel` inside the caller's transaction (an erasure cancels her notices with it)."""
    cursor = await conn.execute(
        "UPDATE broadcasts SET status = 'cancelled', finished_at = ?, cancel_reason = ?"
        " WHERE id = ? AND status IN ('scheduled', 'running')",
        (now, reason, broadcast_id),
    )
    if cursor.rowcount == 0:
        return False
    await conn.execute(
        "UPDATE deliveries SET status = 'skipped', last_error = 'cancelled'"
        " WHERE broadcast_id = ? AND status = 'pending'",
        (broadcast_id,),
    )
    return True


async def active_notices(db: Database, *, due_by: str | None = None) -> list[Broadcast]:
    """Notices people sent that are running or scheduled (only those due by `due_by`, if given).

    Their senders' permission is checked again before and while they are sent.
    """
    due = "" if due_by is None else " AND scheduled_at <= :due"
    rows = await db.fetchall(
        f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE created_by != :system"
        f" AND (status = 'running' OR (status = 'scheduled'{due})) ORDER BY id",
        {"system": SYSTEM_SENDER, "due": due_by},
    )
    return [_broadcast(r) for r in rows]


async def recent_in_units(
    db: Database, unit_ids: list[int] | None, limit: int = 10
) -> list[Broadcast]:
    """The newest notices addressed to these units (None: all units); reminders excluded."""
    if unit_ids is None:
        rows = await db.fetchall(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE kind = 'notice'"
            " ORDER BY id DESC LIMIT ?", (limit,)
        )
    else:
        marks = ",".join("?" * len(unit_ids)) or "NULL"
        rows = await db.fetchall(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE unit_id IN ({marks})"
            " AND kind = 'notice' ORDER BY id DESC LIMIT ?",
            (*unit_ids, limit),
        )
    return [_broadcast(r) for r in rows]
