"""The folder of a sensitivity analysis: written in ``<folder>.partial``, renamed when complete.

Files: ``indices.csv`` (one row per metric and parameter: ``metric, parameter, method`` and
Morris ``mu, mu_star, mu_star_conf, sigma`` or Sobol' ``S1, S1_conf, ST, ST_conf``; confidence
half-widths at 95%), ``second_order.csv`` (Sobol' with second-order indices only),
``samples.csv`` (the sample and each metric's mean over replications), ``params.yaml`` (the
parameters file as given), ``scenario.yaml`` (the base scenario, resolved), ``indices.png`` and
``indices.svg`` (unless figures are off), ``manifest.json``, and ``runs/``: the sweep folder of
the runs (:mod:`scrapsim.experiments.sweep`), whose journal lets a killed analysis resume.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from scrapsim.results import journal as store
from scrapsim.results.run_folder import jsonable

__all__ = ["INDICES", "Tables", "check_final", "load", "make_dirs", "remove_empty", "write"]

INDICES = "indices.csv"
SAMPLES = "samples.csv"
SECOND_ORDER = "second_order.csv"
FIGURE = "indices.png"


@dataclass
class Tables:
    """What the analysis produced (pandas DataFrames; ``second_order`` may be None)."""

    indices: Any
    samples: Any
    second_order: Any = None


def check_final(final: Path, sensitivity_id: str) -> bool:
    """True when ``final`` holds this finished analysis; an error when it holds anything else."""
    return store.check_out(final, sensitivity_id, what="sensitivity")


def make_dirs(folder: Path) -> list[Path]:
    """``mkdir -p folder``; the folders it created, outermost first."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    for p in missing:
        p.mkdir(exist_ok=True)
    return missing


def remove_empty(created: list[Path]) -> None:
    """Remove the folders :func:`make_dirs` created, innermost first, while they are empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return


def _csv(path: Path, table: Any) -> str:
    store.write_text(path, table.to_csv(index=False, lineterminator="\n"))
    return path.name


def write(setup: Any, partial: Path, tables: Tables, sweep_manifest: dict[str, Any],
          wall_s: float, figures: bool, command: Any) -> Any:
    """Write the tables, copies, figure and manifest into ``partial``, rename it to the final
    folder and return the :class:`~scrapsim.experiments.sensitivity.analysis.SensitivityResult`."""
    import yaml

    from scrapsim.experiments.sensitivity.analysis import SensitivityResult

    files = [_csv(partial / INDICES, tables.indices), _csv(partial / SAMPLES, tables.samples)]
    if tables.second_order is not None:
        files.append(_csv(partial / SECOND_ORDER, tables.second_order))
    store.write_text(partial / "params.yaml", setup.spec.text)
    store.write_text(partial / "scenario.yaml", yaml.safe_dump(
        setup.base.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
    files += ["params.yaml", "scenario.yaml"]
    if figures:
        from scrapsim.plots.timeseries import save
        from scrapsim.plots.sensitivity import indices_figure

        fig = indices_figure(tables.indices, title=f"{setup.base.name}: {setup.method}")
        files += [p.name for p in save(fig, partial / FIGURE, ("png", "svg"))]
    manifest = _manifest(setup, sweep_manifest, len(tables.samples), wall_s, sorted(files),
                         command)
    store.write_json(partial / store.MANIFEST, manifest)
    store.finish(partial, setup.final)
    return SensitivityResult(tables.indices, tables.samples, setup.final, manifest,
                             tables.second_order)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _manifest(setup: Any, sweep: dict[str, Any], points: int, wall_s: float,
              files: list[str], command: Any) -> dict[str, Any]:
    import sys

    spec = setup.spec
    return jsonable({
        "sensitivity_id": setup.sensitivity_id, "scrapsim": sweep.get("scrapsim"),
        "salib": _version("SALib"), "python": platform.python_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": list(sys.argv if command is None else command),
        "scenario": {"name": setup.base.name, "file": setup.source,
                     "hash": sweep["scenario"]["hash"]},
        **setup.design(), "root_seed": setup.root_seed, "seeds": sweep["seeds"],
        "points": points, "distinct_points": sweep["design"]["points"], "runs": sweep["runs"],
        "ok": sweep["ok"], "failed": sweep["failed"],
        "parameters": [{"key": p.key, "low": p.low, "high": p.high, "integer": p.integer,
                        "source": p.source} for p in spec.parameters],
        "metrics": list(spec.metrics), "params_file": spec.file, "run_fn": setup.run_fn,
        "engine": sweep.get("engine"), "session": sweep.get("session"), "wall_s": wall_s,
        "timings": sweep.get("timings"), "runs_folder": "runs", "files": files,
    })


def load(final: Path) -> Any:
    """A finished analysis read back (its manifest's session says nothing ran now)."""
    import pandas as pd

    from scrapsim.experiments.sensitivity.analysis import SensitivityResult

    manifest = store.read_manifest(final)
    manifest["session"] = {"ran": 0, "resumed": manifest.get("runs"),
                           "note": "already complete"}
    second = pd.read_csv(final / SECOND_ORDER) if (final / SECOND_ORDER).is_file() else None
    return SensitivityResult(pd.read_csv(final / INDICES), pd.read_csv(final / SAMPLES), final,
                             manifest, second)
