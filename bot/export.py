"""/export: the figures of a scope as an .xlsx workbook (or CSV files), built in the background.

Pipeline of one export job (storage/exports.py keeps the job, so a restart resumes it):
1. collect — read everything with a handful of grouped queries (members in batches of units,
   yielding to other updates between batches);
2. lay out — turn it into plain sheets with translated headers (in a worker thread);
3. write — XlsxWriter in constant memory (in the worker thread; progress counted per row);
4. send — one document (or a group of CSV files); the progress message is edited as it goes.

Sheets: Summary (the figures against targets, the privacy-protected criteria counts and the
last 12 environment days), Units (every unit of the scope with its subtree's figures),
Members (who is where and her campaign status — never criterion answers; phone numbers only
in a chapter's own export) and Activities (every unit × activity type: reports, members who
took part, quantities; reports marked doubtful left out). Percentages are whole numbers
computed by bot.stats.percent (shown with a % format), so the file says what the bot says.

The reads run on a connection of their own and the building in a worker thread that gives
the interpreter back every few rows, so interactive replies go on meanwhile.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import logging
import time
import warnings
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from telegram import InputMediaDocument
from telegram.error import TelegramError
from telegram.ext import Application

from bot import orgtree
from bot import stats as figures_of
from bot.i18n import N_, Translator, sort_key, translator
from bot.permissions import Role, load_principal, may_act_on_unit
from bot.settings import DEFAULT_DISCLOSURE_K
from bot.stats import METRIC_BY_CODE, Figures, Sunday
from storage import audit, exports, stats, targets
from storage.db import Database, to_iso
from storage.exports import ExportJob
from storage.stats import ActivityCounts, MemberRow, UnitCounts
from storage.units import Unit

log = logging.getLogger(__name__)

EXPORT_TASK = "stats-export"
PROGRESS_SECONDS = 3.0
BATCH_MEMBERS = 4000
BREATHE_ROWS = 8
KIND_LABELS = {
    "district": N_("District"),
    "ward": N_("Ward"),
    "chapter": N_("Chapter"),
    "group": N_("Group"),
}
STATUS_LABELS = {
    "active": N_("receives notices"),
    "stopped": N_("stopped notices"),
    "unreachable": N_("unreachable"),
}
STANDARD_RESULTS = {
    None: N_("not evaluated yet"),
    "achieved": N_("achieved"),
    "not_achieved": N_("not achieved"),
}
HOUSEHOLD_RESULTS = {
    None: N_("not decided yet"),
    "recognised": N_("recognised"),
    "not_recognised": N_("not recognised"),
}

FILE_WORD = N_("statistics")  # the start of the file name: thong-ke-2026-HM-HL.xlsx

COUNT, PERCENT, DATE, TEXT, QUANTITY = "count", "percent", "date", "text", "quantity"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets may read as a formula


# --- the plain data ------------------------------------------------------------------------------


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


# --- collect -------------------------------------------------------------------------------------


async def collect(db: Database, unit_id: int | None, year: int, *, timezone: Any,
                  now: datetime, locale: str, criteria_entries: Sequence[tuple[str, str]],
                  activity_entries: Sequence[tuple[str, str, str | None]] = (),
                  progress: Progress | None = None,
                  k: int = DEFAULT_DISCLOSURE_K) -> Collected:
    """Read an export's data: a few grouped queries, members in batches of units."""
    fig = await figures_of.figures(db, unit_id, year, timezone)
    own = await figures_of.per_unit(db, unit_id, year, timezone)
    by_id = dict(await orgtree.units_by_id(db))
    if unit_id is None:
        tree = await orgtree.sorted_tree(db, None)
    else:
        tree = await orgtree.sorted_tree(db, unit_id)
    # Subtree totals for every unit: children (merged ones too) summed bottom-up.
    inside = {u.id for u, _d in tree}
    children: dict[int, list[int]] = {}
    for unit in by_id.values():
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit.id)
    totals: dict[int, UnitCounts] = {}

    def total(node: int) -> UnitCounts:
        if node not in totals:
            found = own.get(node, UnitCounts())
            for child in children.get(node, []):
                found = found + total(child)
            totals[node] = found
        return totals[node]

    for unit, _depth in tree:
        total(unit.id)
    goals = await targets.for_units(db, inside, year)
    criteria = await figures_of.criteria(db, unit_id, year,
                                         codes=[c for c, _l in criteria_entries], k=k, now=now)
    _start, end = figures_of.year_bounds(year, timezone)
    # Members: one query per batch of units of about BATCH_MEMBERS members.
    batches: list[list[int]] = [[]]
    size = 0
    for unit, _depth in tree:
        count = own.get(unit.id, UnitCounts()).members
        if batches[-1] and size + count > BATCH_MEMBERS:
            batches.append([])
            size = 0
        batches[-1].append(unit.id)
        size += count
    if progress is not None:
        progress.total = max(1, fig.totals.members) * 2 + len(tree)
    member_rows: list[MemberRow] = []
    for batch in batches:
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
        scope_activities=scope_activities, sundays=sundays)
    return collected


# --- lay out -------------------------------------------------------------------------------------


def _kind(t: Translator, kind: str) -> str:
    return t._(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def _target_cell(metric_code: str, value: float | None) -> Any:
    if value is None:
        return None
    exact = figures_of.exact(value)
    number = int(exact) if exact.denominator == 1 else float(exact)
    return Cell(number, PERCENT if METRIC_BY_CODE[metric_code].percent else COUNT)


def summary_sheet(t: Translator, data: Collected) -> Sheet:
    """The figures of the scope against its targets, and the criteria counts."""
    c, goals = data.figures.totals, data.figures.targets
    where = data.scope_path or t._("every unit")
    rows: list[list[Any]] = []

    def metric_row(code: str, label: str) -> list[Any]:
        metric = METRIC_BY_CODE[code]
        n, whole = figures_of.actual(metric, c)
        check = figures_of.check(metric, c, goals.get(code))
        return [label, n, whole, figures_of.percent(n, whole) if whole is not None else None,
                _target_cell(code, goals.get(code)),
                check.achievement if check else None,
                figures_of.verdict(t, check) if check else None]

    rows.append(metric_row("members", t._("Members")))
    rows.append([t._("… receiving notices"), c.active, None, None, None, None, None])
    rows.append([t._("… who stopped notices"), c.stopped, None, None, None, None, None])
    rows.append([t._("… unreachable"), c.unreachable, None, None, None, None, None])
    rows.append(metric_row("new_members", t._("New members in the year")))
    rows.append(metric_row("standard_registered", t._("Registered for the women's standard")))
    rows.append(metric_row("standard_achieved", t._("Achieved the women's standard")))
    rows.append([t._("Did not achieve the women's standard"), c.standard_not_achieved,
                 c.members, figures_of.percent(c.standard_not_achieved, c.members), None, None,
                 None])
    rows.append(metric_row("households_registered",
                           t._("Households registered for “5 không, 3 sạch”")))
    rows.append([t._("Households self-assessed as meeting every criterion"),
                 c.households_meeting_all, c.households_registered,
                 figures_of.percent(c.households_meeting_all, c.households_registered),
                 None, None, None])
    rows.append(metric_row("households_recognised",
                           t._("Households recognised as “5 không, 3 sạch”")))
    rows.append([None] * 7)
    rows += criteria_rows(t, data)
    rows.append([None] * 7)
    rows.append([t._("Sunday environment day: members taking part")] + [None] * 6)
    for sunday in reversed(data.sundays):
        rows.append([f"  {t.date(sunday.day)}", sunday.participants, sunday.members,
                     figures_of.percent(sunday.participants, sunday.members), None, None, None])
    return Sheet(
        name=t._("Summary"),
        title=[t._("Statistics {year} — {scope}", year=data.year, scope=where),
               t._("Made on {when}", when=t.datetime(data.generated_at))],
        header=[t._("Figure"), t._("Number"), t._("Out of"), t._("Rate (%)"), t._("Target"),
                t._("% of target"), t._("Assessment")],
        rows=rows, formats=[TEXT, COUNT, COUNT, PERCENT, None, PERCENT, TEXT],
        widths=[52, 12, 12, 10, 10, 12, 36])


def criteria_rows(t: Translator, data: Collected) -> list[list[Any]]:
    """The protected criteria breakdown: the same cells /stats shows ("—": not shown)."""
    view, blank = data.criteria, [None] * 5
    if view.as_of is None:
        return [[t._("“5 không, 3 sạch” criteria: no figures published yet")] + [None] * 6]
    shown = view.shown
    rows: list[list[Any]] = [
        [t._("Households counted (published self-assessment, as of {date})",
             date=t.date(view.as_of.astimezone(data.generated_at.tzinfo).date())),
         shown.respondents, *blank],
        [t._("… not meeting every criterion"), shown.failing, *blank]]
    if view.nothing_shown:
        rows.append([t._("Not enough households to show the criteria and keep each family's "
                         "answers private.")] + [None] * 6)
        return rows
    rows.append([t._("Households NOT meeting each criterion (own assessment; “—”: not shown, "
                     "to protect privacy):")] + [None] * 6)
    for code, label in data.criteria_labels:
        value = shown.cells.get(code)
        rows.append([f"  {label}", Cell("—", TEXT) if value is None else value, *blank])
    return rows


def units_sheet(t: Translator, data: Collected) -> Sheet:
    """Every unit of the scope with its subtree's figures and its targets."""
    rows = []
    for unit, depth in data.tree:
        c = data.totals.get(unit.id, UnitCounts())
        goal = data.targets.get(unit.id, {})
        parent = data.by_id.get(unit.parent_id or 0)
        rows.append([
            unit.code, "    " * depth + unit.name, _kind(t, unit.kind),
            parent.code if parent else None, c.members, c.new,
            c.standard_registered, figures_of.percent(c.standard_registered, c.members),
            _target_cell("standard_registered", goal.get("standard_registered")),
            c.standard_achieved, figures_of.percent(c.standard_achieved, c.members),
            _target_cell("standard_achieved", goal.get("standard_achieved")),
            c.households_registered, c.households_recognised,
            _target_cell("households_recognised", goal.get("households_recognised")),
        ])
    return Sheet(
        name=t._("Units"),
        header=[t._("Code"), t._("Unit"), t._("Level"), t._("Part of"), t._("Members"),
                t._("New in the year"), t._("Registered (standard)"),
                t._("Registration rate (%)"), t._("Target: registered (%)"),
                t._("Achieved (standard)"), t._("Achievement rate (%)"),
                t._("Target: achieved (%)"), t._("Households registered"),
                t._("Households recognised"), t._("Target: households recognised")],
        rows=rows,
        formats=[TEXT, TEXT, TEXT, TEXT, COUNT, COUNT, COUNT, PERCENT, None, COUNT, PERCENT,
                 None, COUNT, COUNT, None],
        widths=[14, 44, 12, 12, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 14],
        freeze_columns=2)


def breathe() -> None:
    """Let the event loop's thread have the interpreter for a moment.

    Building a workbook is pure Python; in a worker thread it would otherwise hold the GIL
    for whole switch intervals (5 ms) at a time and slow every interactive reply. Giving it up
    every BREATHE_ROWS rows costs the export next to nothing.
    """
    time.sleep(0)


def activities_sheet(t: Translator, data: Collected) -> Sheet:
    """Every unit × activity type of the year: reports, members who took part, quantity."""
    wanted = [(code, label, unit) for code, label, unit in data.activity_labels]
    rows = []
    for unit, depth in data.tree:
        found = (data.scope_activities if data.scope is not None and unit.id == data.scope.id
                 else data.activities.get(unit.id, {}))
        for code, label, quantity_unit in wanted:
            counts = found.get(code, ActivityCounts())
            rows.append([unit.code, "    " * depth + unit.name, label, counts.reports,
                         counts.members,
                         round(counts.quantity, 1) if quantity_unit is not None else None,
                         quantity_unit])
    return Sheet(
        name=t._("Activities"),
        header=[t._("Code"), t._("Unit"), t._("Activity"), t._("Reports"),
                t._("Members who took part"), t._("Quantity"), t._("Unit of quantity")],
        rows=rows, formats=[TEXT, TEXT, TEXT, COUNT, COUNT, QUANTITY, TEXT],
        widths=[14, 44, 32, 12, 14, 12, 10], freeze_columns=3)


def _given_name_key(name: str) -> tuple[Any, ...]:
    words = name.split()
    return sort_key(words[-1] if words else ""), sort_key(name)


def members_sheet(t: Translator, data: Collected, progress: Progress | None = None) -> Sheet:
    """Members by unit and given name: where she is, since when, her campaign status.

    Never criterion answers; the phone number only in a chapter's own export.
    """
    root = data.scope.id if data.scope is not None else None
    chains: dict[int, list[Unit]] = {}

    def chain(unit_id: int | None) -> list[Unit]:
        if unit_id is None:
            return []
        if unit_id not in chains:
            unit = data.by_id.get(unit_id)
            if unit is None or unit.id == root:
                chains[unit_id] = []
            else:
                chains[unit_id] = [*chain(unit.parent_id), unit]
        return chains[unit_id]

    depth = max((len(chain(m.unit_id)) for m in data.members), default=0)
    level_kinds: list[Counter[str]] = [Counter() for _ in range(depth)]
    for unit_id in {m.unit_id for m in data.members}:
        for level, unit in enumerate(chain(unit_id)):
            level_kinds[level][unit.kind] += 1
    level_headers = [_kind(t, kinds.most_common(1)[0][0]) if kinds else t._("Unit")
                     for kinds in level_kinds]
    # The tree is already in Vietnamese order: members go unit by unit, by given name.
    by_unit: dict[int | None, list[MemberRow]] = {}
    for member in data.members:
        by_unit.setdefault(member.unit_id, []).append(member)
    order = [u.id for u, _depth in data.tree]
    order += sorted((u for u in by_unit if u not in set(order)), key=lambda u: u or 0)
    ordered: list[MemberRow] = []
    for unit_id in order:
        group = by_unit.get(unit_id, [])
        group.sort(key=lambda m: _given_name_key(m.full_name))
        ordered += group
        breathe()
    yes = t._("yes")
    statuses = {key: t._(label) for key, label in STATUS_LABELS.items()}
    standard = {key: t._(label) for key, label in STANDARD_RESULTS.items()}
    households = {key: t._(label) for key, label in HOUSEHOLD_RESULTS.items()}
    places = {unit_id: [u.name for u in chain(unit_id)] for unit_id in by_unit}
    for names in places.values():
        names += [None] * (depth - len(names))  # type: ignore[list-item]
    zone = data.generated_at.tzinfo
    rows = []
    for number, member in enumerate(ordered, 1):
        joined = datetime.fromisoformat(member.created_at.replace("Z", "+00:00"))
        row: list[Any] = [number, member.full_name, *places[member.unit_id]]
        if data.with_phone:
            row.append(_phone(member.phone))
        row += [
            statuses.get(member.status, member.status),
            joined.astimezone(zone).date(),
            yes if member.standard_registered else None,
            standard[member.standard_result] if member.standard_registered else None,
            yes if member.household_registered else None,
            households[member.household_result] if member.household_registered else None,
        ]
        rows.append(row)
        if number % BREATHE_ROWS == 0:
            breathe()
            if progress is not None:
                progress.done = len(data.members) // 2 + number // 2
    header = [t._("No."), t._("Full name"), *level_headers]
    formats: list[str | None] = [COUNT, TEXT, *[TEXT] * depth]
    widths = [7, 28, *[30] * depth]
    if data.with_phone:
        header.append(t._("Phone"))
        formats.append(TEXT)
        widths.append(15)
    header += [t._("Status"), t._("Member since"),
               t._("Registered for the standard {year}", year=data.year),
               t._("Standard {year}", year=data.year),
               t._("Household registered {year}", year=data.year),
               t._("Household {year}", year=data.year)]
    formats += [TEXT, DATE, TEXT, TEXT, TEXT, TEXT]
    widths += [18, 14, 14, 18, 14, 18]
    return Sheet(name=t._("Members"), header=header, rows=rows, formats=formats,
                 widths=widths, freeze_columns=2)


def _phone(e164: str | None) -> str | None:
    if not e164:
        return None
    from bot.validators import display_phone

    return display_phone(e164)


def lay_out(t: Translator, data: Collected, progress: Progress | None = None) -> list[Sheet]:
    """All sheets of an export, in order."""
    return [summary_sheet(t, data), units_sheet(t, data), members_sheet(t, data, progress),
            activities_sheet(t, data)]


# --- write ---------------------------------------------------------------------------------------

_NUMBER_FORMATS = {COUNT: "#,##0", PERCENT: '0"%"', QUANTITY: "#,##0.0"}


def to_xlsx(sheets: Sequence[Sheet], locale: str, progress: Progress | None = None) -> bytes:
    """The workbook (XlsxWriter, row by row in constant memory): bold frozen header rows,
    number and date formats, column widths."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": False})
    formats: dict[str, Any] = {name: workbook.add_format({"num_format": code})
                               for name, code in _NUMBER_FORMATS.items()}
    formats[DATE] = workbook.add_format(
        {"num_format": "d/m/yyyy" if locale == "vi" else "d mmm yyyy"})
    literal = workbook.add_format({"quote_prefix": True})  # Excel keeps it text when edited
    title = workbook.add_format({"bold": True, "font_size": 13})
    header = workbook.add_format({"bold": True, "bg_color": "#FCE4EC", "text_wrap": True,
                                  "valign": "top"})
    written = 0
    for sheet in sheets:
        ws = workbook.add_worksheet(sheet.name[:31])
        for index, width in enumerate(sheet.widths):
            ws.set_column(index, index, width)
        row_no = 0
        for line_no, line in enumerate(sheet.title):
            ws.write_string(row_no, 0, line, title if line_no == 0 else None)
            row_no += 1
        if sheet.title:
            row_no += 1
        for column, name in enumerate(sheet.header):
            ws.write_string(row_no, column, name, header)
        ws.freeze_panes(row_no + 1, sheet.freeze_columns)
        row_no += 1
        column_formats = [formats.get(f or "") for f in sheet.formats]
        for row in sheet.rows:
            for column, value in enumerate(row):
                if value is None:
                    continue
                style = column_formats[column] if column < len(column_formats) else None
                if isinstance(value, Cell):
                    value, style = value.value, formats.get(value.format or "")
                if isinstance(value, str):  # write_string: never read as a formula
                    ws.write_string(row_no, column, value,
                                    literal if value.startswith(FORMULA_STARTS) else None)
                elif isinstance(value, date):
                    ws.write_datetime(row_no, column, value, style)
                else:
                    ws.write_number(row_no, column, value, style)
            row_no += 1
            written += 1
            if written % BREATHE_ROWS == 0:
                breathe()
                if progress is not None:
                    progress.done = progress.total // 2 + written // 2
    workbook.close()
    return buffer.getvalue()


def neutral(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: text starting like a formula gets a "'".

    Names and notes are typed by members ("=HYPERLINK(…)", "+84…", "-"), and Excel or
    LibreOffice would evaluate them when the file is opened (formula injection).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(sheet: Sheet) -> bytes:
    """One sheet as CSV: UTF-8 with a BOM (so Excel reads Vietnamese), the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutral(name) for name in sheet.header])
    for row in sheet.rows:
        writer.writerow(["" if v is None else neutral(v.value if isinstance(v, Cell) else v)
                         for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def build(t: Translator, data: Collected, fmt: str,
          progress: Progress | None = None) -> list[tuple[str, bytes]]:
    """(file name suffix, content) of an export: one workbook, or one CSV per sheet."""
    sheets = lay_out(t, data, progress)
    if fmt == "csv":
        return [(_slug(sheet.name) + ".csv", to_csv(sheet)) for sheet in sheets]
    return [(".xlsx", to_xlsx(sheets, t.locale, progress))]


def _slug(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "-" + "".join(c if c.isalnum() else "-" for c in plain.lower()).strip("-")


# --- run -----------------------------------------------------------------------------------------


class Runner:
    """Runs an application's exports one at a time (each is CPU-heavy for a few seconds)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()


_runners: weakref.WeakKeyDictionary[Application, Runner] = weakref.WeakKeyDictionary()


def runner(application: Application) -> Runner:
    """The export runner of an application."""
    found = _runners.get(application)
    if found is None:
        found = _runners[application] = Runner()
    return found


def start(application: Application, job: ExportJob) -> asyncio.Task[None]:
    """Run an export job in the background."""
    with warnings.catch_warnings():  # tests and the demo do not `start` the application
        warnings.filterwarnings("ignore", message=".*not running won't be automatically")
        task = application.create_task(run(application, job), name=EXPORT_TASK)
    owner = runner(application)
    owner.tasks.add(task)
    task.add_done_callback(owner.tasks.discard)
    return task


async def resume(application: Application) -> int:
    """After a restart: start the exports that were queued or running; how many."""
    db = application.bot_data.db
    jobs = await exports.unfinished(db)
    for job in jobs:
        start(application, job)
    return len(jobs)


def file_name(t: Translator, data: Collected, suffix: str) -> str:
    """'thong-ke-2026-HM-HL.xlsx'."""
    code = data.scope.code if data.scope is not None else "all"
    return f"{_slug(t._(FILE_WORD)).lstrip('-')}-{data.year}-{code}{suffix}"


async def run(application: Application, job: ExportJob) -> None:
    """One export: check, collect, build in a thread, send; progress shown as it goes."""
    state = application.bot_data
    db: Database = state.db
    bot = application.bot
    t = translator(job.locale)
    progress = Progress()
    owner = runner(application)
    shown = {"at": 0.0, "text": ""}

    async def show(text: str, *, force: bool = False) -> None:
        if job.progress_message_id is None or text == shown["text"]:
            return
        if not force and time.monotonic() - shown["at"] < PROGRESS_SECONDS:
            return
        shown["at"], shown["text"] = time.monotonic(), text
        try:
            await bot.edit_message_text(text, chat_id=job.chat_id,
                                        message_id=job.progress_message_id)
        except TelegramError as exc:
            log.info("export %s: progress not shown: %s", job.id, exc.message)

    try:
        async with owner.lock:
            await exports.set_status(db, job.id, "running")
            principal = await load_principal(db, job.requested_by, state.settings.admin_ids)
            allowed = (principal.is_super_admin if job.unit_id is None else
                       await may_act_on_unit(db, principal, Role.CHAPTER_HEAD, job.unit_id))
            if not allowed:
                await exports.set_status(db, job.id, "failed", at=to_iso(state.clock.now()),
                                         error="not allowed")
                await show(t._("This export was cancelled: you no longer have access to "
                               "these figures."), force=True)
                return
            where = (html.escape(await orgtree.unit_path(db, job.unit_id))
                     if job.unit_id is not None else t._("every unit"))
            catalog = state.catalog
            entries = [(c.code, c.label(t.locale)) for c in catalog.criteria_for(job.year)
                       ] if catalog is not None else []
            activity_entries = [
                (a.code, a.label(t.locale), a.unit(t.locale) if a.unit else None)
                for a in catalog.entries["activities"] if not a.retired
            ] if catalog is not None else []
            # Its own connection (WAL readers run side by side): the export's big reads
            # never queue in front of other people's queries on the shared connection.
            reader = db if str(db.path) == ":memory:" else await Database.connect(
                db.path, migrate=False)
            try:
                data = await collect(reader, job.unit_id, job.year,
                                     timezone=state.settings.timezone, now=state.clock.now(),
                                     locale=job.locale, criteria_entries=entries,
                                     activity_entries=activity_entries,
                                     progress=progress, k=state.settings.disclosure_k)
            finally:
                if reader is not db:
                    await reader.close()
            text = t._("⏳ Preparing the export {year} for {scope}… {percent}%",
                       year=job.year, scope=where, percent=progress.percent)
            await show(text, force=True)
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(None, build, t, data, job.format, progress)
            while True:
                try:
                    files = await asyncio.wait_for(asyncio.shield(work), PROGRESS_SECONDS)
                    break
                except TimeoutError:
                    await show(t._("⏳ Preparing the export {year} for {scope}… {percent}%",
                                   year=job.year, scope=where, percent=progress.percent))
            caption = t._("📥 Statistics {year} — {scope}: {members} members.", year=job.year,
                          scope=where, members=t.number(data.figures.totals.members))
            names = [file_name(t, data, suffix) for suffix, _content in files]
            if len(files) == 1:
                await bot.send_document(job.chat_id, files[0][1], filename=names[0],
                                        caption=caption)
            else:
                media = [InputMediaDocument(content, filename=name,
                                            caption=caption if i == len(files) - 1 else None)
                         for i, (name, (_s, content)) in enumerate(zip(names, files,
                                                                       strict=True))]
                await bot.send_media_group(job.chat_id, media)
            at = to_iso(state.clock.now())
            await exports.set_status(db, job.id, "done", at=at)
            await audit.log(db, at=at, actor_id=job.requested_by, action="export",
                            unit_id=job.unit_id,
                            details={"year": job.year, "format": job.format,
                                     "members": len(data.members),
                                     "phones": data.with_phone})
            await show(t._("✅ The export {year} for {scope} has been sent.", year=job.year,
                           scope=where), force=True)
    except Exception:
        log.exception("export %s failed", job.id)
        await exports.set_status(db, job.id, "failed", at=to_iso(state.clock.now()),
                                 error="error")
        await show(t._("Sorry, the export could not be made. Please try again later."),
                   force=True)
