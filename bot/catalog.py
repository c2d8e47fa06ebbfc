"""The campaign catalog as data: the standard's qualities, the family criteria, activity types.

Read once at start from `bot/data/catalog.toml` (or `BOT_CATALOG`) with the standard library's
`tomllib` and validated strictly; any mistake is a `CatalogError` whose one-line message names
the file, the entry and what is wrong. Stored data refers to entries by `code` only, so
labels and descriptions can change freely; a code that has stored data may not disappear
(`check_stored_codes`), but it may be `retired` (kept for what was stored, no longer offered).

The family criteria come in sets versioned by campaign year (`[[criteria_sets]]`): a year maps
to exactly one set, and a household registration keeps the set it was made under, so a new set
for a year (loaded into the database with `python -m bot criteria load`, merged over the file's
sets by `with_stored_sets`) never changes what an earlier registration answered.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from storage import campaigns, criteria_sets
from storage.db import Database

CODE = re.compile(r"[a-z][a-z0-9_]{1,23}")
LOCALES = ("vi", "en")
LABEL_MAX = 50
SHORT_MAX = 22  # a button with its row to itself shows 24, with a tick or number before it
DESCRIPTION_MAX = 200
UNIT_MAX = 12
MAX_LIVE = 50  # what one message and one keyboard can show
SCHEMA = 1
SET_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,23}")
FIRST_YEAR, LAST_YEAR = 2000, 2200  # what the database accepts as a campaign year
# The older format (top-level [[criteria]]) is one set for every year; every registration made
# before sets were versioned belongs to it (migration 0010), hence its id.
LEGACY_SET = "2014"
LEGACY_NAME = ("Gia đình 5 không, 3 sạch", "“5 không, 3 sạch” family")
# Section name in the file → what one entry is called in messages.
SECTIONS = {"qualities": "quality", "criteria": "criterion", "activities": "activity",
            "event_kinds": "event kind"}
# Sections an older catalog file may lack: the shipped file's entries are used for them.
OPTIONAL_SECTIONS = ("event_kinds",)


class CatalogError(ValueError):
    """The catalog cannot be used; the message is one line naming the file and the entry."""


@dataclass(frozen=True, slots=True)
class Localized:
    """A text in every supported language."""

    vi: str
    en: str

    def __call__(self, locale: str) -> str:
        """The text in `locale` (Vietnamese for anything else)."""
        return self.en if locale == "en" else self.vi


@dataclass(frozen=True, slots=True)
class Entry:
    """A quality, a criterion or an activity type."""

    code: str
    label: Localized
    description: Localized
    retired: bool = False
    unit: Localized | None = None  # activities only: the unit of the quantity, e.g. kg
    short: Localized | None = None
    """The label on a button (a narrow phone shows about 24 characters); None: `label`."""

    def button(self, locale: str) -> str:
        """What a button shows for this entry: the short label, else the label (cut)."""
        if self.short is not None:
            return self.short(locale)
        label = self.label(locale)
        return label if len(label) <= SHORT_MAX else label[: SHORT_MAX - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class CriteriaSet:
    """The family criteria of some campaign years, e.g. "2014": "Gia đình 5 không, 3 sạch"."""

    id: str
    name: Localized
    from_year: int | None  # None: a loaded set replaced by a later load (kept for its data)
    entries: tuple[Entry, ...]  # in file order, retired too
    to_year: int | None = None

    @property
    def criteria(self) -> tuple[Entry, ...]:
        """The criteria offered on its checklist."""
        return tuple(e for e in self.entries if not e.retired)

    def codes(self) -> set[str]:
        """Every code of the set, retired ones included."""
        return {e.code for e in self.entries}

    def find(self, code: str) -> Entry | None:
        """The criterion with this code, retired or not."""
        return next((e for e in self.entries if e.code == code), None)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything in the catalog file; `qualities`/`criteria`/`activities` are the live ones.

    `entries["criteria"]` and `criteria` are the newest set's (for code that has no year).
    """

    source: str
    entries: Mapping[str, tuple[Entry, ...]]  # section → entries in file order, retired too
    criteria_sets: tuple[CriteriaSet, ...] = ()  # the file's, by first year
    stored_sets: tuple[CriteriaSet, ...] = ()  # loaded into the database: these win
    danger_words: tuple[str, ...] = ()  # /support: words that show the emergency numbers at once

    def _live(self, section: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries[section] if not e.retired)

    @property
    def qualities(self) -> tuple[Entry, ...]:
        """The standard's qualities that are offered."""
        return self._live("qualities")

    @property
    def criteria(self) -> tuple[Entry, ...]:
        """The family criteria that are offered (the self-assessment checklist)."""
        return self._live("criteria")

    @property
    def activities(self) -> tuple[Entry, ...]:
        """The activity types that are offered."""
        return self._live("activities")

    def find(self, section: str, code: str) -> Entry | None:
        """The entry with this code, retired or not."""
        return next((e for e in self.entries[section] if e.code == code), None)

    def codes(self, section: str) -> set[str]:
        """Every code of a section, retired ones included."""
        return {e.code for e in self.entries[section]}

    def set_by_id(self, set_id: str) -> CriteriaSet | None:
        """The set with this id (a loaded one before the file's)."""
        return next((s for s in (*self.stored_sets, *self.criteria_sets) if s.id == set_id),
                    None)

    def timeline(self) -> list[tuple[int, CriteriaSet]]:
        """(first year, set) in order: each set applies until the next one's first year."""
        starts: dict[int, CriteriaSet] = {}
        for s in (*self.criteria_sets, *self.stored_sets):
            if s.from_year is not None:
                starts[s.from_year] = self.set_by_id(s.id) or s
        return sorted(starts.items())

    def criteria_set(self, year: int, set_id: str | None = None) -> CriteriaSet:
        """The set a registration was made under (its stored id), else the one for `year`.

        Years before the first set use the first set.
        """
        if set_id is not None and (found := self.set_by_id(set_id)) is not None:
            return found
        timeline = self.timeline()
        return next((s for start, s in reversed(timeline) if start <= year), timeline[0][1])

    def criteria_for(self, year: int, set_id: str | None = None) -> list[Entry]:
        """The criteria offered for `year` (or under the registration's set `set_id`)."""
        return list(self.criteria_set(year, set_id).criteria)

    def with_stored(self, stored: tuple[CriteriaSet, ...]) -> Catalog:
        """This catalog with the sets loaded into the database merged over the file's."""
        merged = replace(self, stored_sets=stored)
        newest = merged.timeline()[-1][1]
        return replace(merged, entries={**self.entries, "criteria": newest.entries})


def default_path() -> Path:
    """The catalog shipped in the package."""
    return Path(str(resources.files("bot") / "data" / "catalog.toml"))


def load(path: Path | None = None) -> Catalog:
    """Read and validate a catalog file (the shipped one for None)."""
    path = path or default_path()
    return parse(read_text(path), source=str(path))


def read_text(path: Path) -> str:
    """A catalog or set file's text; an unreadable or non-UTF-8 file is one CatalogError line."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: is not UTF-8 text") from None


def _toml(text: str, source: str, keys: Collection[str]) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise CatalogError(f"{source}: unknown top-level key {unknown[0]!r}; expected "
                           f"{', '.join(keys)}")
    if data.get("schema", SCHEMA) != SCHEMA:
        raise CatalogError(f"{source}: schema must be {SCHEMA}")
    return data


def parse(text: str, *, source: str = "catalog") -> Catalog:
    """Validate catalog TOML text."""
    data = _toml(text, source, ("schema", "qualities", "criteria_sets", "criteria",
                                "activities", "danger_words", *OPTIONAL_SECTIONS))
    for name in OPTIONAL_SECTIONS:
        if name not in data and source != str(default_path()):
            data[name] = tomllib.loads(read_text(default_path()))[name]
    sets = _criteria_sets(data, source)
    entries = {name: sets[-1].entries if name == "criteria" else _section(data, name, source)
               for name in SECTIONS}
    return Catalog(source=source, entries=entries, criteria_sets=sets,
                   danger_words=_danger_words(data, source))


def _danger_words(data: Mapping[str, Any], source: str) -> tuple[str, ...]:
    """`danger_words`: up to 100 words or short phrases (1-40 characters each)."""
    raw = data.get("danger_words", [])
    if (not isinstance(raw, list) or len(raw) > 100
            or not all(isinstance(w, str) and 0 < len(w.strip()) <= 40 for w in raw)):
        raise CatalogError(f"{source}: danger_words must be a list of up to 100 words or short "
                           "phrases of 1 to 40 characters")
    return tuple(w.strip() for w in raw)


def parse_set(text: str, *, source: str, from_year: int | None) -> CriteriaSet:
    """Validate a file with one criteria set (`id`, `name`, `[[criteria]]`) for `from_year` on."""
    data = _toml(text, source, ("schema", "id", "name", "criteria"))
    data.pop("schema", None)
    return _criteria_set(data, where=source, source=source, from_year=from_year, in_file=False)


def _criteria_sets(data: Mapping[str, Any], source: str) -> tuple[CriteriaSet, ...]:
    """The file's sets by first year: every year from the first one on has exactly one."""
    if "criteria" in data:  # the older format: one set for all years
        if "criteria_sets" in data:
            raise CatalogError(f"{source}: use either [[criteria_sets]] or the older "
                               "[[criteria]], not both")
        return (CriteriaSet(LEGACY_SET, Localized(*LEGACY_NAME), FIRST_YEAR,
                            _section(data, "criteria", source)),)
    raw = data.get("criteria_sets")
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{source}: needs at least one [[criteria_sets]] entry (or the "
                           "older [[criteria]])")
    sets = sorted((_criteria_set(item, where=f"{source}: criteria_sets entry {index}",
                                 source=source) for index, item in enumerate(raw, 1)),
                  key=lambda s: s.from_year or 0)
    ids = [s.id for s in sets]
    if len(set(ids)) < len(ids):
        twice = next(i for i in ids if ids.count(i) > 1)
        raise CatalogError(f"{source}: criteria set {twice!r}: the id is used twice")
    for before, after in pairwise(sets):
        start = after.from_year or 0
        if before.to_year is None or before.to_year >= start:
            raise CatalogError(f"{source}: criteria sets {before.id!r} and {after.id!r} "
                               f"overlap: {before.id!r} needs to_year = {start - 1}")
        if before.to_year + 1 < start:
            missing = "-".join(sorted({str(before.to_year + 1), str(start - 1)}))
            raise CatalogError(f"{source}: no criteria set for {missing} (between "
                               f"{before.id!r} and {after.id!r})")
    if sets[-1].to_year is not None:
        raise CatalogError(f"{source}: criteria set {sets[-1].id!r} ends in "
                           f"{sets[-1].to_year}, so later years would have no set; leave out "
                           "its to_year")
    return tuple(sets)


def _criteria_set(item: Any, *, where: str, source: str, from_year: int | None = None,
                  in_file: bool = True) -> CriteriaSet:
    """One set; its years come from the catalog file's item, else `from_year` (the CLI's)."""
    set_id = _identifier(item, "id", SET_ID, where=where,
                         rule="1-24 lowercase ASCII letters, digits, _ or -, like \"2026\"")
    where = f"{source}: criteria set {set_id!r}"
    allowed = {"id", "name", "criteria"} | ({"from_year", "to_year"} if in_file else set())
    extra = sorted(set(item) - allowed)
    if extra:
        raise CatalogError(f"{where}: unknown key {extra[0]!r}; allowed: "
                           f"{', '.join(sorted(allowed))}")
    name = _localized(item.get("name"), f"{where}: name", LABEL_MAX)
    to_year = None
    if in_file:
        from_year = _year(item, "from_year", where)
        to_year = _year(item, "to_year", where) if "to_year" in item else None
        if to_year is not None and to_year < from_year:
            raise CatalogError(f"{where}: to_year {to_year} is before from_year {from_year}")
    return CriteriaSet(set_id, name, from_year,
                       _section(item, "criteria", source, where=where), to_year)


def _identifier(item: Any, key: str, pattern: re.Pattern[str], *, where: str, rule: str) -> str:
    """The table's id or code, checked against its pattern."""
    if not isinstance(item, dict):
        raise CatalogError(f"{where}: must be a table")
    value = item.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise CatalogError(f"{where}: {key} must be {rule} (got {value!r})")
    return value


def _year(item: Mapping[str, Any], key: str, where: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not (
            FIRST_YEAR <= value <= LAST_YEAR):
        raise CatalogError(f"{where}: {key} must be a year from {FIRST_YEAR} to {LAST_YEAR} "
                           f"(got {value!r})")
    return value


def _section(data: Mapping[str, Any], name: str, source: str, *,
             where: str | None = None) -> tuple[Entry, ...]:
    """The entries of one section (`where` names the criteria set they belong to)."""
    source = where or source
    raw = data.get(name)
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{source}: needs at least one [[{name}]] entry")
    seen: set[str] = set()
    entries = []
    for index, item in enumerate(raw, 1):
        where = f"{source}: {name} entry {index}"
        code = _identifier(item, "code", CODE, where=where,
                           rule="2-24 lowercase ASCII letters, digits or _, starting with a letter")
        where = f"{source}: {name} {code!r}"
        if code in seen:
            raise CatalogError(f"{where}: the code is used twice")
        seen.add(code)
        allowed = {"code", "label", "short", "description", "retired"} | (
            {"unit"} if name == "activities" else set())
        extra = sorted(set(item) - allowed)
        if extra:
            raise CatalogError(f"{where}: unknown key {extra[0]!r}; allowed: "
                               f"{', '.join(sorted(allowed))}")
        retired = item.get("retired", False)
        if not isinstance(retired, bool):
            raise CatalogError(f"{where}: retired must be true or false")
        unit = item.get("unit")
        entries.append(Entry(
            code=code,
            label=_localized(item.get("label"), f"{where}: label", LABEL_MAX),
            description=_localized(item.get("description"), f"{where}: description",
                                   DESCRIPTION_MAX),
            retired=retired,
            unit=None if unit is None else _localized(unit, f"{where}: unit", UNIT_MAX),
            short=_short(item, where),
        ))
    live = sum(1 for e in entries if not e.retired)
    if not live:
        raise CatalogError(f"{source}: every {SECTIONS[name]} in [[{name}]] is retired")
    if live > MAX_LIVE:
        raise CatalogError(f"{source}: [[{name}]] offers {live} entries; at most {MAX_LIVE} "
                           f"(mark old ones retired = true)")
    return tuple(entries)


def _short(item: Mapping[str, Any], where: str) -> Localized | None:
    """The button label, if given (a longer label without one is cut on its buttons)."""
    return _localized(item["short"], f"{where}: short", SHORT_MAX) if "short" in item else None


def _localized(value: Any, where: str, limit: int) -> Localized:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: must be a table like {{ vi = \"…\", en = \"…\" }}")
    extra = sorted(set(value) - set(LOCALES))
    if extra:
        raise CatalogError(f"{where}: unknown language {extra[0]!r}; expected vi and en")
    texts = {}
    for locale in LOCALES:
        text = value.get(locale)
        if not isinstance(text, str) or not text.strip():
            raise CatalogError(f"{where}.{locale}: missing or empty")
        text = unicodedata.normalize("NFC", text.strip())
        if "\n" in text or len(text) > limit:
            raise CatalogError(f"{where}.{locale}: must be one line of at most {limit} "
                               f"characters (has {len(text)})")
        texts[locale] = text
    return Localized(**texts)


async def with_stored_sets(db: Database, catalog: Catalog) -> Catalog:
    """The catalog with the criteria sets loaded into the database (they win over the file)."""
    stored = tuple(parse_set(s.definition, source=f"database: criteria set {s.id!r}",
                             from_year=s.from_year)
                   for s in await criteria_sets.stored(db))
    return catalog.with_stored(stored) if stored else catalog


async def check_stored_codes(db: Database, catalog: Catalog) -> None:
    """Refuse a catalog that dropped a code (or a criteria set) which stored data still uses."""
    used = await campaigns.codes_in_use(db)
    in_use = await campaigns.criteria_sets_in_use(db)
    for (year, set_id), count in sorted(in_use.items(),
                                        key=lambda item: (item[0][0], item[0][1] or "")):
        if set_id is not None and catalog.set_by_id(set_id) is None:
            raise CatalogError(
                f"{catalog.source}: criteria set {set_id!r} was removed, but {count} household "
                f"registration(s) of {year} use it; put it back (give it a to_year to stop "
                "using it for later years)")
    stored = await campaigns.criterion_codes(db)
    for year, set_id in sorted(in_use, key=lambda key: (key[0], key[1] or "")):
        criteria_set = catalog.criteria_set(year, set_id)
        if not (outside := stored - set(criteria_set.codes())):
            continue  # the common case: no answer is looked at
        if found := await campaigns.answers_using(db, year, set_id, outside):
            code, count = min(found.items())
            raise CatalogError(
                f"{catalog.source}: criterion code {code!r} was removed, but {count} stored "
                f"record(s) use it (criteria set {criteria_set.id!r}, {year}); put it back "
                "(mark it retired = true to stop offering it)"
            )
    for section, kind in SECTIONS.items():
        if section == "criteria":
            continue  # per set, above
        for code, count in sorted(used.get(section, {}).items()):
            if code not in catalog.codes(section):
                raise CatalogError(
                    f"{catalog.source}: {kind} code {code!r} was removed, but {count} stored "
                    f"record(s) use it; put it back (mark it retired = true to stop offering it)"
                )


def campaign_year(now: datetime, timezone: tzinfo) -> int:
    """The campaign year at instant `now`: the calendar year where the union is (local time)."""
    return now.astimezone(timezone).year
