"""Administration done in chat: roles granted and revoked, units added, renamed, recoded, moved
and merged, members found by name or phone. Every change writes its audit entry in the same
transaction.

Merging unit A into unit B (the rule the statistics rely on):
- A's members, visible child units and roles move to B;
- A itself stays, with its code and everything recorded in it (registrations, decisions,
  reports keep `unit_id = A`), as a hidden child of B (`parent_id = merged_into = B`);
- every subtree query (statistics, evaluation, broadcasts, closed years) therefore counts A's
  history in B, while choosers and listings leave A out;
- A's code resolves to B (storage.units.by_code), so old deep links keep working; a later merge
  of B into C re-points A at C.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage import audit, roles
from storage.db import Database
from storage.members import MemberBrief
from storage.units import Unit

ROLE_NAMES = roles.ROLE_NAMES
NAME_MAX = 200
_SUBTREE = """sub(id) AS (
    SELECT value FROM json_each(:roots)
    UNION SELECT units.id FROM units JOIN sub ON units.parent_id = sub.id)"""


class ChangeRefused(Exception):
    """The rules do not allow this change; `reason` says which one. Nothing was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Who moved with a merge (to be told)."""

    members: list[MemberBrief]
    role_holders: list[MemberBrief]


_MEMBER_COLUMNS = ("m.id, m.telegram_user_id, m.chat_id, m.full_name, m.phone, m.unit_id,"
                   " m.locale, m.status")


def fold(text: str) -> str:
    """Lower case without Vietnamese marks (đ → d), for finding names typed without them."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _roots_json(roots: Sequence[int]) -> str:
    return "[" + ",".join(str(int(r)) for r in roots) + "]"


# --- finding members ---------------------------------------------------------------------------


async def members_in_scope(
    db: Database, roots: Sequence[int] | None, *, phone: str | None = None,
    ids: Sequence[int] | None = None,
) -> list[MemberBrief]:
    """Registered members in the subtrees of `roots` (None: everywhere), one query.

    With `phone` (E.164) only the member(s) with that number; with `ids` only those members.
    """
    where = "m.status != 'deleted'"
    params: dict[str, object] = {}
    if phone is not None:
        where += " AND m.phone = :phone"
        params["phone"] = phone
    if ids is not None:
        where += " AND m.id IN (SELECT value FROM json_each(:ids))"
        params["ids"] = "[" + ",".join(str(int(i)) for i in ids) + "]"
    if roots is None:
        sql = f"SELECT {_MEMBER_COLUMNS} FROM members m WHERE {where}"
    else:
        params["roots"] = _roots_json(roots)
        sql = (f"WITH RECURSIVE {_SUBTREE} SELECT {_MEMBER_COLUMNS} FROM members m"
               f" WHERE {where} AND m.unit_id IN (SELECT id FROM sub)")
    return [MemberBrief(*tuple(r)) for r in await db.fetchall(sql, params)]


def match_name(found: Sequence[MemberBrief], query: str) -> list[MemberBrief]:
    """Members whose name contains every word typed (marks optional), best matches first."""
    words = fold(query).split()
    if not words:
        return []
    exact = " ".join(unicodedata.normalize("NFC", query).casefold().split())
    scored = []
    for member in found:
        name = fold(member.full_name)
        parts = name.split()
        if all(any(p.startswith(w) for p in parts) for w in words):
            with_marks = exact in unicodedata.normalize("NFC", member.full_name).casefold()
            scored.append((not with_marks, name != " ".join(words), member.full_name, member))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored]


async def roles_of(db: Database, member_id: int) -> list[tuple[str, int]]:
    """Her (role, unit id) grants."""
    rows = await db.fetchall(
        "SELECT role, unit_id FROM roles WHERE member_id = ? ORDER BY role, unit_id",
        (member_id,),
    )
    return [(r[0], r[1]) for r in rows]


async def member(db: Database, member_id: int) -> MemberBrief | None:
    """One member (not deleted)."""
    row = await db.fetchone(
        f"SELECT {_MEMBER_COLUMNS} FROM members m WHERE m.id = ? AND m.status != 'deleted'",
        (member_id,),
    )
    return MemberBrief(*tuple(row)) if row else None


# --- roles -------------------------------------------------------------------------------------


async def grant(db: Database, member_id: int, role: str, unit_id: int, *, by: int,
                at: str) -> bool:
    """Give a role (audited); False if she already had it."""
    async with db.transaction() as conn:
        if not await roles.add(conn, member_id=member_id, role=role, unit_id=unit_id, at=at):
            return False
        await audit.record(conn, at=at, actor_id=by, action="role.grant", unit_id=unit_id,
                           member_id=member_id, details={"role": role})
    return True


async def revoke(db: Database, member_id: int, role: str, unit_id: int, *, by: int,
                 at: str) -> bool:
    """Take a role away (audited); False if she did not have it."""
    async with db.transaction() as conn:
        if not await roles.remove(conn, member_id=member_id, role=role, unit_id=unit_id):
            return False
        await audit.record(conn, at=at, actor_id=by, action="role.revoke", unit_id=unit_id,
                           member_id=member_id, details={"role": role})
    return True


# --- units -------------------------------------------------------------------------------------


async def _one(conn: aiosqlite.Connection, sql: str, params: tuple | dict) -> aiosqlite.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _unit(conn: aiosqlite.Connection, unit_id: int) -> aiosqlite.Row:
    row = await _one(conn, "SELECT id, code, name, kind, parent_id, merged_into FROM units"
                           " WHERE id = ?", (unit_id,))
    if row is None:
        raise ChangeRefused("no_unit")
    if row["merged_into"] is not None:
        raise ChangeRefused("merged")
    return row


async def _code_taken(conn: aiosqlite.Connection, code: str) -> bool:
    return await _one(
        conn,
        "SELECT 1 FROM units WHERE code = :code COLLATE NOCASE"
        " UNION ALL SELECT 1 FROM unit_aliases WHERE code = :code",
        {"code": code},
    ) is not None


async def _in_subtree(conn: aiosqlite.Connection, unit_id: int, root_id: int) -> bool:
    """Whether `unit_id` is `root_id` or below it."""
    row = await _one(
        conn,
        """WITH RECURSIVE up(id, n) AS (
               SELECT :unit, 0 UNION ALL
               SELECT units.parent_id, up.n + 1 FROM units JOIN up ON units.id = up.id
               WHERE units.parent_id IS NOT NULL AND up.n < 10000)
           SELECT 1 FROM up WHERE id = :root""",
        {"unit": unit_id, "root": root_id},
    )
    return row is not None


async def add_unit(db: Database, *, parent_id: int, code: str, name: str, kind: str, by: int,
                   at: str) -> Unit:
    """A new unit under `parent_id`; the code must not be used (or have been used) already."""
    if not 0 < len(name) <= NAME_MAX:
        raise ChangeRefused("name")
    async with db.transaction() as conn:
        await _unit(conn, parent_id)
        if await _code_taken(conn, code):
            raise ChangeRefused("code_taken")
        cursor = await conn.execute(
            "INSERT INTO units (code, name, kind, parent_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (code, name, kind, parent_id, at, at),
        )
        unit_id = cursor.lastrowid
        assert unit_id is not None
        await audit.record(conn, at=at, actor_id=by, action="unit.add", unit_id=unit_id,
                           details={"code": code, "name": name, "kind": kind,
                                    "parent_id": parent_id})
    return Unit(unit_id, code, name, kind, parent_id)


async def rename_unit(db: Database, unit_id: int, name: str, *, by: int, at: str) -> bool:
    """Give a unit a new name; False if it already had it."""
    if not 0 < len(name) <= NAME_MAX:
        raise ChangeRefused("name")
    async with db.transaction() as conn:
        row = await _unit(conn, unit_id)
        if row["name"] == name:
            return False
        await conn.execute("UPDATE units SET name = ?, updated_at = ? WHERE id = ?",
                           (name, at, unit_id))
        await audit.record(conn, at=at, actor_id=by, action="unit.rename", unit_id=unit_id,
                           details={"old": row["name"], "new": name})
    return True


async def recode_unit(db: Database, unit_id: int, code: str, *, by: int, at: str) -> bool:
    """Give a unit a new code; the old one stays as an alias (deep links keep working)."""
    async with db.transaction() as conn:
        row = await _unit(conn, unit_id)
        if row["code"] == code:
            return False
        if row["code"].casefold() != code.casefold() and await _code_taken(conn, code):
            raise ChangeRefused("code_taken")
        await conn.execute("DELETE FROM unit_aliases WHERE code = ?", (code,))
        await conn.execute("UPDATE units SET code = ?, updated_at = ? WHERE id = ?",
                           (code, at, unit_id))
        if row["code"].casefold() != code.casefold():
            await conn.execute(
                "INSERT INTO unit_aliases (code, unit_id, created_at) VALUES (?, ?, ?)",
                (row["code"], unit_id, at),
            )
        await audit.record(conn, at=at, actor_id=by, action="unit.recode", unit_id=unit_id,
                           details={"old": row["code"], "new": code})
    return True


async def move_unit(db: Database, unit_id: int, parent_id: int, *, by: int, at: str) -> None:
    """Put a unit (with its subtree and history) under another parent."""
    async with db.transaction() as conn:
        row = await _unit(conn, unit_id)
        await _unit(conn, parent_id)
        if row["parent_id"] == parent_id:
            raise ChangeRefused("same_parent")
        if await _in_subtree(conn, parent_id, unit_id):
            raise ChangeRefused("into_own_subtree")
        await conn.execute("UPDATE units SET parent_id = ?, updated_at = ? WHERE id = ?",
                           (parent_id, at, unit_id))
        await audit.record(conn, at=at, actor_id=by, action="unit.move", unit_id=unit_id,
                           details={"old_parent_id": row["parent_id"], "new_parent_id": parent_id})


async def merge_units(db: Database, source_id: int, target_id: int, *, by: int,
                      at: str) -> MergeResult:
    """Merge `source_id` into `target_id` (see the module docstring for the rule)."""
    async with db.transaction() as conn:
        source = await _unit(conn, source_id)
        target = await _unit(conn, target_id)
        if source_id == target_id:
            raise ChangeRefused("same_unit")
        if source["kind"] != target["kind"]:
            raise ChangeRefused("kind")
        if await _in_subtree(conn, target_id, source_id):
            raise ChangeRefused("into_own_subtree")
        async with conn.execute(
            "UPDATE members SET unit_id = :target, updated_at = :at"
            " WHERE unit_id = :source AND status != 'deleted'"
            f" RETURNING {_MEMBER_COLUMNS.replace('m.', '')}",
            {"target": target_id, "source": source_id, "at": at},
        ) as cursor:
            moved = [MemberBrief(*tuple(r)) for r in await cursor.fetchall()]
        async with conn.execute(
            f"SELECT DISTINCT {_MEMBER_COLUMNS} FROM roles r JOIN members m ON m.id = r.member_id"
            " WHERE r.unit_id = ? AND m.status != 'deleted'", (source_id,),
        ) as cursor:
            holders = [MemberBrief(*tuple(r)) for r in await cursor.fetchall()]
        await conn.execute(
            "INSERT OR IGNORE INTO roles (member_id, role, unit_id, granted_at)"
            " SELECT member_id, role, ?, granted_at FROM roles WHERE unit_id = ?",
            (target_id, source_id),
        )
        await conn.execute("DELETE FROM roles WHERE unit_id = ?", (source_id,))
        await conn.execute(
            "UPDATE units SET parent_id = ?, updated_at = ? WHERE parent_id = ?"
            " AND merged_into IS NULL",
            (target_id, at, source_id),
        )
        await conn.execute(
            "UPDATE units SET merged_into = ?, updated_at = ? WHERE merged_into = ?",
            (target_id, at, source_id),
        )
        await conn.execute(
            "UPDATE units SET parent_id = ?, merged_into = ?, updated_at = ? WHERE id = ?",
            (target_id, target_id, at, source_id),
        )
        await audit.record(conn, at=at, actor_id=by, action="unit.merge", unit_id=target_id,
                           details={"from": source["code"], "from_name": source["name"],
                                    "from_id": source_id, "into": target["code"],
                                    "members": len(moved)})
    return MergeResult(moved, holders)
