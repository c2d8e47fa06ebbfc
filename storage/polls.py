"""Polls: the poll, its answers (one per member), and the batches anonymous results publish.

A poll goes out as one broadcast of kind 'poll' (storage/deliveries.py): its deliveries are its
audience, so "may she answer" is "was it sent to her". Anonymous answers keep the member id
only while the poll is open (so she can change her answer); closing drops it. Their results
are read from `poll_released`, refreshed per unit once at least K answers there changed since
the last release (or at closing), so a head who looks before and after one member answered
learns nothing about that answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from storage import deliveries
from storage.db import Database
from storage.deliveries import NewBroadcast

OTHER = 0  # the code of "Khác (chị ghi rõ)"
MAX_CODE = 10  # options are 1..10
_COLUMNS = (
    "id, created_by, unit_id, audience, question, options, multiple, other, anonymous,"
    " show_results, locale, closes_at, remind_at, reminded_at, closed_at, broadcast_id,"
    " created_at"
)


@dataclass(frozen=True, slots=True)
class NewPoll:
    """What the composer hands over."""

    draft_key: str
    created_by: int
    unit_id: int
    audience: str
    question: str
    options: Sequence[str]
    multiple: bool
    other: bool
    anonymous: bool
    show_results: bool
    locale: str
    closes_at: str
    remind_at: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class Poll:
    """A stored poll."""

    id: int
    created_by: int
    unit_id: int
    audience: str
    question: str
    options: tuple[str, ...]
    multiple: bool
    other: bool
    anonymous: bool
    show_results: bool
    locale: str
    closes_at: str
    remind_at: str | None
    reminded_at: str | None
    closed_at: str | None
    broadcast_id: int | None
    created_at: str

    @property
    def codes(self) -> list[int]:
        """Its option codes in order (1..n, then 0 for "other")."""
        return [*range(1, len(self.options) + 1), *([OTHER] if self.other else [])]

    def is_open(self, now: str) -> bool:
        """Whether answers are still taken at `now` (UTC ISO)."""
        return self.closed_at is None and now < self.closes_at


@dataclass(frozen=True, slots=True)
class Answer:
    """A member's answer (what /mydata shows her, what a named poll shows its creator)."""

    poll_id: int
    member_id: int | None
    unit_id: int
    choices: tuple[int, ...]
    other_text: str | None
    answered_at: str


@dataclass(frozen=True, slots=True)
class UnitCounts:
    """Per unit: answers, and per option code how many chose it."""

    respondents: int
    cells: dict[int, int]


def _poll(row: Iterable[Any]) -> Poll:
    values = list(row)
    values[5] = tuple(json.loads(values[5]))
    for index in (6, 7, 8, 9):
        values[index] = bool(values[index])
    return Poll(*values)


async def create(db: Database, new: NewPoll) -> Poll | None:
    """Store a poll (not sent yet); None if this draft was stored already (a double tap)."""
    cursor_id = None
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO polls (draft_key, created_by, unit_id, audience, question,"
            " options, multiple, other, anonymous, show_results, locale, closes_at, remind_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new.draft_key, new.created_by, new.unit_id, new.audience, new.question,
             json.dumps(list(new.options), ensure_ascii=False), new.multiple, new.other,
             new.anonymous, new.show_results, new.locale, new.closes_at, new.remind_at,
             new.created_at),
        )
        if cursor.rowcount:
            cursor_id = cursor.lastrowid
    return await get(db, cursor_id) if cursor_id else None


async def send(db: Database, poll: Poll, broadcast: NewBroadcast) -> int | None:
    """Hand the poll to the outbox as a broadcast (recipients chosen when it starts)."""
    sent = await deliveries.create(db, broadcast)
    if sent is None:
        return None
    await db.execute("UPDATE polls SET broadcast_id = ? WHERE id = ?", (sent.id, poll.id))
    return sent.id


async def get(db: Database, poll_id: int) -> Poll | None:
    """One poll."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
    return _poll(row) if row else None


async def in_units(db: Database, unit_ids: Sequence[int] | None, limit: int = 10) -> list[Poll]:
    """The newest polls addressed to these units (None: every unit)."""
    if unit_ids is None:
        rows = await db.fetchall(f"SELECT {_COLUMNS} FROM polls ORDER BY id DESC LIMIT ?",
                                 (limit,))
    else:
        rows = await db.fetchall(
            f"SELECT {_COLUMNS} FROM polls WHERE unit_id IN (SELECT value FROM json_each(?))"
            " ORDER BY id DESC LIMIT ?", (json.dumps(list(unit_ids)), limit))
    return [_poll(r) for r in rows]


async def for_member(db: Database, member_id: int, limit: int = 10) -> list[Poll]:
    """The newest polls sent to her."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM polls WHERE broadcast_id IN (SELECT broadcast_id FROM"
        " deliveries WHERE member_id = ?) ORDER BY id DESC LIMIT ?", (member_id, limit))
    return [_poll(r) for r in rows]


async def in_audience(db: Database, poll: Poll, member_id: int) -> bool:
    """Whether the poll was sent (or is being sent) to her."""
    if poll.broadcast_id is None:
        return False
    row = await db.fetchone(
        "SELECT 1 FROM deliveries WHERE broadcast_id = ? AND member_id = ?",
        (poll.broadcast_id, member_id))
    return row is not None


async def answer(db: Database, poll: Poll, *, member_id: int, unit_id: int,
                 choices: Sequence[int], other_text: str | None, at: str) -> bool:
    """Record (or change) her answer while the poll is open; False once it has closed.

    For an anonymous poll the changed answer is flagged for its unit's next release.
    """
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO poll_answers (poll_id, member_id, unit_id, choices, other_text,"
            " answered_at) SELECT ?, ?, ?, ?, ?, ? FROM polls WHERE id = ? AND closed_at IS NULL"
            " AND closes_at > ? ON CONFLICT (poll_id, member_id) DO UPDATE SET"
            " unit_id = excluded.unit_id, choices = excluded.choices,"
            " other_text = excluded.other_text, answered_at = excluded.answered_at",
            (poll.id, member_id, unit_id, to_bits(choices), other_text, at, poll.id, at))
        if cursor.rowcount == 0:
            return False
        if poll.anonymous:
            await conn.execute(
                "INSERT OR IGNORE INTO poll_pending (poll_id, unit_id, answer_id)"
                " SELECT poll_id, unit_id, id FROM poll_answers WHERE poll_id = ?"
                " AND member_id = ?", (poll.id, member_id))
    return True


def to_bits(codes: Iterable[int]) -> int:
    """Option codes as stored: one bit each (counting them needs no JSON)."""
    bits = 0
    for code in codes:
        bits |= 1 << code
    return bits


def from_bits(bits: int) -> tuple[int, ...]:
    """The option codes of stored bits, in code order."""
    return tuple(code for code in range(MAX_CODE + 1) if bits >> code & 1)


def _answer(row: Iterable[Any]) -> Answer:
    poll_id, member_id, unit_id, choices, other_text, answered_at = tuple(row)
    return Answer(poll_id, member_id, unit_id, from_bits(choices), other_text, answered_at)


async def answer_of(db: Database, poll_id: int, member_id: int) -> Answer | None:
    """Her answer to a poll (while it links to her)."""
    row = await db.fetchone(
        "SELECT poll_id, member_id, unit_id, choices, other_text, answered_at FROM poll_answers"
        " WHERE poll_id = ? AND member_id = ?", (poll_id, member_id))
    return _answer(row) if row else None


async def named_answers(db: Database, poll_id: int) -> list[tuple[str, Answer]]:
    """Who answered what (named polls only: the caller checks), by name."""
    rows = await db.fetchall(
        "SELECT m.full_name, a.poll_id, a.member_id, a.unit_id, a.choices, a.other_text,"
        " a.answered_at FROM poll_answers a JOIN polls p ON p.id = a.poll_id AND p.anonymous = 0"
        " JOIN members m ON m.id = a.member_id WHERE a.poll_id = ? AND m.status != 'deleted'"
        " ORDER BY a.id", (poll_id,))
    return [(r[0], _answer(tuple(r)[1:])) for r in rows]


def _count_sql(units: Sequence[int] | None, *, codes: Sequence[int]) -> str:
    """Answers per unit, and per option code of `codes`, in one grouped scan."""
    where = "" if units is None else " AND a.unit_id IN (SELECT value FROM json_each(:units))"
    per_code = "".join(f", sum(a.choices >> {int(code)} & 1)" for code in codes)
    return (f"SELECT a.unit_id, count(*){per_code} FROM poll_answers a WHERE a.poll_id = :poll"
            f"{where} GROUP BY a.unit_id")


def _counts(rows: Iterable[Iterable[Any]], codes: Sequence[int]) -> dict[int, UnitCounts]:
    found: dict[int, UnitCounts] = {}
    for unit, n, *values in (tuple(row) for row in rows):
        found[unit] = UnitCounts(n, {code: value for code, value
                                     in zip(codes, values, strict=True) if value})
    return found


async def live_counts(db: Database, poll: Poll, *, cells: bool = True
                      ) -> dict[int, UnitCounts]:
    """Answers per unit now, with (`cells`) the counts per option (named polls only: an
    anonymous one shows its published counts)."""
    codes = poll.codes if cells else []
    return _counts(await db.fetchall(_count_sql(None, codes=codes), {"poll": poll.id}), codes)


async def released_counts(db: Database, poll_id: int) -> dict[int, UnitCounts]:
    """The published answers per unit of an anonymous poll."""
    rows = await db.fetchall(
        "SELECT unit_id, respondents, cells FROM poll_released WHERE poll_id = ?", (poll_id,))
    return {r[0]: UnitCounts(r[1], {int(k): v for k, v in json.loads(r[2]).items()})
            for r in rows}


async def release_due(db: Database, poll_id: int, *, k: int, at: str,
                      everything: bool = False) -> int:
    """Publish the units with at least `k` changed answers (all of them: `everything`)."""
    due_sql = ("SELECT unit_id FROM poll_pending WHERE poll_id = :poll GROUP BY unit_id"
               + ("" if everything else " HAVING count(*) >= :k"))
    params = {"poll": poll_id, "k": k}
    if not await db.fetchall(due_sql, params):
        return 0
    async with db.transaction() as conn:
        async with conn.execute(due_sql, params) as cursor:
            due = [row[0] for row in await cursor.fetchall()]
        codes = range(MAX_CODE + 1)
        async with conn.execute(_count_sql(due, codes=codes),
                                {"poll": poll_id, "units": json.dumps(due)}) as cursor:
            found = _counts(await cursor.fetchall(), codes)
        await conn.executemany(
            "INSERT INTO poll_released (poll_id, unit_id, respondents, cells, released_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, unit_id) DO UPDATE SET"
            " respondents = excluded.respondents, cells = excluded.cells,"
            " released_at = excluded.released_at",
            [(poll_id, unit, found.get(unit, UnitCounts(0, {})).respondents,
              json.dumps(found.get(unit, UnitCounts(0, {})).cells, sort_keys=True), at)
             for unit in due])
        await conn.execute(
            "DELETE FROM poll_pending WHERE poll_id = ? AND unit_id IN"
            " (SELECT value FROM json_each(?))", (poll_id, json.dumps(due)))
    return len(due)


async def recipients_per_unit(db: Database, poll: Poll) -> dict[int, int]:
    """Members the poll was sent to, per unit they were in when it went out.

    Counted once from its deliveries (a join over the whole audience) and kept in
    `poll_audience`, so a results screen of a district survey does not repeat it.
    """
    if poll.broadcast_id is None:
        return {}
    rows = await db.fetchall(
        "SELECT unit_id, recipients FROM poll_audience WHERE poll_id = ?", (poll.id,))
    if rows:
        return {r[0]: r[1] for r in rows}
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT status FROM broadcasts WHERE id = ?", (poll.broadcast_id,)
        ) as cursor:
            status = await cursor.fetchone()
        async with conn.execute(
            "SELECT m.unit_id, count(*) FROM deliveries d JOIN members m ON m.id = d.member_id"
            " WHERE d.broadcast_id = ? AND m.unit_id IS NOT NULL GROUP BY m.unit_id",
            (poll.broadcast_id,),
        ) as cursor:
            found = {r[0]: r[1] for r in await cursor.fetchall()}
        if status is not None and status[0] != "scheduled" and found:
            await conn.executemany(
                "INSERT OR IGNORE INTO poll_audience (poll_id, unit_id, recipients)"
                " VALUES (?, ?, ?)", [(poll.id, unit, n) for unit, n in found.items()])
    return found


async def other_texts(db: Database, poll_id: int, limit: int = 30) -> list[str]:
    """The typed "other" answers of a named poll (the caller checks it is named)."""
    rows = await db.fetchall(
        "SELECT a.other_text FROM poll_answers a JOIN polls p ON p.id = a.poll_id"
        " WHERE a.poll_id = ? AND p.anonymous = 0 AND a.other_text IS NOT NULL ORDER BY a.id"
        " LIMIT ?", (poll_id, limit))
    return [r[0] for r in rows]


async def due_to_close(db: Database, now: str) -> list[Poll]:
    """Open polls whose closing time has come."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM polls WHERE closed_at IS NULL AND closes_at <= ?", (now,))
    return [_poll(r) for r in rows]


async def close(db: Database, poll: Poll, *, k: int, at: str) -> bool:
    """Close a poll: publish everything and, for an anonymous one, unlink every answer from
    its member. True if it was open."""
    changed = await db.execute(
        "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL", (at, poll.id))
    if not changed:
        return False
    if poll.anonymous:
        await release_due(db, poll.id, k=k, at=at, everything=True)
        await db.execute("UPDATE poll_answers SET member_id = NULL WHERE poll_id = ?",
                         (poll.id,))
    return True


async def due_reminders(db: Database, now: str) -> list[Poll]:
    """Open polls whose reminder time has come and that have not reminded yet."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM polls WHERE closed_at IS NULL AND reminded_at IS NULL"
        " AND remind_at IS NOT NULL AND remind_at <= ? AND closes_at > ?"
        " AND broadcast_id IS NOT NULL", (now, now))
    return [_poll(r) for r in rows]


async def remind(db: Database, poll: Poll, new: NewBroadcast, *, now: str) -> int | None:
    """Once: a reminder to every member the poll was sent to who has not answered it."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE polls SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL", (now, poll.id))
        if cursor.rowcount == 0:
            return None
        broadcast_id = await deliveries.insert_running(conn, new, [], now)
        if broadcast_id is None:
            return None
        await conn.execute(
            "INSERT OR IGNORE INTO deliveries (broadcast_id, member_id) SELECT ?, d.member_id"
            " FROM deliveries d JOIN members m ON m.id = d.member_id"
            " WHERE d.broadcast_id = ? AND d.status IN ('sent', 'maybe_sent')"
            " AND m.status = 'active' AND NOT EXISTS (SELECT 1 FROM poll_answers a"
            " WHERE a.poll_id = ? AND a.member_id = d.member_id)",
            (broadcast_id, poll.broadcast_id, poll.id))
        await deliveries.set_total(conn, broadcast_id)
    return broadcast_id


async def of_member(db: Database, member_id: int) -> list[dict[str, Any]]:
    """Her answers still linked to her (/mydata): the question, what she chose, when."""
    rows = await db.fetchall(
        "SELECT p.question, p.options, p.anonymous, a.choices, a.other_text, a.answered_at"
        " FROM poll_answers a JOIN polls p ON p.id = a.poll_id WHERE a.member_id = ?"
        " ORDER BY a.id", (member_id,))
    found = []
    for question, options, anonymous, choices, other_text, answered_at in rows:
        labels = json.loads(options)
        found.append({
            "question": question, "anonymous": bool(anonymous),
            "chosen": [labels[c - 1] if c else "other" for c in from_bits(choices)],
            "other_text": other_text, "answered_at": answered_at})
    return found


async def created_by(db: Database, telegram_user_id: int) -> list[dict[str, Any]]:
    """The polls she created as an officer (/mydata)."""
    rows = await db.fetchall(
        "SELECT p.created_at, u.code AS unit_code, p.question, p.closes_at, p.closed_at"
        " FROM polls p JOIN units u ON u.id = p.unit_id WHERE p.created_by = ? ORDER BY p.id",
        (telegram_user_id,))
    return [dict(r) for r in rows]
