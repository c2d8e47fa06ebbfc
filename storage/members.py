"""Members: one row per Telegram user who registered, with consent logged alongside."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database, utc_now

_COLUMNS = (
    "members.id, telegram_user_id, chat_id, full_name, phone, members.unit_id, locale, status,"
    " created_at"
)


@dataclass(frozen=True, slots=True)
class MemberBrief:
    """A member as an admin finds her (no campaign data)."""

    id: int
    telegram_user_id: int
    chat_id: int
    full_name: str
    phone: str | None
    unit_id: int | None
    locale: str
    status: str


@dataclass(frozen=True, slots=True)
class Member(MemberBrief):
    """A registered member."""

    created_at: str


@dataclass(frozen=True, slots=True)
class NewMember:
    """What registration collects."""

    telegram_user_id: int
    chat_id: int
    full_name: str
    phone: str | None
    unit_id: int
    locale: str


def _member(row: sqlite3.Row) -> Member:
    return Member(*tuple(row))


async def by_user(db: Database, telegram_user_id: int) -> Member | None:
    """The member registered with this Telegram user id (deleted ones excluded)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM members WHERE telegram_user_id = ? AND status != 'deleted'",
        (telegram_user_id,),
    )
    return _member(row) if row else None


async def get(db: Database, member_id: int) -> Member | None:
    """The member with this id."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,))
    return _member(row) if row else None


async def register(
    db: Database, new: NewMember, *, consent_purpose: str, consent_version: int, consent_at: str
) -> Member:
    """Store a new member (or revive a deleted row) and her consent in one transaction."""
    now = utc_now()
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO consents (telegram_user_id, purpose, version, given_at)"
            " VALUES (?, ?, ?, ?)",
            (new.telegram_user_id, consent_purpose, consent_version, consent_at),
        )
        await conn.execute(
            """INSERT INTO members
                   (telegram_user_id, chat_id, full_name, phone, unit_id, locale, status,
                    created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)
               ON CONFLICT (telegram_user_id) DO UPDATE SET
                   chat_id = excluded.chat_id, full_name = excluded.full_name,
                   phone = excluded.phone, unit_id = excluded.unit_id,
                   locale = excluded.locale, status = 'active',
                   created_at = excluded.created_at, updated_at = excluded.updated_at""",
            (new.telegram_user_id, new.chat_id, new.full_name, new.phone, new.unit_id,
             new.locale, now, now),
        )
    member = await by_user(db, new.telegram_user_id)
    assert member is not None
    return member


async def insert_many(
    db: Database, rows: Iterable[NewMember], *, at: str, consent: tuple[str, int] | None = None
) -> list[int]:
    """Store many new active members joined at `at` in one transaction; their ids, in order.

    For a district-sized seed (benchmarks, a list the union already keeps): `register` one by
    one would take minutes at 33,740. With `consent` (purpose, version) each gets a consent
    record dated `at`, as `register` writes; without, the bot asks her first.
    """
    people = [(n.telegram_user_id, n.chat_id, n.full_name, n.phone, n.unit_id, n.locale, at, at)
              for n in rows]
    async with db.transaction() as conn:
        async with conn.execute("SELECT max(id) FROM members") as cursor:
            row = await cursor.fetchone()
        before = row[0] if row and row[0] is not None else 0
        await conn.executemany(
            "INSERT INTO members (telegram_user_id, chat_id, full_name, phone, unit_id, locale,"
            " status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)",
            people,
        )
        if consent is not None:
            await conn.executemany(
                "INSERT INTO consents (telegram_user_id, purpose, version, given_at)"
                " VALUES (?, ?, ?, ?)",
                [(p[0], *consent, at) for p in people],
            )
        async with conn.execute(
            "SELECT id FROM members WHERE id > ? ORDER BY id", (before,)
        ) as cursor:
            return [r[0] for r in await cursor.fetchall()]


async def update_profile(
    db: Database, member_id: int, *, full_name: str, phone: str | None, unit_id: int
) -> None:
    """Correct a member's name, phone and unit."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE members SET full_name = ?, phone = ?, unit_id = ?, updated_at = ?"
            " WHERE id = ?",
            (full_name, phone, unit_id, utc_now(), member_id),
        )


async def set_locale(db: Database, member_id: int, locale: str) -> None:
    """Remember the member's language."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE members SET locale = ?, updated_at = ? WHERE id = ?",
            (locale, utc_now(), member_id),
        )


async def counts_by_unit(db: Database) -> dict[int, int]:
    """Active members directly in each unit."""
    rows = await db.fetchall(
        "SELECT unit_id, count(*) FROM members WHERE status = 'active' AND unit_id IS NOT NULL"
        " GROUP BY unit_id"
    )
    return {r[0]: r[1] for r in rows}


async def subtree_counts(db: Database) -> dict[int, int]:
    """Active members in each unit and every unit below it (a ward counts its chapters'), in
    one query: what a unit's member count means wherever it is shown."""
    rows = await db.fetchall(
        """WITH RECURSIVE below(top, id) AS (
               SELECT id, id FROM units
               UNION ALL
               SELECT below.top, units.id FROM units JOIN below ON units.parent_id = below.id)
           SELECT below.top, count(*) FROM below
           JOIN members ON members.unit_id = below.id AND members.status = 'active'
           GROUP BY below.top"""
    )
    return {r[0]: r[1] for r in rows}


async def set_status(
    db: Database, member_id: int, status: str, *, only_from: str | None = None
) -> bool:
    """Change a member's status (active, stopped, unreachable); `only_from` guards the change."""
    sql = "UPDATE members SET status = ?, updated_at = ? WHERE id = ?"
    params: tuple = (status, utc_now(), member_id)
    if only_from is not None:
        sql += " AND status = ?"
        params += (only_from,)
    return await db.execute(sql, params) == 1


async def with_roles(
    db: Database, telegram_user_id: int
) -> tuple[Member | None, list[tuple[str, int]]]:
    """The member and her (role, unit_id) grants, in one query (runs for every update)."""
    rows = await db.fetchall(
        f"""SELECT {_COLUMNS}, roles.role, roles.unit_id AS role_unit FROM members
            LEFT JOIN roles ON roles.member_id = members.id
            WHERE telegram_user_id = ? AND status != 'deleted'""",
        (telegram_user_id,),
    )
    if not rows:
        return None, []
    member = Member(*tuple(rows[0])[:9])
    return member, [(r["role"], r["role_unit"]) for r in rows if r["role"] is not None]
