"""Collect: everything an export needs, read with a handful of grouped queries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from bot import orgtree
from bot import polls as surveys
from bot import stats as figures_of
from bot.export.data import Collected, Progress
from bot.settings import DEFAULT_DISCLOSURE_K
from storage import meetings, stats, targets
from storage import polls as poll_store
from storage.db import Database, to_iso
from storage.meetings import Figures
from storage.stats import MemberRow, UnitCounts
from storage.units import Unit

BATCH_MEMBERS = 4000


async def collect(db: Database, unit_id: int | None, year: int, *, timezone: Any,
                  now: datetime, locale: str, criteria_entries: Sequence[tuple[str, str]],
                  activity_entries: Sequence[tuple[str, str, str | None]] = (),
                  progress: Progress | None = None,
                  k: int = DEFAULT_DISCLOSURE_K,
                  meeting_kinds: Sequence[tuple[str, str]] = ()) -> Collected:
    """Read an export's data: a few grouped queries, members in batches of units."""
    fig = await figures_of.figures(db, unit_id, year, timezone)
    own = await figures_of.per_unit(db, unit_id, year, timezone)
    by_id = dict(await orgtree.units_by_id(db))
    if unit_id is None:
        tree = await orgtree.sorted_tree(db, None)
    else:
        tree = await orgtree.sorted_tree(db, unit_id)
    inside = {u.id for u, _d in tree}
    totals = _subtree_totals(tree, by_id, own, UnitCounts)
    goals = await targets.for_units(db, inside, year)
    criteria = await figures_of.criteria(db, unit_id, year,
                                         codes=[c for c, _l in criteria_entries], k=k, now=now)
    _start, end = figures_of.year_bounds(year, timezone)
    if progress is not None:
        progress.total = max(1, fig.totals.members) * 2 + len(tree)
    member_rows: list[MemberRow] = []
    for batch in _batches(tree, own):
        member_rows += await stats.member_rows(db, batch, year, year_end=end)
        if progress is not None:
            progress.done = len(member_rows) // 2
        await asyncio.sleep(0)  # let other updates in between batches
    _first, last, _current = figures_of.year_span(year, now.astimezone(timezone).date())
    per_unit_activities = await stats.activities_by_unit(db, unit_id, year)
    if unit_id is None:
        scope_activities = {code: counts[0] for code, counts in (await stats.activities(
            db, None, year=year, whole_tree=True)).items()}
    else:
        scope_activities = per_unit_activities.get(unit_id, {})
    sundays = await figures_of.sundays(db, unit_id, last, figures_of.SUNDAYS_CHARTED, timezone)
    scope = by_id.get(unit_id) if unit_id is not None else None
    with_phone = scope is not None and not await orgtree.has_children(db, scope.id)
    collected = Collected(
        scope=scope,
        scope_path=await orgtree.unit_path(db, unit_id) if unit_id is not None else "",
        year=year, generated_at=now.astimezone(timezone), figures=fig, criteria=criteria,
        criteria_labels=list(criteria_entries), tree=tree, totals=totals, targets=goals,
        members=member_rows, by_id=by_id, with_phone=with_phone,
        activity_labels=list(activity_entries), activities=per_unit_activities,
        scope_activities=scope_activities, sundays=sundays,
        meetings=await _meetings(db, unit_id, tree, by_id, year=year,
                                 today=now.astimezone(timezone).date()),
        meeting_kinds=list(meeting_kinds),
        polls=await _polls(db, None if unit_id is None else inside, year, timezone=timezone,
                           now=now, k=k))
    return collected


class _Addable(Protocol):
    def __add__(self, other: Any, /) -> Any: ...


Summed = TypeVar("Summed", bound=_Addable)


async def _meetings(db: Database, unit_id: int | None, tree: list[tuple[Unit, int]],
                    by_id: dict[int, Unit], *, year: int, today: date) -> dict[int, Figures]:
    """Each unit's meetings of the year held so far, its subtree summed."""
    own = await meetings.figures_by_unit(db, unit_id, first=date(year, 1, 1),
                                         last=min(date(year, 12, 31), today))
    return _subtree_totals(tree, by_id, own, Figures)


async def _polls(db: Database, inside: set[int] | None, year: int, *, timezone: Any,
                 now: datetime, k: int) -> list[tuple[surveys.Results, bool]]:
    """The surveys addressed to units of the scope and created in the year, protected."""
    found = []
    stamp = to_iso(now)
    for poll in await poll_store.in_units(db, None if inside is None else sorted(inside), 200):
        created = datetime.fromisoformat(poll.created_at).astimezone(timezone)
        if created.year == year:
            view = await surveys.results(db, poll, scope_id=poll.unit_id, k=k, now=now)
            found.append((view, not poll.is_open(stamp)))
    return found[::-1]


def _subtree_totals(tree: list[tuple[Unit, int]], by_id: dict[int, Unit],
                    own: dict[int, Summed], zero: Callable[[], Summed]) -> dict[int, Summed]:
    """Subtree totals for every unit: children (merged ones too) summed bottom-up."""
    children: dict[int, list[int]] = {}
    for unit in by_id.values():
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit.id)
    totals: dict[int, Summed] = {}

    def total(node: int) -> Summed:
        if node not in totals:
            found = own.get(node, zero())
            for child in children.get(node, []):
                found = found + total(child)
            totals[node] = found
        return totals[node]

    for unit, _depth in tree:
        total(unit.id)
    return totals


def _batches(tree: list[tuple[Unit, int]], own: dict[int, UnitCounts]) -> list[list[int]]:
    """Members are read one query per batch of units of about BATCH_MEMBERS members."""
    batches: list[list[int]] = [[]]
    size = 0
    for unit, _depth in tree:
        count = own.get(unit.id, UnitCounts()).members
        if batches[-1] and size + count > BATCH_MEMBERS:
            batches.append([])
            size = 0
        batches[-1].append(unit.id)
        size += count
    return batches
