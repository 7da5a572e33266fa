"""Campaign windows on a time axis: shaded bands behind the data, dotted edges in front, and
the campaigns' names above the axes in as many rows as keep them apart.

Windows are ``(name, regions, start, end)`` with ``end`` the campaign's last day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes

from scrapsim.plots.style import COLOURS, STYLE, size_pt, text_pt

__all__ = ["Windows", "shade_windows"]

Windows = Iterable[Sequence[Any]] | None
"""Campaign windows ``(name, regions, start, end)``; see :func:`shade_windows`."""


def _spans(windows: Iterable[Sequence[Any]]) -> list[tuple[str, float, float]]:
    """(name, start, end) in Matplotlib date numbers, duplicates dropped, sorted by start."""
    spans = {(str(w[0]), float(mdates.date2num(np.datetime64(w[2], "D"))),
              float(mdates.date2num(np.datetime64(w[3], "D")))) for w in windows}
    return sorted(spans, key=lambda s: (s[1], s[2], s[0]))


def _label_rows(ax: Axes, spans: list[tuple[str, float, float]], fontsize: float) -> list[int]:
    """Stack labels in rows so that none overlaps: row i takes a label when its last one ended."""
    x0, x1 = ax.get_xlim()
    days_per_pt = (x1 - x0) / max(size_pt(ax)[0], 1.0)
    ends: list[float] = []
    rows = []
    for name, start, _ in spans:
        right = start + (text_pt(name, fontsize) + 8.0) * days_per_pt
        row = next((i for i, end in enumerate(ends) if end <= start), len(ends))
        ends[row:row + 1] = [right]
        rows.append(row)
    return rows


def shade_windows(ax: Axes, windows: Windows, *, label: bool = True,
                  region: str | None = None) -> Axes:
    """Shade campaign windows ``(name, regions, start, end)`` and name them above the axes.

    ``start`` and ``end`` are dates (``datetime.date``, ``numpy.datetime64`` or ISO strings);
    ``end`` is the last campaign day. With ``region``, only windows covering it. The band lies
    behind the data, its edges (dotted) in front. Names sit above the plot on top axes of their
    own (one per row, stacked so that none overlaps), which layout and titles make room for.
    """
    spans = _spans(w for w in windows or () if region is None or region in w[1])
    depth = max((sum(a <= start <= b for _, a, b in spans) for _, start, _ in spans), default=1)
    for name, start, end in spans:  # overlapping bands together no darker than ~0.16 + edges
        ax.axvspan(start, end, color=COLOURS["window"], alpha=max(0.07, 0.16 / depth), lw=0,
                   zorder=0.5, gid=f"window:{name}")
        for edge in (start, end):  # edges in front: visible over a stacked area too
            ax.axvline(edge, color="#606060", lw=0.6, ls=":", zorder=1.6, label="_window edge")
    if label and spans:
        _name_windows(ax, spans)
    return ax


def _name_windows(ax: Axes, spans: list[tuple[str, float, float]]) -> None:
    size = STYLE["legend.fontsize"]
    rows = _label_rows(ax, spans, size)
    for row in range(max(rows) + 1):
        mine = [span for span, r in zip(spans, rows, strict=True) if r == row]
        top = ax.secondary_xaxis("top")
        top.set_xticks([start for _, start, _ in mine], [name for name, _, _ in mine],
                       ha="left", color="#404040", fontsize=size)
        top.tick_params(axis="x", length=0, pad=2.0 + row * (size + 3.0))
        top.spines["top"].set_visible(False)
        top.set_gid(f"window names {row}")
