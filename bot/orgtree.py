"""Reading the organisation tree the way members see it."""

from __future__ import annotations

from storage import units
from storage.db import Database


async def top_parent(db: Database) -> int | None:
    """Where choosing starts: below a single root (the district), else at the roots."""
    roots = await units.children(db, None)
    if len(roots) == 1 and await units.has_children(db, [roots[0].id]):
        return roots[0].id
    return None


async def unit_path(db: Database, unit_id: int | None) -> str:
    """'Ward › Chapter': the unit and its ancestors below a single root."""
    if unit_id is None:
        return "—"
    chain = await units.ancestry(db, unit_id)
    if len(chain) > 1 and chain[0].parent_id is None:
        roots = await units.children(db, None)
        if len(roots) == 1:
            chain = chain[1:]
    return " › ".join(u.name for u in chain) or "—"
