"""Figures of a run: collection, smelting, smelters by state, prices and price pressure over time.

Every plot function takes tidy data — a :class:`~scrapsim.table.Table` or a pandas DataFrame with
the columns of the daily table (MODEL.md) — and an optional ``ax``; it draws on that Axes (or on a
new Figure) and returns the Axes. Nothing here touches ``pyplot``: figures are plain
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

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

__all__ = [
    "COLOURS", "OKABE_ITO", "STATES", "STYLE", "daily_series", "plot_collection", "plot_pressure",
    "plot_prices", "plot_run", "plot_smelting", "plot_states", "save", "shade_windows",
]

OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
"""Okabe & Ito's palette, distinguishable under the common colour-vision deficiencies."""

COLOURS: dict[str, str] = {
    "generated": "#56B4E9", "collected": "#0072B2", "trader_stock": "#CC79A7",
    "demanded": "#E69F00", "traded": "#0072B2", "smelted": "#D55E00", "smelter_stock": "#CC79A7",
    "scrap_price": "#0072B2", "ingot_price": "#D55E00", "primary_price": "#000000",
    "price_pressure": "#000000", "running": "#009E73", "halted": "#F0E442",
    "suspended": "#E69F00", "rectifying": "#56B4E9", "closed": "#D55E00",
    "baseline": "#7F7F7F", "window": "#7F7F7F",
}
"""One colour per quantity, the same in every figure."""

STATES = ("running", "halted", "suspended", "rectifying", "closed")
"""Smelter operating states, stacked bottom to top."""

MEAN_COLUMNS = frozenset({"scrap_price", "ingot_price", "primary_price", "price_pressure", "risk"})
"""Columns averaged (not summed) over regions."""

STYLE: dict[str, Any] = {
    "figure.dpi": 100, "savefig.dpi": 150, "figure.facecolor": "white",
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "figure.titlesize": 12,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 8.5,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#E5E5E5", "grid.linewidth": 0.6,
    "lines.linewidth": 1.6, "legend.frameon": True, "legend.framealpha": 0.85,
    "legend.edgecolor": "none", "svg.hashsalt": "scrapsim", "axes.autolimit_mode": "data",
}
"""House style, applied per call with ``matplotlib.rc_context`` (never globally)."""

FORMATS = ("png", "svg", "pdf")
_NO_DATE = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
_OFFSETS = ["", "%Y", "%Y", "%Y-%b-%d", "%Y-%b-%d", "%Y-%b-%d %H:%M"]
_F = TypeVar("_F", bound=Callable[..., Any])


def _styled(func: _F) -> _F:
    """Run ``func`` inside the house style."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mpl.rc_context(STYLE):
            return func(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


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
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _regions(daily: Any) -> list[str]:
    return list(dict.fromkeys(_column(daily, "region").astype(str).tolist()))


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


def _finish(ax: Axes, ylabel: str, *, zero: bool = True, headroom: float = 0.0) -> None:
    """Dates on x, the unit on y, readable ticks; ``zero`` starts y at 0."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, offset_formats=_OFFSETS))
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(_number))
    ax.tick_params(labelsize=STYLE["xtick.labelsize"])
    low, high = ax.get_ylim()
    low = 0.0 if zero and low >= -1e-9 * max(abs(high), 1.0) else low
    ax.set_ylim(low, high + headroom * (high - low))


def _twin(ax: Axes, days: np.ndarray, values: np.ndarray, label: str, ylabel: str,
          colour: str) -> Axes:
    """A right-hand axis for a stock (t) whose scale differs from the flows."""
    twin = ax.twinx()
    twin.plot(days, values, color=colour, lw=1.3, ls=(0, (5, 1.5)), label=label)
    twin.spines["right"].set_visible(True)
    twin.spines["right"].set_color(colour)
    twin.grid(False)
    twin.tick_params(axis="y", colors=colour, labelsize=STYLE["ytick.labelsize"])
    twin.yaxis.label.set_color(colour)
    _finish(twin, ylabel, headroom=0.3)
    return twin


def _legend(ax: Axes, *extra: Axes) -> None:
    """One legend for ``ax`` and its twins, in a row along the top inside the axes."""
    handles, labels = ax.get_legend_handles_labels()
    for other in extra:
        more = other.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    legend = ax.legend(handles, labels, loc="upper left", ncols=len(handles),
                       handlelength=1.8, columnspacing=1.2, borderaxespad=0.3)
    if extra:  # a twin is drawn after ax: lift ax (and its legend) above it, keep ax see-through
        ax.set_zorder(extra[-1].get_zorder() + 1)
        ax.patch.set_visible(False)
    legend.set_zorder(10)


def _baseline(ax: Axes, baseline: Any, column: str, region: str | None) -> None:
    if baseline is None:
        return
    days, series = daily_series(baseline, (column,), region)
    ax.plot(days, series[column], color=COLOURS["baseline"], lw=1.0, ls="--",
            label="no enforcement", zorder=1.5)


def _windows_for(windows: Iterable[Sequence[Any]] | None, region: str | None) -> list:
    if not windows:
        return []
    return [w for w in windows if region is None or region in w[1]]


# ---------------------------------------------------------------- campaign windows

def _spans(windows: Iterable[Sequence[Any]]) -> list[tuple[str, float, float]]:
    """(name, start, end) in Matplotlib date numbers, duplicates dropped, sorted by start."""
    spans = {(str(w[0]), float(mdates.date2num(np.datetime64(w[2], "D"))),
              float(mdates.date2num(np.datetime64(w[3], "D")))) for w in windows}
    return sorted(spans, key=lambda s: (s[1], s[2], s[0]))


def _label_rows(ax: Axes, spans: list[tuple[str, float, float]], fontsize: float) -> list[int]:
    """Stack labels in rows so that none overlaps: row i takes a label when its last one ended."""
    x0, x1 = ax.get_xlim()
    width_in = ax.get_position().width * ax.get_figure(root=True).get_figwidth()
    days_per_pt = (x1 - x0) / max(width_in * 72.0, 1.0)
    ends: list[float] = []
    rows = []
    for name, start, _ in spans:
        right = start + (len(name) * 0.62 * fontsize + 8.0) * days_per_pt
        row = next((i for i, end in enumerate(ends) if end <= start), len(ends))
        ends[row:row + 1] = [right]
        rows.append(row)
    return rows


def shade_windows(ax: Axes, windows: Iterable[Sequence[Any]], *, label: bool = True) -> Axes:
    """Shade campaign windows ``(name, regions, start, end)`` and name them above the axes.

    ``start`` and ``end`` are dates (``datetime.date``, ``numpy.datetime64`` or ISO strings);
    ``end`` is the last campaign day. The band lies behind the data, its edges (dotted) in front;
    labels sit above the plot, stacked so that none overlaps.
    """
    spans = _spans(windows)
    fontsize = STYLE["legend.fontsize"]
    rows = _label_rows(ax, spans, fontsize) if label else [0] * len(spans)
    base = blended_transform_factory(ax.transData, ax.transAxes)
    for (name, start, end), row in zip(spans, rows):
        ax.axvspan(start, end, color=COLOURS["window"], alpha=0.16, lw=0, zorder=0.5,
                   gid=f"window:{name}")
        for edge in (start, end):  # edges in front: visible over a stacked area too
            ax.axvline(edge, color="#606060", lw=0.6, ls=":", zorder=1.6, label="_window edge")
        if label:
            at = offset_copy(base, fig=ax.get_figure(root=True), x=1.0,
                             y=2.0 + row * (fontsize + 3.0), units="points")
            ax.text(start, 1.0, name, transform=at, fontsize=fontsize, color="#404040",
                    ha="left", va="bottom", clip_on=False)
    return ax


# ---------------------------------------------------------------- panels

@_styled
def plot_collection(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                    baseline: Any = None, windows: Iterable[Sequence[Any]] | None = None) -> Axes:
    """Scrap generated and collected (t/day) and trader stock (t, right-hand axis)."""
    ax = _axes(ax)
    days, s = daily_series(daily, ("generated", "collected", "trader_stock"), region)
    ax.plot(days, s["generated"], color=COLOURS["generated"], lw=1.1, label="generated")
    ax.plot(days, s["collected"], color=COLOURS["collected"], label="collected")
    _baseline(ax, baseline, "collected", region)
    twin = _twin(ax, days, s["trader_stock"], "trader stock (right)", "trader stock (t)",
                 COLOURS["trader_stock"])
    _finish(ax, "scrap flow (t/day)", headroom=0.3)
    _legend(ax, twin)
    shade_windows(ax, _windows_for(windows, region))
    return ax


@_styled
def plot_smelting(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                  baseline: Any = None, windows: Iterable[Sequence[Any]] | None = None) -> Axes:
    """Scrap smelted, demanded and traded (t/day) and smelter stock (t, right-hand axis)."""
    ax = _axes(ax)
    columns = ("smelted", "demanded", "traded", "smelter_stock")
    days, s = daily_series(daily, columns, region)
    ax.plot(days, s["demanded"], color=COLOURS["demanded"], lw=1.1, label="demanded")
    ax.plot(days, s["traded"], color=COLOURS["traded"], lw=1.1, label="traded")
    ax.plot(days, s["smelted"], color=COLOURS["smelted"], label="smelted")
    _baseline(ax, baseline, "smelted", region)
    twin = _twin(ax, days, s["smelter_stock"], "smelter stock (right)", "smelter stock (t)",
                 COLOURS["smelter_stock"])
    _finish(ax, "scrap flow (t/day)", headroom=0.3)
    _legend(ax, twin)
    shade_windows(ax, _windows_for(windows, region))
    return ax


@_styled
def plot_states(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                windows: Iterable[Sequence[Any]] | None = None) -> Axes:
    """Smelters by operating state (count), stacked: running, halted, suspended, rectifying, closed."""
    ax = _axes(ax)
    days, s = daily_series(daily, STATES, region)
    ax.stackplot(days, *(s[k] for k in STATES), labels=STATES, lw=0,
                 colors=[COLOURS[k] for k in STATES])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_axisbelow(True)
    _finish(ax, "smelters (count)", headroom=0.22)
    _legend(ax)
    shade_windows(ax, _windows_for(windows, region))
    return ax


@_styled
def plot_prices(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                baseline: Any = None, windows: Iterable[Sequence[Any]] | None = None) -> Axes:
    """Scrap price and ingot (ADC12) price, plus the primary aluminium price if recorded (CNY/t)."""
    ax = _axes(ax)
    columns = ("scrap_price", "ingot_price") + (("primary_price",) if "primary_price" in daily else ())
    days, s = daily_series(daily, columns, region)
    names = {"scrap_price": "scrap", "ingot_price": "ingot (ADC12)", "primary_price": "primary Al"}
    for column in columns:
        ax.plot(days, s[column], color=COLOURS[column], label=names[column],
                lw=1.6 if column == "scrap_price" else 1.1)
    _baseline(ax, baseline, "scrap_price", region)
    _finish(ax, "price (CNY/t)", zero=False, headroom=0.25)
    _legend(ax)
    shade_windows(ax, _windows_for(windows, region))
    return ax


@_styled
def plot_pressure(daily: Any, ax: Axes | None = None, region: str | None = None, *,
                  baseline: Any = None, windows: Iterable[Sequence[Any]] | None = None) -> Axes:
    """Price-pressure index (demand − supply)/(demand + supply), in −1..1, with a zero line.

    The y range is symmetric about zero and fits the data (at least ±0.05, at most ±1).
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
    ax.set_ylim(-limit, limit)
    for y, text, va in ((0.97, "excess demand ↑", "top"), (0.03, "excess supply ↓", "bottom")):
        ax.text(0.995, y, text, transform=ax.transAxes, ha="right", va=va, fontsize=8,
                color="#606060", style="italic")
    if baseline is not None:
        _legend(ax)
    shade_windows(ax, _windows_for(windows, region))
    return ax


# ---------------------------------------------------------------- the run figure

def _title(result: Any, regions: list[str]) -> str:
    scenario = getattr(result, "scenario", None)
    name = getattr(scenario, "name", None) or "scrapsim run"
    parts = [str(name)]
    if getattr(result, "seed", None) is not None:
        parts.append(f"seed {result.seed}")
    intensity = getattr(getattr(scenario, "enforcement", None), "intensity", None)
    if intensity is not None:
        parts.append(f"enforcement intensity {intensity:g}")
    head = " · ".join(parts)
    if len(regions) == 1:
        return f"{head}\n{regions[0]}"
    return f"{head}\n{len(regions)} regions summed (prices and pressure: mean over regions)"


@_styled
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
    fig = Figure(figsize=(9.0, 12.5), layout="constrained")
    axes = fig.subplots(5, 1, sharex=True, height_ratios=(1, 1, 0.9, 0.9, 0.8))
    plot_collection(daily, axes[0], baseline=base)
    plot_smelting(daily, axes[1], baseline=base)
    plot_states(daily, axes[2])
    plot_prices(daily, axes[3], baseline=base)
    plot_pressure(daily, axes[4])
    for i, ax in enumerate(axes):
        shade_windows(ax, windows, label=i == 0)
        ax.label_outer()
    fig.suptitle(_title(result, _regions(daily)))
    if path is not None:
        save(fig, path, formats)
    return fig


def _targets(path: Path, formats: Sequence[str]) -> list[Path]:
    wanted = [f.lower().lstrip(".") for f in formats]
    if path.suffix and not path.is_dir():
        wanted = [path.suffix.lower()[1:]] + [f for f in wanted if f != path.suffix.lower()[1:]]
        targets = [path.with_suffix("." + f) for f in wanted]
    else:
        targets = [path / f"timeseries.{f}" for f in wanted]
    bad = [f for f in wanted if f not in FORMATS]
    if bad:
        raise ValueError(f"cannot write figure format {bad[0]!r} ({path}); expected one of {FORMATS}")
    return targets


@_styled
def save(fig: Figure, path: str | Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write ``fig`` (see :func:`plot_run` for ``path``) without timestamps, so the same run gives
    the same bytes. Returns the files written."""
    targets = _targets(Path(path), formats)
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        kind = target.suffix[1:]
        fig.savefig(target, format=kind, metadata=_NO_DATE[kind])
    return targets
