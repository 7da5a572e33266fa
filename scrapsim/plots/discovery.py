"""Figures of exploratory modelling: the policy trade-off, PRIM's peeling trajectory and the
chosen box.

Takes the tables as written to disk (pandas): ``robust.csv`` (one row per policy and metric,
with ``mean``, ``p10``, ``p90``), ``trajectory.csv`` (``coverage``, ``density``, ``res_dim``
per box) and ``boxes.csv`` (per box and input: ``lower``, ``upper``, ``minimum``, ``maximum``,
``qp_lower``, ``qp_upper``). House style per call; nothing touches ``pyplot``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from scrapsim.plots.timeseries import OKABE_ITO, STYLE

__all__ = ["box_figure", "peeling_figure", "tradeoff_figure"]


def _stats(table: Any, metric: str, policies: Sequence[str],
           sign: float) -> tuple[Any, Any, Any]:
    """Per policy: ``sign`` × the mean, and the distances to its P10-P90 band (errorbar)."""
    part = table[table["metric"] == metric].set_index("policy").loc[list(policies)]
    mean = sign * part["mean"].to_numpy(float)
    a, b = sign * part["p10"].to_numpy(float), sign * part["p90"].to_numpy(float)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return mean, np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)


def tradeoff_figure(table: Any, non_dominated: Sequence[str], gain: str, supply: str,
                    price: str) -> Figure | None:
    """Environmental gain (−``gain``: less scrap smelted by violating sites) against supply
    loss (−``supply``) and against the price change (``price``), one point per policy (mean
    across scenarios; bars: 10th-90th percentile); non-dominated policies filled and named.
    None when ``table`` lacks the gain or both other metrics."""
    metrics = set(table["metric"])
    panels = [(m, s, label) for m, s, label in
              ((supply, -1.0, "supply loss (−smelting change)"),
               (price, 1.0, "scrap price change")) if m in metrics]
    if gain not in metrics or not panels:
        return None
    policies = list(dict.fromkeys(table["policy"].astype(str)))
    y, ylo, yhi = _stats(table, gain, policies, -1.0)
    best = np.array([p in set(non_dominated) for p in policies])
    width = 0.062 * max(len(p) for p in policies) + 0.5
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(4.4 * len(panels) + width, max(4.4, 0.16 * len(policies) + 1.2)),
                     layout="constrained")
        grid = fig.add_gridspec(1, len(panels) + 1,
                                width_ratios=[4.4] * len(panels) + [width])
        axes = [fig.add_subplot(grid[0, 0])]
        axes += [fig.add_subplot(grid[0, k], sharey=axes[0]) for k in range(1, len(panels))]
        for ax, (metric, sign, label) in zip(axes, panels, strict=True):
            x, xlo, xhi = _stats(table, metric, policies, sign)
            ax.errorbar(x, y, xerr=[xlo, xhi], yerr=[ylo, yhi], fmt="none", ecolor="#9A9A9A",
                        elinewidth=0.9, capsize=2)
            ax.scatter(x[~best], y[~best], s=28, facecolors="white",
                       edgecolors=OKABE_ITO[5], label="dominated", zorder=3)
            ax.scatter(x[best], y[best], s=34, color=OKABE_ITO[6], label="non-dominated",
                       zorder=4)
            for k, (xi, yi) in enumerate(zip(x, y, strict=True)):
                ax.annotate(str(k + 1), (xi, yi), xytext=(3, 3), textcoords="offset points",
                            fontsize=6.5)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_xlabel(label)
        axes[0].yaxis.set_major_formatter(PercentFormatter(1.0))
        axes[0].set_ylabel("environmental gain (−violating smelting change)")
        axes[0].legend(loc="best", fontsize=7)
        key = fig.add_subplot(grid[0, -1])
        key.axis("off")
        for k, (name, nd) in enumerate(zip(policies, best, strict=True)):
            key.text(0.0, 1.0 - (k + 0.5) / len(policies), f"{k + 1:>2}  {name}",
                     fontsize=6.5, va="center", transform=key.transAxes,
                     color=OKABE_ITO[6] if nd else "#333333")
        fig.suptitle("Policies across the uncertainty scenarios (mean; bars: P10-P90; "
                     "key: orange = non-dominated)")
    return fig


def peeling_figure(trajectory: Any, chosen: int) -> Figure:
    """PRIM's peeling trajectory: density against coverage of each box, coloured by how many
    inputs it restricts; the chosen box ringed."""
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(5.6, 4.4), layout="constrained")
        ax = fig.add_subplot()
        dims = trajectory["res_dim"].to_numpy(int)
        cmap = mpl.colormaps["viridis"].resampled(max(1, dims.max() - dims.min() + 1))
        sc = ax.scatter(trajectory["coverage"], trajectory["density"], c=dims, cmap=cmap, s=22,
                        vmin=dims.min() - 0.5, vmax=dims.max() + 0.5, zorder=3)
        ax.plot(trajectory["coverage"], trajectory["density"], color="#BBBBBB", linewidth=0.8,
                zorder=2)
        row = trajectory[trajectory["box"] == chosen].iloc[0]
        ax.scatter([row["coverage"]], [row["density"]], s=120, facecolors="none",
                   edgecolors=OKABE_ITO[6], linewidths=1.6, zorder=4,
                   label=f"chosen box {chosen}")
        fig.colorbar(sc, ax=ax, label="restricted inputs",
                     ticks=range(int(dims.min()), int(dims.max()) + 1))
        ax.set_xlabel("coverage (share of cases of interest inside the box)")
        ax.set_ylabel("density (share of the box's cases of interest)")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower left")
        ax.set_title("PRIM peeling trajectory")
    return fig


def box_figure(limits: Any, title: str) -> Figure:
    """The chosen box: for each restricted input, its limits as a bar on the input's sampled
    range (0-1 scale, range printed), with the quasi-p-values of each restricted end."""
    n = len(limits)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(7.6, 0.55 * n + 1.6), layout="constrained")
        ax = fig.add_subplot()
        for k, r in enumerate(limits.itertuples()):
            span = (r.maximum - r.minimum) or 1.0
            a, b = (r.lower - r.minimum) / span, (r.upper - r.minimum) / span
            ax.plot([0, 1], [k, k], color="#DDDDDD", linewidth=6, solid_capstyle="butt")
            ax.plot([a, b], [k, k], color=OKABE_ITO[5], linewidth=6, solid_capstyle="butt")
            ax.text(-0.02, k, f"{r.minimum:.4g}", ha="right", va="center", fontsize=7)
            ax.text(1.02, k, f"{r.maximum:.4g}", ha="left", va="center", fontsize=7)
            for end, x, qp in (("lower", a, r.qp_lower), ("upper", b, r.qp_upper)):
                value = r.lower if end == "lower" else r.upper
                if np.isfinite(qp):
                    ax.annotate(f"{value:.4g} (qp {qp:.2g})", (x, k), xytext=(0, 7),
                                textcoords="offset points", ha="center", fontsize=7)
        ax.set_yticks(range(n), [str(x) for x in limits["input"]])
        ax.set_ylim(n - 0.4, -0.8)
        ax.set_xlim(-0.3, 1.3)
        ax.set_xticks([])
        ax.spines["left"].set_visible(False)
        ax.spines["bottom"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.grid(visible=False)
        fig.suptitle("\n".join(textwrap.wrap(title, 80)), fontsize=8)
    return fig
