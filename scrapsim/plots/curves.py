"""Figures of a sweep: the supply, smelting-demand and price-pressure curves with their bands.

Each function takes the curves table of a sweep (``curves.csv``: one row per point, the varied
keys and ``<metric>_mean/_lo/_hi``), draws on ``ax`` (or a new Figure) and returns the Axes.
``x`` is the varied key on the horizontal axis (default: ``enforcement.intensity`` when varied,
else the first numeric key); ``by`` are keys whose combinations get one line each (default: the
other varied keys). ``lines=False`` draws points with error bars (Latin-hypercube designs, whose
points do not lie on lines). All metrics are relative to the intensity-0 run of the same seed.
The house style of :mod:`scrapsim.plots.timeseries` is applied per call; nothing touches ``pyplot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from scrapsim.plots.timeseries import COLOURS, STYLE, save

__all__ = ["CURVES", "price_pressure_curve", "save_curve_figures", "smelting_demand_curve",
           "supply_curve"]

Series = tuple[str, str, str]  # metric, label, colour


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    ax = Figure(figsize=(6.4, 4.0), layout="constrained").add_subplot()
    ax._scrapsim_height = 4.0  # type: ignore[attr-defined]  # it may grow (_legend)
    return ax


def _resolve(curves: Any, x: str | None, by: Sequence[str] | None) -> tuple[str, list[str]]:
    """The x key (:func:`default_x` unless given) and the keys that group the curves (the
    other varied keys unless given)."""
    keys = varied_keys(curves)
    x = x or default_x(curves, keys)
    if x is None:
        raise ValueError("the curves table has no numeric varied key to plot against")
    return x, [k for k in keys if k != x] if by is None else list(by)


def varied_keys(curves: Any) -> list[str]:
    """The varied keys of a curves table: its columns between ``point`` and ``n_ok``."""
    cols = list(curves.columns)
    return cols[cols.index("point") + 1:cols.index("n_ok")]


def default_x(curves: Any, keys: Sequence[str]) -> str | None:
    """``enforcement.intensity`` if varied, else the first numeric varied key (None: no curve)."""
    numeric = [k for k in keys if k in curves.columns and curves[k].dtype.kind in "iuf"]
    if "enforcement.intensity" in numeric:
        return "enforcement.intensity"
    return numeric[0] if numeric else None


def _groups(curves: Any, by: Sequence[str]) -> list[tuple[str, Any]]:
    """The groups of rows with the same values of ``by``, named by those values (the legend's
    title names the keys, :func:`_legend`)."""
    if not by:
        return [("", curves)]
    return [(", ".join(str(v) for v in (key if isinstance(key, tuple) else (key,))), group)
            for key, group in curves.groupby(list(by), sort=True)]


LEGEND_INSIDE = 4
"""At most this many entries go inside the axes; more (a sweep over a second key) go below
them, a column per series, so that they hide no curve."""


def _legend(ax: Axes, by: Sequence[str], columns: int, handles: list[Any] | None = None,
            labels: list[str] | None = None) -> None:
    """The axes' legend, titled with the keys ``by`` that name its groups."""
    if handles is None or labels is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    title = f"({', '.join(by)})" if by else None
    if len(handles) <= LEGEND_INSIDE:
        ax.legend(handles, labels, loc="best", title=title)
        return
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=max(1, columns), title=title, frameon=False)
    base = getattr(ax, "_scrapsim_height", None)     # a figure of our own: make room for the
    if base is not None:                             # legend rather than shrink the plot
        rows = -(-len(handles) // max(1, columns))
        fig = cast(Figure, ax.figure)
        fig.set_size_inches(fig.get_size_inches()[0], base + 0.22 * rows + 0.5)


def _band(ax: Axes, curves: Any, x: str, series: Series, by: Sequence[str], lines: bool,
          style: str = "-") -> None:
    metric, label, colour = series
    if f"{metric}_mean" not in curves.columns:
        return
    groups = [(n, g) for n, g in _groups(curves, by) if g[f"{metric}_mean"].notna().any()]
    drawn: list[tuple[np.ndarray, np.ndarray, list[str], Any]] = []
    for i, (name, group) in enumerate(groups):
        g = group.sort_values(x)
        xs = g[x].to_numpy(float)
        mean, lo, hi = (g[f"{metric}_{s}"].to_numpy(float) for s in ("mean", "lo", "hi"))
        same = [d for d in drawn if _same_line(d[0], d[1], xs, mean)]
        if same:        # it would hide under a line already drawn: one entry names both
            same[0][2].append(name)
            same[0][3].set_label(f"{label} ({'; '.join(same[0][2])})")
            continue
        text = label if not name else f"{label} ({name})"
        alpha = 1.0 - 0.6 * i / max(1, len(groups) - 1) if len(groups) > 1 else 1.0
        if lines:
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.18 * alpha, lw=0)
            handle: Any = ax.plot(xs, mean, style, color=colour, alpha=alpha, marker="o", ms=3,
                             label=text)[0]
        else:
            err = np.vstack([mean - lo, hi - mean])
            handle = ax.errorbar(xs, mean, yerr=np.where(np.isfinite(err), err, 0.0), fmt="o",
                                 ms=3, color=colour, alpha=alpha, elinewidth=0.8, capsize=2,
                                 label=text)
        drawn.append((xs, mean, [name], handle))


def _same_line(xs0: np.ndarray, y0: np.ndarray, xs: np.ndarray, y: np.ndarray) -> bool:
    """True when two curves coincide to drawing precision (the second would not be seen)."""
    if xs0.shape != xs.shape or not np.allclose(xs0, xs):
        return False
    scale = max(float(np.nanmax(np.abs(y0))) if np.isfinite(y0).any() else 0.0, 1e-12)
    return bool(np.allclose(y0, y, atol=1e-3 * scale, rtol=0.0, equal_nan=True))


AXIS_LABELS = {"enforcement.intensity": "enforcement intensity (× the scenario's campaigns)"}
"""Axis names of varied keys that have a plainer one (others are shown as their dotted path)."""


ZERO_LINE = "zero line"
"""The gid of a curve axis's line at 0 (:func:`align_zero` removes a twin's)."""


def _finish(ax: Axes, x: str, ylabel: str, title: str, by: Sequence[str], columns: int,
            percent: bool = True) -> Axes:
    ax.axhline(0.0, color="#7F7F7F", lw=0.8, zorder=0, gid=ZERO_LINE)
    ax.set_xlabel(AXIS_LABELS.get(x, x))
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _legend(ax, by, columns)
    return ax


def _curve(curves: Any, series: Sequence[Series], title: str, ylabel: str, ax: Axes | None,
           x: str | None, by: Sequence[str] | None, lines: bool) -> Axes:
    with mpl.rc_context(STYLE):
        x, by = _resolve(curves, x, by)
        ax = _axes(ax)
        for i, s in enumerate(series):
            _band(ax, curves, x, s, by, lines, "-" if i == 0 else "--")
        return _finish(ax, x, ylabel, title, by, len(series))


def supply_curve(curves: Any, ax: Axes | None = None, *, x: str | None = None,
                 by: Sequence[str] | None = None, lines: bool = True) -> Axes:
    """Scrap collected and offered (what traders want to sell: a flow, t/day) against
    enforcement, and sold (traded) when the curves table has it; relative change of each
    flow over the campaign windows vs. intensity 0."""
    series = [("collection_change", "collected", COLOURS["collected"]),
              ("offered_change", "offered (supply)", COLOURS["trader_stock"])]
    if "traded_change_mean" in getattr(curves, "columns", ()):
        series.append(("traded_change", "sold", COLOURS["traded"]))
    return _curve(curves, series, "Supply curve (flows)", "change in t/day vs. no enforcement",
                  ax, x, by, lines)


def smelting_demand_curve(curves: Any, ax: Axes | None = None, *, x: str | None = None,
                          by: Sequence[str] | None = None, lines: bool = True) -> Axes:
    """Scrap smelted (and demanded) against enforcement, relative change vs. intensity 0."""
    series = [("smelting_change", "smelted", COLOURS["smelted"]),
              ("demanded_change", "demanded", COLOURS["demanded"])]
    return _curve(curves, series, "Smelting-demand curve (flows)",
                  "change in t/day vs. no enforcement", ax, x, by, lines)


def price_pressure_curve(curves: Any, ax: Axes | None = None, *, x: str | None = None,
                         by: Sequence[str] | None = None, lines: bool = True) -> Axes:
    """Mean price-pressure index (left, index points) and scrap price change (right, %)."""
    ax = _curve(curves, [("mean_price_pressure", "price pressure", COLOURS["price_pressure"])],
                "Price-pressure curve", "price-pressure index vs. no enforcement", ax, x, by,
                lines)
    ax.yaxis.set_major_formatter(mpl.ticker.ScalarFormatter())
    with mpl.rc_context(STYLE):
        twin = ax.twinx()
        twin.grid(False)
        colour = COLOURS["scrap_price"]
        _curve(curves, [("price_change", "scrap price (right)", colour)], "Price-pressure curve",
               "scrap price change vs. no enforcement", twin, x, by, lines)
        twin.spines["right"].set_visible(True)
        twin.tick_params(axis="y", colors=colour)
        handles = ax.get_legend_handles_labels()
        more = twin.get_legend_handles_labels()
        if twin.get_legend():
            legend = twin.get_legend()
            if legend is not None:
                legend.remove()
        _legend(ax, _resolve(curves, x, by)[1], 2, handles[0] + more[0], handles[1] + more[1])
        align_zero(ax, twin)
    return ax


def align_zero(left: Axes, right: Axes, widen: float = 1.6) -> bool:
    """Widen the two y axes' limits so that both put 0 at the same height, when neither has to
    grow by more than ``widen`` times its span; True when aligned. Otherwise (one curve mostly
    above 0, the other far below it) the limits are kept and ``right``'s own zero line is
    removed: one zero line, the left axis's, rather than two at different heights or an axis
    stretched to several times its data."""
    limits = [a.get_ylim() for a in (left, right)]
    if all(lo < 0.0 < hi for lo, hi in limits):
        below = max(-lo / (hi - lo) for lo, hi in limits)     # share of the height below 0
        spans = [max(-lo / below, hi / (1.0 - below)) for lo, hi in limits]
        if all(span <= widen * (hi - lo) for span, (lo, hi) in zip(spans, limits, strict=True)):
            for a, span in zip((left, right), spans, strict=True):
                a.set_ylim(-below * span, (1.0 - below) * span)
            return True
    for line in list(right.get_lines()):
        if line.get_gid() == ZERO_LINE:
            line.remove()
    return False


CURVES = {"supply_curve": supply_curve, "smelting_demand_curve": smelting_demand_curve,
          "price_pressure_curve": price_pressure_curve}


def subtitle(scenario: str | None, reps: int | None) -> str:
    """What a standalone curve figure shows: scenario, replications, over which days."""
    parts = [f"scenario {scenario}" if scenario else "",
             f"{reps} replication{'s' * (reps != 1)} per point, 95% bands" if reps else ""]
    first = "; ".join(p for p in parts if p)
    last = "changes over the campaign windows vs. the same seeds without enforcement"
    return f"{first}\n{last}" if first else last   # two lines: one was cut at the right edge


def save_curve_figures(curves: Any, design: Any, folder: Path, *, scenario: str | None = None,
                       reps: int | None = None) -> list[str]:
    """The three curve figures as PNG and SVG under ``folder/figures``, each titled with the
    scenario, the replications and the window its changes are taken over; their names."""
    x = default_x(curves, design.keys)
    if x is None or curves.empty:
        return []
    written = []
    for name, plot in CURVES.items():
        ax = plot(curves, x=x, lines=design.kind == "grid")
        with mpl.rc_context(STYLE):
            ax.figure.suptitle(subtitle(scenario, reps), fontsize=STYLE["legend.fontsize"],
                               x=0.01, ha="left")
        for path in save(cast(Any, ax.figure), folder / "figures" / f"{name}.png", ("png", "svg")):
            written.append(str(path.relative_to(folder)))
    return written
