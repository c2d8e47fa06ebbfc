"""Reading the organisation tree the way members see it.

The tree changes a few times a year but is read on every step of registration and in every
unit chooser, so it is kept as an in-memory snapshot per database, refreshed after
`SNAPSHOT_SECONDS` (a CLI import in another process shows up within that time) or at once
with `invalidate` after a change made in this process.
"""

from __future__ import annotations

import time
import weakref
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.i18n import sort_key
from storage import units
from storage.db import Database
from storage.units import Unit

SNAPSHOT_SECONDS = 30.0


@dataclass
class _Snapshot:
    loaded_at: float
    by_id: dict[int, Unit] = field(default_factory=dict)
    children: dict[int | None, list[Unit]] = field(default_factory=dict)


_snapshots: weakref.WeakKeyDictionary[Database, _Snapshot] = weakref.WeakKeyDictionary()


def invalidate(db: Database) -> None:
    """Forget the snapshot after the tree was changed in this process."""
    _snapshots.pop(db, None)


async def _snapshot(db: Database) -> _Snapshot:
    found = _snapshots.get(db)
    if found is not None and time.monotonic() - found.loaded_at < SNAPSHOT_SECONDS:
        return found
    fresh = _Snapshot(time.monotonic())
    grouped: dict[int | None, list[Unit]] = defaultdict(list)
    for unit, _depth in await units.tree(db):
        fresh.by_id[unit.id] = unit
        if unit.merged_into is None:  # merged units keep their history but are not shown
            grouped[unit.parent_id].append(unit)
    fresh.children = {key: sorted(kids, key=_name_key) for key, kids in grouped.items()}
    _snapshots[db] = fresh
    return fresh


async def units_by_id(db: Database) -> Mapping[int, Unit]:
    """Every unit by id, merged ones included (read-only; for roll-ups of figures)."""
    return MappingProxyType((await _snapshot(db)).by_id)


async def children(db: Database, parent_id: int | None) -> list[Unit]:
    """Direct children of a unit (the roots for None) in Vietnamese alphabetical order."""
    return list((await _snapshot(db)).children.get(parent_id, []))


async def has_children(db: Database, unit_id: int) -> bool:
    """Whether members choose further below this unit."""
    return bool((await _snapshot(db)).children.get(unit_id))


async def get(db: Database, unit_id: int | None) -> Unit | None:
    """A unit of the snapshot."""
    return (await _snapshot(db)).by_id.get(unit_id or 0)


async def top_parent(db: Database) -> int | None:
    """Where choosing starts: below a single root (the district), else at the roots."""
    tree = await _snapshot(db)
    roots = tree.children.get(None, [])
    if len(roots) == 1 and tree.children.get(roots[0].id):
        return roots[0].id
    return None


async def unit_path(db: Database, unit_id: int | None) -> str:
    """'Ward › Chapter': the unit and its ancestors below a single root."""
    tree = await _snapshot(db)
    chain: list[Unit] = []
    unit = tree.by_id.get(unit_id or 0)
    while unit is not None and len(chain) < 64:
        chain.append(unit)
        unit = tree.by_id.get(unit.parent_id or 0)
    chain.reverse()
    if len(chain) > 1 and len(tree.children.get(None, [])) == 1:
        chain = chain[1:]
    return " › ".join(u.name for u in chain) or "—"


async def sorted_tree(db: Database, root_id: int | None = None) -> list[tuple[Unit, int]]:
    """(unit, depth) depth-first, siblings in Vietnamese alphabetical order ("số 2" < "số 12")."""
    tree = await _snapshot(db)
    if root_id is None:
        start = tree.children.get(None, [])
    else:
        start = [tree.by_id[root_id]] if root_id in tree.by_id else []
    ordered: list[tuple[Unit, int]] = []
    stack = [(unit, 0) for unit in reversed(start)]
    while stack:
        unit, depth = stack.pop()
        ordered.append((unit, depth))
        stack.extend((child, depth + 1) for child in reversed(tree.children.get(unit.id, [])))
    return ordered


def _name_key(unit: Unit) -> tuple[tuple[int, int | str, int], ...]:
    return sort_key(unit.name)
