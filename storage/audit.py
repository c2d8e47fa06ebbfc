"""The audit log: who did what, when — roles, tree changes, targets and exports.

Entries are written inside the transaction of the change they describe (`record`), so a change
without its entry (or the other way round) cannot happen. Details are small JSON objects with
codes, names of units and figures; never criterion answers or other sensitive data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.db import Database

_SUBTREE = """sub(id) AS (
    SELECT :unit UNION ALL SELECT units.id FROM units JOIN sub ON units.parent_id = sub.id)"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action, with the names as they are now (None once a person is gone)."""

    id: int
    at: str
    actor_id: int | None
    actor_name: str | None
    action: str
    unit_id: int | None
    unit_name: str | None
    member_id: int | None
    member_name: str | None
    details: dict[str, Any]


async def record(
    conn: aiosqlite.Connection,
    *,
    at: str,
    actor_id: int | None,
    action: str,
    unit_id: int | None = None,
    member_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write an entry inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, unit_id, member_id, details)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (at, actor_id, action, unit_id, member_id,
         json.dumps(details or {}, ensure_ascii=False, sort_keys=True)),
    )


async def log(db: Database, **entry: Any) -> None:
    """Write an entry in a transaction of its own (for actions that change nothing else)."""
    async with db.transaction() as conn:
        await record(conn, **entry)


async def recent(
    db: Database, unit_id: int | None, *, limit: int = 200
) -> list[AuditEntry]:
    """The newest entries about a unit's subtree (None: everything), newest first."""
    if unit_id is None:
        where, params = "", {"limit": limit}
        head = ""
    else:
        head = f"WITH RECURSIVE {_SUBTREE} "
        where = "WHERE a.unit_id IN (SELECT id FROM sub)"
        params = {"unit": unit_id, "limit": limit}
    rows = await db.fetchall(
        f"""{head}SELECT a.id, a.at, a.actor_id, actor.full_name, a.action, a.unit_id, u.name,
                   a.member_id, m.full_name, a.details
            FROM audit_log a
            LEFT JOIN members actor ON actor.telegram_user_id = a.actor_id
                 AND actor.status != 'deleted'
            LEFT JOIN units u ON u.id = a.unit_id
            LEFT JOIN members m ON m.id = a.member_id AND m.status != 'deleted'
            {where} ORDER BY a.id DESC LIMIT :limit""",
        params,
    )
    # mypy cannot count a starred row: nine columns, then the details.
    return [AuditEntry(*tuple(r)[:9], json.loads(r[9])) for r in rows]  # type: ignore[call-arg]
