"""Figures a reader does not stumble on (issue 15, item 6): count axes with whole ticks only,
standalone sweep figures titled with scenario, replications and window, and legends without
entries that draw nothing visible."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from matplotlib.figure import Figure

from scrapsim.plots.curves import save_curve_figures, supply_curve
from scrapsim.report.figures import plot_inspections, plot_running_by_class


def _daily(inspections: list[float]) -> pd.DataFrame:
    n = len(inspections)
    days = pd.date_range("2017-01-01", periods=n, freq="D")
    return pd.DataFrame({"date": days, "region": "a", "inspections": inspections,
                         "violations": [min(1.0, v) for v in inspections],
                         "running_large": [1.0] * n, "running_small": [0.0] * n,
                         "running_workshop": [1.0] * n})


def _tick_labels(ax: object) -> list[str]:
    low, high = ax.get_ylim()  # type: ignore[attr-defined]
    ticks = [t for t in ax.get_yticks() if low <= t <= high]  # type: ignore[attr-defined]
    fmt = ax.yaxis.get_major_formatter()  # type: ignore[attr-defined]
    return [fmt(t, i) for i, t in enumerate(ticks)]


def test_a_count_axis_with_small_counts_has_whole_distinct_ticks() -> None:
    """Inspections of 0 or 1 a day: ticks 0 and 1, never 0, 0, 0, 1, 1, 1."""
    for plot in (plot_inspections, plot_running_by_class):
        ax = Figure().add_subplot()
        plot(_daily([0, 1, 0, 1, 1, 0] * 5), ax)
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        assert all(float(t).is_integer() for t in ticks), (plot.__name__, ticks)
        labels = _tick_labels(ax)
        assert len(labels) == len(set(labels)) >= 2, labels


def _curves(second_matters: bool) -> pd.DataFrame:
    rows = []
    for b in (0, 1, 2, 3):
        for x in (0.0, 0.5, 1.0):
            collected = -0.5 * x * (1 + 0.3 * b)
            offered = -0.2 * x * ((1 + 0.3 * b) if second_matters else 1.0)
            rows.append({"point": len(rows), "enforcement.intensity": x, "b": b, "n_ok": 4,
                         **{f"collection_change_{s}": collected + d for s, d in
                            (("mean", 0), ("lo", -0.01), ("hi", 0.01))},
                         **{f"offered_change_{s}": offered + d for s, d in
                            (("mean", 0), ("lo", -0.01), ("hi", 0.01))}})
    return pd.DataFrame(rows)


def test_a_2d_sweep_legend_has_one_entry_per_visible_line() -> None:
    """Offered does not depend on b: its four lines coincide, so one entry names all four."""
    ax = supply_curve(_curves(second_matters=False))
    labels = ax.get_legend_handles_labels()[1]
    assert len([x for x in labels if x.startswith("collected")]) == 4
    offered = [x for x in labels if x.startswith("offered")]
    assert offered == ["offered (supply) (0; 1; 2; 3)"]     # the legend's title names b
    assert len([x for x in ax.get_lines() if not x.get_label().startswith("_")]) == 5
    ax = supply_curve(_curves(second_matters=True))
    assert len(ax.get_legend_handles_labels()[1]) == 8       # all distinct: all shown


def test_a_legend_of_many_entries_goes_below_the_curves() -> None:
    """Eight entries inside the axes covered the curves of a 2-D sweep: they go below them,
    a column per series, under a title naming the grouping key, and the figure grows to hold
    them; a 1-D sweep's two entries stay inside, untitled."""
    ax = supply_curve(_curves(second_matters=True))
    legend = ax.get_legend()
    assert legend is not None and legend.get_title().get_text() == "(b)"
    fig = ax.figure
    fig.canvas.draw()
    assert legend.get_window_extent().y1 <= ax.get_window_extent().y0   # below the axes
    assert fig.get_size_inches()[1] > 4.0
    one = supply_curve(_curves(second_matters=True).query("b == 0").drop(columns="b"))
    inside = one.get_legend()
    assert inside is not None and inside.get_title().get_text() == ""
    one.figure.canvas.draw()
    assert one.get_window_extent().contains(*inside.get_window_extent().get_points()[0])
    assert one.figure.get_size_inches()[1] == 4.0


def test_standalone_sweep_figures_name_scenario_reps_and_window(tmp_path: Path) -> None:
    design = SimpleNamespace(keys=["enforcement.intensity", "b"], kind="grid")
    written = save_curve_figures(_curves(True), design, tmp_path, scenario="hebei", reps=8)
    assert "figures/supply_curve.svg" in written
    svg = (tmp_path / "figures" / "supply_curve.svg").read_text(encoding="utf-8")
    for words in ("scenario hebei", "8 replications per point", "over the campaign windows"):
        assert all(w in svg for w in words.split()), words
