"""The report section of a sensitivity analysis: what varied over which range and why, the
indices with their 95% confidence intervals, and the bar chart.

A sensitivity folder (``python -m scrapsim sensitivity …``) is recognised by
:data:`SENSITIVITY_FILES`; ``scenario.yaml`` beside them gives the description and sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapsim.report.page import FigureBlock, Section, TableBlock
from scrapsim.report.readers import read_csv, read_json
from scrapsim.scenario import ScenarioError

__all__ = ["SENSITIVITY_FILES", "SensitivityInput", "load_sensitivity",
           "indices_tables", "sensitivity_section"]

SENSITIVITY_FILES = ("indices.csv", "samples.csv", "manifest.json")
SHOWN = {"morris": (("mu*", "mu_star", "mu_star_conf"), ("mu", "mu", None),
                    ("sigma", "sigma", None)),
         "sobol": (("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf"))}
"""Per method: the index columns shown (header, value column, CI column)."""


@dataclass
class SensitivityInput:
    """A sensitivity folder: its manifest, scenario (dict from scenario.yaml, may be empty) and
    indices table."""

    folder: Path
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    indices: Any
    label: str = ""


def load_sensitivity(folder: Path) -> SensitivityInput:
    """Read a sensitivity folder; a file that is not what scrapsim wrote raises ScenarioError."""
    import yaml


    manifest = read_json(folder / "manifest.json")
    indices = read_csv(folder / "indices.csv")
    method = str(manifest.get("method"))
    need = {"metric", "parameter", *(c for _, v, e in SHOWN.get(method, ()) for c in (v, e) if c)}
    if method not in SHOWN or not need <= set(indices.columns):
        raise ScenarioError("is not the indices table of a scrapsim sensitivity analysis",
                            file=str(folder / "indices.csv"),
                            expected=f"columns {', '.join(sorted(need))} (method {method})")
    scenario: Any = {}
    if (folder / "scenario.yaml").is_file():
        try:
            scenario = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ScenarioError(f"cannot read ({exc})", file=str(folder / "scenario.yaml"),
                                expected="the scenario written by scrapsim") from None
    if not isinstance(scenario, dict):
        scenario = {}
    scenario.setdefault("name", (manifest.get("scenario") or {}).get("name"))
    return SensitivityInput(folder, manifest, scenario, indices)


def _num(x: Any) -> str:
    x = float(x)
    return "n/a" if not math.isfinite(x) else f"{x:.3g}"


def indices_tables(item: SensitivityInput) -> list[TableBlock]:
    """Per metric, one row per parameter (most influential first): index ± 95% CI."""
    method = str(item.manifest["method"])
    shown = SHOWN[method]
    rank = "mu_star" if method == "morris" else "ST"
    unit = ("in the metric's unit per full range of the parameter" if method == "morris"
            else "shares of the metric's variance")
    tables = []
    for metric in dict.fromkeys(item.indices["metric"]):
        part = item.indices[item.indices["metric"] == metric]
        rows = [[str(r["parameter"])] + [_num(r[v]) + (f" ± {_num(r[c])}" if c else "")
                                         for _, v, c in shown]
                for _, r in part.sort_values(rank, ascending=False, kind="stable").iterrows()]
        tables.append(TableBlock(f"{metric}: {method.capitalize()} indices ({unit}), ± 95% "
                                 "confidence interval (bootstrap)",
                                 ["parameter"] + [h for h, _, _ in shown], rows))
    return tables


def _ranges(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """Each parameter's range and its source, as (label, text) lines."""
    return [(str(p.get("key")), f"{p.get('low'):g} to {p.get('high'):g}"
             + (" (a count, rounded)" if p.get("integer") else "") + f": {p.get('source', '')}")
            for p in manifest.get("parameters") or []]


def _facts(m: dict[str, Any]) -> list[tuple[str, str]]:
    if m.get("method") == "morris":
        design = f"Morris, {m.get('samples')} trajectories on {m.get('levels')} levels"
    else:
        design = f"Sobol' (Saltelli), N = {m.get('samples')}" + \
            (", with second-order indices" if m.get("second_order") else "")
    return [("method", design),
            ("runs", f"{m.get('points')} sampled points ({m.get('distinct_points')} distinct) "
                     f"× {m.get('reps')} replication{'' if m.get('reps') == 1 else 's'} = "
                     f"{m.get('runs')} runs, "
                     f"{m.get('failed')} failed"),
            ("metrics", ", ".join(m.get("metrics") or [])),
            ("root seed", str(m.get("root_seed"))),
            ("wall time", f"{float((m.get('session') or {}).get('wall_s') or 0):.1f} s")]


def sensitivity_section(item: SensitivityInput) -> Section:
    """A sensitivity analysis: its design, the ranges and their sources, indices, figure."""
    from scrapsim.plots.sensitivity import indices_figure

    sc, m = item.scenario, item.manifest
    section = Section(item.label, "sensitivity")
    if sc.get("description"):
        section.paragraphs.append(" ".join(str(sc["description"]).split()))
    section.paragraphs.append(
        "Each metric is averaged over the replications of a point (the same seeds at every "
        "point) before the analysis; all metrics are against the same run without enforcement.")
    section.sources = [" ".join(str(x).split()) for x in sc.get("sources") or []]
    section.facts = _facts(m) + [("folder", str(item.folder))] + _ranges(m)
    section.tables += indices_tables(item)
    section.figures.append(FigureBlock(
        f"{item.label}: {m.get('method')} indices per metric; whiskers: 95% confidence "
        "intervals.", indices_figure(item.indices, title=str(sc.get("name") or ""))))
    return section
