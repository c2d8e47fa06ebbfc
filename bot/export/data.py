"""The plain data an export passes between its rooms: what was read, sheets of cells, progress."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import stats as figures_of
from bot.polls import Results
from bot.stats import Figures, Sunday
from storage.meetings import Figures as Figures_
from storage.stats import ActivityCounts, MemberRow, UnitCounts
from storage.units import Unit

BREATHE_ROWS = 8
COUNT, PERCENT, DATE, TEXT, QUANTITY = "count", "percent", "date", "text", "quantity"


@dataclass(frozen=True, slots=True)
class Cell:
    """A value with its own number format (count, percent, date, text)."""

    value: Any
    format: str | None = None


@dataclass
class Sheet:
    """One sheet (or CSV file): optional title lines, a frozen header row, rows of cells."""

    name: str
    header: list[str]
    rows: list[list[Any]]
    formats: list[str | None]
    widths: list[int]
    title: list[str] = field(default_factory=list)
    freeze_columns: int = 0


@dataclass
class Progress:
    """Rows written so far (updated from the worker thread, read by the event loop)."""

    total: int = 1
    done: int = 0

    @property
    def percent(self) -> int:
        return min(99, self.done * 100 // max(1, self.total))


@dataclass
class Collected:
    """Everything an export needs, read from the database."""

    scope: Unit | None
    scope_path: str
    year: int
    generated_at: datetime
    figures: Figures
    criteria: figures_of.CriteriaView  # through bot/disclosure.py, as /stats shows it
    criteria_labels: list[tuple[str, str]]
    tree: list[tuple[Unit, int]]  # visible units of the scope, depth-first, with depth
    totals: dict[int, UnitCounts]  # per unit: its subtree
    targets: dict[int, dict[str, float]]
    members: list[MemberRow]
    by_id: dict[int, Unit]
    with_phone: bool
    activity_labels: list[tuple[str, str, str | None]]  # (code, label, quantity unit)
    activities: dict[int, dict[str, ActivityCounts]]  # per unit: its subtree, the year
    scope_activities: dict[str, ActivityCounts]
    sundays: list[Sunday]
    # Meetings and events of the year per unit (its subtree), and the kinds' labels.
    meetings: dict[int, Figures_] = field(default_factory=dict)
    meeting_kinds: list[tuple[str, str]] = field(default_factory=list)
    # Surveys of the scope and year: protected results at each survey's unit, and closed or not.
    polls: list[tuple[Results, bool]] = field(default_factory=list)
    report: Any = None  # bot/report.Report of the year when units entered figures (else None)




def breathe() -> None:
    """Let the event loop's thread have the interpreter for a moment.

    Building a workbook is pure Python; in a worker thread it would otherwise hold the GIL
    for whole switch intervals (5 ms) at a time and slow every interactive reply. Giving it up
    every BREATHE_ROWS rows costs the export next to nothing.
    """
    time.sleep(0)

