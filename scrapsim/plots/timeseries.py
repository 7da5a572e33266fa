"""Figures of a run: collection, smelting, smelters by state, prices and price pressure over time.

Every plot function takes tidy data — a :class:`~scrapsim.model.table.Table` or a pandas DataFrame
with the columns of the daily table (MODEL.md) — and an optional ``ax``; it draws on that Axes
(or on a new Figure) and returns the Axes. Nothing here touches ``pyplot``: figures are plain
:class:`matplotlib.figure.Figure` objects rendered by Agg, so plotting works headless and leaves
no global figure state behind. The house style (:data:`STYLE`) is applied with
``matplotlib.rc_context`` around each call, never by changing the global rcParams.

**Regions.** ``region="Hebei"`` plots that region's rows. With ``region=None`` all regions are
aggregated per date: flows (t/day), stocks (t) and smelter counts are summed; prices (CNY/t) and
the price-pressure index are the unweighted mean over the regions with a value that day (a price
weighted by traded volume would vanish on days nothing trades).

**Campaign windows** are ``(name, regions, start, end)`` with ``end`` the campaign's last day; a
window is shaded from ``start`` to ``end`` so the points of the campaign's days lie in the band.

**Baseline.** ``baseline=`` takes the daily table of the same scenario at intensity 0 (same seed)
and draws its principal series as a thin dashed grey line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from scrapsim.plots.style import (
    COLOURS,
    MEAN_COLUMNS,
    OKABE_ITO,
    STATES,
    STYLE,
    size_pt,
    styled,
    text_pt,
)
from scrapsim.plots.windows import Windows, shade_windows

__all__ = [
    "COLOURS", "OKABE_ITO", "STATES", "STYLE", "daily_series", "plot_collection", "plot_pressure",
    "plot_prices", "plot_run", "plot_smelting", "plot_states", "save", "shade_windows",
]

FORMATS = ("png", "svg", "pdf")
_NO_DATE = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
_FAST: dict[str, dict[str, Any]] = {"png": {"pil_kwargs": {"compress_level": 3}}}
"""zlib level 3, not PIL's 6: a third less time encoding the run figure, 3% more bytes."""
_OFFSETS = ["", "%Y", "%Y", "%Y-%b-%d", "%Y-%b-%d", "%Y-%b-%d %H:%M"]


# ---------------------------------------------------------------- data

def _column(daily: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(daily[name])
    except KeyError:
        have = ", ".join(map(str, daily.keys()))
        raise ValueError(f"the daily table has no column {name!r} (it has: {have})") from None


def daily_series(daily: Any, columns: Iterable[str],
                 region: str | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Dates (``datetime64[D]``, sorted, unique) and one value per date for each column.

    ``region`` selects one region's rows; ``None`` aggregates all regions per date (sum, or the
    mean of the non-missing values for prices and the price-pressure index).
    """
    dates = _column(daily, "date").astype("datetime64[D]")
    keep = np.ones(len(dates), dtype=bool)
    if region is not None:
        regions = _column(daily, "region").astype(str)
        keep = regions == region
        if not keep.any():
            known = ", ".join(dict.fromkeys(regions.tolist()))
            raise ValueError(f"region {region!r} is not in the daily table (regions: {known})")
    days, inverse = np.unique(dates[keep], return_inverse=True)
    out = {}
    for name in columns:
        values = _column(daily, name)[keep].astype(float)
        out[name] = (_mean_by(inverse, values, len(days)) if name in MEAN_COLUMNS
                     else np.bincount(inverse, weights=values, minlength=len(days)))
    return days, out


def _mean_by(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    ok = ~np.isnan(values)
    total = np.bincount(groups[ok], weights=values[ok], minlength=n)
    count = np.bincount(groups[ok], minlength=n)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# ---------------------------------------------------------------- axes helpers

def _axes(ax: Axes | None, size: tuple[float, float] = (8.0, 3.4)) -> Axes:
    if ax is not None:
        return ax
    return Figure(figsize=size, layout="constrained").add_subplot()


def _number(x: float, pos: int | None = None) -> str:
    """Tick label with thousands separators and no scientific offset (12,500 not 1.25e4)."""
    if x == 0 or abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.3g}"


def _finish(ax: Axes, ylabel: str, *, zero: bool = True, room: float = 0.0) -> None:
    """Dates on x, the unit on y, readable ticks. The y range fits the data of ``ax`` and of the
    axes sharing its y (so panels on shared axes agree and repeated calls do not compound), starts
    at 0 when ``zero`` and the data are non-negative, and leaves ``room`` (a share of the height)
    free at the top for the legend."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, offset_formats=_OFFSETS))
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(_number))
    ax.tick_params(labelsize=STYLE["xtick.labelsize"])
    boxes = [a.dataLim for a in ax.get_shared_y_axes().get_siblings(ax)]
    low, high = min(b.y0 for b in boxes), max(b.y1 for b in boxes)
    if not (np.isfinite(low) and np.isfinite(high)):
        low, high = 0.0, 1.0
    pad = 0.04 * (high - low) if high > low else 0.05 * max(abs(high), 1.0)
    low = 0.0 if zero and low >= 0.0 else low - pad
    high += pad
    ax.set_ylim(low, low + (high - low) / (1.0 - room))


def _twin(ax: Axes, days: np.ndarray, values: np.ndarray, label: str, colour: str) -> Axes:
    """A right-hand axis for a stock (t) whose scale differs from the flows."""
    twin = ax.twinx()
    twin.plot(days, values, color=colour, lw=1.3, ls=(0, (5, 1.5)), label=label)
    twin.spines["right"].set_visible(True)
    twin.spines["right"].set_color(colour)
    twin.grid(False)
    twin.tick_params(axis="y", colors=colour, labelsize=STYLE["ytick.labelsize"])
    twin.yaxis.label.set_color(colour)
    ax.set_zorder(twin.get_zorder() + 1)  # ax's lines and legend above the stock; ax see-through
    ax.patch.set_visible(False)
    return twin


def _legend(ax: Axes, *extra: Axes) -> float:
    """One legend for ``ax`` and its twins along the top inside the axes, in as few rows as fit
    the width. Returns the share of the axes height it takes (room to keep free of data)."""
    handles, labels = ax.get_legend_handles_labels()
    for other in extra:
        more = other.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    size = STYLE["legend.fontsize"]
    width_pt, height_pt = size_pt(ax)
    ncols = _legend_columns(labels, 0.95 * width_pt, size)
    legend = ax.legend(handles, labels, loc="upper left", ncols=ncols, handlelength=1.8,
                       handletextpad=0.6, columnspacing=1.2, borderaxespad=0.3)
    legend.set_zorder(10)
    return min(0.6, (-(-len(labels) // ncols) * 1.4 * size + 8.0) / max(height_pt, 1.0))


def _legend_columns(labels: Sequence[str], width_pt: float, size: float) -> int:
    """The most columns (Matplotlib fills them top to bottom) whose width fits ``width_pt``."""
    widths = [text_pt(label, size) + 3.6 * size for label in labels]  # + handle and spacing
    for ncols in range(len(labels), 1, -1):
        per = -(-len(labels) // ncols)
        if sum(max(widths[i:i + per]) for i in range(0, len(widths), per)) + size <= width_pt:
            return ncols
    return 1


def _baseline(ax: Axes, baseline: Any, column: str, region: str | None) -> None:
    if baseline is None:
        return
    days, series = daily_series(baseline, (column,), region)
    ax.plot(days, series[column], color=COLOURS["baseline"], lw=1.0, ls="--",
            label="no enforcement", zorder=1.5)


# ---------------------------------------------------------------- panels

def _flow_panel(daily: Any, ax: Axes | None, region: str | None, flows: Sequence[tuple[str, str]],
                stock: str, baseline: Any, windows: Windows, legend: bool) -> Axes:
    """Flows (t/day, the last one drawn bold and compared with the baseline) and a stock (t)."""
    ax = _axes(ax)
    days, s = daily_series(daily, [column for column, _ in flows] + [stock], region)
    for column, label in flows:
        ax.plot(days, s[column], color=COLOURS[column], label=label,
                lw=STYLE["lines.linewidth"] if column == flows[-1][0] else 1.1)
    _baseline(ax, baseline, flows[-1][0], region)
    name = stock.replace("_", " ")
    twin = _twin(ax, days, s[stock], f"{name} (right)", COLOURS[stock])
    room = _legend(ax, twin) if legend else 0.0
    _finish(ax, "scrap flow (t/day)", room=room)
    _finish(twin, f"{name} (t)", room=room)
    shade_windows(ax, windows, region=region)
    return ax


@styled
def plot_collection(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                    baseline: Any = None, windows: Windows = None, legend: bool = True) -> Axes:
    """Scrap generated and collected (t/day) and trader stock (t, right-hand axis)."""
    flows = (("generated", "generated"), ("collected", "collected"))
    return _flow_panel(daily, ax, region, flows, "trader_stock", baseline, windows, legend)


@styled
def plot_smelting(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                  baseline: Any = None, windows: Windows = None, legend: bool = True) -> Axes:
    """Scrap demanded, traded and smelted (t/day) and smelter stock (t, right-hand axis)."""
    flows = (("demanded", "demanded"), ("traded", "traded"), ("smelted", "smelted"))
    return _flow_panel(daily, ax, region, flows, "smelter_stock", baseline, windows, legend)


@styled
def plot_states(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                windows: Windows = None, legend: bool = True) -> Axes:
    """Smelters by operating state (count), stacked: running, halted, suspended, rectifying,
    closed."""
    ax = _axes(ax)
    days, s = daily_series(daily, STATES, region)
    ax.stackplot(days, *(s[k] for k in STATES), labels=STATES, lw=0,
                 colors=[COLOURS[k] for k in STATES])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_axisbelow(True)
    _finish(ax, "smelters (count)", room=_legend(ax) if legend else 0.0)
    shade_windows(ax, windows, region=region)
    return ax


@styled
def plot_prices(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                baseline: Any = None, windows: Windows = None, legend: bool = True) -> Axes:
    """Scrap price and ingot (ADC12) price, plus the primary aluminium price if recorded (CNY/t)."""
    ax = _axes(ax)
    primary = ("primary_price",) if "primary_price" in daily else ()
    columns = ("scrap_price", "ingot_price", *primary)
    days, s = daily_series(daily, columns, region)
    names = {"scrap_price": "scrap", "ingot_price": "ingot (ADC12)", "primary_price": "primary Al"}
    for column in columns:
        ax.plot(days, s[column], color=COLOURS[column], label=names[column],
                lw=1.6 if column == "scrap_price" else 1.1)
    _baseline(ax, baseline, "scrap_price", region)
    _finish(ax, "price (CNY/t)", zero=False, room=_legend(ax) if legend else 0.0)
    shade_windows(ax, windows, region=region)
    return ax


@styled
def plot_pressure(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                  baseline: Any = None, windows: Windows = None, legend: bool = True) -> Axes:
    """Price-pressure index (demand − supply)/(demand + supply), in −1..1, with a zero line.

    The y range is symmetric about zero and fits the data (at least ±0.05, at most ±1). A legend
    is drawn only with a baseline (one line needs none).
    """
    ax = _axes(ax)
    days, s = daily_series(daily, ("price_pressure",), region)
    p = s["price_pressure"]
    ax.plot(days, p, color=COLOURS["price_pressure"], lw=1.3, label="price pressure")
    _baseline(ax, baseline, "price_pressure", region)
    ax.axhline(0.0, color="#404040", lw=0.8, zorder=1)
    top = float(np.nanmax(np.abs(p))) if np.isfinite(p).any() else 0.0
    _finish(ax, "price pressure (index, −1…1)", zero=False)
    limit = min(1.0, max(0.05, 1.15 * top))
    room = _legend(ax) if legend and baseline is not None else 0.0
    ax.set_ylim(-limit, -limit + 2.0 * limit / (1.0 - room))
    # in the margin, off the data
    for y, text in ((0.75, "excess demand"), (0.25, "excess supply")):
        ax.text(1.01, y, text, transform=ax.transAxes, rotation=90, ha="left", va="center",
                fontsize=8, color="#606060", style="italic")
    shade_windows(ax, windows, region=region)
    return ax


# ---------------------------------------------------------------- the run figure

def _title(result: Any) -> str:
    scenario = getattr(result, "scenario", None)
    intensity = getattr(getattr(scenario, "enforcement", None), "intensity", None)
    parts = [str(getattr(scenario, "name", None) or "scrapsim run"),
             *([f"seed {result.seed}"] if getattr(result, "seed", None) is not None else []),
             *([f"enforcement intensity {intensity:g}"] if intensity is not None else [])]
    regions = list(dict.fromkeys(_column(result.daily, "region").astype(str).tolist()))
    where = (f"region: {regions[0]}" if len(regions) == 1 else
             f"{len(regions)} regions summed (prices and pressure: mean over regions)")
    return " · ".join(parts) + "\n" + where


@styled
def plot_run(result: Any, path: str | Path | None = None,
             formats: Sequence[str] = ("png",)) -> Figure:
    """The time-series figure of one run: collection, smelting, smelters by state, prices and
    price pressure, campaign windows shaded, the intensity-0 baseline dashed where it helps.

    ``result`` needs ``.daily`` and ``.windows`` (``.baseline``, ``.scenario``, ``.seed`` are
    used when present). Several regions are aggregated (see the module doc).

    ``path``: a directory (existing, or a path without suffix) receives ``timeseries.<format>``
    for each of ``formats``; a file path such as ``out/hebei.svg`` is written in the format of its
    suffix, plus the same stem in any other listed format. ``None`` writes nothing.
    """
    daily = result.daily
    base = getattr(getattr(result, "baseline", None), "daily", None)
    windows = list(getattr(result, "windows", None) or [])
    fig = Figure(figsize=(9.0, 12.5))  # laid out by _fit: no layout engine, one draw
    fig.subplots_adjust(**_MARGINS)
    axes = fig.subplots(5, 1, sharex=True, height_ratios=(1, 1, 0.9, 0.9, 0.8))
    plot_collection(daily, axes[0], baseline=base)
    plot_smelting(daily, axes[1], baseline=base)
    plot_states(daily, axes[2])
    plot_prices(daily, axes[3], baseline=base)
    plot_pressure(daily, axes[4], baseline=base)
    for i, ax in enumerate(axes):
        shade_windows(ax, windows, label=i == 0)
        ax.label_outer()
    _fit(fig, axes, _title(result))
    if path is not None:
        save(fig, path, formats)
    return fig


_MARGINS = {"left": 0.14, "right": 0.88, "top": 0.92, "bottom": 0.04, "hspace": 0.12}
"""Where the run figure's panels start: narrower than :func:`_fit` makes them, so legends sized
before the fit still fit."""


def _tick_width(ax: Axes) -> float:
    """Width (pt) of the widest y tick label ``ax`` will draw."""
    axis = ax.yaxis
    lo, hi = sorted(axis.get_view_interval())
    locs = [v for v in axis.get_major_locator()() if lo <= v <= hi]
    formatter = axis.get_major_formatter()
    formatter.set_locs(locs)
    size = STYLE["ytick.labelsize"]
    return max((text_pt(formatter(v, i), size) for i, v in enumerate(locs)), default=0.0)


def _x_lines(ax: Axes) -> int:
    """Lines of date labels under ``ax``: the ticks, and the offset (the year) if shown."""
    formatter = ax.xaxis.get_major_formatter()
    formatter.format_ticks(list(ax.xaxis.get_major_locator()()))
    return 2 if formatter.get_offset() else 1


def _fit(fig: Figure, axes: Sequence[Axes], title: str) -> None:
    """Place the title and the panels from what they hold, measured before drawing (tick labels,
    window-name rows): what constrained layout did, without its second draw."""
    width, height = (72.0 * x for x in fig.get_size_inches())
    label = 1.25 * STYLE["axes.labelsize"]
    side = 3.5 + 3.5 + 4.0 + label + 6.0  # tick, pad, label pad, label, edge
    left = side + max(_tick_width(ax) for ax in axes)
    twins = [a for a in fig.axes if a not in axes]
    right = max([side + _tick_width(t) for t in twins] + [0.02 * width + 16.0])
    size = STYLE["legend.fontsize"]
    rows = sum((a.get_gid() or "").startswith("window names") for a in axes[0].child_axes)
    lines = title.count("\n") + 1
    title_pt = lines * 1.2 * STYLE["figure.titlesize"]
    top = 6.0 + title_pt + 4.0 + rows * (size + 3.0) + (4.0 if rows else 0.0)
    bottom = 3.5 + 3.5 + _x_lines(axes[-1]) * 1.3 * STYLE["xtick.labelsize"] + 6.0
    gap = 16.0  # between panels (inner ones have no tick labels on x)
    mean = (height - top - bottom - gap * (len(axes) - 1)) / len(axes)
    fig.subplots_adjust(left=left / width, right=1.0 - right / width, top=1.0 - top / height,
                        bottom=bottom / height, hspace=gap / mean)
    fig.suptitle(title, y=1.0 - 6.0 / height, va="top")


def _targets(path: Path, formats: Sequence[str]) -> list[Path]:
    wanted = [f.lower().lstrip(".") for f in formats]
    if path.suffix and not path.is_dir():
        wanted = [path.suffix.lower()[1:]] + [f for f in wanted if f != path.suffix.lower()[1:]]
        targets = [path.with_suffix("." + f) for f in wanted]
    else:
        targets = [path / f"timeseries.{f}" for f in wanted]
    bad = [f for f in wanted if f not in FORMATS]
    if bad:
        raise ValueError(f"cannot write figure format {bad[0]!r} ({path}); expected one of "
                         f"{FORMATS}")
    return targets


@styled
def save(fig: Figure, path: str | Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write ``fig`` (see :func:`plot_run` for ``path``) without timestamps, so the same run gives
    the same bytes. Returns the files written."""
    targets = _targets(Path(path), formats)
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        kind = target.suffix[1:]
        fig.savefig(target, format=kind, metadata=_NO_DATE[kind], **_FAST.get(kind, {}))
    return targets
