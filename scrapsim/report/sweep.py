"""The report section of a sweep: its design, curves with 95% bands, and the table behind them."""

from __future__ import annotations

import math
from typing import Any

from scrapsim.report.page import FigureBlock, Section, TableBlock

__all__ = ["CURVE_METRICS", "curves_table", "sweep_section"]

CURVE_METRICS = (
    ("collection_change", "collection"),
    ("smelting_change", "smelting"),
    ("price_change", "scrap price"),
    ("mean_price_pressure", "price pressure"),
    ("shut_share", "shut share"),
)
"""Metrics of the curves table shown in the report (all against intensity 0, same seed)."""


def _cell(curves: Any, row: Any, metric: str) -> str:
    if f"{metric}_mean" not in curves.columns:
        return "n/a"
    mean, lo, hi = (float(row[f"{metric}_{s}"]) for s in ("mean", "lo", "hi"))
    if not math.isfinite(mean):
        return "n/a"
    if metric == "mean_price_pressure":
        text = f"{mean:+.3f}"
        band = f"\n[{lo:+.3f}, {hi:+.3f}]" if math.isfinite(lo) and math.isfinite(hi) else ""
    else:
        sign = "" if metric == "shut_share" else "+"  # a share, not a change
        text = f"{100 * mean:{sign}.1f}%"
        band = (f"\n[{100 * lo:{sign}.1f}, {100 * hi:{sign}.1f}]"
                if math.isfinite(lo) and math.isfinite(hi) else "")
    return text + band


def _value(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def curves_table(curves: Any) -> TableBlock:
    """One row per point: the varied values, then each metric's mean and 95% band."""
    from scrapsim.plots.curves import varied_keys

    keys = varied_keys(curves)
    metrics = [(m, label) for m, label in CURVE_METRICS if f"{m}_mean" in curves.columns]
    rows = [[_value(row[k]) for k in keys] + [str(int(row["n_ok"]))]
            + [_cell(curves, row, m) for m, _ in metrics] for _, row in curves.iterrows()]
    return TableBlock("Mean over replications [95% band], against intensity 0 with the same "
                      "seed; price pressure in index points, the others in %",
                      keys + ["runs"] + [label for _, label in metrics], rows)


def _design_facts(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    design = manifest.get("design") or {}
    axes = design.get("axes") or []
    varied = "; ".join(f"{a.get('key')}: " + ", ".join(_value(v) for v in a.get("values") or [])
                       for a in axes) or "none"
    return [("design", f"{design.get('kind', '?')}, {design.get('points', '?')} points × "
                       f"{manifest.get('reps', '?')} replication"
                       f"{'' if manifest.get('reps') == 1 else 's'}"),
            ("varied", varied),
            ("runs", f"{manifest.get('ok', '?')} ok, {manifest.get('failed', '?')} failed"),
            ("root seed", str(manifest.get("root_seed")))]


def sweep_section(sweep: Any) -> Section:
    """A sweep (:class:`scrapsim.report.build.SweepInput`): scenario, design, curves and their
    table."""
    from scrapsim.plots.curves import default_x, varied_keys
    from scrapsim.report.figures import curves_figure

    sc = sweep.scenario
    section = Section(sweep.label, "sweep")
    if sc.get("description"):
        section.paragraphs.append(" ".join(str(sc["description"]).split()))
    section.sources = [" ".join(str(x).split()) for x in sc.get("sources") or []]
    section.facts = [("period", f"{sc.get('start')} to {sc.get('end')}"),
                     *_design_facts(sweep.manifest), ("folder", str(sweep.folder))]
    curves = sweep.curves
    section.tables.append(curves_table(curves))
    x = default_x(curves, varied_keys(curves))
    if x is None or curves.empty:
        section.paragraphs.append("No numeric varied field: the sweep has no curves to draw.")
        return section
    lines = (sweep.manifest.get("design") or {}).get("kind", "grid") == "grid"
    section.figures.append(FigureBlock(
        f"{sweep.label}: change in collection, smelting and scrap price, and the mean price-"
        f"pressure index, against {x}; bands: 95% over replications.",
        curves_figure(curves, lines=lines)))
    return section
