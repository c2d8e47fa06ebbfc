"""Lay out: an export's sheets with translated headers (Summary, Units, Members, Activities)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot import polls as surveys
from bot import stats as figures_of
from bot.export.data import (
    BREATHE_ROWS,
    COUNT,
    DATE,
    PERCENT,
    QUANTITY,
    TEXT,
    Cell,
    Collected,
    Progress,
    Sheet,
    breathe,
)
from bot.i18n import N_, Translator, sort_key
from bot.stats import METRIC_BY_CODE
from storage.stats import ActivityCounts, MemberRow, UnitCounts
from storage.units import Unit

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


def meetings_sheet(t: Translator, data: Collected) -> Sheet:
    """Every unit's meetings of the year: held per kind, invitations, answers, attendance,
    members reached by awareness meetings."""
    rows = []
    for unit, depth in data.tree:
        fig = data.meetings.get(unit.id)
        if fig is None:
            continue
        rows.append([unit.code, "    " * depth + unit.name, fig.held,
                     *[fig.events.get(code, 0) for code, _label in data.meeting_kinds],
                     fig.invited, fig.yes, fig.no, fig.attended,
                     figures_of.percent(fig.attended, fig.invited), fig.reached, fig.members,
                     figures_of.percent(fig.reached, fig.members)])
    kinds = [label for _code, label in data.meeting_kinds]
    return Sheet(
        name=t._("Meetings"),
        header=[t._("Code"), t._("Unit"), t._("Meetings held"), *kinds, t._("Invitations"),
                t._("Will come"), t._("Cannot come"), t._("Present"), t._("Attendance (%)"),
                t._("Members reached by awareness meetings"), t._("Members"),
                t._("Reached (%)")],
        rows=rows,
        formats=[TEXT, TEXT, COUNT, *[COUNT] * len(kinds), COUNT, COUNT, COUNT, COUNT, PERCENT,
                 COUNT, COUNT, PERCENT],
        widths=[14, 44, 12, *[12] * len(kinds), 12, 12, 12, 12, 12, 16, 11, 12],
        freeze_columns=2)


def _given_name_key(name: str) -> tuple[Any, ...]:
    words = name.split()
    return sort_key(words[-1] if words else ""), sort_key(name)


def members_sheet(t: Translator, data: Collected, progress: Progress | None = None) -> Sheet:
    """Members by unit and given name: where she is, since when, her campaign status.

    Never criterion answers; the phone number only in a chapter's own export.
    """
    chain = _chain_of(data)
    depth = max((len(chain(m.unit_id)) for m in data.members), default=0)
    by_unit: dict[int | None, list[MemberRow]] = {}
    for member in data.members:
        by_unit.setdefault(member.unit_id, []).append(member)
    ordered = _in_order(data, by_unit)
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
    header = [t._("No."), t._("Full name"), *_level_headers(t, data, chain, depth)]
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


def _chain_of(data: Collected) -> Callable[[int | None], list[Unit]]:
    """The units from below the scope down to a unit (remembered: members share units)."""
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

    return chain


def _level_headers(t: Translator, data: Collected, chain: Callable[[int | None], list[Unit]],
                   depth: int) -> list[str]:
    """One column per level below the scope, named after the kind most units there have."""
    level_kinds: list[Counter[str]] = [Counter() for _ in range(depth)]
    for unit_id in {m.unit_id for m in data.members}:
        for level, unit in enumerate(chain(unit_id)):
            level_kinds[level][unit.kind] += 1
    return [_kind(t, kinds.most_common(1)[0][0]) if kinds else t._("Unit")
            for kinds in level_kinds]


def _in_order(data: Collected, by_unit: dict[int | None, list[MemberRow]]) -> list[MemberRow]:
    """The tree is already in Vietnamese order: members go unit by unit, by given name."""
    order: list[int | None] = [u.id for u, _depth in data.tree]
    order += sorted((u for u in by_unit if u not in set(order)), key=lambda u: u or 0)
    ordered: list[MemberRow] = []
    for unit_id in order:
        group = by_unit.get(unit_id, [])
        group.sort(key=lambda m: _given_name_key(m.full_name))
        ordered += group
        breathe()
    return ordered


def _phone(e164: str | None) -> str | None:
    if not e164:
        return None
    from bot.validators import display_phone

    return display_phone(e164)


def polls_sheet(t: Translator, data: Collected) -> Sheet:
    """One row per survey and option: the figures as its creator sees them (anonymous ones
    protected: an empty cell is hidden to protect privacy)."""
    rows = []
    for view, closed in data.polls:
        poll, found = view.poll, view.scope
        shown = surveys.labels(t, poll)
        for number, (code, label) in enumerate(shown.items(), 1):
            value = None if found.hidden else found.cells.get(code)
            rows.append([
                poll.id, poll.question, found.name, t._("closed") if closed else t._("open"),
                t._("Anonymous") if poll.anonymous else t._("Named"), found.recipients,
                found.answered, figures_of.percent(found.answered, found.recipients),
                number, label, value,
                None if value is None else figures_of.percent(value, found.counted)])
    return Sheet(
        name=t._("Surveys"),
        header=[t._("Survey"), t._("Question"), t._("Unit"), t._("State"), t._("Kind"),
                t._("Sent to"), t._("Answered"), t._("Response rate (%)"), t._("No."),
                t._("Option"), t._("Chose it"), t._("Share (%)")],
        rows=rows, formats=[COUNT, TEXT, TEXT, TEXT, TEXT, COUNT, COUNT, PERCENT, COUNT, TEXT,
                            COUNT, PERCENT],
        widths=[8, 44, 30, 10, 10, 10, 10, 12, 6, 32, 10, 10], freeze_columns=2)


def indicators_sheet(t: Translator, data: Collected) -> Sheet:
    """The unit indicators of the year as /baocao tables them (figure, target, % of target)."""
    from bot import report as reports

    report = data.report
    return Sheet(
        name=t._("Indicators"),
        title=[t._("Unit indicators {year} — {scope}", year=data.year, scope=report.scope_path),
               t._("Made on {when}", when=t.datetime(data.generated_at))],
        header=reports.table_header(t), rows=reports.table_rows(t, report),
        formats=[TEXT, TEXT, None, COUNT, None, PERCENT, TEXT], widths=[44, 14, 14, 12, 12, 12, 40])


def lay_out(t: Translator, data: Collected, progress: Progress | None = None) -> list[Sheet]:
    """All sheets of an export, in order (surveys only when the scope had any that year, the
    indicators when units entered figures)."""
    sheets = [summary_sheet(t, data), units_sheet(t, data), members_sheet(t, data, progress),
              activities_sheet(t, data), meetings_sheet(t, data)]
    if data.polls:
        sheets.append(polls_sheet(t, data))
    if data.report is not None:
        sheets.append(indicators_sheet(t, data))
    return sheets


