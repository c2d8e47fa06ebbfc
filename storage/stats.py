"""All counting for statistics and exports: one grouped query per figure set, never per unit.

A scope is a unit's subtree, walked with a recursive CTE over `units.parent_id` (a few hundred
rows). The CTE drives the join (`sub CROSS JOIN table`), so SQLite seeks each unit in the
(year, unit_id, …) / (unit_id, status, created_at) indexes and reads nothing else: the
figures come from index-only scans. Scope None means every unit.

Figures are returned per unit the rows belong to (`GROUP BY unit_id`); bot/stats.py rolls them
up the tree. Registrations count in the unit they were made in; a merged unit is a hidden child
of the unit it was merged into, so its history is counted there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from storage.db import Database

SUBTREE = """sub(id) AS (
    SELECT :unit UNION ALL SELECT units.id FROM units JOIN sub ON units.parent_id = sub.id)"""


@dataclass(frozen=True, slots=True)
class UnitCounts:
    """The counted figures of one unit (or, summed, of a subtree) for one year."""

    members: int = 0  # not deleted, joined before the end of the year
    active: int = 0
    stopped: int = 0
    unreachable: int = 0
    new: int = 0  # joined during the year
    standard_registered: int = 0
    standard_achieved: int = 0
    standard_not_achieved: int = 0
    households_registered: int = 0
    households_meeting_all: int = 0
    households_recognised: int = 0

    def __add__(self, other: UnitCounts) -> UnitCounts:
        return UnitCounts(*(getattr(self, f.name) + getattr(other, f.name)
                            for f in fields(self)))

    @property
    def empty(self) -> bool:
        """Nothing at all counted here."""
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True, slots=True)
class YearCounts:
    """A subtree's headline figures for one year (for trends over years)."""

    year: int
    members: int
    standard_registered: int
    standard_achieved: int
    households_registered: int
    households_recognised: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One member for an export: no criterion answers, no Telegram ids."""

    id: int
    full_name: str
    phone: str | None
    unit_id: int | None
    status: str
    created_at: str
    standard_registered: bool
    standard_result: str | None
    household_registered: bool
    household_result: str | None


def _from(unit_id: int | None, table: str, alias: str) -> tuple[str, str]:
    """(WITH clause, FROM … WHERE 1) limiting `table` to the subtree of `unit_id`."""
    if unit_id is None:
        return "", f"FROM {table} {alias} WHERE {alias}.unit_id IS NOT NULL"
    return (f"WITH RECURSIVE {SUBTREE}",
            f"FROM sub CROSS JOIN {table} {alias} ON {alias}.unit_id = sub.id WHERE 1")


def members_sql(unit_id: int | None) -> str:
    """Members per unit by status, and those who joined in the year."""
    head, source = _from(unit_id, "members", "m")
    return f"""{head} SELECT m.unit_id, count(*),
                   count(*) FILTER (WHERE m.status = 'active'),
                   count(*) FILTER (WHERE m.status = 'stopped'),
                   count(*) FILTER (WHERE m.status = 'unreachable'),
                   count(*) FILTER (WHERE m.created_at >= :start)
            {source} AND m.status != 'deleted' AND m.created_at < :end
            GROUP BY m.unit_id"""


def standard_sql(unit_id: int | None) -> str:
    """Standard registrations per unit for one year, by result."""
    head, source = _from(unit_id, "standard_registrations", "s")
    return f"""{head} SELECT s.unit_id, count(*),
                   count(*) FILTER (WHERE s.result = 'achieved'),
                   count(*) FILTER (WHERE s.result = 'not_achieved')
            {source} AND s.year = :year GROUP BY s.unit_id"""


def households_sql(unit_id: int | None) -> str:
    """Household registrations per unit for one year: meeting every criterion, recognised."""
    head, source = _from(unit_id, "household_registrations", "h")
    return f"""{head} SELECT h.unit_id, count(*),
                   count(*) FILTER (WHERE h.meets_all = 1),
                   count(*) FILTER (WHERE h.result = 'recognised')
            {source} AND h.year = :year GROUP BY h.unit_id"""


async def unit_counts(
    db: Database, unit_id: int | None, year: int, *, year_start: str, year_end: str
) -> dict[int, UnitCounts]:
    """Per unit of the subtree: members (as of the end of `year`) and the year's campaigns.

    `year_start`/`year_end` are the UTC instants where the local year begins and ends.
    Three queries: members, standard registrations, households.
    """
    params = {"unit": unit_id, "year": year, "start": year_start, "end": year_end}
    found: dict[int, list[int]] = {}
    for sql, offset in ((members_sql, 0), (standard_sql, 5), (households_sql, 8)):
        for row in await db.fetchall(sql(unit_id), params):
            values = found.setdefault(row[0], [0] * 11)
            values[offset:offset + len(row) - 1] = tuple(row)[1:]
    return {unit: UnitCounts(*values) for unit, values in found.items()}


async def yearly(
    db: Database, unit_id: int | None, years: Sequence[int], year_ends: Sequence[str]
) -> list[YearCounts]:
    """A subtree's headline figures for several years (members as of each year's end)."""
    params: dict[str, object] = {"unit": unit_id}
    member_columns = []
    for index, end in enumerate(year_ends):
        params[f"end{index}"] = end
        member_columns.append(f"count(*) FILTER (WHERE m.created_at < :end{index})")
    listed = ",".join(str(int(y)) for y in years) or "NULL"
    head, source = _from(unit_id, "members", "m")
    members = await db.fetchone(
        f"{head} SELECT {', '.join(member_columns) or '0'} {source} AND m.status != 'deleted'",
        params,
    )
    head, source = _from(unit_id, "standard_registrations", "s")
    standard = await db.fetchall(
        f"""{head} SELECT s.year, count(*), count(*) FILTER (WHERE s.result = 'achieved')
            {source} AND s.year IN ({listed}) GROUP BY s.year""",
        params,
    )
    head, source = _from(unit_id, "household_registrations", "h")
    households = await db.fetchall(
        f"""{head} SELECT h.year, count(*), count(*) FILTER (WHERE h.result = 'recognised')
            {source} AND h.year IN ({listed}) GROUP BY h.year""",
        params,
    )
    by_standard = {r[0]: (r[1], r[2]) for r in standard}
    by_household = {r[0]: (r[1], r[2]) for r in households}
    member_counts = tuple(members) if members is not None else ()
    return [
        YearCounts(year, member_counts[i] if i < len(member_counts) else 0,
                   *by_standard.get(year, (0, 0)), *by_household.get(year, (0, 0)))
        for i, year in enumerate(years)
    ]


# --- activities (reports of issue 5's activity_reports) ----------------------------------------
# Reports a chapter head marked as doubtful (flagged) are not counted.


@dataclass(frozen=True, slots=True)
class ActivityCounts:
    """Reports of one type in a period: how many, by how many members, the summed quantity."""

    reports: int = 0
    members: int = 0
    quantity: float = 0.0


def activity_year_sql(unit_id: int | None) -> str:
    """Per type: a year's reports and quantity, from the totals the triggers keep."""
    head, source = _from(unit_id, "activity_totals", "t")
    return f"""{head} SELECT t.activity_code, sum(t.reports), total(t.quantity)
            {source} AND t.year = :year GROUP BY t.activity_code"""


def activity_members_sql(unit_id: int | None, *, whole_tree: bool = False) -> str:
    """Per type: a year's distinct members (of the whole tree: one row per member)."""
    if whole_tree:
        return ("SELECT activity_code, count(*) FROM activity_year_members WHERE year = :year"
                " GROUP BY activity_code")
    head, source = _from(unit_id, "activity_participation", "p")
    return f"""{head} SELECT p.activity_code, count(DISTINCT p.member_id)
            {source} AND p.year = :year GROUP BY p.activity_code"""


def activity_recent_sql(unit_id: int | None) -> str:
    """Per type: reports, distinct members and quantity from `:month` and from `:week` on."""
    head, source = _from(unit_id, "activity_reports", "r")
    columns = []
    for since in (":month", ":week"):
        when = f"FILTER (WHERE r.day >= {since})"
        columns += [f"count(*) {when}", f"count(DISTINCT r.member_id) {when}",
                    f"total(r.quantity) {when}"]
    return f"""{head} SELECT r.activity_code, {', '.join(columns)}
            {source} AND r.day BETWEEN min(:month, :week) AND :last AND r.flagged_at IS NULL
            GROUP BY r.activity_code"""


def participation_sql(unit_id: int | None) -> str:
    """Members who reported one activity type on each of some days (one report per day)."""
    head, source = _from(unit_id, "activity_reports", "r")
    return f"""{head} SELECT r.day, count(*)
            {source} AND r.day IN (SELECT value FROM json_each(:days))
            AND r.activity_code = :code AND r.flagged_at IS NULL GROUP BY r.day"""


async def activities(
    db: Database, unit_id: int | None, *, year: int, whole_tree: bool = False,
    recent: tuple[str, str, str] | None = None,
) -> dict[str, tuple[ActivityCounts, ActivityCounts, ActivityCounts]]:
    """Per type: (year, month, week) counts in a subtree.

    The year comes from the trigger-kept tables (three small reads however many reports);
    the month and the week, with `recent` = (month's first day, week's Monday, last day) as
    local 'YYYY-MM-DD', from the reports themselves. `whole_tree`: the subtree is every unit.
    """
    params: dict[str, object] = {"unit": unit_id, "year": year}
    totals = {r[0]: (r[1], r[2]) for r in await db.fetchall(activity_year_sql(unit_id), params)}
    members = {r[0]: r[1] for r in await db.fetchall(
        activity_members_sql(unit_id, whole_tree=whole_tree), params)}
    latest: dict[str, tuple[ActivityCounts, ActivityCounts]] = {}
    if recent is not None:
        month, week, last = recent
        for r in await db.fetchall(activity_recent_sql(unit_id), {
                "unit": unit_id, "month": month, "week": week, "last": last}):
            latest[r[0]] = (ActivityCounts(r[1], r[2], r[3]), ActivityCounts(r[4], r[5], r[6]))
    empty = ActivityCounts()
    return {code: (ActivityCounts(reports, members.get(code, 0), quantity),
                   *latest.get(code, (empty, empty)))
            for code, (reports, quantity) in totals.items()}


async def participation(db: Database, unit_id: int | None, code: str, days: Sequence[str],
                        member_ends: Sequence[str]) -> list[tuple[str, int, int]]:
    """(day, members who took part, members then) for each day, in two queries.

    `member_ends` are the UTC instants where each day ends: who had joined by then counts.
    """
    listed = "[" + ",".join(f'"{d}"' for d in days) + "]"
    took = await db.fetchall(participation_sql(unit_id),
                             {"unit": unit_id, "days": listed, "code": code})
    params: dict[str, object] = {"unit": unit_id}
    columns = []
    for index, end in enumerate(member_ends):
        params[f"end{index}"] = end
        columns.append(f"count(*) FILTER (WHERE m.created_at < :end{index})")
    head, source = _from(unit_id, "members", "m")
    counted = await db.fetchone(
        f"{head} SELECT {', '.join(columns) or '0'} {source} AND m.status != 'deleted'", params)
    by_day = {r[0]: r[1] for r in took}
    members = tuple(counted) if counted is not None else ()
    return [(day, by_day.get(day, 0), members[i] if i < len(members) else 0)
            for i, day in enumerate(days)]


async def activities_by_unit(db: Database, unit_id: int | None,
                             year: int) -> dict[int, dict[str, ActivityCounts]]:
    """For every unit of a subtree, its whole subtree's reports per type in a year.

    One query over the subtree's closure and the trigger-kept participation rows, so a member
    who took part in two units is still counted once in every unit above both.
    """
    anchor = ("SELECT :unit" if unit_id is not None
              else "SELECT id FROM units WHERE parent_id IS NULL")
    rows = await db.fetchall(
        f"""WITH RECURSIVE down(id) AS (
                {anchor}
                UNION ALL SELECT units.id FROM units JOIN down ON units.parent_id = down.id),
            closure(ancestor, unit) AS (
                SELECT id, id FROM down
                UNION ALL SELECT closure.ancestor, units.id FROM units
                JOIN closure ON units.parent_id = closure.unit)
            SELECT c.ancestor, p.activity_code, sum(p.reports), count(DISTINCT p.member_id),
                   total(p.quantity)
            FROM closure c CROSS JOIN activity_participation p
                 ON p.unit_id = c.unit AND p.year = :year
            GROUP BY c.ancestor, p.activity_code""",
        {"unit": unit_id, "year": year},
    )
    found: dict[int, dict[str, ActivityCounts]] = {}
    for ancestor, code, reports, members, quantity in rows:
        found.setdefault(ancestor, {})[code] = ActivityCounts(reports, members, quantity)
    return found


async def member_rows(
    db: Database, unit_ids: Iterable[int], year: int, *, year_end: str
) -> list[MemberRow]:
    """Members of these units (joined before `year_end`) with their campaign status."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(
        f"""SELECT m.id, m.full_name, m.phone, m.unit_id, m.status, m.created_at,
                   s.id IS NOT NULL, s.result, h.id IS NOT NULL, h.result
            FROM members m
            LEFT JOIN standard_registrations s ON s.member_id = m.id AND s.year = ?
            LEFT JOIN household_registrations h ON h.member_id = m.id AND h.year = ?
            WHERE m.unit_id IN ({marks}) AND m.status != 'deleted' AND m.created_at < ?""",
        (year, year, *ids, year_end),
    )
    return [MemberRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], bool(r[8]), r[9])
            for r in rows]


async def has_any_data(db: Database, year: int) -> bool:
    """Whether anything at all was registered for this year (anywhere)."""
    row = await db.fetchone(
        "SELECT EXISTS (SELECT 1 FROM standard_registrations WHERE year = :year)"
        " OR EXISTS (SELECT 1 FROM household_registrations WHERE year = :year)",
        {"year": year},
    )
    return bool(row and row[0])


async def explain(db: Database, sql: str, params: dict[str, object]) -> list[str]:
    """EXPLAIN QUERY PLAN details (for the index checks in the tests)."""
    rows = await db.fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
    return [r["detail"] for r in rows]
