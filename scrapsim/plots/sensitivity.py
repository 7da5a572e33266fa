"""The figure of a sensitivity analysis: per metric, a horizontal bar per parameter with its 95%
confidence interval.

Morris: ``mu_star`` (mean absolute elementary effect, in the metric's unit per full range of
the parameter). Sobol': ``S1`` (first order) and ``ST`` (total) side by side, shares of the
metric's variance. Takes the ``indices.csv`` table (pandas); the house style of
:mod:`scrapsim.plots.timeseries` is applied per call and nothing touches ``pyplot``.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scrapsim.plots.timeseries import OKABE_ITO, STYLE

__all__ = ["indices_figure", "indices_panel"]

BARS = {"morris": (("mu_star", "mu_star_conf", "μ* (mean |effect|)", OKABE_ITO[5]),),
        "sobol": (("S1", "S1_conf", "S1 (first order)", OKABE_ITO[5]),
                  ("ST", "ST_conf", "ST (total)", OKABE_ITO[6]))}
"""Per method: bars drawn for each parameter (value column, CI column, label, colour)."""
XLABEL = {"morris": "μ*, metric units per full range of the parameter",
          "sobol": "share of the metric's variance"}


def indices_panel(table: Any, method: str, ax: Axes | None = None) -> Axes:
    """One metric's indices (rows: parameters, top to bottom in table order) on ``ax``."""
    with mpl.rc_context(STYLE):
        if ax is None:
            ax = Figure(figsize=(6.4, 0.4 * len(table) + 1.2), layout="constrained").add_subplot()
        bars = BARS[method]
        y = np.arange(len(table))
        height = 0.8 / len(bars)
        for k, (value, conf, label, colour) in enumerate(bars):
            offset = (k - (len(bars) - 1) / 2) * height
            ax.barh(y + offset, table[value].to_numpy(float), height=height * 0.9,
                    xerr=table[conf].to_numpy(float), color=colour, label=label,
                    error_kw={"ecolor": "#333333", "capsize": 2.5, "elinewidth": 0.9})
        ax.set_yticks(y, [str(p) for p in table["parameter"]])
        ax.set_ylim(len(table) - 0.5, -0.5)
        ax.axvline(0.0, color="#7F7F7F", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        ax.set_axisbelow(True)
        ax.set_xlabel(XLABEL[method])
        if len(bars) > 1:
            ax.legend(loc="lower right")
    return ax


def indices_figure(indices: Any, title: str = "") -> Figure:
    """Every metric of ``indices`` (``indices.csv``), one panel each, two panels a row."""
    method = str(indices["method"].iloc[0])
    metrics = list(dict.fromkeys(indices["metric"]))
    params = list(dict.fromkeys(indices["parameter"]))
    cols = min(2, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    label_in = 0.075 * max(len(p) for p in params)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(label_in + 4.2 * cols, rows * (0.36 * len(params) + 1.3) + 0.4),
                     layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False)
        for i, (ax, metric) in enumerate(zip(axes.flat, metrics, strict=False)):
            table = indices[indices["metric"] == metric].set_index("parameter").loc[params]
            indices_panel(table.reset_index(), method, ax)
            ax.set_title(metric)
            if method == "sobol" and table[["S1", "ST"]].isna().all().all():
                ax.text(0.5, 0.5, "constant over the samples:\nno variance to split,\n"
                        "indices undefined", transform=ax.transAxes, ha="center",
                        va="center", color="#595959")
            if i % cols:
                ax.set_yticklabels([])
        for ax in axes.flat[len(metrics):]:
            ax.set_visible(False)
        if title:       # two lines: one was cut at both edges of a two-panel figure
            fig.suptitle(f"{title}\n(bars: index; whiskers: 95% confidence interval)")
    return fig
