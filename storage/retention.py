"""Retention: what the daily job removes once it is no longer needed (README "Retention").

- Delivery rows of notices that finished (sent to the end, or cancelled) more than N days ago,
  and the per-recipient variants of those notices (the heads' summaries carry names). The
  notice itself (sender, text, figures shown in /broadcasts) stays.
- Members who left: status 'stopped' (she sent /stop) or 'unreachable' (she blocked the bot)
  whose row has not changed for N years (`members.updated_at` is set when her status or
  profile changes) and who registered for no campaign and reported no activity in those
  years. They are erased like /deleteme (`storage.privacy.erase`, reason 'retention').

Every statement is idempotent: a second run on the same day finds nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class LeftMember:
    """A member to erase because she left long ago, with her latest membership consent."""

    member_id: int
    telegram_user_id: int
    consent_version: int


async def prune_deliveries(db: Database, *, before: str) -> tuple[int, int]:
    """Delete deliveries (and variants) of notices finished before `before`: (rows, variants)."""
    finished = ("SELECT id FROM broadcasts WHERE finished_at IS NOT NULL AND finished_at < ?"
                " AND status IN ('done', 'cancelled')")
    async with db.transaction() as conn:
        rows = (await conn.execute(
            f"DELETE FROM deliveries WHERE broadcast_id IN ({finished})", (before,))).rowcount
        variants = (await conn.execute(
            f"DELETE FROM broadcast_variants WHERE broadcast_id IN ({finished})"
            " AND NOT EXISTS (SELECT 1 FROM deliveries d"
            " WHERE d.broadcast_id = broadcast_variants.broadcast_id)", (before,))).rowcount
    return rows, variants


async def left_members(db: Database, *, before: str, purpose: str) -> list[LeftMember]:
    """Members who left (stopped or unreachable) and did nothing since `before`."""
    rows = await db.fetchall(
        """SELECT m.id, m.telegram_user_id,
                  (SELECT max(c.version) FROM consents c WHERE c.telegram_user_id =
                   m.telegram_user_id AND c.purpose = ?) AS version
           FROM members m
           WHERE m.status IN ('stopped', 'unreachable') AND m.updated_at < ?
             AND NOT EXISTS (SELECT 1 FROM standard_registrations s
                             WHERE s.member_id = m.id AND s.registered_at >= ?)
             AND NOT EXISTS (SELECT 1 FROM household_registrations h
                             WHERE h.member_id = m.id AND h.registered_at >= ?)
             AND NOT EXISTS (SELECT 1 FROM activity_reports a
                             WHERE a.member_id = m.id AND a.created_at >= ?)
           ORDER BY m.id""",
        (purpose, before, before, before, before),
    )
    return [LeftMember(row[0], row[1], row[2] or 1) for row in rows]
