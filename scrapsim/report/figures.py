"""Figures of a report: a run's timelines per region, a side-by-side comparison of runs, and a
sweep's curves.

Built from the files of result folders (``daily.csv`` read with pandas, ``curves.csv``), drawn
with the figure functions of :mod:`scrapsim.plots.timeseries` and :mod:`scrapsim.plots.curves`
in the house style, and returned as plain :class:`matplotlib.figure.Figure` objects (no ``pyplot``).
:func:`png_bytes` renders one for embedding.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from scrapsim.plots.curves import price_pressure_curve, smelting_demand_curve, supply_curve
from scrapsim.plots.timeseries import (
    COLOURS,
    OKABE_ITO,
    STYLE,
    daily_series,
    plot_collection,
    plot_pressure,
    plot_prices,
    plot_smelting,
    plot_states,
    shade_windows,
)

__all__ = ["COMPARED", "comparison_figure", "curves_figure", "png_bytes", "timeline_figure"]

COMPARED: tuple[tuple[str, str], ...] = (
    ("collected", "scrap collected (t/day)"),
    ("smelted", "scrap smelted (t/day)"),
    ("scrap_price", "scrap price (CNY/t)"),
)
"""Daily columns of the comparison figure, one row of panels each, with their y-axis labels."""

DPI = 110
"""Resolution of embedded figures (dots per inch): sharp in a browser, a modest file."""


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """``fig`` as PNG bytes, without a timestamp (the same figure gives the same bytes)."""
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _thousands(x: float, pos: int | None = None) -> str:
    """Thousands separators; decimals only where a tick is not a whole number."""
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.2g}"


def _date_axis(ax: Axes, ylabel: str, *, counts: bool = False, dates: bool = True) -> None:
    """Real dates on x (concise labels), ``ylabel`` with its unit, thousands separators on y;
    ``counts``: whole-number ticks only (an axis of counts never reads 0, 0, 1, 1)."""
    if dates:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if counts:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_ylabel(ylabel)


def plot_inspections(daily: Any, ax: Axes, region: str | None = None, *,
                     windows: Sequence[Sequence[Any]] = ()) -> Axes:
    """Inspections (bars) and violations found (line) per day (count/day)."""
    days, s = daily_series(daily, ("inspections", "violations"), region)
    with mpl.rc_context(STYLE):
        ax.set_axisbelow(True)
        ax.bar(days, s["inspections"], width=1.0, color=OKABE_ITO[2], label="inspections", lw=0)
        ax.plot(days, s["violations"], color=OKABE_ITO[6], lw=1.2, label="violations found")
        _date_axis(ax, "inspections (per day)", counts=True)
        top = float(np.nanmax(s["inspections"])) if len(days) else 0.0
        ax.set_ylim(0.0, max(1.0, top) * 1.35)
        ax.legend(loc="upper left", ncols=2)
        shade_windows(ax, windows, region=region, label=False)
    return ax


CLASSES = (("running_large", "large plants"), ("running_small", "small compliant"),
           ("running_workshop", "workshops"))
"""Daily columns of running smelters per class, with their labels."""


def plot_running_by_class(daily: Any, ax: Axes, region: str | None = None, *,
                          windows: Sequence[Sequence[Any]] = ()) -> Axes:
    """Running smelters per class (count): large plants, small compliant, workshops."""
    days, s = daily_series(daily, [c for c, _ in CLASSES], region)
    with mpl.rc_context(STYLE):
        for (column, label), colour in zip(CLASSES, (OKABE_ITO[5], OKABE_ITO[3], OKABE_ITO[1]),
                                           strict=True):
            ax.plot(days, s[column], color=colour, lw=1.4, label=label)
        _date_axis(ax, "running smelters (count)", counts=True)
        top = max(float(np.nanmax(v)) for v in s.values()) if len(days) else 0.0
        ax.set_ylim(0.0, max(1.0, top) * 1.3)
        ax.legend(loc="upper left", ncols=3)
        shade_windows(ax, windows, region=region, label=False)
    return ax


def timeline_figure(daily: Any, windows: Sequence[Sequence[Any]], region: str | None,
                    title: str, baseline: Any = None) -> Figure:
    """Panels over time for one region (``None``: all regions): collection and trader stock,
    smelting and smelter stock, smelters by state, running smelters by class (when the daily
    table has them), prices, price pressure, inspections; campaign windows shaded, and named
    above the top panel. ``baseline``: the intensity-0 twin's daily table
    (``baseline_daily.csv``), drawn grey dashed on the collection, smelting, price and
    pressure panels."""
    by_class = all(c in daily.columns for c, _ in CLASSES)
    ratios = (1, 1, 0.9) + ((0.75,) if by_class else ()) + (0.9, 1.0, 0.75)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(9.0, 2.5 * sum(ratios)), layout="constrained")
        axes = list(fig.subplots(len(ratios), 1, sharex=True, height_ratios=ratios))
    plot_collection(daily, axes[0], region, baseline=baseline)
    plot_smelting(daily, axes[1], region, baseline=baseline)
    plot_states(daily, axes[2], region)
    if by_class:
        plot_running_by_class(daily, axes[3], region)
    plot_prices(daily, axes[-3], region, baseline=baseline)
    plot_pressure(daily, axes[-2], region, baseline=baseline)
    plot_inspections(daily, axes[-1], region)
    for i, ax in enumerate(axes):
        shade_windows(ax, windows, label=i == 0, region=region)
        ax.label_outer()
    with mpl.rc_context(STYLE):
        fig.align_ylabels(axes)
        fig.suptitle(title)
    return fig


def _aligned_days(runs: Sequence[tuple[str, Any, Sequence[Sequence[Any]]]]) -> tuple[
        list[Any], str]:
    """Each run's x values and the axis label: dates when every run covers the same period;
    else days since each run's first campaign window opened (or since its start, for a run
    without campaigns), so runs of different periods line up on their pulses."""
    spans = [(daily["date"].min(), daily["date"].max()) for _, daily, _ in runs]
    if len(set(spans)) == 1:
        return [None] * len(runs), ""
    out = []
    for _, daily, windows in runs:
        days, _ = daily_series(daily, [COMPARED[0][0]])
        origin: Any = min((np.datetime64(str(w[-2])) for w in windows), default=days[0])
        out.append(np.asarray(days - origin).astype("timedelta64[D]").astype(float))
    all_windows = all(len(w) for _, _, w in runs)
    label = ("days since the scenario's first campaign window opened" if all_windows else
             "days since the first window opened (since the start for runs without one)")
    return out, label


def comparison_figure(runs: Sequence[tuple[str, Any, Sequence[Sequence[Any]]]]) -> Figure:
    """Runs side by side: one column per run ``(label, daily, windows)``, one row per column of
    :data:`COMPARED` summed (prices: averaged) over regions; each row shares its y axis, so the
    panels of a row compare directly. Runs of one period share its calendar; runs of different
    periods share an axis of days since each one's first campaign window (stated on the axis
    and in the title). Each line's gid is ``"<label>:<column>"``."""
    n = len(runs)
    xs, xlabel = _aligned_days(runs)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(max(9.0, 3.4 * n), 8.5), layout="constrained")
        axes = fig.subplots(len(COMPARED), n, sharey="row", sharex=True, squeeze=False)
        for j, (label, daily, windows) in enumerate(runs):
            _comparison_column(axes[:, j], label, daily, windows, xs[j], xlabel, j)
        for i, (column, _) in enumerate(COMPARED):
            low = 0.0 if column != "scrap_price" else None
            axes[i, 0].set_ylim(bottom=low)
        how = f"x: {xlabel}; " if xlabel else ""
        fig.suptitle(f"Scenarios side by side (all regions; {how}shaded: campaign windows)")
    return fig


def _comparison_column(axes: Any, label: str, daily: Any, windows: Sequence[Sequence[Any]],
                       x: Any, xlabel: str, j: int) -> None:
    days, series = daily_series(daily, [c for c, _ in COMPARED])
    origin = None if x is None else days[0] - np.timedelta64(int(round(x[0])), "D")
    for i, (column, ylabel) in enumerate(COMPARED):
        ax = axes[i]
        ax.plot(days if x is None else x, series[column], color=COLOURS[column], lw=1.4,
                gid=f"{label}:{column}")
        _date_axis(ax, ylabel, dates=x is None)
        if x is None:
            shade_windows(ax, windows, label=False)
        else:
            for w in windows:
                a, b = (int((np.datetime64(str(d)) - origin).astype(int))  # type: ignore[attr-defined]
                        for d in (w[-2], w[-1]))
                ax.axvspan(a - 0.5, b + 0.5, color="#999999", alpha=0.15, lw=0, zorder=0)
            if i == len(axes) - 1:
                ax.set_xlabel("days since first window" if xlabel.startswith("days") else "")
        if i == 0:
            ax.set_title(label, loc="left")
        if j > 0:
            ax.set_ylabel("")
            ax.tick_params(labelleft=True)


def curves_figure(curves: Any, lines: bool = True) -> Figure:
    """The sweep's supply, smelting-demand and price-pressure curves, with their 95% bands.

    ``lines=False`` (a Latin-hypercube design): points with error bars, one series per metric
    (every LHS point has its own values of the other keys, so grouping by them would give each
    point a legend entry of its own)."""
    by: list[Any] | None = None if lines else []
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(9.0, 11.0), layout="constrained")
        axes = fig.subplots(3, 1)
    supply_curve(curves, axes[0], lines=lines, by=by)
    smelting_demand_curve(curves, axes[1], lines=lines, by=by)
    price_pressure_curve(curves, axes[2], lines=lines, by=by)
    twins = [a for a in fig.axes if a is not axes[2] and a.get_shared_x_axes().joined(a, axes[2])]
    for twin in twins:  # the scrap-price axis in honest percents (its zero level aligned with
        twin.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))   # the index's
        # where that does not stretch either axis, by price_pressure_curve)
    return fig
