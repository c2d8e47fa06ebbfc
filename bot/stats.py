"""Statistics as the union reports them: figures of a scope, targets, and their wording.

Figures come from storage/stats.py (one grouped query per figure set) and are rolled up the
organisation tree here. They are shown in the union's fixed style:

    32.053/33.740 (đạt 95%)                      a part of a whole
    150/175 hộ — đạt 86% chỉ tiêu, còn thiếu 25 hộ  a count against its target
    32.053/33.740 hội viên (95%) · chỉ tiêu 90%: vượt chỉ tiêu   a rate against its target

A rate's line says "đạt" at most once: its label may already say it ("Đạt chuẩn"), so its
share is a bare percentage and its verdict says "vượt"/"hoàn thành"/"bằng …% chỉ tiêu".
What is missing always names what it counts (hội viên or hộ).

Rounding (exact, on integers and fractions — never on floats):
1. A percentage is rounded half up to a whole number: 94.5 → 95, 108.57… → 109.
2. It never shows 100% for less than the whole, nor 0% for more than nothing: for
   0 < part < whole it is kept between 1% and 99% (32.052/33.740 is "99%", not "100%").
3. Against a target, "vượt chỉ tiêu" (exceeded) means strictly above the target, "đạt … chỉ
   tiêu" / "hoàn thành chỉ tiêu" (met) exactly on it, anything below is short, with how many
   are missing; this is decided on the exact numbers, so 1.001/1.000 is "đạt 100%, vượt chỉ
   tiêu".
4. Without a whole (no members), no percentage is shown ("—").

Privacy: breakdowns of the family criteria only ever show how many households do *not* meet
a criterion by their own assessment, from the figures published in batches
(storage/disclosure.py) and only as far as bot/disclosure.py allows (`criteria`).

Members are counted as of the end of the year asked for (those who joined later are left
out) and by the unit they are in now; registrations by the unit they were made in.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from bot import disclosure, orgtree
from bot.i18n import N_, Translator, sort_key
from bot.reminders import ENVIRONMENT_ACTIVITY as ENVIRONMENT_DAY
from storage import disclosure as published
from storage import stats, targets
from storage.db import Database, to_iso
from storage.stats import ActivityCounts, UnitCounts, YearCounts
from storage.units import Unit

FIRST_YEAR = 2000


@dataclass(frozen=True, slots=True)
class Metric:
    """Something a target can be set for."""

    code: str
    label: str  # msgid
    percent: bool  # the target is a percentage of the members; else a count
    noun: str = "members"  # what a count counts: members or households
    short: str = ""  # msgid of its button label (a narrow phone); "" : `label`

    @property
    def button(self) -> str:
        """The msgid a button shows for this metric."""
        return self.short or self.label


METRICS: tuple[Metric, ...] = (
    Metric("members", N_("Members"), False),
    Metric("new_members", N_("New members in the year"), False, short=N_("New members")),
    Metric("standard_registered", N_("Registered for the women's standard"), True,
           short=N_("Standard: registered")),
    Metric("standard_achieved", N_("Achieved the women's standard"), True,
           short=N_("Standard: achieved")),
    Metric("households_registered", N_("Households registered for “5 không, 3 sạch”"), False,
           "households", N_("Households registered")),
    Metric("households_recognised", N_("Households recognised as “5 không, 3 sạch”"), False,
           "households", N_("Households recognised")),
)
METRIC_BY_CODE = {m.code: m for m in METRICS}

# Orders of the children table; the default shows where help is needed first.
SORTS: dict[str, str] = {
    "r": N_("registration rate ↑"),
    "a": N_("achievement rate ↑"),
    "h": N_("households recognised ↑"),
    "m": N_("members ↓"),
    "n": N_("name"),
}
SORT_BUTTONS: dict[str, str] = {
    "r": N_("↕ By registration"),
    "a": N_("↕ By achievement"),
    "h": N_("↕ By households"),
    "m": N_("↕ By members"),
    "n": N_("↕ By name"),
}
"""The buttons that choose an order (a narrow phone); SORTS say it in a sentence."""
DEFAULT_SORT = "r"


# --- numbers -----------------------------------------------------------------------------------


def percent(part: Fraction | int, whole: Fraction | int) -> int | None:
    """`part` as a whole percentage of `whole` by the rounding rules above (None: no whole)."""
    part, whole = Fraction(part), Fraction(whole)
    if whole <= 0:
        return None
    rounded = math.floor(part * 100 / whole + Fraction(1, 2))
    if 0 < part < whole:
        rounded = min(max(rounded, 1), 99)
    return rounded


def exact(value: float) -> Fraction:
    """A stored target as the exact number that was typed (two decimals at most)."""
    return Fraction(Decimal(f"{value:.2f}"))


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """How an actual figure stands against its target."""

    target: Fraction  # a percentage or a count, as the metric says
    achievement: int  # per cent of the target reached
    status: str  # exceeded | met | short
    missing: int  # how many more members/households are needed (0 unless short)
    noun: str = "members"  # what `missing` counts: members or households (Metric.noun)
    rate: bool = False  # the target is a percentage of the members (Metric.percent)


def actual(metric: Metric, counts: UnitCounts) -> tuple[int, int | None]:
    """(the figure, the whole it is a part of) for a metric."""
    return {
        "members": (counts.members, None),
        "new_members": (counts.new, None),
        "standard_registered": (counts.standard_registered, counts.members),
        "standard_achieved": (counts.standard_achieved, counts.members),
        "households_registered": (counts.households_registered, None),
        "households_recognised": (counts.households_recognised, None),
    }[metric.code]


def check(metric: Metric, counts: UnitCounts, value: float | None) -> TargetCheck | None:
    """The figure against its target (None: no target, or a rate of nobody)."""
    if value is None or value <= 0:
        return None
    target = exact(value)
    n, whole = actual(metric, counts)
    if metric.percent:
        if not whole:
            return None
        reached = Fraction(n, whole) * 100
        needed = math.ceil(target * whole / 100)
    else:
        reached = Fraction(n)
        needed = math.ceil(target)
    achievement = percent(reached, target)
    assert achievement is not None
    status = "exceeded" if reached > target else "met" if reached == target else "short"
    return TargetCheck(target, achievement, status, max(0, needed - n) if status == "short"
                       else 0, metric.noun, metric.percent)


def number(t: Translator, value: Fraction | int) -> str:
    """A number in her locale (a target may have decimals: 92,5)."""
    value = Fraction(value)
    if value.denominator == 1:
        return t.number(int(value))
    return t.number(Decimal(value.numerator) / Decimal(value.denominator))


# --- wording -----------------------------------------------------------------------------------


def ratio(t: Translator, part: int, whole: int) -> str:
    """'32.053/33.740 (đạt 95%)'; without a whole just '0/0'."""
    share = percent(part, whole)
    if share is None:
        return f"{t.number(part)}/{t.number(whole)}"
    return t._("{part}/{whole} ({percent}%)", part=t.number(part), whole=t.number(whole),
               percent=share)


def of_members(t: Translator, part: int, whole: int) -> str:
    """A share of the members on a /stats line: '9/17 hội viên (53%)', without "đạt" (the
    line's label may say "Đạt chuẩn"); without members it says so (a bare '0/0' puzzles)."""
    value = percent(part, whole)
    if not whole:
        return t._("no member here has registered with the assistant yet")
    if value is None:
        return f"{t.number(part)}/{t.number(whole)}"
    return t._("{part}/{whole} members ({percent}%)", part=t.number(part),
               whole=t.number(whole), percent=value)


def share(t: Translator, part: int, whole: int) -> str:
    """'95%' or '—'."""
    value = percent(part, whole)
    return "—" if value is None else f"{value}%"


def verdict(t: Translator, result: TargetCheck) -> str:
    """How a figure stands against its target, in words.

    A count: 'đạt 109%, vượt chỉ tiêu' / 'đạt 100% chỉ tiêu' / 'đạt 86% chỉ tiêu, còn thiếu
    25 hộ'. A rate, whose figure already shows a percentage (and whose label may say "đạt"):
    'vượt chỉ tiêu' / 'hoàn thành chỉ tiêu' / 'bằng 97% chỉ tiêu, còn thiếu 3 hội viên'.
    """
    if result.rate:
        if result.status == "exceeded":
            return t._("target exceeded")
        if result.status == "met":
            return t._("target met")
        return t._("{percent}% of the target, {missing} short", percent=result.achievement,
                   missing=shortfall(t, result))
    if result.status == "exceeded":
        return t._("{percent}% of target, target exceeded", percent=result.achievement)
    if result.status == "met":
        return t._("{percent}% of target, target met", percent=result.achievement)
    return t._("{percent}% of target, {missing} short", percent=result.achievement,
               missing=shortfall(t, result))


def shortfall(t: Translator, result: TargetCheck) -> str:
    """What is missing to the target, naming what it counts: '69 hội viên', '25 hộ'."""
    if result.noun == "households":
        return t.n_("{n} household", "{n} households", result.missing)
    return t.n_("{n} member", "{n} members", result.missing)


COUNT_AGAINST_TARGET = {
    "members": N_("{n}/{target} members — {verdict}"),
    "households": N_("{n}/{target} households — {verdict}"),
}


def figure(t: Translator, metric: Metric, counts: UnitCounts, value: float | None) -> str:
    """A metric's figure, with its target when there is one (the union's style)."""
    n, whole = actual(metric, counts)
    result = check(metric, counts, value)
    if metric.percent:
        text = of_members(t, n, whole or 0)
        if result is not None:
            text = t._("{figure} · target {target}%: {verdict}", figure=text,
                       target=number(t, result.target), verdict=verdict(t, result))
        return text
    if result is None:
        return t.number(n)
    return t._(COUNT_AGAINST_TARGET[metric.noun], n=t.number(n),
               target=number(t, result.target), verdict=verdict(t, result))


def figure_beside_target(t: Translator, metric: Metric, counts: UnitCounts,
                         value: float) -> str:
    """A metric's figure on a line that already shows its target (/targets): not said twice."""
    n, whole = actual(metric, counts)
    text = of_members(t, n, whole or 0) if metric.percent else t.number(n)
    result = check(metric, counts, value)
    if result is None:
        return text
    return t._("{figure} · {verdict}", figure=text, verdict=verdict(t, result))


def target_text(t: Translator, metric: Metric, value: float | None) -> str:
    """A target as typed: '95%' or '175' (or '—')."""
    if value is None:
        return "—"
    return number(t, exact(value)) + ("%" if metric.percent else "")


# --- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """A child unit of the scope with its subtree's figures."""

    unit: Unit
    counts: UnitCounts
    targets: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything /stats shows for a scope and year."""

    scope: Unit | None  # None: every unit (several roots)
    year: int
    totals: UnitCounts
    targets: Mapping[str, float]
    children: list[Row]
    direct: UnitCounts  # counted in the scope unit itself (not in a child)
    extra: dict[str, Any] = field(default_factory=dict)  # further sections (activities …)

    @property
    def has_year_data(self) -> bool:
        """Whether anything was registered in this scope for the year."""
        return bool(self.totals.standard_registered or self.totals.households_registered)


def year_bounds(year: int, timezone: tzinfo) -> tuple[str, str]:
    """The UTC instants where the local year begins and ends."""
    return (to_iso(datetime(year, 1, 1, tzinfo=timezone)),
            to_iso(datetime(year + 1, 1, 1, tzinfo=timezone)))


async def per_unit(db: Database, scope_id: int | None, year: int,
                   timezone: tzinfo) -> dict[int, UnitCounts]:
    """Each unit's own figures (not rolled up) in a scope."""
    start, end = year_bounds(year, timezone)
    return await stats.unit_counts(db, scope_id, year, year_start=start, year_end=end)


def roll_up(own: Mapping[int, UnitCounts], by_id: Mapping[int, Unit],
            tops: Sequence[int], scope_id: int | None) -> tuple[dict[int, UnitCounts],
                                                                 UnitCounts]:
    """Sum each unit's own figures into the top unit (one of `tops`) above it.

    Returns (figures per top, figures of units under no top — the scope unit itself and units
    merged straight into it).
    """
    wanted = set(tops)
    memo: dict[int, int | None] = {}

    def top_of(unit_id: int) -> int | None:
        path = []
        current: int | None = unit_id
        found: int | None = None
        for _ in range(64):
            if current is None or current == scope_id:
                break
            if current in memo:
                found = memo[current]
                break
            path.append(current)
            if current in wanted:
                found = current
                break
            unit = by_id.get(current)
            current = unit.parent_id if unit else None
        for step in path:
            memo[step] = found
        return found

    totals: dict[int, UnitCounts] = {top: UnitCounts() for top in tops}
    direct = UnitCounts()
    for unit_id, counts in own.items():
        top = top_of(unit_id)
        if top is None:
            direct = direct + counts
        else:
            totals[top] = totals[top] + counts
    return totals, direct


async def default_scope(db: Database, roots: Sequence[int] | None) -> int | None:
    """Where someone's statistics start: her unit, or the single root for a super-admin."""
    if roots:
        return roots[0]
    top = await orgtree.children(db, None)
    return top[0].id if len(top) == 1 else None


async def figures(db: Database, scope_id: int | None, year: int, timezone: tzinfo, *,
                  today: date | None = None) -> Figures:
    """The figures of a scope (a unit's subtree; None: everything) for a year.

    With `today` (the local date) the activity section is read too (extra["activities"]);
    for a wide scope (units two levels down) on a connection of its own, side by side with
    the campaign figures: SQLite reads in parallel and the reply comes about twice as fast.
    """
    scope = await orgtree.get(db, scope_id) if scope_id is not None else None
    kids = await orgtree.children(db, scope_id)
    extra: dict[str, Any] = {}
    if today is None:
        campaign = await _campaign_figures(db, scope_id, year, timezone, kids)
    elif str(db.path) != ":memory:" and await _wide(db, kids):
        campaign, extra["activities"] = await asyncio.gather(
            _campaign_figures(db, scope_id, year, timezone, kids),
            _activities_apart(db, scope_id, year, today, timezone))
    else:
        campaign = await _campaign_figures(db, scope_id, year, timezone, kids)
        extra["activities"] = await activity_figures(db, scope_id, year, today, timezone)
    totals, goals, rows, direct = campaign
    return Figures(scope, year, totals, goals, rows, direct, extra)


async def _wide(db: Database, kids: Sequence[Unit]) -> bool:
    """Whether a scope has units two levels down (a district, not a ward or a chapter)."""
    for kid in kids:
        if await orgtree.has_children(db, kid.id):
            return True
    return False


async def _activities_apart(db: Database, scope_id: int | None, year: int, today: date,
                            timezone: tzinfo) -> ActivityFigures:
    reader = await Database.connect(db.path, migrate=False)
    try:
        return await activity_figures(reader, scope_id, year, today, timezone)
    finally:
        await reader.close()


async def _campaign_figures(
    db: Database, scope_id: int | None, year: int, timezone: tzinfo, kids: Sequence[Unit],
) -> tuple[UnitCounts, Mapping[str, float], list[Row], UnitCounts]:
    own = await per_unit(db, scope_id, year, timezone)
    by_id = await orgtree.units_by_id(db)
    rolled, direct = roll_up(own, by_id, [k.id for k in kids], scope_id)
    wanted = [k.id for k in kids] + ([scope_id] if scope_id is not None else [])
    found = await targets.for_units(db, wanted, year)
    totals = direct
    for counts in rolled.values():
        totals = totals + counts
    rows = [Row(kid, rolled[kid.id], found.get(kid.id, {})) for kid in kids]
    return totals, found.get(scope_id or 0, {}), rows, direct


def sort_rows(rows: Sequence[Row], key: str) -> list[Row]:
    """The children table in one of SORTS' orders (units without members last)."""

    def rate(part: int, whole: int) -> tuple[int, Fraction, Any]:
        if whole <= 0:
            return (1, Fraction(0), None)
        return (0, Fraction(part, whole), None)

    def order(row: Row) -> tuple[Any, ...]:
        c = row.counts
        name = sort_key(row.unit.name)
        if key == "a":
            return (*rate(c.standard_achieved, c.members)[:2], name)
        if key == "h":
            return (*rate(c.households_recognised, c.households_registered)[:2], name)
        if key == "m":
            return (-c.members, name)
        if key == "n":
            return (name,)
        return (*rate(c.standard_registered, c.members)[:2], name)

    return sorted(rows, key=order)


@dataclass(frozen=True, slots=True)
class CriteriaView:
    """What a scope's criteria breakdown may show: bot/disclosure.py's verdict on it."""

    shown: disclosure.Shown  # cells: households NOT meeting each criterion (None: hidden)
    as_of: datetime | None  # the latest release counted in the scope (None: none yet)

    @property
    def nothing_shown(self) -> bool:
        """Too few households, or not one cell may be shown: say so plainly instead."""
        return self.shown.reason is not None or all(
            value is None for value in self.shown.cells.values())


async def criteria(db: Database, scope_id: int | None, year: int, *, codes: Sequence[str],
                   k: int, now: datetime) -> CriteriaView:
    """The criteria breakdown of a scope, protected for the whole tree at once.

    Releases what is due first (storage/disclosure.py), then runs the published figures of
    every unit through `disclosure.protect`, so every scope, screen and sheet agrees.
    """
    await published.release_due(db, year, k=k, at=to_iso(now))
    by_id = await orgtree.units_by_id(db)
    children: dict[int | None, list[int]] = {}
    for unit in by_id.values():
        if unit.merged_into is None:
            children.setdefault(unit.parent_id, []).append(unit.id)

    def shown_unit(unit_id: int | None) -> int | None:
        """The visible unit a unit's households count in (a merged one: its survivor)."""
        for _ in range(64):
            unit = by_id.get(unit_id or 0)
            if unit is None or unit.merged_into is None:
                return unit_id if unit is not None else None
            unit_id = unit.parent_id
        return None

    own: dict[int | None, disclosure.Aggregate] = {}
    latest: dict[int | None, str] = {}
    for found in await published.released(db, year):
        where = shown_unit(found.unit_id)
        cells = {code: max(0, found.respondents - found.met.get(code, 0)) for code in codes}
        own[where] = own.get(where, disclosure.Aggregate()) + disclosure.Aggregate(
            found.respondents, found.failing, cells)
        latest[where] = max(latest.get(where, ""), found.released_at)
    result = disclosure.protect(children=children, own=own, codes=codes, k=k)
    inside = {scope_id} | set(_below(children, scope_id))
    stamps = [stamp for unit, stamp in latest.items() if unit in inside or scope_id is None]
    as_of = datetime.fromisoformat(max(stamps).replace("Z", "+00:00")) if stamps else None
    return CriteriaView(result.get(scope_id, disclosure.Shown(0, 0, disclosure.TOO_FEW_ANSWERED,
                                                               dict.fromkeys(codes))), as_of)


def _below(children: Mapping[int | None, Sequence[int]], unit_id: int | None) -> list[int]:
    stack, found = list(children.get(unit_id, ())), []
    while stack:
        unit = stack.pop()
        found.append(unit)
        stack.extend(children.get(unit, ()))
    return found


def criteria_lines(t: Translator, view: CriteriaView, entries: Sequence[tuple[str, str]], *,
                   k: int, timezone: tzinfo) -> list[str]:
    """The protected breakdown as plain lines (escape them for HTML).

    `entries` are (code, label) in catalog order.
    """
    shown = view.shown
    if view.as_of is None:
        return [t._("No figures have been published here yet: they appear once at least "
                    "{k} households have self-assessed.", k=k)]
    lines = [t._("Households counted: {n} · not meeting every criterion: {failing}.",
                 n=t.number(shown.respondents), failing=t.number(shown.failing))]
    if view.nothing_shown:
        lines.append(t._("There are not yet enough households here to show this breakdown "
                         "while keeping each family's answers private."))
    else:
        lines.append(t._("Households that do not meet each criterion by their own "
                         "assessment:"))
        lines += [t._("• {criterion}: {count}", criterion=label, count=cell(t, shown, code))
                  for code, label in entries]
        if any(shown.cells.get(code) is None for code, _label in entries):
            lines.append(t._("“—”: not shown, to protect privacy (a small number, (nearly) "
                             "all of the households, or a number other figures would give "
                             "away)."))
    when = view.as_of.astimezone(timezone)
    lines.append(t._("Figures as of {date}. They are updated only once at least {k} "
                     "households have changed their self-assessment, so no single family's "
                     "change can be seen.", date=t.date(when.date()), k=k))
    return lines


def cell(t: Translator, shown: disclosure.Shown, code: str) -> str:
    """A cell of a protected breakdown: its number, or "—" when it may not be shown."""
    value = shown.cells.get(code)
    return "—" if value is None else t.number(value)


async def trend(db: Database, scope_id: int | None, last_year: int, timezone: tzinfo,
                years: int = 5) -> tuple[list[YearCounts], dict[int, dict[str, float]]]:
    """Headline figures of a scope for the last `years` years, with its targets."""
    span = [y for y in range(last_year - years + 1, last_year + 1) if y >= FIRST_YEAR]
    ends = [year_bounds(y, timezone)[1] for y in span]
    found = await stats.yearly(db, scope_id, span, ends)
    goals = await targets.for_unit_years(db, scope_id, span) if scope_id is not None else {}
    return found, goals


# --- activities --------------------------------------------------------------------------------

SUNDAYS_SHOWN, SUNDAYS_CHARTED = 4, 12


@dataclass(frozen=True, slots=True)
class Sunday:
    """One environment day: members who took part, out of the members then."""

    day: date
    participants: int
    members: int


@dataclass(frozen=True, slots=True)
class ActivityFigures:
    """Activities of a scope: per type (year, month, week), and the last environment days.

    For a past year `current` is False and only the year's counts mean anything.
    """

    current: bool
    by_type: dict[str, tuple[ActivityCounts, ActivityCounts, ActivityCounts]]
    sundays: list[Sunday]


def year_span(year: int, today: date) -> tuple[date, date, bool]:
    """(first day, last day counted, whether it is the current year) of a campaign year."""
    last = min(date(year, 12, 31), today)
    return date(year, 1, 1), last, year == today.year


def last_sundays(last: date, count: int) -> list[date]:
    """The `count` Sundays up to `last`, oldest first."""
    newest = last - timedelta(days=(last.weekday() + 1) % 7)
    return [newest - timedelta(weeks=i) for i in range(count - 1, -1, -1)]


async def sundays(db: Database, scope_id: int | None, last: date, count: int,
                  timezone: tzinfo) -> list[Sunday]:
    """Environment-day participation on the `count` Sundays up to `last` (two queries)."""
    days = last_sundays(last, count)
    ends = [to_iso(datetime(d.year, d.month, d.day, tzinfo=timezone) + timedelta(days=1))
            for d in days]
    found = await stats.participation(db, scope_id, ENVIRONMENT_DAY,
                                      [d.isoformat() for d in days], ends)
    return [Sunday(date.fromisoformat(day), took, members) for day, took, members in found]


def counted_sundays(days: list[Sunday]) -> list[Sunday]:
    """The Sundays that had members here: before the first sign-up a day is no figure, not 0%."""
    return [day for day in days if day.members]


async def whole_tree(db: Database, scope_id: int | None) -> bool:
    """Whether a scope is every unit (None, or the only root)."""
    roots = await orgtree.children(db, None)
    return scope_id is None or (len(roots) == 1 and roots[0].id == scope_id)


async def activity_figures(db: Database, scope_id: int | None, year: int, today: date,
                           timezone: tzinfo) -> ActivityFigures:
    """The activity section of a scope and year (a handful of small reads)."""
    _first, last, current = year_span(year, today)
    recent = None
    if current:
        week = last - timedelta(days=last.weekday())  # Monday
        recent = (last.replace(day=1).isoformat(), week.isoformat(), last.isoformat())
    by_type = await stats.activities(db, scope_id, year=year,
                                     whole_tree=await whole_tree(db, scope_id), recent=recent)
    shown = await sundays(db, scope_id, last, SUNDAYS_SHOWN, timezone)
    return ActivityFigures(current, by_type, shown)


def quantity(t: Translator, value: float) -> str:
    """A summed quantity: whole numbers plainly, else one decimal (1.234,5)."""
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return t.number(int(rounded)) if rounded == rounded.to_integral() else t.number(rounded)
