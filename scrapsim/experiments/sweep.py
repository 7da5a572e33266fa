"""Enforcement sweeps: many runs over a design, with replications, into curves with bands.

``sweep(scenario, vary=["enforcement.intensity=0:2:21"], reps=30)`` runs every point of the
design ``reps`` times. Replication ``r`` uses the same seed at every point and every run's
summary is taken against the intensity-0 run of that seed (common random numbers), so the curves
show the policy, not noise. Runs are stored as they finish (see
:mod:`scrapsim.experiments.lifecycle`), so a sweep that is killed resumes where it stopped;
the tables do not depend on the engine or the number of workers. The sweep folder holds
``runs.csv``/``runs.parquet`` (one row per run), ``curves.csv`` (one row per point: mean and
95% t-interval over replications), ``timings.csv``, ``manifest.json``, ``scenario.yaml`` and
the three curve figures (PNG and SVG).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from scrapsim.errors import SweepError, SweepSpecError
from scrapsim.experiments.bounds import MAX_REPS, check_count, check_runs
from scrapsim.experiments.design import DesignKind, build_design, rep_seeds, validate_points
from scrapsim.experiments.engine import DEFAULT_RUN, RunFn, Task
from scrapsim.experiments.lifecycle import Experiment, Runs, drive
from scrapsim.experiments.tables import CURVE_METRICS, curves_table, runs_table, write_tables
from scrapsim.results.folders import write_text
from scrapsim.results.identity import (
    canonical_json,
    digest,
    jsonable,
    package_version,
    scenario_hash,
)
from scrapsim.results.journal import run_key
from scrapsim.results.run_folder import run_dir
from scrapsim.scenario import Scenario, load_scenario

__all__ = ["CURVE_METRICS", "DesignRuns", "Sweep", "SweepResult", "curves_table", "format_line",
           "sweep"]


@dataclass
class SweepResult:
    """What a sweep produced: the tables (pandas) and where they are on disk."""

    runs: Any
    curves: Any
    folder: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def failed(self) -> int:
        return int(self.manifest["failed"])


def base_scenario(scenario: Scenario | str | Path,
                  overrides: Mapping[str, Any] | None) -> tuple[Scenario, str]:
    """The scenario an experiment starts from (a file or an object, with ``--set``
    overrides) and how to name its source in a manifest."""
    if isinstance(scenario, Scenario):
        base = scenario.with_overrides(dict(overrides)) if overrides else scenario
        return base, "<Scenario object>"
    return load_scenario(scenario, dict(overrides or {})), str(scenario)


class DesignRuns(Experiment):
    """The runs of a design: every point ``reps`` times, with common seeds across points
    (what sweeps and sensitivity analyses share; each names its own kind, id and folder)."""

    def __init__(self, scenario: Scenario | str | Path, vary: Any = (), *, reps: int = 10,
                 seed: int | None = None, design: DesignKind = "grid",
                 samples: int | None = None, overrides: Mapping[str, Any] | None = None,
                 run_fn: RunFn = DEFAULT_RUN, figures: bool = True) -> None:
        self.base, self.source = base_scenario(scenario, overrides)
        check_count(reps, MAX_REPS, "--reps", "replications")
        root = self.base.seed if seed is None else int(seed)
        if root < 0:
            raise SweepSpecError("must not be negative", file="--seed", value=seed,
                                 expected="a whole number >= 0")
        self.design = build_design(self.base, [vary] if isinstance(vary, str) else vary,
                                   design, samples, root)
        check_runs(len(self.design.points) * reps)
        self.peak_bytes = validate_points(self.base, self.design)
        self.root_seed, self.seeds = root, rep_seeds(root, reps)
        self.scenario_hash, self.version = scenario_hash(self.base), package_version()
        self.run_fn, self.figures = run_fn, figures

    @property
    def total(self) -> int:
        return len(self.design.points) * len(self.seeds)

    @cached_property
    def _point_texts(self) -> list[str]:
        return [canonical_json(jsonable(p)) for p in self.design.points]

    def key(self, point: int, rep: int) -> str:
        """The run's identity in the journal (scenario hash, point, replication, seed)."""
        return run_key(self.scenario_hash, self._point_texts[point], rep, self.seeds[rep],
                       self.version)

    def tasks(self) -> Iterator[Task]:
        """Every run, replication by replication: consecutive runs share a seed, so a worker
        runs that seed's no-enforcement baseline once for them (each point's scenario is
        built once, when first needed)."""
        texts: dict[int, str] = {}
        for r in range(len(self.seeds)):
            for i, point in enumerate(self.design.points):
                if i not in texts:
                    texts[i] = self.base.with_overrides(point).model_dump_json()
                yield Task(i, r, self.seeds[r], self.key(i, r), texts[i])

    def tables(self, records: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
        """The runs, curves and timings tables of these records."""
        runs, timings = runs_table(records, self.design)
        return runs, curves_table(runs, self.design.keys), timings



class Sweep(DesignRuns):
    """A design of points run ``reps`` times each, into runs, curves and figures."""

    kind = "sweep"
    manifest_fields = ("design", "reps", "runs", "ok", "failed")
    _done: tuple[Any, Any, Any] | None = None

    def __init__(self, scenario: Scenario | str | Path, vary: Any = (), *, reps: int = 10,
                 seed: int | None = None, design: DesignKind = "grid",
                 samples: int | None = None, out: str | Path | None = None,
                 overrides: Mapping[str, Any] | None = None, run_fn: RunFn = DEFAULT_RUN,
                 figures: bool = True) -> None:
        super().__init__(scenario, vary, reps=reps, seed=seed, design=design, samples=samples,
                         overrides=overrides, run_fn=run_fn, figures=figures)
        self.id = digest({"scenario": self.scenario_hash, "points": list(self.design.points),
                          "seeds": self.seeds, "version": self.version})
        self.final = Path(out) if out is not None else run_dir(self.base) / f"sweep-{self.id}"

    def finish(self, folder: Path, runs: Runs) -> tuple[list[str], dict[str, Any]]:
        table, curves, timings = self._done = self.tables(runs.records)
        if len(table) != self.total:  # every planned run is one row, or nothing is published
            raise SweepError(f"{len(table)} rows for {self.total} planned runs; nothing was "
                             "published")
        files = write_tables(folder, table, timings, curves)
        write_text(folder / "scenario.yaml", scenario_yaml(self.base))
        files.append("scenario.yaml")
        if self.figures:
            from scrapsim.plots.curves import save_curve_figures

            files += save_curve_figures(curves, self.design, folder, scenario=self.base.name,
                                        reps=len(self.seeds))
        failed = table[table["status"] != "ok"]
        return files, {
            "sweep_id": self.id, "design": self.design.describe(), "reps": len(self.seeds),
            "runs": self.total, "ok": int(len(table) - len(failed)), "failed": int(len(failed)),
            "failures": [{"point": int(r.point), "rep": int(r.rep), "seed": int(r.seed),
                          "error": r.error} for r in failed.head(100).itertuples()],
            "timings": {"run_s_total": float(timings["wall_s"].sum()),
                        "run_s_mean": float(timings["wall_s"].mean()) if len(timings)
                        else None}}

    def outcome(self, folder: Path, manifest: dict[str, Any]) -> SweepResult:
        if self._done is not None:
            return SweepResult(self._done[0], self._done[1], folder, manifest)
        from scrapsim.results.journal import read_records

        needed = {self.key(p, r) for p in range(len(self.design.points))
                  for r in range(len(self.seeds))}
        records = list({r["key"]: r for r in read_records(folder) if r["key"] in needed}
                       .values())
        runs, curves, _ = self.tables(records)
        return SweepResult(runs, curves, folder, manifest)

    def load(self, folder: Path) -> SweepResult:
        result: SweepResult = super().load(folder)
        result.manifest["session"] = {"ran": 0, "resumed": self.total,
                                      "note": "already complete"}
        return result


def scenario_yaml(base: Scenario) -> str:
    """The resolved scenario as YAML (every field, defaults included)."""
    import yaml

    return yaml.safe_dump(base.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def sweep(scenario: Scenario | str | Path, vary: Any = (), *, reps: int = 10,
          workers: int | None = None, scheduler: str | None = None, seed: int | None = None,
          design: DesignKind = "grid", samples: int | None = None, out: str | Path | None = None,
          quiet: bool = False, overrides: Mapping[str, Any] | None = None,
          run_fn: RunFn = DEFAULT_RUN, figures: bool = True,
          command: Sequence[str] | None = None) -> SweepResult:
    """Run a sweep (or resume it) and return its runs and curves tables.

    ``vary``: ``--vary`` texts (``"enforcement.intensity=0:2:21"``), or a mapping
    ``{dotted.key: [values]}`` (grid) / ``{dotted.key: (low, high)}`` (``design="lhs"``).
    ``workers``: local processes (default: the cores; 1 runs in this process).
    ``scheduler``: ``tcp://HOST:PORT`` of a Dask cluster (then ``workers`` is ignored).
    ``run_fn``: ``"module:function"`` taking ``(scenario, seed)`` and returning a summary dict.
    """
    plan = Sweep(scenario, vary, reps=reps, seed=seed, design=design, samples=samples, out=out,
                 overrides=overrides, run_fn=run_fn, figures=figures)
    result: SweepResult = drive(plan, workers=workers, scheduler=scheduler, quiet=quiet,
                                command=command)
    return result


def format_line(result: SweepResult) -> str:
    """One line for the terminal: runs, failures, time, folder."""
    m = result.manifest
    s = m.get("session", {})
    done = f"{s.get('ran', 0)} ran now" + (f", {s['resumed']} resumed" if s.get("resumed") else "")
    wall = f" in {s['wall_s']:.1f} s" if "wall_s" in s else ""
    points, reps = m["design"]["points"], m["reps"]
    return (f"sweep {m['scenario']['name']}: {m['runs']} runs ({points} point{'s' * (points != 1)}"
            f" x {reps} rep{'s' * (reps != 1)}): {done}{wall}, {m['failed']} failed -> "
            f"{result.folder}")
