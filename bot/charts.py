"""PNG charts for /chart, drawn with matplotlib's object API on the Agg canvas (headless).

Nothing here touches pyplot or global state after the first import, so charts can be drawn in
a worker thread while the bot goes on answering. Texts come in already translated; the font is
DejaVu Sans (shipped with matplotlib), which has every Vietnamese letter. Import this module
only where a chart is drawn: matplotlib takes a moment to load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["font.family"] = "DejaVu Sans"
matplotlib.rcParams["svg.fonttype"] = "none"
# Unit and member names are data: "$x^2$" or "\\frac" must be drawn as typed, never parsed as
# mathtext (a bad formula would break the chart for everyone above that unit).
matplotlib.rcParams["text.parse_math"] = False
matplotlib.rcParams["text.usetex"] = False

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

MAX_BARS = 30  # units on one chart; more would not be readable on a phone
REGISTERED, ACHIEVED, TARGET, LINE = "#4C9BE8", "#2E7D32", "#C62828", "#6A1B9A"


@dataclass(frozen=True, slots=True)
class RateBar:
    """One unit on the rates chart: whole percentages as bot.stats rounds them (None when there
    is nothing to divide by); targets as set."""

    name: str
    registered: int | None
    achieved: int | None
    registered_target: float | None = None
    achieved_target: float | None = None


@dataclass(frozen=True, slots=True)
class Labels:
    """The translated texts of a chart."""

    title: str
    registered: str
    achieved: str
    target: str
    axis: str
    empty: str


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _short(name: str, limit: int = 34) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def rates(bars: Sequence[RateBar], labels: Labels) -> bytes:
    """Registration and achievement rate per unit (horizontal bars), targets as red ticks.

    The first bar is drawn at the top: pass them lowest rate first.
    """
    shown = list(bars)[:MAX_BARS]
    height = 1.6 + 0.42 * max(1, len(shown))
    figure = Figure(figsize=(8, height))
    axes = figure.add_subplot()
    axes.set_title(labels.title, fontsize=12, loc="left")
    if not shown:
        axes.text(0.5, 0.5, labels.empty, ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return _png(figure)
    positions = list(range(len(shown)))[::-1]
    thickness = 0.38
    registered = [b.registered or 0 for b in shown]
    achieved = [b.achieved or 0 for b in shown]
    axes.barh([p + thickness / 2 for p in positions], registered, height=thickness,
              color=REGISTERED, label=labels.registered)
    axes.barh([p - thickness / 2 for p in positions], achieved, height=thickness,
              color=ACHIEVED, label=labels.achieved)
    marked = False
    for position, bar in zip(positions, shown, strict=True):
        for offset, target in ((thickness / 2, bar.registered_target),
                               (-thickness / 2, bar.achieved_target)):
            if target is not None:
                axes.plot([target, target], [position + offset - thickness / 2,
                                             position + offset + thickness / 2],
                          color=TARGET, linewidth=2.5,
                          label=None if marked else labels.target)
                marked = True
        for offset, value in ((thickness / 2, bar.registered), (-thickness / 2, bar.achieved)):
            if value is not None:
                axes.text(min(value, 100) + 1, position + offset, f"{value}%",
                          va="center", fontsize=7)
    axes.set_yticks(positions, [_short(b.name) for b in shown], fontsize=8)
    axes.set_xlim(0, 112)
    axes.set_xlabel(labels.axis)
    return _with_legend(figure, axes, grid="x")


def _with_legend(figure: Figure, axes: Any, *, grid: str) -> bytes:
    """Grid lines along ``grid``, the legend below the plot, the PNG."""
    axes.grid(axis=grid, alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8,
                frameon=False)
    figure.tight_layout()
    return _png(figure)


def trend(years: Sequence[int], registered: Sequence[int | None],
          achieved: Sequence[int | None], registered_targets: Sequence[float | None],
          achieved_targets: Sequence[float | None], labels: Labels) -> bytes:
    """One unit over the years: rates as grouped bars, its targets as red ticks."""
    figure = Figure(figsize=(8, 4.5))
    axes = figure.add_subplot()
    axes.set_title(labels.title, fontsize=12, loc="left")
    width = 0.38
    x = list(range(len(years)))
    axes.bar([i - width / 2 for i in x], [v or 0 for v in registered], width,
             color=REGISTERED, label=labels.registered)
    axes.bar([i + width / 2 for i in x], [v or 0 for v in achieved], width,
             color=ACHIEVED, label=labels.achieved)
    marked = False
    for i in x:
        for offset, target in ((-width / 2, registered_targets[i]),
                               (width / 2, achieved_targets[i])):
            if target is not None:
                axes.plot([i + offset - width / 2, i + offset + width / 2], [target, target],
                          color=TARGET, linewidth=2.5, label=None if marked else labels.target)
                marked = True
    axes.set_xticks(x, [str(y) for y in years])
    axes.set_ylim(0, 110)
    axes.set_ylabel(labels.axis)
    return _with_legend(figure, axes, grid="y")


def participation(days: Sequence[str], rates_: Sequence[float | None],
                  counts: Sequence[int], labels: Labels) -> bytes:
    """Share of members who took part on each of the last Sundays (line with points)."""
    figure = Figure(figsize=(8, 4.2))
    axes = figure.add_subplot()
    axes.set_title(labels.title, fontsize=12, loc="left")
    x = list(range(len(days)))
    values = [float("nan") if v is None else float(v) for v in rates_]  # None: a gap, not 0%
    axes.plot(x, values, marker="o", color=LINE, label=labels.registered)
    for i, (value, count) in enumerate(zip(values, counts, strict=True)):
        if value != value:  # NaN: nothing to label
            continue
        axes.annotate(f"{count}", (i, value), textcoords="offset points", xytext=(0, 6),
                      ha="center", fontsize=7)
    axes.set_xticks(x, list(days), rotation=45, fontsize=8)
    top = max([v for v in values if v == v] + [10.0])
    axes.set_ylim(0, min(100.0, top * 1.25) if top < 80 else 105)
    axes.set_ylabel(labels.axis)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return _png(figure)


def poll(bars: Sequence[tuple[str, int | None]], *, total: int, title: str, empty: str,
         hidden: str) -> bytes:
    """A survey's answers per option (horizontal bars, in %); None: hidden to protect privacy.

    The options are drawn top to bottom in their order.
    """
    shown = list(bars)[:MAX_BARS]
    figure = Figure(figsize=(8, 1.6 + 0.42 * max(1, len(shown))))
    axes = figure.add_subplot()
    axes.set_title(_short(title, 70), fontsize=12, loc="left")
    if not total or all(value is None for _label, value in shown):
        axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return _png(figure)
    positions = list(range(len(shown)))[::-1]
    rates_ = [100 * (value or 0) / total for _label, value in shown]
    axes.barh(positions, rates_, height=0.6, color=REGISTERED)
    for position, (_label, value), rate in zip(positions, shown, rates_, strict=True):
        text = hidden if value is None else f"{value} ({round(rate)}%)"
        axes.text(min(rate, 100) + 1, position, text, va="center", fontsize=8)
    axes.set_yticks(positions, [f"{n}. {_short(label, 30)}" for n, (label, _v)
                                in enumerate(shown, 1)], fontsize=8)
    axes.set_xlim(0, 120)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return _png(figure)
