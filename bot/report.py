"""The periodic report (/baocao) in the union's own words, as chat text, .docx and a sheet.

One sentence per indicator, with its figure and target as the union writes them:

    Tổng số hội viên là 33.740; phát triển thêm 1.493 hội viên
    32.053/33.740 (đạt 95%) cán bộ hội viên phụ nữ đạt chuẩn mực …
    Các cấp Hội giúp đỡ được 190/175 hộ nghèo, cận nghèo thoát nghèo, đạt 109% (vượt chỉ tiêu)

Percentages follow bot/stats.py (half up to a whole number; "vượt" only strictly above).
Every sentence says where its figure comes from: entered by the units (official), computed by
the assistant from what members did in chat, or both added together (paper results for members
not on the assistant plus the assistant's own). A rate uses the official membership as its
denominator when one was entered. Criterion answers never feed the report: only the overall
statuses /stats counts (registered, recognised).

Three indicators the assistant also records itself: propaganda meetings (events of the kind
"propaganda" that took place, not cancelled) and letters received / resolved (requests for help,
counts only, under disclosure control). A unit's entered figure stands for its subtree; the
units with none entered add what the assistant recorded, and when the entered figure differs
from the recording the sentence says so.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from bot import indicators as catalog_of
from bot import orgtree
from bot import stats as figures_of
from bot import support as support_of
from bot.i18n import N_, Translator
from bot.indicators import Indicator, Indicators, Period
from bot.settings import DEFAULT_DISCLOSURE_K, DEFAULT_SUPPORT_ACK_HOURS
from storage import figures, meetings, targets
from storage.db import Database, to_iso
from storage.units import Unit

if TYPE_CHECKING:
    from bot.catalog import Catalog
    from bot.context import AppState

ENTERED, COMPUTED, BOTH = "entered", "computed", "both"
SOURCES = {
    ENTERED: N_("reported by the units"),
    COMPUTED: N_("computed by the assistant"),
    BOTH: N_("reported by the units and computed by the assistant"),
}
NO_DATA = N_("{label}: no figures yet")
MEETINGS, RECEIVED, RESOLVED = "propaganda_meetings", "letters_received", "letters_resolved"
RECORDED = (MEETINGS, RECEIVED, RESOLVED)  # entered by units, and recorded by the assistant


@dataclass(frozen=True, slots=True)
class Line:
    """One indicator of the report: its sentence and the cells of its table row."""

    label: str
    unit: str
    text: str | None  # None: no figures for the period
    figure: Decimal | None = None
    whole: int | None = None  # what the figure is a part of (members, chapters)
    target: Fraction | None = None
    achievement: int | None = None  # % of the target
    source: str | None = None
    note: str | None = None  # what the assistant recorded, when it differs from the figure


@dataclass(frozen=True, slots=True)
class Report:
    """The report of a scope for a period."""

    scope: Unit | None
    scope_path: str
    period: Period
    period_label: str
    lines: list[Line]
    made_at: datetime

    @property
    def has_data(self) -> bool:
        """Whether anything at all was entered or computed for the period."""
        return any(line.text is not None for line in self.lines)


@dataclass(frozen=True, slots=True)
class Words:
    """Names the sentences need from the campaign catalog."""

    standard: str  # "Trung hậu - Sáng tạo - Đảm đang - Thanh lịch"
    criteria_count: int
    family: str  # "Gia đình 5 không, 3 sạch"


def period_label(t: Translator, period: Period) -> str:
    """'tháng 11/2026', 'quý 3/2026', '6 tháng đầu năm 2026', 'năm 2026', 'nhiệm kỳ 2021-2026'."""
    if period.kind == "month":
        return t._("month {month}/{year}", month=period.number, year=period.year)
    if period.kind == "quarter":
        return t._("quarter {quarter}/{year}", quarter=period.number, year=period.year)
    if period.kind == "half":
        return (t._("the first six months of {year}", year=period.year) if period.number == 1
                else t._("the last six months of {year}", year=period.year))
    if period.kind == "year":
        return t._("the year {year}", year=period.year)
    return t._("the term {first}-{last}", first=period.year, last=period.end_year)


def _source(entered: bool, computed: bool) -> str | None:
    if entered and computed:
        return BOTH
    return ENTERED if entered else COMPUTED if computed else None


def _number(t: Translator, value: Decimal | int) -> str:
    return t.number(value)


def verdict(t: Translator, style: str, achievement: int, exceeded: bool) -> str:
    """What follows 'n/target' in the union's words for a style (see indicators.toml)."""
    if style == "assigned":
        return t._(", {percent}% of the assigned target", percent=achievement)
    if style == "excess":
        if exceeded and achievement > 100:
            return t._(" ({excess}% above the set target)", excess=achievement - 100)
        if exceeded:
            return t._(" (above the set target)")
        return t._(" ({percent}% of the set target)", percent=achievement)
    if exceeded:
        return t._(", {percent}% of target (target exceeded)", percent=achievement)
    return t._(", {percent}% of target", percent=achievement)


def _against(t: Translator, value: Decimal, target: Fraction | None,
             style: str) -> tuple[str, str, int | None]:
    """(figure text, verdict text, achievement) of a figure against its target (if any)."""
    if target is None or target <= 0:
        return _number(t, value), "", None
    exact = Fraction(value)
    achievement = figures_of.percent(exact, target)
    assert achievement is not None
    text = f"{_number(t, value)}/{figures_of.number(t, target)}"
    return text, verdict(t, style, achievement, exact > target), achievement


@dataclass(frozen=True, slots=True)
class _Recorded:
    """What the assistant recorded for an indicator: per unit (its own), and whether disclosure
    control lets it be shown (False: too few requests for help in the scope)."""

    by_unit: dict[int, int]
    shown: bool = True
    sensitive: bool = False  # requests for help: a part below K is not added either


@dataclass(frozen=True, slots=True)
class _Inputs:
    entered: dict[str, Decimal]
    counts: figures_of.UnitCounts
    goals: dict[str, Fraction]
    chapters: int
    inside: set[int] = field(default_factory=set)
    recorded: dict[str, _Recorded] = field(default_factory=dict)
    covered: dict[str, set[int]] = field(default_factory=dict)  # units an entry stands for
    k: int = DEFAULT_DISCLOSURE_K


@dataclass(frozen=True, slots=True)
class _Limits:
    timezone: tzinfo
    now: datetime
    k: int
    ack_hours: float


async def _recorded(db: Database, scope_id: int | None, period: Period,
                    limits: _Limits) -> dict[str, _Recorded]:
    """Meetings held and requests for help in the period, per unit: one query each."""
    first = date.fromisoformat(f"{period.first}-01")
    year, month = int(period.last[:4]), int(period.last[5:])
    after = date(year + month // 12, month % 12 + 1, 1)  # the day after the period
    end = datetime.combine(after, time(), limits.timezone)
    held = await meetings.held_by_unit(db, kind=meetings.PROPAGANDA, first=first,
                                       last=after - timedelta(days=1),
                                       before=to_iso(min(limits.now, end)))
    _total, view, requests = await support_of.figures_between(
        db, scope_id, start=datetime.combine(first, time(), limits.timezone), end=end,
        ack_hours=limits.ack_hours, k=limits.k)
    shown = view is not None and view.reason is None
    return {MEETINGS: _Recorded(held),
            RECEIVED: _Recorded({u: c.received for u, c in requests.items()}, shown, True),
            RESOLVED: _Recorded({u: c.resolved for u, c in requests.items()}, shown, True)}


async def _covered(db: Database, by_id: Mapping[int, Unit], inside: set[int],
                   period: Period) -> dict[str, set[int]]:
    """Per recorded indicator, the units inside whose figure an entry (theirs or above) gives."""
    found: dict[str, set[int]] = {}
    for unit_id, code, _total in await figures.sums(db, period.first, period.last, RECORDED):
        if unit_id in inside:
            found.setdefault(code, set()).update(catalog_of.subtree(by_id, unit_id) & inside)
    return found


async def _inputs(db: Database, catalog: Indicators, scope_id: int | None, period: Period, *,
                  limits: _Limits, this_year: int) -> _Inputs:
    by_id = await orgtree.units_by_id(db)
    inside = catalog_of.subtree(by_id, scope_id)
    stocks = {i.code for i in catalog.entries if i.stock}
    flows = [i.code for i in catalog.entries if not i.stock]
    entered = await catalog_of.flow_totals(db, by_id, inside, first=period.first,
                                           last=period.last, codes=flows)
    states = await figures.latest(db, sorted(stocks), period.last)
    entered.update(catalog_of.roll_up(states, by_id, inside, stocks=stocks))
    year = min(period.last_year, this_year)
    fig = await figures_of.figures(db, scope_id, year, limits.timezone)
    goals: dict[str, Fraction] = {}
    if scope_id is not None:
        for year_goals in (await targets.for_unit_years(db, scope_id, period.years)).values():
            for metric, value in year_goals.items():  # a term: the years' targets added up
                goals[metric] = goals.get(metric, Fraction(0)) + figures_of.exact(value)
    return _Inputs(entered, fig.totals, goals, len(catalog_of.chapters(by_id, inside)), inside,
                   await _recorded(db, scope_id, period, limits),
                   await _covered(db, by_id, inside, period), limits.k)


async def build(db: Database, catalog: Indicators, t: Translator, *, scope_id: int | None,
                period: Period, words: Words, timezone: tzinfo, now: datetime,
                disclosure_k: int = DEFAULT_DISCLOSURE_K,
                ack_hours: float = DEFAULT_SUPPORT_ACK_HOURS) -> Report:
    """The report of a scope (a unit's subtree; None: everything) for a period."""
    this_year = now.astimezone(timezone).year
    got = await _inputs(db, catalog, scope_id, period, this_year=this_year,
                        limits=_Limits(timezone, now, disclosure_k, ack_hours))
    lines = _headline(t, catalog, got, words)
    for indicator in catalog.entries:
        if indicator.code in catalog_of.HEADLINE:
            continue
        value = got.entered.get(indicator.code)
        if indicator.retired and value is None:
            continue
        if indicator.code in got.recorded:
            lines.append(_recorded_line(t, indicator, value, got))
        else:
            lines.append(_indicator_line(t, indicator, value, got))
    scope = await orgtree.get(db, scope_id) if scope_id is not None else None
    path = await orgtree.unit_path(db, scope_id) if scope_id is not None else t._("every unit")
    return Report(scope, path, period, period_label(t, period), lines, now.astimezone(timezone))


def _indicator_line(t: Translator, indicator: Indicator, value: Decimal | None,
                    got: _Inputs) -> Line:
    label, unit = indicator.label(t.locale), indicator.unit(t.locale)
    if value is None:
        return Line(label, unit, None)
    assert indicator.report is not None
    template = indicator.report(t.locale)
    if indicator.of == "chapters":
        share = figures_of.percent(Fraction(value), got.chapters)
        figure = f"{_number(t, value)}/{_number(t, got.chapters)}" + (
            f" ({share}%)" if share is not None else "")
        return Line(label, unit, template.format(figure=figure), value, got.chapters,
                    source=ENTERED)
    target = got.goals.get(indicator.code)
    figure, tail, achievement = _against(t, value, target, indicator.style)
    return Line(label, unit, template.format(figure=figure) + tail, value,
                target=target if achievement is not None else None, achievement=achievement,
                source=ENTERED)


def _recorded_line(t: Translator, indicator: Indicator, entered: Decimal | None,
                   got: _Inputs) -> Line:
    """An indicator the units enter and the assistant records: the entered figure where there
    is one, the recording for the units without; a hidden recording is said in words."""
    rec, covered = got.recorded[indicator.code], got.covered.get(indicator.code, set())
    own = {u: n for u, n in rec.by_unit.items() if u in got.inside}
    recorded = sum(own.values())
    label, unit = indicator.label(t.locale), indicator.unit(t.locale)
    extra = sum(n for u, n in own.items() if u not in covered)
    if not rec.shown or (rec.sensitive and entered is not None and 0 < extra < got.k):
        hidden = (t._("fewer than {k} requests for help through the assistant: not shown, so "
                      "that nobody can be recognised", k=got.k) if not rec.shown
                  else t._("fewer than {k} requests for help through the assistant in units "
                           "without an entered figure: not added, so that nobody can be "
                           "recognised", k=got.k)) if recorded else None
        if entered is None:
            return Line(label, unit, None if hidden is None else f"{label}: {hidden}",
                        source=COMPUTED if hidden else None)
        line = _indicator_line(t, indicator, entered, got)
        return Line(line.label, line.unit, line.text, line.figure, target=line.target,
                    achievement=line.achievement, source=ENTERED, note=hidden)
    if entered is None and not recorded:
        return Line(label, unit, None)
    total = (entered or Decimal(0)) + extra
    line = _indicator_line(t, indicator, total, got)
    note = (t._("the assistant recorded {n}", n=_number(t, recorded))
            if entered is not None and total != recorded else None)
    return Line(line.label, line.unit, line.text, line.figure, target=line.target,
                achievement=line.achievement, source=_source(entered is not None, extra > 0),
                note=note)


def _headline(t: Translator, catalog: Indicators, got: _Inputs, words: Words) -> list[Line]:
    """Membership, the standard and the family campaign: entered and computed together."""
    entered, counts = got.entered, got.counts
    official = entered.get(catalog_of.OFFICIAL_MEMBERS)
    members = int(official) if official is not None else counts.members
    members_source = ENTERED if official is not None else (COMPUTED if members else None)
    new = entered.get(catalog_of.NEW_MEMBERS)
    people = t._("people")
    lines = [_membership(t, members, members_source, new, got.goals.get("new_members"))]

    def part(paper_code: str, computed: int) -> tuple[int, str | None]:
        paper = entered.get(paper_code)
        total = computed + (int(paper) if paper is not None else 0)
        return total, _source(paper is not None, computed > 0)

    achieved, source = part(catalog_of.PAPER_STANDARD_OK, counts.standard_achieved)
    lines.append(_share_line(
        t, N_("{ratio} officers and members achieved the women's standard “{standard}”"),
        label=t._("Achieved the women's standard"), n=achieved, whole=members, source=source,
        unit=people, standard=words.standard))
    registered, source = part(catalog_of.PAPER_STANDARD_REG, counts.standard_registered)
    lines.append(_share_line(
        t, N_("{ratio} officers and members registered to strive for the women's standard"),
        label=t._("Registered for the women's standard"), n=registered, whole=members,
        source=source, unit=people))
    households, source = part(catalog_of.PAPER_HOUSEHOLDS_REG, counts.households_registered)
    text = None
    if source is not None:
        figure = (f"{_number(t, households)}/{_number(t, members)}" if members
                  else _number(t, households))
        text = t._("{figure} officers and members registered to carry out the {count} "
                   "criteria of “{family}”", figure=figure, count=words.criteria_count,
                   family=words.family)
    lines.append(Line(t._("Registered for “5 không, 3 sạch”"), t._("households"), text,
                      Decimal(households) if text else None,
                      (members or None) if text else None,  # no base beside a missing figure
                      source=source))
    recognised, source = part(catalog_of.PAPER_HOUSEHOLDS_OK, counts.households_recognised)
    text, achievement, target = None, None, got.goals.get("households_recognised")
    if source is not None:
        figure, tail, achievement = _against(t, Decimal(recognised), target, "assigned")
        text = t._("{figure} households met the criteria of “{family}”", figure=figure,
                   family=words.family) + tail
    lines.append(Line(t._("Households recognised “5 không, 3 sạch”"), t._("households"),
                      text, Decimal(recognised) if text else None,
                      target=target if achievement is not None else None,
                      achievement=achievement, source=source))
    return lines


def _membership(t: Translator, members: int, source: str | None, new: Decimal | None,
                target: Fraction | None) -> Line:
    label = t._("Members")
    if source is None and new is None:
        return Line(label, t._("people"), None)
    parts = []
    if source is not None:
        parts.append(t._("Total membership is {members}", members=_number(t, members)))
    if new is not None:
        figure, tail, _achievement = _against(t, new, target, "rate")
        parts.append(t._("{new} new members joined", new=figure) + tail)
    return Line(label, t._("people"), "; ".join(parts), Decimal(members) if source else None,
                source=_source(new is not None or source == ENTERED, source == COMPUTED))


def _share_line(t: Translator, sentence: str, *, label: str, n: int, whole: int,
                source: str | None, unit: str, **words: str) -> Line:
    if source is None:
        return Line(label, unit, None)
    ratio = figures_of.ratio(t, n, whole) if whole else _number(t, n)
    return Line(label, unit, t._(sentence, ratio=ratio, **words), Decimal(n), whole or None,
                source=source)


# --- rendering -------------------------------------------------------------------------------


def sentence(t: Translator, line: Line) -> str:
    """A line as plain text: the sentence and where its figure comes from."""
    if line.text is None:
        return t._(NO_DATA, label=line.label)
    assert line.source is not None
    return f"{line.text} — {_source_text(t, line)}"


def _source_text(t: Translator, line: Line) -> str:
    """Where the figure comes from, and what the assistant recorded when it differs."""
    assert line.source is not None
    source = t._(SOURCES[line.source])
    return source if line.note is None else t._("{source}; {note}", source=source,
                                                note=line.note)


def made_at(t: Translator, report: Report) -> str:
    """'lúc 06:30 ngày 24/5/2026'."""
    when = report.made_at
    return t._("at {time} on {date}", time=f"{when:%H:%M}", date=t.date(when.date()))


def chat_lines(t: Translator, report: Report, *, escape: bool = True) -> list[str]:
    """The report as chat lines (HTML; paginate them), or one line when there is nothing."""

    def esc(text: str) -> str:
        return html.escape(text) if escape else text

    head = [t._("📝 <b>Report of {unit}, {period}</b>", unit=esc(report.scope_path),
                period=report.period_label),
            t._("Figures {when}.", when=made_at(t, report)), ""]
    if not report.has_data:
        return [*head, t._("No figures yet for {period}.", period=report.period_label)]
    return [*head, *(f"• {esc(sentence(t, line))}" for line in report.lines)]


def table_rows(t: Translator, report: Report) -> list[list[object]]:
    """The indicator table: label, unit, figure, of, target, % of target, source."""
    rows: list[list[object]] = []
    for line in report.lines:
        rows.append([
            line.label, line.unit,
            None if line.figure is None else (int(line.figure) if line.figure ==
                                              line.figure.to_integral_value()
                                              else float(line.figure)),
            line.whole,
            None if line.target is None else float(line.target),
            line.achievement,
            _source_text(t, line) if line.source else t._("no figures yet"),
        ])
    return rows


def table_header(t: Translator) -> list[str]:
    """The indicator table's column names."""
    return [t._("Indicator"), t._("Unit of measure"), t._("Result"), t._("Out of"),
            t._("Target"), t._("% of target"), t._("Source")]


def to_docx(t: Translator, report: Report, *, org_name: str) -> bytes:
    """The report as a Word document: title block, the sentences, the indicator table."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = Document()
    for text, bold in ((org_name.upper(), True), (report.scope_path, True)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(text).bold = bold
    title = document.add_heading(t._("REPORT ON THE UNION'S WORK"), level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    period = document.add_paragraph(report.period_label)
    period.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(t._("Figures {when}.", when=made_at(t, report)))
    if not report.has_data:
        document.add_paragraph(t._("No figures yet for {period}.", period=report.period_label))
    for line in report.lines if report.has_data else ():
        document.add_paragraph(sentence(t, line), style="List Bullet")
    header = table_header(t)
    rows = table_rows(t, report)
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = _cell_text(t, value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _cell_text(t: Translator, value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return t.number(int(value))
    return t.number(Decimal(str(value)))


def words_of(catalog: Catalog, locale: str, year: int) -> Words:
    """The campaign names a report needs, from the catalog of that year."""
    criteria_set = catalog.criteria_set(year)
    return Words(" - ".join(q.label(locale) for q in catalog.qualities),
                 len(criteria_set.criteria), criteria_set.name(locale))


async def for_export(state: AppState, t: Translator, unit_id: int | None,
                     year: int) -> Report | None:
    """The year's report for the export's indicator sheet; None when no unit entered figures."""
    assert state.db is not None and state.catalog is not None
    now = state.clock.now()
    this_year = now.astimezone(state.settings.timezone).year
    period = Period("year", catalog_of.month_key(year, 1), catalog_of.month_key(year, 12), year)
    report = await build(state.db, catalog_of.load(state.settings.indicators), t,
                         scope_id=unit_id, period=period,
                         words=words_of(state.catalog, t.locale, min(year, this_year)),
                         timezone=state.settings.timezone, now=now,
                         disclosure_k=state.settings.disclosure_k,
                         ack_hours=state.settings.support_ack_hours)
    entered = any(line.source in (ENTERED, BOTH) for line in report.lines)
    return report if entered else None
