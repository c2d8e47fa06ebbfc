"""Loading the union's criteria set for a year: `python -m bot criteria load FILE.toml --year Y`.

The file holds one set: `id`, `name = { vi = "…", en = "…" }` and its `[[criteria]]` (the same
rules as the catalog's). It applies from that year until the next set's first year. The set is
stored in the database (`storage.criteria_sets`), so it is one command and survives upgrades of
the shipped catalog; the bot merges it over the catalog file's sets when it starts.
Registrations already made keep the set they were made under: a set that registrations use may
only be reworded (same codes, same retired flags); changed criteria need a new id.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.catalog import (
    FIRST_YEAR,
    LAST_YEAR,
    Catalog,
    CatalogError,
    CriteriaSet,
    Entry,
    parse_set,
    read_text,
)
from storage import campaigns, criteria_sets
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Plan:
    """What loading a set for a year would change."""

    new: CriteriaSet
    current: CriteriaSet  # the set that applies to the year now
    to_year: int | None  # the last year the new set will apply to (None: every later year)
    registrations: Counter[str | None]  # set id → household registrations in those years
    unchanged: bool  # exactly this was loaded for this year already
    definition: str


def read(path: Path, *, year: int) -> tuple[CriteriaSet, str]:
    """Validate a set file; an error is one line naming the file, the line and the field."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CatalogError(f"--year must be from {FIRST_YEAR} to {LAST_YEAR} (got {year})")
    text = read_text(path)
    try:
        return parse_set(text, source=str(path), from_year=year), text
    except CatalogError as exc:
        line = _line_of(text, str(exc))
        if line is None:
            raise
        raise CatalogError(str(exc).replace(f"{path}: ", f"{path}: line {line}: ", 1)) from None


def _line_of(text: str, message: str) -> int | None:
    """The line an entry error points at: the field's line in the entry named by its code, its
    `code = "…"` line, or its Nth `[[criteria]]`."""
    lines = text.splitlines()
    if found := re.search(r"criteria entry (\d+)", message):
        headers = [n for n, line in enumerate(lines, 1) if line.strip() == "[[criteria]]"]
        index = int(found.group(1)) - 1
        return headers[index] if index < len(headers) else None
    if not (found := re.search(r"criteria '([a-z0-9_]+)'(?:: (\w+))?", message)):
        return None
    code = re.compile(rf"""\s*code\s*=\s*["']{found.group(1)}["']""")
    start = next((n for n, line in enumerate(lines, 1) if code.match(line)), None)
    if start is None or found.group(2) is None:
        return start
    field = re.compile(rf"\s*{found.group(2)}\s*=")
    for number in range(start, len(lines)):  # the entry's lines after `code`
        if lines[number].lstrip().startswith("["):
            break
        if field.match(lines[number]):
            return number + 1
    return start


async def plan(db: Database, catalog: Catalog, path: Path, *, year: int) -> Plan:
    """Check the file against the catalog and the stored data; nothing is written."""
    new, definition = read(path, year=year)
    used = Counter[str | None]()
    for (_year, set_id), count in (await campaigns.criteria_sets_in_use(db)).items():
        used[set_id] += count
    existing = catalog.set_by_id(new.id)
    if existing is not None and used[new.id] and _shape(existing) != _shape(new):
        raise CatalogError(
            f"{path}: criteria set {new.id!r} is used by {used[new.id]} household "
            "registration(s): only its labels and descriptions may change; give the changed "
            "criteria a new id")
    later = [start for start, _set in catalog.timeline() if start > year]
    to_year = min(later) - 1 if later else None
    registrations = Counter[str | None]()
    in_years = await campaigns.criteria_sets_in_use(db, from_year=year,
                                                    to_year=to_year or LAST_YEAR)
    for (_year, set_id), count in in_years.items():
        registrations[set_id] += count
    unchanged = any(s == new for s in catalog.stored_sets)
    return Plan(new=new, current=catalog.criteria_set(year), to_year=to_year,
                registrations=registrations, unchanged=unchanged, definition=definition)


def _shape(criteria_set: CriteriaSet) -> list[tuple[str, bool]]:
    """What registrations depend on: the codes and which are offered."""
    return [(e.code, e.retired) for e in criteria_set.entries]


def _changed(old: Entry, new: Entry) -> bool:
    return old.label != new.label or old.description != new.description


def describe(plan: Plan) -> list[str]:
    """The changes for that year, one line each (labels in Vietnamese, as the union writes)."""
    new, current = plan.new, plan.current
    years = (f"{new.from_year} and later years" if plan.to_year is None
             else f"{new.from_year}-{plan.to_year}")
    lines = [f"criteria set {new.id!r} “{new.name.vi}” for {years}; now {current.id!r} "
             f"“{current.name.vi}”"]
    if plan.unchanged:
        return [*lines, "no change: exactly this set is loaded for this year already"]
    if new.name != current.name:
        lines.append(f"  name: “{current.name.vi}” → “{new.name.vi}”")
    old = {e.code: e for e in current.criteria}
    fresh = {e.code: e for e in new.criteria}
    lines += [f"  + added: {code} “{e.label.vi}”" for code, e in fresh.items() if code not in old]
    lines += [f"  - removed: {code} “{e.label.vi}”" for code, e in old.items()
              if code not in fresh]
    lines += [f"  ~ reworded: {code} “{old[code].label.vi}” → “{e.label.vi}”"
              if old[code].label != e.label else f"  ~ reworded: {code} (its description)"
              for code, e in fresh.items() if code in old and _changed(old[code], e)]
    if len(lines) == 1:
        lines.append("  the same criteria, labels and descriptions")
    total = sum(plan.registrations.values())
    if total:
        kept = ", ".join(f"{set_id!r}: {count}" if set_id else f"the set of its year: {count}"
                         for set_id, count in sorted(plan.registrations.items(),
                                                     key=lambda item: item[0] or ""))
        lines.append(f"  {total} household registration(s) in {years} exist; they keep the "
                     f"set they were made under ({kept})")
    else:
        lines.append(f"  no household registration in {years} yet")
    return lines


async def apply(db: Database, plan: Plan, *, at: str) -> bool:
    """Store the set for its year; False if nothing changed."""
    if plan.unchanged:
        return False
    assert plan.new.from_year is not None
    return await criteria_sets.save(db, set_id=plan.new.id, from_year=plan.new.from_year,
                                    definition=plan.definition, at=at)


def timeline(catalog: Catalog) -> list[str]:
    """Which set applies to which years (`criteria list`)."""
    starts = catalog.timeline()
    lines = []
    for index, (start, found) in enumerate(starts):
        end = f"{starts[index + 1][0] - 1}" if index + 1 < len(starts) else ""
        where = "database" if found in catalog.stored_sets else "catalog file"
        lines.append(f"{start}-{end}  {found.id}  “{found.name.vi}”  "
                     f"{len(found.criteria)} criteria  ({where})")
    return lines
