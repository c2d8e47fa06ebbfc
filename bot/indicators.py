"""Unit indicators: the catalog, the numbers typed for them, report periods, and roll-up.

The catalog is `bot/data/indicators.toml` (or `BOT_INDICATORS`), read once at start and checked
like the campaign catalog (bot/catalog.py): a mistake is one `CatalogError` line naming the
entry. Figures are entered per unit and month (storage/figures.py); a period of a report is a
range of months. Up the tree a unit's own figure stands for its whole subtree (a ward that
enters its total is not added to its chapters' figures again); otherwise the units below are
summed. What the assistant knows itself (members registered, registrations) is never typed:
it comes from bot/stats.py.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bot.catalog import CODE, LABEL_MAX, UNIT_MAX, CatalogError, Localized, _localized
from bot.i18n import nfc
from storage import figures
from storage.db import Database
from storage.figures import Figure
from storage.units import Unit

KINDS = {"count": Decimal(10) ** 7, "money": Decimal(10) ** 12, "decimal": Decimal(10) ** 7}
STYLES = ("rate", "excess", "assigned")
REPORT_MAX = 200
# The union's headline figures: worded by the report itself (bot/report.py).
OFFICIAL_MEMBERS, NEW_MEMBERS = "official_members", "new_members"
PAPER_STANDARD_REG, PAPER_STANDARD_OK = "paper_standard_reg", "paper_standard_ok"
PAPER_HOUSEHOLDS_REG, PAPER_HOUSEHOLDS_OK = "paper_households_reg", "paper_households_ok"
HEADLINE = (OFFICIAL_MEMBERS, NEW_MEMBERS, PAPER_STANDARD_REG, PAPER_STANDARD_OK,
            PAPER_HOUSEHOLDS_REG, PAPER_HOUSEHOLDS_OK)


@dataclass(frozen=True, slots=True)
class Indicator:
    """Something a unit reports upward, e.g. poor households helped (hộ)."""

    code: str
    label: Localized
    unit: Localized  # unit of measure: người, hộ, đồng, kg
    kind: str = "count"  # count | money | decimal
    over_time: str = "sum"  # sum (a month's work) | last (a state, e.g. membership)
    report: Localized | None = None  # the report's sentence, with {figure}
    style: str = "rate"
    of: str | None = None  # "chapters": a part of the chapters of the scope
    retired: bool = False

    @property
    def stock(self) -> bool:
        """A state (the newest figure counts), not a month's work (added up)."""
        return self.over_time == "last"


@dataclass(frozen=True, slots=True)
class Indicators:
    """The catalog, in file order (retired ones too)."""

    source: str
    entries: tuple[Indicator, ...]

    @property
    def live(self) -> tuple[Indicator, ...]:
        """The indicators offered in /figures."""
        return tuple(i for i in self.entries if not i.retired)

    def find(self, code: str) -> Indicator | None:
        """The indicator with this code, retired or not."""
        return next((i for i in self.entries if i.code == code), None)


def default_path() -> Path:
    """The catalog shipped in the package."""
    return Path(str(resources.files("bot") / "data" / "indicators.toml"))


@cache
def load(path: Path | None = None) -> Indicators:
    """Read and check the indicator catalog (the shipped one for None); read once per file."""
    path = path or default_path()
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    return parse(text, source=str(path))


def parse(text: str, *, source: str = "indicators") -> Indicators:
    """Check indicator catalog TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None
    if set(data) - {"schema", "indicators"} or data.get("schema", 1) != 1:
        raise CatalogError(f"{source}: expected schema = 1 and [[indicators]] only")
    raw = data.get("indicators")
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{source}: needs at least one [[indicators]] entry")
    entries = [_entry(item, f"{source}: indicators entry {n}") for n, item in enumerate(raw, 1)]
    codes = [e.code for e in entries]
    for code in codes:
        if codes.count(code) > 1:
            raise CatalogError(f"{source}: indicator {code!r}: the code is used twice")
    for code in HEADLINE:
        if code not in codes:
            raise CatalogError(f"{source}: indicator {code!r} is missing (the report needs it)")
    return Indicators(source, tuple(entries))


_KEYS = {"code", "label", "unit", "kind", "over_time", "report", "style", "of", "retired"}


def _entry(item: Any, where: str) -> Indicator:
    if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not CODE.fullmatch(
            item["code"]):
        raise CatalogError(f"{where}: code must be 2-24 lowercase ASCII letters, digits or _")
    where = where.rsplit(":", 1)[0] + f": indicator {item['code']!r}"
    extra = sorted(set(item) - _KEYS)
    if extra:
        raise CatalogError(f"{where}: unknown key {extra[0]!r}; allowed: "
                           f"{', '.join(sorted(_KEYS))}")
    choices = {"kind": tuple(KINDS), "over_time": ("sum", "last"), "style": STYLES,
               "of": ("chapters",)}
    for key, allowed in choices.items():
        if key in item and item[key] not in allowed:
            raise CatalogError(f"{where}: {key} must be one of {', '.join(allowed)}")
    if not isinstance(item.get("retired", False), bool):
        raise CatalogError(f"{where}: retired must be true or false")
    report = None
    if "report" in item:
        report = _localized(item["report"], f"{where}: report", REPORT_MAX)
        if "{figure}" not in report.vi or "{figure}" not in report.en:
            raise CatalogError(f"{where}: report needs {{figure}} in vi and en")
    elif item["code"] not in HEADLINE:
        raise CatalogError(f"{where}: needs a report sentence")
    return Indicator(
        code=item["code"], label=_localized(item.get("label"), f"{where}: label", LABEL_MAX),
        unit=_localized(item.get("unit"), f"{where}: unit", UNIT_MAX),
        kind=item.get("kind", "count"), over_time=item.get("over_time", "sum"), report=report,
        style=item.get("style", "rate"), of=item.get("of"), retired=item.get("retired", False))


# --- typed numbers ---------------------------------------------------------------------------

_WHOLE = re.compile(r"\d{1,3}(?:\.\d{3})+|\d+")  # 1.500.000 or 1500: dots group thousands
_DECIMAL = re.compile(r"(\d{1,3}(?:\.\d{3})+|\d+),(\d+)")  # 1,5 or 1.234,75


@dataclass(frozen=True, slots=True)
class Parsed:
    """A typed figure: its value, or why it is refused (format, negative, decimal, huge)."""

    value: Decimal | None
    error: str | None = None


def parse_number(text: str, indicator: Indicator) -> Parsed:
    """A figure typed the Vietnamese way: "1.500" is 1500, "1,5" is 1.5 (decimals only where
    the unit of measure allows them; money and people are whole numbers)."""
    raw = re.sub(r"[\s\u00a0]", "", nfc(text)).removesuffix("đ")
    negative = raw.startswith(("-", "−"))
    raw = raw.lstrip("-−+")
    if _WHOLE.fullmatch(raw):
        value = Decimal(raw.replace(".", ""))
    elif (match := _DECIMAL.fullmatch(raw)) is not None:
        try:
            value = Decimal(f"{match.group(1).replace('.', '')}.{match.group(2)}")
        except InvalidOperation:
            return Parsed(None, "format")
        if indicator.kind != "decimal" and value != value.to_integral_value():
            return Parsed(None, "decimal")
        if len(match.group(2)) > 2 and value != value.to_integral_value():
            return Parsed(None, "format")
    else:
        return Parsed(None, "format")
    if negative and value != 0:
        return Parsed(None, "negative")
    if value > KINDS[indicator.kind]:
        return Parsed(None, "huge")
    return Parsed(value.normalize() if value == value.to_integral_value() else value)


def limit(indicator: Indicator) -> Decimal:
    """The largest figure accepted for an indicator."""
    return KINDS[indicator.kind]


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """A range of local months a report covers."""

    kind: str  # month | quarter | half | year | term
    first: str  # 'YYYY-MM'
    last: str
    year: int  # the (first) year
    number: int = 0  # the month, quarter or half
    end_year: int = 0  # a term's last year

    @property
    def last_year(self) -> int:
        """The calendar year the period ends in."""
        return int(self.last[:4])

    @property
    def years(self) -> list[int]:
        """Every calendar year the period touches."""
        return list(range(int(self.first[:4]), self.last_year + 1))


def month_key(year: int, month: int) -> str:
    """'2026-05'."""
    return f"{year:04d}-{month:02d}"


def month_period(year: int, month: int) -> Period:
    """One month."""
    return Period("month", month_key(year, month), month_key(year, month), year, month)


def current_term(year: int, term_start: int, term_years: int = 5) -> tuple[int, int]:
    """(first, last year) of the congress term of `year`: 2021-2026 for 2022 to 2026.

    A term's last year is its congress year, when the term's report is written, so 2026 still
    belongs to 2021-2026 (and 2021 to 2016-2021).
    """
    start = term_start + (year - term_start - 1) // term_years * term_years
    return start, start + term_years


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("month", re.compile(r"(?:t|th|tháng)?(\d{1,2})[/.-](\d{4})")),
    ("quarter", re.compile(r"(?:q|quý|quy)(\d)[/.-](\d{4})")),
    ("half", re.compile(r"6t(2?)[/.-](\d{4})")),
    ("year", re.compile(r"(?:năm|nam)?(\d{4})")),
    ("term", re.compile(r"(?:nhiệmkỳ|nhiemky|nk|term)?(\d{4})-(\d{4})")),
    ("this_term", re.compile(r"nhiệmkỳ|nhiemky|nk|term")),
)


def parse_period(text: str, *, term_start: int, this_year: int) -> Period | None:
    """11/2026, Q3/2026 or "quý 3/2026", 6t/2026 (Jan-Jun) or 6t2/2026 (Jul-Dec), 2026,
    "nhiệm kỳ" (the current term) or 2021-2026; None if it is none of these."""
    raw = re.sub(r"\s+", "", nfc(text).casefold())
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(raw)
        if match is None:
            continue
        if kind == "month":
            month, year = int(match.group(1)), int(match.group(2))
            return month_period(year, month) if 1 <= month <= 12 else None
        if kind == "quarter":
            quarter, year = int(match.group(1)), int(match.group(2))
            if not 1 <= quarter <= 4:
                return None
            return Period("quarter", month_key(year, quarter * 3 - 2),
                          month_key(year, quarter * 3), year, quarter)
        if kind == "half":
            half, year = (2 if match.group(1) else 1), int(match.group(2))
            return Period("half", month_key(year, half * 6 - 5), month_key(year, half * 6),
                          year, half)
        if kind == "year":
            year = int(match.group(1))
            return Period("year", month_key(year, 1), month_key(year, 12), year)
        first, last = (current_term(this_year, term_start) if kind == "this_term"
                       else (int(match.group(1)), int(match.group(2))))
        if not 0 < last - first <= 10:
            return None
        return Period("term", month_key(first, 1), month_key(last, 12), first, end_year=last)
    return None


def months_between(first: date, last: date) -> int:
    """How many months `last` is after `first`."""
    return (last.year - first.year) * 12 + last.month - first.month


# --- roll-up ---------------------------------------------------------------------------------


def subtree(by_id: Mapping[int, Unit], root: int | None) -> set[int]:
    """The ids of a unit and every unit below it (every unit for None)."""
    if root is None:
        return set(by_id)
    kids: dict[int | None, list[int]] = {}
    for unit in by_id.values():
        kids.setdefault(unit.parent_id, []).append(unit.id)
    found, stack = set(), [root]
    while stack:
        unit_id = stack.pop()
        if unit_id not in found:
            found.add(unit_id)
            stack.extend(kids.get(unit_id, ()))
    return found


def roll_up(figures: Iterable[Figure], by_id: Mapping[int, Unit], inside: set[int], *,
            stocks: set[str]) -> dict[str, Decimal]:
    """Indicator → total over the units `inside`: a unit's own figure stands for its subtree.

    Flows are matched month by month (a ward's May total covers its chapters' May figures);
    stocks (already the newest per unit) by indicator.
    """
    entered: set[tuple[int, str, str]] = set()
    kept = [f for f in figures if f.unit_id in inside]
    for f in kept:
        entered.add((f.unit_id, f.indicator, "" if f.indicator in stocks else f.month))
    totals: dict[str, Decimal] = {}
    for f in kept:
        month = "" if f.indicator in stocks else f.month
        unit = by_id.get(f.unit_id)
        covered = False
        for _ in range(64):
            if unit is None or unit.parent_id is None or unit.parent_id not in inside:
                break
            if (unit.parent_id, f.indicator, month) in entered:
                covered = True
                break
            unit = by_id.get(unit.parent_id)
        if not covered:
            totals[f.indicator] = totals.get(f.indicator, Decimal(0)) + exact(f.value)
    return totals


def exact(value: float) -> Decimal:
    """A stored (or summed) figure as the number typed: two decimals at most."""
    return Decimal(str(round(value, 2))).normalize() + 0


async def flow_totals(db: Database, by_id: Mapping[int, Unit], inside: set[int], *,
                      first: str, last: str, codes: Sequence[str]) -> dict[str, Decimal]:
    """Indicator → total of the flows over months first..last, as `roll_up` counts them.

    The sums per unit come from SQLite; only the (indicator, month) pairs that a unit with
    units below it entered are read row by row, to take out what its own figure stands for.
    """
    totals: dict[str, Decimal] = {}
    for unit_id, code, total in await figures.sums(db, first, last, codes):
        if unit_id in inside:
            totals[code] = totals.get(code, Decimal(0)) + exact(total)
    parents = {u.parent_id for u in by_id.values() if u.parent_id is not None} & inside
    wanted = set(codes)
    pairs = {(f.indicator, f.month) for f in await figures.at_units(db, parents, first, last)
             if f.indicator in wanted}
    for code, month in sorted(pairs):
        group = await figures.of_month(db, code, month)
        kept = roll_up(group, by_id, inside, stocks=set()).get(code, Decimal(0))
        naive = sum((exact(f.value) for f in group if f.unit_id in inside), Decimal(0))
        totals[code] = totals.get(code, Decimal(0)) + kept - naive
    return totals


def is_chapter(unit: Unit, has_kids: bool) -> bool:
    """A unit that reports figures of its own (a chapter; a leaf that is not a group)."""
    return unit.merged_into is None and (unit.kind == "chapter" or (
        not has_kids and unit.kind != "group"))


def chapters(by_id: Mapping[int, Unit], inside: set[int]) -> list[Unit]:
    """The reporting units (chapters) among `inside`."""
    parents = {u.parent_id for u in by_id.values() if u.merged_into is None}
    return [u for u in by_id.values() if u.id in inside and is_chapter(u, u.id in parents)]
