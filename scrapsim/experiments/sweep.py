"""Enforcement sweeps: many runs over a design, with replications, into curves with bands.

``sweep(scenario, vary=["enforcement.intensity=0:2:21"], reps=30)`` runs every point of the
design ``reps`` times. Replication ``r`` uses the same seed at every point and every run's
summary is taken against the intensity-0 run of that seed (common random numbers), so the curves
show the policy, not noise. Runs are stored as they finish (see :mod:`scrapsim.results.journal`), so a
sweep that is killed resumes where it stopped; the tables do not depend on the engine or the
number of workers. The sweep folder holds ``runs.csv``/``runs.parquet`` (one row per run),
``curves.csv`` (one row per point: mean and 95% t-interval over replications), ``timings.csv``,
``manifest.json``, ``scenario.yaml`` and the three curve figures (PNG and SVG).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapsim.results import journal as store
from scrapsim.experiments.design import Design, DesignKind, SweepSpecError, build_design, rep_seeds, \
    validate_points
from scrapsim.experiments.engine import DEFAULT_RUN, RunFn, Task, execute
from scrapsim.results.run_folder import canonical_json, jsonable, package_version, run_dir, scenario_hash
from scrapsim.scenario import Scenario, load_scenario

__all__ = ["CURVE_METRICS", "SweepResult", "curves_table", "format_line", "sweep"]

CURVE_METRICS = ("collection_change", "offered_change", "smelting_change", "demanded_change",
                 "price_change", "mean_price_pressure", "shut_share")
"""Metrics given a band in curves.csv (offered/demanded when the model reports them)."""
CONFIDENCE = 0.95
_SCHEDULER = re.compile(r"^[a-z][a-z0-9+]*://\S+$")


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


@dataclass(frozen=True)
class Plan:
    """Everything fixed before the first run: the base scenario, design, seeds and folder."""

    base: Scenario
    design: Design
    seeds: list[int]
    root_seed: int
    scenario_hash: str
    sweep_id: str
    final: Path
    version: str
    source: str

    @property
    def total(self) -> int:
        return len(self.design.points) * len(self.seeds)

    @cached_property
    def _point_texts(self) -> list[str]:
        return [canonical_json(jsonable(p)) for p in self.design.points]

    def key(self, point: int, rep: int) -> str:
        """The run's identity in the journal (scenario hash, point, replication, seed)."""
        return store.run_key(self.scenario_hash, self._point_texts[point], rep,
                             self.seeds[rep], self.version)

    def tasks(self, skip: set[str]) -> Iterator[Task]:
        """Runs not yet stored, replication by replication: consecutive runs share a seed, so
        a worker runs that seed's no-enforcement baseline once for them (each point's scenario
        is built once, when first needed)."""
        texts: dict[int, str] = {}
        for r in range(len(self.seeds)):
            for i, point in enumerate(self.design.points):
                if self.key(i, r) in skip:
                    continue
                if i not in texts:
                    texts[i] = self.base.with_overrides(point).model_dump_json()
                yield Task(i, r, self.seeds[r], self.key(i, r), texts[i])


def _base_scenario(scenario: Scenario | str | Path,
                   overrides: Mapping[str, Any] | None) -> tuple[Scenario, str]:
    if isinstance(scenario, Scenario):
        base = scenario.with_overrides(dict(overrides)) if overrides else scenario
        return base, "<Scenario object>"
    return load_scenario(scenario, dict(overrides or {})), str(scenario)


def plan_sweep(scenario: Scenario | str | Path, vary: Any = (), *, reps: int = 10,
               seed: int | None = None, design: DesignKind = "grid", samples: int | None = None,
               out: str | Path | None = None,
               overrides: Mapping[str, Any] | None = None) -> Plan:
    """Load and check everything; a bad spec raises before any run starts."""
    base, source = _base_scenario(scenario, overrides)
    if not isinstance(reps, int) or reps < 1:
        raise SweepSpecError("needs at least one replication", file="--reps",
                             value=reps,
                             expected="a whole number >= 1")
    root = base.seed if seed is None else int(seed)
    if root < 0:
        raise SweepSpecError("must not be negative", file="--seed", value=seed,
                             expected="a whole number >= 0")
    if isinstance(vary, str):
        vary = [vary]
    layout = build_design(base, vary, design, samples, root)
    validate_points(base, layout)
    seeds = rep_seeds(root, reps)
    digest, version = scenario_hash(base), package_version()
    identity = canonical_json(jsonable({"scenario": digest, "points": list(layout.points),
                                        "seeds": seeds, "version": version}))
    sweep_id = hashlib.sha256(identity.encode()).hexdigest()[:12]
    final = Path(out) if out is not None else run_dir(base) / f"sweep-{sweep_id}"
    return Plan(base, layout, seeds, root, digest, sweep_id, final, version, source)


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
    workers = _check_engine(workers, scheduler)
    plan = plan_sweep(scenario, vary, reps=reps, seed=seed, design=design, samples=samples,
                      out=out, overrides=overrides)
    if store.check_out(plan.final, plan.sweep_id):
        records = list(store.read_records(plan.final))
        runs, curves = _tables(plan, records)[:2]
        manifest = store.read_manifest(plan.final)
        manifest["session"] = {"ran": 0, "resumed": plan.total, "note": "already complete"}
        return SweepResult(runs, curves, plan.final, manifest)
    partial = store.partial_path(plan.final)
    started = time.perf_counter()
    with store.Journal(partial) as journal:
        needed = {plan.key(p, r) for p in range(len(plan.design.points))
                  for r in range(len(plan.seeds))}
        stored = {rec["key"] for rec in journal.records()} & needed
        counter = _Counter()
        engine: dict[str, Any] = {"engine": "none: every run was stored"}
        runs_started = time.perf_counter()
        if len(stored) < plan.total:
            with _progress(plan.total, len(stored), quiet) as bar:
                engine = execute(plan.tasks(stored), _on_done(journal, bar, counter),
                                 run_fn=run_fn, workers=workers, scheduler=scheduler)
        engine["execute_s"] = time.perf_counter() - runs_started
        records = list({r["key"]: r for r in journal.records() if r["key"] in needed}.values())
    session = {"ran": counter.ran, "resumed": len(stored), "wall_s": time.perf_counter() - started}
    return _finish(plan, partial, records, engine, session, figures, command)


def _check_engine(workers: int | None, scheduler: str | None) -> int:
    if scheduler is not None and not _SCHEDULER.match(scheduler):
        raise SweepSpecError("not a Dask scheduler address", file="--scheduler", value=scheduler,
                             expected="tcp://HOST:PORT")
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
    if not isinstance(workers, int) or workers < 1:
        raise SweepSpecError("needs at least one worker", file="--workers",
                             value=workers,
                             expected="a whole number >= 1")
    return workers


@dataclass
class _Counter:
    ran: int = 0
    failed: int = 0


def _on_done(journal: store.Journal, bar: Any, counter: _Counter) -> Callable[[Task, dict], None]:
    def done(task: Task, result: dict[str, Any]) -> None:
        journal.append({"key": task.key, "point": task.point, "rep": task.rep,
                        "seed": task.seed, **result})
        counter.ran += 1
        counter.failed += result["status"] != "ok"
        bar.update(1)
        if counter.failed:
            bar.set_postfix(failed=counter.failed, refresh=False)
    return done


def _progress(total: int, initial: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="run", dynamic_ncols=True, smoothing=0.1,
                disable=quiet or not sys.stderr.isatty(), file=sys.stderr, desc="sweep")


def _tables(plan: Plan, records: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    runs, timings = store.runs_table(records, plan.design)
    return runs, curves_table(runs, plan.design.keys), timings


def _finish(plan: Plan, partial: Path, records: list[dict[str, Any]], engine: dict[str, Any],
            session: dict[str, Any], figures: bool,
            command: Sequence[str] | None) -> SweepResult:
    """Write the tables, manifest and figures into the working folder, then rename it."""
    runs, curves, timings = _tables(plan, records)
    files = store.write_tables(partial, runs, curves, timings)
    store.write_text(partial / "scenario.yaml", _scenario_yaml(plan.base))
    if figures:
        from scrapsim.plots.curves import save_curve_figures

        files += save_curve_figures(curves, plan.design, partial)
    manifest = _manifest(plan, runs, timings, engine, session, files, command)
    store.write_json(partial / store.MANIFEST, manifest)
    store.finish(partial, plan.final)
    return SweepResult(runs, curves, plan.final, manifest)


def _scenario_yaml(base: Scenario) -> str:
    import yaml

    return yaml.safe_dump(base.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _manifest(plan: Plan, runs: Any, timings: Any, engine: dict[str, Any],
              session: dict[str, Any], files: list[str],
              command: Sequence[str] | None) -> dict[str, Any]:
    failed = runs[runs["status"] != "ok"]
    return jsonable({
        "sweep_id": plan.sweep_id, "scrapsim": plan.version,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": list(sys.argv if command is None else command),
        "scenario": {"name": plan.base.name, "file": plan.source, "hash": plan.scenario_hash},
        "design": plan.design.describe(), "reps": len(plan.seeds), "root_seed": plan.root_seed,
        "seeds": plan.seeds, "runs": plan.total, "ok": int(len(runs) - len(failed)),
        "failed": int(len(failed)),
        "failures": [{"point": int(r.point), "rep": int(r.rep), "seed": int(r.seed),
                      "error": r.error} for r in failed.head(100).itertuples()],
        "engine": engine, "session": session,
        "timings": {"run_s_total": float(timings["wall_s"].sum()),
                    "run_s_mean": float(timings["wall_s"].mean()) if len(timings) else None},
        "files": sorted(files + ["manifest.json", "scenario.yaml", store.JOURNAL]),
    })


def curves_table(runs: Any, keys: Sequence[str], confidence: float = CONFIDENCE) -> Any:
    """Per point: the varied keys, run counts and ``<metric>_mean/_lo/_hi`` over replications.

    The band is the ``confidence`` t-interval of the mean over the successful replications
    (empty with fewer than two; zero width when all replications agree).
    """
    import numpy as np
    import pandas as pd
    from scipy.stats import t

    metrics = [m for m in CURVE_METRICS if m in runs.columns]
    rows = []
    for point, group in runs.groupby("point", sort=True):
        ok = group[group["status"] == "ok"]
        row = {"point": point, **{k: group[k].iloc[0] for k in keys},
               "n_ok": len(ok), "n_failed": len(group) - len(ok)}
        for m in metrics:
            x = ok[m].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            mean = float(x.mean()) if len(x) else float("nan")
            half = float(t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) /
                         np.sqrt(len(x))) if len(x) > 1 else float("nan")
            row |= {f"{m}_mean": mean, f"{m}_lo": mean - half, f"{m}_hi": mean + half}
        rows.append(row)
    return pd.DataFrame(rows)


def format_line(result: SweepResult) -> str:
    """One line for the terminal: runs, failures, time, folder."""
    m = result.manifest
    s = m.get("session", {})
    done = f"{s.get('ran', 0)} ran now" + (f", {s['resumed']} resumed" if s.get("resumed") else "")
    wall = f" in {s['wall_s']:.1f} s" if "wall_s" in s else ""
    return (f"sweep {m['scenario']['name']}: {m['runs']} runs ({m['design']['points']} points x "
            f"{m['reps']} reps): {done}{wall}, {m['failed']} failed -> {result.folder}")
