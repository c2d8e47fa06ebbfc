"""Roles with a unit scope: chapter heads, unit admins and request handlers."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.db import Database, utc_now

ROLE_NAMES = ("chapter_head", "unit_admin", "request_handler")


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One role held by a member over a unit (and its subtree)."""

    member_id: int
    role: str
    unit_id: int


async def grant(db: Database, member_id: int, role: str, unit_id: int) -> bool:
    """Give a role; False if she already had it."""
    async with db.transaction() as conn:
        return await add(conn, member_id=member_id, role=role, unit_id=unit_id, at=utc_now())


async def revoke(db: Database, member_id: int, role: str, unit_id: int) -> bool:
    """Take a role away; False if she did not have it."""
    async with db.transaction() as conn:
        return await remove(conn, member_id=member_id, role=role, unit_id=unit_id)


async def add(conn: aiosqlite.Connection, *, member_id: int, role: str, unit_id: int,
              at: str) -> bool:
    """Inside a transaction: give a role; False if she already had it."""
    if role not in ROLE_NAMES:
        raise ValueError(role)
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO roles (member_id, role, unit_id, granted_at) VALUES (?, ?, ?, ?)",
        (member_id, role, unit_id, at),
    )
    return cursor.rowcount == 1


async def remove(conn: aiosqlite.Connection, *, member_id: int, role: str, unit_id: int) -> bool:
    """Inside a transaction: take a role away; False if she did not have it."""
    cursor = await conn.execute(
        "DELETE FROM roles WHERE member_id = ? AND role = ? AND unit_id = ?",
        (member_id, role, unit_id),
    )
    return cursor.rowcount == 1
