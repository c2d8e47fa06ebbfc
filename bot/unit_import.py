"""Loading the organisation tree from CSV (code,name,kind,parent_code)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

from bot import orgtree
from bot.i18n import nfc
from storage import units
from storage.db import Database
from storage.units import UnitRow

HEADER = ["code", "name", "kind", "parent_code"]
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,40}")


class ImportError_(ValueError):
    """The file is wrong; the message names the line and the field. Nothing was changed."""


def parse_csv(text: str) -> tuple[list[UnitRow], dict[str, int]]:
    """Validate the whole file: rows with parents before children, and each code's line."""
    reader = csv.reader(io.StringIO(nfc(text.lstrip("\ufeff"))))
    rows: list[UnitRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        line_no = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        cells = [cell.strip() for cell in record]
        if line_no == 1 and [c.lower() for c in cells] == HEADER:
            continue
        if len(cells) != 4:
            raise ImportError_(
                f"line {line_no}: expected 4 fields (code,name,kind,parent_code), got {len(cells)}"
            )
        code, name, kind, parent = cells
        if not _CODE.fullmatch(code):
            raise ImportError_(
                f"line {line_no}, field code: {code!r} must be 1-40 letters, digits, . _ -"
            )
        if code.lower() in seen:
            raise ImportError_(
                f"line {line_no}, field code: {code!r} already on line {seen[code.lower()]}"
            )
        if not name or len(name) > 200:
            raise ImportError_(f"line {line_no}, field name: must be 1-200 characters")
        if not re.fullmatch(r"[a-z_]{1,30}", kind):
            raise ImportError_(
                f"line {line_no}, field kind: {kind!r} must be a lowercase word "
                "such as district, ward, chapter, group"
            )
        if parent and parent.lower() == code.lower():
            raise ImportError_(
                f"line {line_no}, field parent_code: a unit cannot be its own parent"
            )
        seen[code.lower()] = line_no
        rows.append(UnitRow(code, name, kind, parent or None))
    if not rows:
        raise ImportError_("the file has no units")
    return _parents_first(rows, seen), seen


def _parents_first(rows: list[UnitRow], lines: dict[str, int]) -> list[UnitRow]:
    """Order rows so every parent defined in the file comes before its children."""
    by_code = {r.code.lower(): r for r in rows}
    ordered: list[UnitRow] = []
    state: dict[str, str] = {}

    def visit(row: UnitRow) -> None:
        key = row.code.lower()
        if state.get(key) == "done":
            return
        if state.get(key) == "active":
            raise ImportError_(
                f"line {lines[key]}, field parent_code: the units form a cycle through {row.code!r}"
            )
        state[key] = "active"
        parent = by_code.get((row.parent_code or "").lower())
        if parent is not None:
            visit(parent)
        state[key] = "done"
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


async def import_file(db: Database, path: Path) -> tuple[int, int]:
    """Validate and upsert a CSV file in one transaction: (created, updated)."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.__class__.__name__
        raise ImportError_(f"cannot read the file as UTF-8 text ({reason})") from None
    rows, lines = parse_csv(text)
    try:
        changed = await units.upsert_many(db, rows)
        orgtree.invalidate(db)
        return changed
    except units.TreeError as exc:
        where = f"line {lines[exc.code.lower()]}" if exc.code.lower() in lines else exc.code
        raise ImportError_(f"{where}, field parent_code: {exc.reason}") from None
