"""The house style of scrapsim's figures: palette, one colour per quantity, rc settings applied
per call (never globally), and text measurements for laying out legends and labels."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import matplotlib as mpl
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

__all__ = ["COLOURS", "MEAN_COLUMNS", "OKABE_ITO", "STATES", "STYLE", "size_pt", "styled",
           "text_pt"]

_F = TypeVar("_F", bound=Callable[..., Any])

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

STYLE: Any = {
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

def styled(func: _F) -> _F:
    """Run ``func`` inside the house style."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mpl.rc_context(STYLE):
            return func(*args, **kwargs)
    return wrapper  # type: ignore[return-value]



def size_pt(ax: Axes) -> tuple[float, float]:
    """Width and height of ``ax`` in points (before layout: an upper estimate)."""
    fig = ax.get_figure(root=True)
    box = ax.get_position()
    assert fig is not None, "an Axes drawn on a figure"
    return box.width * fig.get_figwidth() * 72.0, box.height * fig.get_figheight() * 72.0


def text_pt(text: str, size: float) -> float:
    """Width of ``text`` in points at font ``size``, as Agg will draw it."""
    return TextToPath().get_text_width_height_descent(text, FontProperties(size=size), False)[0]
