"""The folder of a sensitivity analysis and its result type.

Files: ``indices.csv`` (one row per metric and parameter: ``metric, parameter, method`` and
Morris ``mu, mu_star, mu_star_conf, sigma`` or Sobol' ``S1, S1_conf, ST, ST_conf``; confidence
half-widths at 95%), ``second_order.csv`` (Sobol' with second-order indices only),
``samples.csv`` (the sample and each metric's mean over replications), ``runs.csv`` (one row per
run, as a sweep's) and ``timings.csv``, ``params.yaml`` (the parameters file as given),
``scenario.yaml`` (the base scenario, resolved), ``indices.png`` and ``indices.svg`` (unless
figures are off), ``manifest.json``, and ``runs.jsonl``, the journal that lets a killed analysis
resume. Written in ``<folder>.partial`` by the experiment lifecycle and renamed when complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from scrapsim.results.folders import read_manifest, write_text

__all__ = ["INDICES", "SensitivityResult", "Tables", "load", "write"]

INDICES = "indices.csv"
SAMPLES = "samples.csv"
SECOND_ORDER = "second_order.csv"
FIGURE = "indices.png"


@dataclass
class SensitivityResult:
    """The indices (pandas; one row per metric and parameter), the sample with its per-point
    metric means, where they are on disk, and the manifest."""

    indices: Any
    samples: Any
    folder: Path
    manifest: dict[str, Any] = field(repr=False)
    second_order: Any = None


@dataclass
class Tables:
    """What the analysis produced (pandas DataFrames; ``second_order`` may be None)."""

    indices: Any
    samples: Any
    second_order: Any = None
    runs: Any = None
    timings: Any = None


def _csv(path: Path, table: Any) -> str:
    write_text(path, table.to_csv(index=False, lineterminator="\n"))
    return path.name


def write(analysis: Any, folder: Path, tables: Tables) -> tuple[list[str], dict[str, Any]]:
    """Write the tables, copies and figure into ``folder``; their names and the manifest's own
    part back."""
    import yaml

    files = [_csv(folder / INDICES, tables.indices), _csv(folder / SAMPLES, tables.samples),
             _csv(folder / "runs.csv", tables.runs), _csv(folder / "timings.csv", tables.timings)]
    if tables.second_order is not None:
        files.append(_csv(folder / SECOND_ORDER, tables.second_order))
    write_text(folder / "params.yaml", analysis.spec.text)
    write_text(folder / "scenario.yaml", yaml.safe_dump(
        analysis.base.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
    files += ["params.yaml", "scenario.yaml"]
    if analysis.figures:
        from scrapsim.plots.sensitivity import indices_figure
        from scrapsim.plots.timeseries import save

        fig = indices_figure(tables.indices, title=f"{analysis.base.name}: {analysis.method}, "
                             f"{analysis.reps} replication{'s' * (analysis.reps != 1)} per "
                             "point, metrics over the "
                             "campaign windows")
        files += [p.name for p in save(fig, folder / FIGURE, ("png", "svg"))]
    return files, _manifest(analysis, tables)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _manifest(analysis: Any, tables: Tables) -> dict[str, Any]:
    spec, runs = analysis.spec, tables.runs
    failed = int((runs["status"] != "ok").sum())
    return {
        "sensitivity_id": analysis.id, "salib": _version("SALib"), **analysis.method_info(),
        "points": len(tables.samples), "distinct_points": len(analysis.points),
        "runs": analysis.total, "ok": int(len(runs) - failed), "failed": failed,
        "parameters": [{"key": p.key, "low": p.low, "high": p.high, "integer": p.integer,
                        "source": p.source} for p in spec.parameters],
        "metrics": list(spec.metrics), "params_file": spec.file, "run_fn": analysis.run_fn,
        "timings": {"run_s_total": float(tables.timings["wall_s"].sum())},
    }


def load(final: Path) -> SensitivityResult:
    """A finished analysis read back (its manifest's session says nothing ran now)."""
    import pandas as pd

    manifest = read_manifest(final)
    manifest["session"] = {"ran": 0, "resumed": manifest.get("runs"),
                           "note": "already complete"}
    second = pd.read_csv(final / SECOND_ORDER) if (final / SECOND_ORDER).is_file() else None
    return SensitivityResult(pd.read_csv(final / INDICES), pd.read_csv(final / SAMPLES), final,
                             manifest, second)
