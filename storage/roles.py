"""Roles with a unit scope: chapter heads and unit admins."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, utc_now

ROLE_NAMES = ("chapter_head", "unit_admin")


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One role held by a member over a unit (and its subtree)."""

    member_id: int
    role: str
    unit_id: int


async def grant(db: Database, member_id: int, role: str, unit_id: int) -> bool:
    """Give a role; False if she already had it."""
    if role not in ROLE_NAMES:
        raise ValueError(role)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO roles (member_id, role, unit_id, granted_at)"
            " VALUES (?, ?, ?, ?)",
            (member_id, role, unit_id, utc_now()),
        )
        return cursor.rowcount == 1


async def revoke(db: Database, member_id: int, role: str, unit_id: int) -> bool:
    """Take a role away; False if she did not have it."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM roles WHERE member_id = ? AND role = ? AND unit_id = ?",
            (member_id, role, unit_id),
        )
        return cursor.rowcount == 1
