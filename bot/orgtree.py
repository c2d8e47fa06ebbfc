"""Reading the organisation tree the way members see it."""

from __future__ import annotations

from collections import defaultdict

from bot.i18n import sort_key
from storage import units
from storage.db import Database
from storage.units import Unit


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


async def sorted_tree(db: Database, root_id: int | None = None) -> list[tuple[Unit, int]]:
    """(unit, depth) depth-first, siblings in Vietnamese alphabetical order ("số 2" < "số 12")."""
    nodes = [unit for unit, _depth in await units.tree(db, root_id)]
    ids = {unit.id for unit in nodes}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in nodes:
        children[unit.parent_id if unit.parent_id in ids else None].append(unit)
    ordered: list[tuple[Unit, int]] = []
    stack = [(unit, 0) for unit in sorted(children[None], key=_name_key, reverse=True)]
    while stack:
        unit, depth = stack.pop()
        ordered.append((unit, depth))
        stack.extend((c, depth + 1) for c in sorted(children[unit.id], key=_name_key, reverse=True))
    return ordered


def _name_key(unit: Unit) -> tuple[tuple[int, int | str, int], ...]:
    return sort_key(unit.name)
