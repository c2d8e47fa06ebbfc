"""A notice goes out only while its sender may still address its unit.

A head who loses her role (`/revoke`, `roles revoke` on the command line, a unit moved out of
her scope) or an admin removed from BOT_ADMIN_IDS must not go on reaching members through a
notice she scheduled earlier. The delivery engine checks every notice due to start and every
running one on each pass (`stop_unauthorised`), so a change made by another process (the CLI)
is honoured too; `/revoke` and `/unit` call it at once for the notices scheduled later.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.permissions import Principal, Role, load_principal, may_act_on_unit
from storage import deliveries
from storage.db import Database


async def stop_unauthorised(
    db: Database, admin_ids: Iterable[int], now: str, *, only_due: bool = True
) -> list[int]:
    """Cancel running notices, and scheduled ones (due by `now` unless `only_due` is False),
    whose sender may no longer address their unit; the ids cancelled."""
    admins = frozenset(admin_ids)
    principals: dict[int, Principal] = {}
    cancelled = []
    for notice in await deliveries.active_notices(db, due_by=now if only_due else None):
        sender = principals.get(notice.created_by)
        if sender is None:
            sender = await load_principal(db, notice.created_by, admins)
            principals[notice.created_by] = sender
        if await may_act_on_unit(db, sender, Role.CHAPTER_HEAD, notice.unit_id):
            continue
        if await deliveries.cancel(db, notice.id, now, reason="permission"):
            cancelled.append(notice.id)
    return cancelled
