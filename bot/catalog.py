"""The campaign catalog as data: the standard's qualities, the family criteria, activity types.

Read once at start from `bot/data/catalog.toml` (or `BOT_CATALOG`) with the standard library's
`tomllib` and validated strictly; any mistake is a `CatalogError` whose one-line message names
the file, the entry and what is wrong. Stored data refers to entries by `code` only, so
labels and descriptions can change freely; a code that has stored data may not disappear
(`check_stored_codes`), but it may be `retired` (kept for what was stored, no longer offered).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any

from storage import campaigns
from storage.db import Database

CODE = re.compile(r"[a-z][a-z0-9_]{1,23}")
LOCALES = ("vi", "en")
LABEL_MAX = 50
DESCRIPTION_MAX = 200
UNIT_MAX = 12
MAX_LIVE = 50  # what one message and one keyboard can show
SCHEMA = 1
# Section name in the file → what one entry is called in messages.
SECTIONS = {"qualities": "quality", "criteria": "criterion", "activities": "activity"}


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


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything in the catalog file; `qualities`/`criteria`/`activities` are the live ones."""

    source: str
    entries: Mapping[str, tuple[Entry, ...]]  # section → entries in file order, retired too

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


def default_path() -> Path:
    """The catalog shipped in the package."""
    return Path(str(resources.files("bot") / "data" / "catalog.toml"))


def load(path: Path | None = None) -> Catalog:
    """Read and validate a catalog file (the shipped one for None)."""
    path = path or default_path()
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CatalogError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{source}: is not UTF-8 text") from None
    return parse(text, source=source)


def parse(text: str, *, source: str = "catalog") -> Catalog:
    """Validate catalog TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"schema", *SECTIONS})
    if unknown:
        raise CatalogError(f"{source}: unknown top-level key {unknown[0]!r}; expected "
                           f"schema, {', '.join(SECTIONS)}")
    if data.get("schema", SCHEMA) != SCHEMA:
        raise CatalogError(f"{source}: schema must be {SCHEMA}")
    entries = {name: _section(data, name, source) for name in SECTIONS}
    return Catalog(source=source, entries=entries)


def _section(data: Mapping[str, Any], name: str, source: str) -> tuple[Entry, ...]:
    raw = data.get(name)
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{source}: needs at least one [[{name}]] entry")
    seen: set[str] = set()
    entries = []
    for index, item in enumerate(raw, 1):
        where = f"{source}: {name} entry {index}"
        if not isinstance(item, dict):
            raise CatalogError(f"{where}: must be a table")
        code = item.get("code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise CatalogError(f"{where}: code must be 2-24 lowercase ASCII letters, digits or _,"
                               f" starting with a letter (got {code!r})")
        where = f"{source}: {name} {code!r}"
        if code in seen:
            raise CatalogError(f"{where}: the code is used twice")
        seen.add(code)
        allowed = {"code", "label", "description", "retired"} | (
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
        ))
    live = sum(1 for e in entries if not e.retired)
    if not live:
        raise CatalogError(f"{source}: every {SECTIONS[name]} in [[{name}]] is retired")
    if live > MAX_LIVE:
        raise CatalogError(f"{source}: [[{name}]] offers {live} entries; at most {MAX_LIVE} "
                           f"(mark old ones retired = true)")
    return tuple(entries)


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


async def check_stored_codes(db: Database, catalog: Catalog) -> None:
    """Refuse a catalog that dropped a code which stored data still uses."""
    used = await campaigns.codes_in_use(db)
    for section, kind in SECTIONS.items():
        for code, count in sorted(used.get(section, {}).items()):
            if code not in catalog.codes(section):
                raise CatalogError(
                    f"{catalog.source}: {kind} code {code!r} was removed, but {count} stored "
                    f"record(s) use it; put it back (mark it retired = true to stop offering it)"
                )


def campaign_year(now: datetime, timezone: tzinfo) -> int:
    """The campaign year at instant `now`: the calendar year where the union is (local time)."""
    return now.astimezone(timezone).year
