"""Meetings and events of a unit: invitations, answers, attendance, and their figures.

An event invites the members of its audience as they are when it is created (one
`event_invitations` row each); the invitation and the evening-before reminder go through the
outbox (`storage/deliveries.py`), each written in the same transaction as what it stands for,
so neither is ever sent twice. Attendance is recorded once per member and event: by the
event's code (the QR link) or ticked by an officer, who may correct it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import aiosqlite

from storage import audit, deliveries
from storage.db import Database
from storage.deliveries import NewBroadcast, Variant

PROPAGANDA = "propaganda"  # the kind whose attendees count as "được tuyên truyền"
_COLUMNS = ("id, unit_id, kind, title, place, agenda, audience, starts_at, day, opens_at,"
            " closes_at, remind_at, reminded_at, code, created_by, created_at, cancelled_at")


@dataclass(frozen=True, slots=True)
class Event:
    """One meeting or event."""

    id: int
    unit_id: int
    kind: str
    title: str
    place: str
    agenda: str | None
    audience: str
    starts_at: str
    day: str
    opens_at: str
    closes_at: str
    remind_at: str | None
    reminded_at: str | None
    code: str
    created_by: int
    created_at: str
    cancelled_at: str | None = None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """What the composer hands over (instants in UTC, `day` local)."""

    unit_id: int
    kind: str
    title: str
    place: str
    agenda: str | None
    audience: str
    starts_at: str
    day: str
    opens_at: str
    closes_at: str
    remind_at: str | None
    code: str
    created_by: int


@dataclass(frozen=True, slots=True)
class Invitee:
    """A member invited to an event, with her answer and attendance."""

    member_id: int
    full_name: str
    unit_id: int | None
    answer: str | None
    attended_at: str | None
    attended_how: str | None


@dataclass(frozen=True, slots=True)
class Counts:
    """An event's invitations, answers and attendance."""

    invited: int = 0
    yes: int = 0
    no: int = 0
    attended: int = 0


@dataclass(frozen=True, slots=True)
class Figures:
    """A unit's events in a period: held per kind, invitations, answers, attendance n/N, and
    members reached by at least one propaganda event (of `members`, the unit's members now)."""

    events: dict[str, int] = field(default_factory=dict)
    invited: int = 0
    yes: int = 0
    no: int = 0
    attended: int = 0
    reached: int = 0
    members: int = 0

    @property
    def held(self) -> int:
        """Events of every kind."""
        return sum(self.events.values())

    @property
    def answers(self) -> int:
        """Invitations answered (yes or no)."""
        return self.yes + self.no

    def __add__(self, other: Figures) -> Figures:
        kinds = {k: self.events.get(k, 0) + other.events.get(k, 0)
                 for k in {*self.events, *other.events}}
        return Figures(kinds, self.invited + other.invited, self.yes + other.yes,
                       self.no + other.no, self.attended + other.attended,
                       self.reached + other.reached, self.members + other.members)


def _event(row: Sequence) -> Event:
    return Event(*tuple(row))


_SCOPE = """WITH RECURSIVE scope(id) AS (
    SELECT :unit UNION ALL SELECT units.id FROM units JOIN scope ON units.parent_id = scope.id)"""
_AUDIENCE = """SELECT m.id, m.locale FROM members m JOIN scope ON m.unit_id = scope.id
    WHERE m.status != 'deleted' {extra}"""

Render = Callable[[int], Sequence[tuple[str, Variant]]]
"""The messages of an event (by its new id), as (locale, variant); the first is the default."""


async def count_audience(db: Database, unit_id: int, audience: str, year: int, *,
                         sender_member: int | None = None) -> int:
    """How many members an event for this unit and audience filter would send an invitation
    to now (the sender is invited too, but not sent one)."""
    extra = deliveries.audience_sql(audience)
    sql = (f"{_SCOPE} SELECT count(*) FROM ({_AUDIENCE.format(extra=extra)})"
           " WHERE id IS NOT :me")
    row = await db.fetchone(sql, {"unit": unit_id, "year": year, "me": sender_member})
    return int(row[0]) if row else 0


async def create(db: Database, new: NewEvent, render: Render, *, year: int, now: str,
                 sender_member: int | None) -> tuple[Event, int]:
    """Store the event, invite its audience and queue one invitation each (not to the sender),
    all in one transaction. Returns the event and how many were invited."""
    extra = deliveries.audience_sql(new.audience)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO events (unit_id, kind, title, place, agenda, audience, starts_at, day,"
            " opens_at, closes_at, remind_at, code, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new.unit_id, new.kind, new.title, new.place, new.agenda, new.audience,
             new.starts_at, new.day, new.opens_at, new.closes_at, new.remind_at, new.code,
             new.created_by, now))
        event_id = cursor.lastrowid
        assert event_id is not None
        await conn.execute(
            f"{_SCOPE} INSERT INTO event_invitations (event_id, member_id)"
            f" SELECT :event, id FROM ({_AUDIENCE.format(extra=extra)})",
            {"unit": new.unit_id, "year": year, "event": event_id})
        await _queue(conn, event_id, render(event_id), new=NewBroadcast(
            draft_key=f"meeting:{event_id}", created_by=deliveries.SYSTEM_SENDER,
            sender_chat_id=deliveries.SYSTEM_SENDER, unit_id=new.unit_id, audience="meeting",
            text_html="", photo_file_id=None, scheduled_at=now, kind="meeting"),
            now=now, sender_member=sender_member, only_open=False)
        async with conn.execute("SELECT count(*) FROM event_invitations WHERE event_id = ?",
                                (event_id,)) as cur:
            invited = (await cur.fetchone() or (0,))[0]
        async with conn.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?",
                                (event_id,)) as cur:
            row = await cur.fetchone()
    assert row is not None
    return _event(row), int(invited)


async def _queue(conn: aiosqlite.Connection, event_id: int,
                 variants: Sequence[tuple[str, Variant]], *, new: NewBroadcast, now: str,
                 sender_member: int | None, only_open: bool) -> int | None:
    """Inside a transaction: one message per invitee (in her language), not to the sender;
    `only_open`: only to those who said yes or did not answer."""
    broadcast_id = await deliveries.insert_running(conn, new, [v for _l, v in variants], now)
    if broadcast_id is None:
        return None
    cases = " ".join(f"WHEN '{locale}' THEN {v.variant}" for locale, v in variants
                     if locale.isalpha())
    open_only = "AND (i.answer IS NULL OR i.answer = 'yes')" if only_open else ""
    await conn.execute(
        f"INSERT OR IGNORE INTO deliveries (broadcast_id, member_id, variant)"
        f" SELECT ?, i.member_id, CASE m.locale {cases} ELSE {variants[0][1].variant} END"
        f" FROM event_invitations i JOIN members m ON m.id = i.member_id"
        f" WHERE i.event_id = ? AND i.member_id IS NOT ? {open_only}",
        (broadcast_id, event_id, sender_member))
    await deliveries.set_total(conn, broadcast_id)
    return broadcast_id


async def get(db: Database, event_id: int) -> Event | None:
    """One event."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM events WHERE id = ?", (event_id,))
    return _event(row) if row else None


async def by_code(db: Database, code: str) -> Event | None:
    """The event with this check-in code."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM events WHERE code = ?", (code,))
    return _event(row) if row else None


async def in_units(db: Database, unit_ids: Sequence[int] | None, *, since_day: str,
                   limit: int = 40) -> list[Event]:
    """Events of these units (None: all) from `since_day` on, soonest first."""
    if unit_ids is not None and not unit_ids:
        return []
    where = "" if unit_ids is None else f" AND unit_id IN ({','.join('?' * len(unit_ids))})"
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM events WHERE day >= ? AND cancelled_at IS NULL{where}"
        " ORDER BY starts_at, id LIMIT ?",
        (since_day, *(unit_ids or ()), limit))
    return [_event(r) for r in rows]


async def upcoming_for(db: Database, member_id: int, *, now: str) -> list[tuple[Event, str | None]]:
    """Her invitations whose check-in window has not closed, soonest first, with her answer."""
    rows = await db.fetchall(
        f"SELECT {', '.join('e.' + c.strip() for c in _COLUMNS.split(','))}, i.answer"
        " FROM event_invitations i JOIN events e ON e.id = i.event_id"
        " WHERE i.member_id = ? AND e.closes_at > ? AND e.cancelled_at IS NULL"
        " ORDER BY e.starts_at, e.id LIMIT 40",
        (member_id, now))
    return [(_event(tuple(r)[:-1]), r["answer"]) for r in rows]


async def invitation(db: Database, event_id: int, member_id: int) -> Invitee | None:
    """Her invitation to this event (None: not invited)."""
    rows = await _invitees(db, "i.event_id = ? AND i.member_id = ?", (event_id, member_id))
    return rows[0] if rows else None


async def invitees(db: Database, event_id: int) -> list[Invitee]:
    """Everyone invited to the event (the caller orders them)."""
    return await _invitees(db, "i.event_id = ?", (event_id,))


async def _invitees(db: Database, where: str, params: tuple) -> list[Invitee]:
    rows = await db.fetchall(
        "SELECT i.member_id, m.full_name, m.unit_id, i.answer, i.attended_at, i.attended_how"
        f" FROM event_invitations i JOIN members m ON m.id = i.member_id WHERE {where}", params)
    return [Invitee(*tuple(r)) for r in rows]


async def answer(db: Database, event_id: int, member_id: int, value: str, *, at: str) -> bool:
    """Record her answer ('yes' / 'no'; the latest wins); False if she is not invited."""
    return await db.execute(
        "UPDATE event_invitations SET answer = ?, answered_at = ? WHERE event_id = ?"
        " AND member_id = ?", (value, at, event_id, member_id)) > 0


async def check_in(db: Database, event_id: int, member_id: int, *,
                   at: str) -> tuple[bool, str] | None:
    """Her attendance by the code, once: (True, at) when recorded now, (False, when) when it
    was recorded before, None when she is not invited."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE event_invitations SET attended_at = ?, attended_how = 'code'"
            " WHERE event_id = ? AND member_id = ? AND attended_at IS NULL",
            (at, event_id, member_id))
        if cursor.rowcount:
            return True, at
        async with conn.execute(
            "SELECT attended_at FROM event_invitations WHERE event_id = ? AND member_id = ?",
            (event_id, member_id)) as cur:
            row = await cur.fetchone()
    return None if row is None else (False, str(row[0]))


async def set_attended(db: Database, event_id: int, member_id: int, attended: bool, *,
                       at: str, by: int) -> bool:
    """An officer ticks or unticks her attendance; False if she is not invited."""
    return await db.execute(
        "UPDATE event_invitations SET attended_at = ?, attended_how = ?, marked_by = ?"
        " WHERE event_id = ? AND member_id = ?",
        (at if attended else None, "head" if attended else None, by, event_id,
         member_id)) > 0


async def counts(db: Database, event_id: int) -> Counts:
    """Invited, yes, no, attended."""
    row = await db.fetchone(
        "SELECT count(*), count(*) FILTER (WHERE answer = 'yes'),"
        " count(*) FILTER (WHERE answer = 'no'), count(attended_at)"
        " FROM event_invitations WHERE event_id = ?", (event_id,))
    return Counts(*tuple(row)) if row else Counts()


async def codes_in_use(db: Database) -> dict[str, int]:
    """Event kinds that stored events use, with how often (the catalog may not drop them)."""
    rows = await db.fetchall("SELECT kind, count(*) FROM events GROUP BY kind")
    return {r[0]: r[1] for r in rows}


async def due_reminders(db: Database, *, now: str) -> list[Event]:
    """Events whose evening-before reminder is due and not sent, before they start."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM events WHERE reminded_at IS NULL AND remind_at IS NOT NULL"
        " AND remind_at <= ? AND starts_at > ? AND cancelled_at IS NULL"
        " ORDER BY remind_at, id", (now, now))
    return [_event(r) for r in rows]


async def queue_reminder(db: Database, event: Event, variants: Sequence[tuple[str, Variant]],
                         *, now: str, sender_member: int | None) -> int | None:
    """The reminder to those who said yes or did not answer, exactly once (None: already)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE events SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL"
            " AND cancelled_at IS NULL",
            (now, event.id))
        if cursor.rowcount == 0:
            return None
        return await _queue(conn, event.id, variants, new=NewBroadcast(
            draft_key=f"meeting-reminder:{event.id}", created_by=deliveries.SYSTEM_SENDER,
            sender_chat_id=deliveries.SYSTEM_SENDER, unit_id=event.unit_id,
            audience="meeting", text_html="", photo_file_id=None, scheduled_at=now,
            kind="meeting_reminder"), now=now, sender_member=sender_member, only_open=True)


async def cancel(db: Database, event: Event, variants: Sequence[tuple[str, Variant]], *,
                 now: str, by: int, sender_member: int | None) -> bool:
    """Cancel the event and queue the cancellation to those who said yes or did not answer,
    in one transaction, with an audit entry; False if it was cancelled already."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE events SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL",
            (now, event.id))
        if cursor.rowcount == 0:
            return False
        await _queue(conn, event.id, variants, new=NewBroadcast(
            draft_key=f"meeting-cancel:{event.id}", created_by=deliveries.SYSTEM_SENDER,
            sender_chat_id=deliveries.SYSTEM_SENDER, unit_id=event.unit_id,
            audience="meeting", text_html="", photo_file_id=None, scheduled_at=now,
            kind="meeting_cancel"), now=now, sender_member=sender_member, only_open=True)
        await audit.record(conn, at=now, actor_id=by, action="meeting.cancel",
                           unit_id=event.unit_id, details={"event": event.id})
    return True


# --- figures ---------------------------------------------------------------------------------


async def held_by_unit(db: Database, *, kind: str, first: date, last: date,
                       before: str) -> dict[int, int]:
    """Per unit (its own, not its subtree's), the events of this kind that took place: local
    day in [first, last], started before `before` (UTC), not cancelled. One query for the
    whole tree (the report adds up the units it needs)."""
    rows = await db.fetchall(
        "SELECT unit_id, count(*) FROM events WHERE kind = ? AND cancelled_at IS NULL"
        " AND day BETWEEN ? AND ? AND starts_at < ? GROUP BY unit_id",
        (kind, first.isoformat(), last.isoformat(), before))
    return {row[0]: row[1] for row in rows}


async def figures_by_unit(db: Database, unit_id: int | None, *, first: date,
                          last: date) -> dict[int, Figures]:
    """Each unit's own figures (not its subtree's) for events whose local day is in
    [first, last], for the units of `unit_id`'s subtree (None: every unit)."""
    scope = (_SCOPE if unit_id is not None
             else "WITH RECURSIVE scope(id) AS (SELECT id FROM units)")
    params = {"unit": unit_id, "first": first.isoformat(), "last": last.isoformat(),
              "kind": PROPAGANDA}
    found: dict[int, Figures] = {}

    def at(unit: int) -> Figures:
        return found.setdefault(unit, Figures())

    for unit, kind, n in await db.fetchall(
            f"{scope} SELECT e.unit_id, e.kind, count(*) FROM events e JOIN scope"
            " ON scope.id = e.unit_id WHERE e.cancelled_at IS NULL"
            " AND e.day BETWEEN :first AND :last"
            " GROUP BY e.unit_id, e.kind", params):
        at(unit).events[kind] = n
    for unit, invited, yes, no, attended in await db.fetchall(
            f"{scope} SELECT e.unit_id, count(*), count(*) FILTER (WHERE i.answer = 'yes'),"
            " count(*) FILTER (WHERE i.answer = 'no'), count(i.attended_at)"
            " FROM events e JOIN scope ON scope.id = e.unit_id"
            " JOIN event_invitations i ON i.event_id = e.id"
            " WHERE e.cancelled_at IS NULL AND e.day BETWEEN :first AND :last"
            " GROUP BY e.unit_id", params):
        found[unit] = _with(at(unit), invited=invited, yes=yes, no=no, attended=attended)
    for unit, reached in await db.fetchall(
            f"{scope} SELECT m.unit_id, count(DISTINCT m.id) FROM members m JOIN scope"
            " ON scope.id = m.unit_id JOIN event_invitations i ON i.member_id = m.id"
            " JOIN events e ON e.id = i.event_id WHERE e.kind = :kind"
            " AND e.cancelled_at IS NULL"
            " AND e.day BETWEEN :first AND :last AND i.attended_at IS NOT NULL"
            " GROUP BY m.unit_id", params):
        found[unit] = _with(at(unit), reached=reached)
    for unit, members in await db.fetchall(
            f"{scope} SELECT m.unit_id, count(*) FROM members m JOIN scope"
            " ON scope.id = m.unit_id WHERE m.status != 'deleted' GROUP BY m.unit_id", params):
        found[unit] = _with(at(unit), members=members)
    return found


def _with(figures: Figures, **values: int) -> Figures:
    fields = {"events": figures.events, "invited": figures.invited, "yes": figures.yes,
              "no": figures.no, "attended": figures.attended, "reached": figures.reached,
              "members": figures.members}
    return Figures(**(fields | values))  # type: ignore[arg-type]


async def figures(db: Database, unit_id: int | None, *, first: date, last: date) -> Figures:
    """A unit's subtree (None: every unit) for events whose local day is in [first, last]:
    events held per kind, invitations, answers, attendance n/N, and members reached by at
    least one propaganda event (counted in the unit they are in now)."""
    total = Figures()
    for found in (await figures_by_unit(db, unit_id, first=first, last=last)).values():
        total = total + found
    return total
