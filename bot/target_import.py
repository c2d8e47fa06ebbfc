"""Reading targets typed in chat or loaded from CSV (`python -m bot targets import FILE.csv`).

CSV columns: `unit_code,year,metric,value` (header optional, UTF-8). `value` is a percentage
for the percentage metrics ("95", "95%", "92,5") and a whole number for the counts ("175",
"1.750"); 0 or empty removes the target. The whole file is checked before anything is stored;
an error names the line and the field.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Collection
from pathlib import Path

from bot.i18n import nfc
from bot.stats import FIRST_YEAR, METRIC_BY_CODE, Metric
from storage import targets, units
from storage.db import Database
from storage.targets import TargetRow

HEADER = ["unit_code", "year", "metric", "value"]
COUNT_MAX = 10_000_000
_PERCENT = re.compile(r"(\d{1,3})(?:[.,](\d{1,2}))?")
_COUNT = re.compile(r"\d{1,3}(?:([.,\s])\d{3})?(?:\1\d{3})*|\d+")


class TargetFileError(ValueError):
    """The file is wrong; the message names the line and the field. Nothing was changed."""


def parse_value(text: str, metric: Metric) -> float | None:
    """A typed target: a percentage (0-100, two decimals at most) or a whole count.

    0 means "remove"; None means the text is not a valid target for this metric.
    """
    raw = nfc(text).strip().replace("\u00a0", " ")
    if metric.percent:
        raw = raw.removesuffix("%").strip()
        match = _PERCENT.fullmatch(raw)
        if match is None:
            return None
        value = float(f"{match.group(1)}.{match.group(2) or 0}")
        return value if value <= 100 else None
    if _COUNT.fullmatch(raw) is None:
        return None
    value = float(re.sub(r"[.,\s]", "", raw))
    return value if value <= COUNT_MAX else None


async def parse_file(db: Database, text: str, *, last_year: int,
                     indicators: Collection[str] = ()) -> list[TargetRow]:
    """Check a whole targets CSV against the database; the rows to store.

    `indicators`: the unit indicator codes (bot/indicators.py), whose targets are counts.
    """
    reader = csv.reader(io.StringIO(nfc(text.lstrip("\ufeff"))))
    rows: list[TargetRow] = []
    seen: dict[tuple[int, int, str], int] = {}
    for record in reader:
        line = reader.line_num
        cells = [c.strip() for c in record]
        if not cells or all(not c for c in cells):
            continue
        if line == 1 and [c.lower() for c in cells] == HEADER:
            continue
        if len(cells) != 4:
            raise TargetFileError(f"line {line}: expected 4 fields ({','.join(HEADER)}), "
                                  f"got {len(cells)}")
        code, year_text, metric_code, value_text = cells
        unit = await units.by_code(db, code) if code else None
        if unit is None:
            raise TargetFileError(f"line {line}, field unit_code: no unit with code {code!r}")
        if not (year_text.isascii() and year_text.isdigit()
                and FIRST_YEAR <= int(year_text) <= last_year):
            raise TargetFileError(f"line {line}, field year: {year_text!r} must be a year from "
                                  f"{FIRST_YEAR} to {last_year}")
        metric = METRIC_BY_CODE.get(metric_code) or (
            Metric(metric_code, metric_code, False) if metric_code in indicators else None)
        if metric is None:
            raise TargetFileError(f"line {line}, field metric: {metric_code!r} is not one of "
                                  f"{', '.join([*METRIC_BY_CODE, *indicators])}")
        value = 0.0 if value_text in ("", "0") else parse_value(value_text, metric)
        if value is None:
            expected = ("a percentage from 0 to 100, e.g. 95 or 92,5" if metric.percent
                        else f"a whole number up to {COUNT_MAX}, e.g. 175")
            raise TargetFileError(f"line {line}, field value: {value_text!r} must be {expected}")
        key = (unit.id, int(year_text), metric.code)
        if key in seen:
            raise TargetFileError(f"line {line}: the same unit, year and metric as line "
                                  f"{seen[key]}")
        seen[key] = line
        rows.append(TargetRow(unit.id, int(year_text), metric.code, value))
    if not rows:
        raise TargetFileError("the file has no targets")
    return rows


async def import_file(db: Database, path: Path, *, last_year: int, at: str,
                      indicators: Collection[str] = ()) -> tuple[int, int]:
    """Validate and store a targets CSV in one transaction: (changed, unchanged)."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetFileError(f"cannot read the file as UTF-8 text ({exc.__class__.__name__})"
                              ) from None
    rows = await parse_file(db, text, last_year=last_year, indicators=indicators)
    changed = await targets.set_many(db, rows, by=None, at=at, source=f"csv:{path.name}")
    return changed, len(rows) - changed
