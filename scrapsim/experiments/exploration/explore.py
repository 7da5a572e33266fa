"""Exploration: every policy of a study in every uncertainty scenario, with replications.

``explore("scenarios/hebei.yaml", "studies/price_sign.yaml")`` samples the study's
uncertainties (LHS or Sobol', :func:`scrapsim.experiments.exploration.study.sample`), crosses
them with its policies and runs each pair ``reps`` times on the experiment engine (processes or
Dask, journalled: a killed exploration resumes). Replication ``r`` has the same seed in every
policy and scenario (common random numbers), and every run's metrics are against the same
scenario without enforcement at that seed, so policies differ by what they do, not by noise.

The folder (``results/<scenario>/explore-<id>/`` or ``out``) holds ``runs.csv`` (and
``runs.parquet``): one tidy row per run with ``point, policy, scenario, rep, seed``, the
levers' values (a mapping lever flattened to ``<path>.<share>``), the uncertainties' values,
every metric the run gave, ``status`` and ``error``; ``timings.csv``; ``robust.csv`` and
``dominance.csv`` with the trade-off figure (:mod:`scrapsim.experiments.exploration.robust`);
``study.yaml`` (the study as given), ``scenario.yaml`` and ``manifest.json``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapsim.experiments.engine import RunFn, Task
from scrapsim.experiments.exploration.study import Study, load_study, sample
from scrapsim.experiments.lifecycle import Experiment, Runs, drive
from scrapsim.experiments.sweep import base_scenario, scenario_yaml
from scrapsim.experiments.tables import write_tables
from scrapsim.results.folders import read_manifest, write_text
from scrapsim.results.identity import (
    canonical_json,
    digest,
    jsonable,
    package_version,
    scenario_hash,
)
from scrapsim.results.journal import run_key
from scrapsim.results.run_folder import run_dir
from scrapsim.scenario import Scenario

__all__ = ["EXTRA_METRICS", "MODEL_RUN", "Exploration", "ExploreResult", "explore",
           "known_metrics", "unit_box"]

MODEL_RUN = "scrapsim.experiments.sensitivity.analysis:model_metrics"
EXTRA_METRICS = ("violating_smelting_change",)
"""The environmental outcome (scrap smelted by violating sites) beside the sensitivity keys."""
IDENTITY = ("point", "policy", "scenario", "rep", "seed")


@dataclass
class ExploreResult:
    """What an exploration produced: its runs (pandas, one row per run), the per-policy
    robustness table, where they are on disk, and the manifest."""

    runs: Any
    robust: Any
    folder: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def failed(self) -> int:
        return int(self.manifest["failed"])


def known_metrics(base: Scenario) -> list[str]:
    """The metric names a model run gives for ``base`` (also per region)."""
    from scrapsim.experiments.sensitivity.analysis import METRIC_KEYS

    keys = (*METRIC_KEYS, *EXTRA_METRICS)
    return [*keys, *(f"region.{r.name}.{k}" for r in base.regions for k in keys)]


def unit_box(scenario: Scenario, seed: int) -> dict[str, float]:
    """A known answer for scenario discovery: ``in_box`` is 1 exactly where x1 =
    ``seasonality.summer_trough`` > 0.6 and x2 = ``seasonality.autumn_peak`` < 0.3 (both on
    the unit square), else 0. For testing the pipeline; it runs no model."""
    x1, x2 = scenario.seasonality.summer_trough, scenario.seasonality.autumn_peak
    return {"in_box": float(x1 > 0.6 and x2 < 0.3), "x1": x1, "x2": x2}


class Exploration(Experiment):
    """Policies × uncertainty scenarios × replications of one base scenario."""

    kind = "explore"

    def __init__(self, scenario: Scenario | str | Path, study: str | Path | Mapping[str, Any],
                 *, samples: int | None = None, reps: int | None = None,
                 seed: int | None = None, out: str | Path | None = None,
                 overrides: Mapping[str, Any] | None = None, run_fn: RunFn = MODEL_RUN,
                 figures: bool = True) -> None:
        from scrapsim.errors import ParamsError
        from scrapsim.experiments.design import rep_seeds

        self.base, self.source = base_scenario(scenario, overrides)
        known = known_metrics(self.base) if run_fn == MODEL_RUN else None
        self.study: Study = load_study(study, self.base, known, samples=samples, reps=reps)
        root = self.base.seed if seed is None else seed
        if isinstance(root, bool) or not isinstance(root, int) or root < 0:
            raise ParamsError("must not be negative", file="--seed", value=seed,
                              expected="a whole number >= 0")
        import numpy as np

        self.root_seed, self.seeds = root, rep_seeds(root, self.study.reps)
        self.scenarios = sample(self.study, np.random.SeedSequence(root).spawn(3)[2])
        self.run_fn, self.figures = run_fn, figures
        self.scenario_hash, self.version = scenario_hash(self.base), package_version()
        self.id = digest({"scenario": self.scenario_hash, "study": self.study.identity(),
                          "seed": root, "run_fn": jsonable(run_fn), "version": self.version})
        self.final = Path(out) if out is not None else run_dir(self.base) / f"explore-{self.id}"
        self._points = [(i, j) for j in range(len(self.scenarios))
                        for i in range(len(self.study.policies))]
        self._texts: dict[int, str] = {}
        self._check_points()
        self.result: ExploreResult | None = None

    def _check_points(self) -> None:
        """Build every pair's scenario once before anything runs (a bad pair raises)."""
        from scrapsim.errors import ParamsError
        from scrapsim.experiments.sensitivity.params import error_reason
        from scrapsim.scenario import ScenarioError

        for point in range(len(self._points)):
            try:
                self._texts[point] = self.scenario_of(point).model_dump_json()
            except ScenarioError as exc:
                i, j = self._points[point]
                raise ParamsError(f"policy {self.study.policies[i].name!r} in sampled scenario "
                                  f"{j} gives a bad scenario: {error_reason(exc)}",
                                  file=self.study.file, path=exc.path, value=exc.value,
                                  expected=exc.expected) from None

    @property
    def total(self) -> int:
        return len(self._points) * len(self.seeds)

    def overrides(self, point: int) -> dict[str, Any]:
        """The pair's overrides of the base scenario: the policy's levers, then the sampled
        uncertainties."""
        i, j = self._points[point]
        return {**self.study.policies[i].overrides, **self.scenarios[j]}

    def scenario_of(self, point: int) -> Scenario:
        return self.base.with_overrides(self.overrides(point))

    def key(self, point: int, rep: int) -> str:
        i, j = self._points[point]
        text = canonical_json(jsonable({"policy": self.study.policies[i].name, "scenario": j,
                                        "set": self.overrides(point)}))
        return run_key(self.scenario_hash, text, rep, self.seeds[rep], self.version)

    def tasks(self) -> Iterator[Task]:
        """Replication by replication, scenario by scenario, policy by policy: consecutive
        runs share a seed and an uncertainty scenario, so a worker runs their no-enforcement
        baseline once."""
        for r, seed in enumerate(self.seeds):
            for point in range(len(self._points)):
                yield Task(point, r, seed, self.key(point, r), self._texts[point])

    # ---------------------------------------------------------------- tables

    def lever_values(self, policy: int) -> dict[str, Any]:
        """The policy's lever columns: each lever its value (the base scenario's where the
        policy leaves it), a mapping lever flattened to ``<path>.<key>``."""
        sets = self.study.policies[policy].overrides
        out: dict[str, Any] = {}
        for key in self.study.levers:
            value = sets[key] if key in sets else self.base.get(key)
            if isinstance(value, Mapping):
                full = self.base.with_overrides({key: value}).get(key)
                out.update({f"{key}.{k}": v for k, v in full.items()})
            else:
                out[key] = jsonable(value)
        return out

    def table(self, records: list[dict[str, Any]]) -> tuple[Any, Any]:
        """The runs table (one row per run, by point and replication) and the timings."""
        import pandas as pd

        from scrapsim.experiments.tables import _column

        records = sorted(records, key=lambda r: (r["point"], r["rep"]))
        levers = [self.lever_values(i) for i in range(len(self.study.policies))]
        rows: list[dict[str, Any]] = []
        for r in records:
            i, j = self._points[r["point"]]
            rows.append({"point": r["point"], "policy": self.study.policies[i].name,
                         "scenario": j, "rep": r["rep"], "seed": r["seed"], **levers[i],
                         **self.scenarios[j]})
        head = list(dict.fromkeys(k for row in rows for k in row)) or list(IDENTITY)
        summary = list(dict.fromkeys(k for r in records for k in r["summary"]
                                     if k not in head))
        columns = {c: _column([row.get(c) for row in rows]) for c in head}
        for c in summary:
            columns[c] = _column([r["summary"].get(c) for r in records])
        columns["status"] = [r["status"] for r in records]
        columns["error"] = [r["error"] for r in records]
        timings = pd.DataFrame({"point": [r["point"] for r in records],
                                "rep": [r["rep"] for r in records],
                                "wall_s": [r["wall_s"] for r in records],
                                "worker": [r["worker"] for r in records]})
        return pd.DataFrame(columns), timings

    @property
    def inputs(self) -> list[str]:
        """The columns that describe a case: lever columns, then the uncertainties."""
        levers = list(dict.fromkeys(k for i in range(len(self.study.policies))
                                    for k in self.lever_values(i)))
        return [*levers, *self.study.keys]

    def finish(self, folder: Path, runs: Runs) -> tuple[list[str], dict[str, Any]]:
        from scrapsim.experiments.exploration import robust as rb

        table, timings = self.table(runs.records)
        files = write_tables(folder, table, timings)
        write_text(folder / "study.yaml", self.study.text)
        write_text(folder / "scenario.yaml", scenario_yaml(self.base))
        files += ["study.yaml", "scenario.yaml"]
        metrics = [m for m in self.study.metrics if m in table.columns]
        result = rb.robustness(table, metrics, self.study.goals)
        files += rb.write(folder, result, figures=self.figures)
        failed = table[table["status"] != "ok"]
        self.result = ExploreResult(table, result.table, folder, {})
        return files, {
            "study": self.study.describe(), "inputs": self.inputs,
            "policies": len(self.study.policies), "scenarios": len(self.scenarios),
            "reps": len(self.seeds), "runs": self.total, "ok": int(len(table) - len(failed)),
            "failed": int(len(failed)), "run_fn": jsonable(self.run_fn),
            "failures": [{"point": int(r.point), "rep": int(r.rep), "error": r.error}
                         for r in failed.head(100).itertuples()],
            "non_dominated": result.non_dominated,
            "figure_note": rb.figure_note(result.table) if self.figures else None}

    def outcome(self, folder: Path, manifest: dict[str, Any]) -> ExploreResult:
        if self.result is None:
            return load(folder)
        self.result.folder, self.result.manifest = folder, manifest
        return self.result

    def load(self, folder: Path) -> ExploreResult:
        """The finished folder read back: nothing ran now (its manifest's session said what
        ran when it was written, which a re-run printed as its own)."""
        result = load(folder)
        result.manifest["session"] = {"ran": 0, "resumed": result.manifest.get("runs"),
                                      "note": "already complete"}
        return result


def load(folder: str | Path) -> ExploreResult:
    """A finished exploration folder read back."""
    import pandas as pd

    folder = Path(folder)
    manifest = read_manifest(folder)
    robust = pd.read_csv(folder / "robust.csv") if (folder / "robust.csv").is_file() else None
    return ExploreResult(pd.read_csv(folder / "runs.csv"), robust, folder, manifest)


def explore(scenario: Scenario | str | Path, study: str | Path | Mapping[str, Any], *,
            samples: int | None = None, reps: int | None = None, seed: int | None = None,
            workers: int | None = None, scheduler: str | None = None,
            out: str | Path | None = None, quiet: bool = False,
            overrides: Mapping[str, Any] | None = None, run_fn: RunFn = MODEL_RUN,
            figures: bool = True, command: Sequence[str] | None = None) -> ExploreResult:
    """Run (or resume) a study's policies × uncertainty scenarios × replications.

    ``study``: a study file (:mod:`scrapsim.experiments.exploration.study`) or the same
    structure as a mapping; ``samples``/``reps`` replace its design's. ``workers``/
    ``scheduler``: as for :func:`scrapsim.experiments.sweep.sweep`. ``run_fn``:
    ``"module:function"`` taking ``(scenario, seed)`` and returning a dict of metrics (default:
    the model's summary against the same scenario without enforcement). Returns the runs and
    the robustness table (pandas) with the folder and manifest.
    """
    plan = Exploration(scenario, study, samples=samples, reps=reps, seed=seed, out=out,
                       overrides=overrides, run_fn=run_fn, figures=figures)
    result: ExploreResult = drive(plan, workers=workers, scheduler=scheduler, quiet=quiet,
                                  command=command)
    return result
