"""Global sensitivity analysis on the sweep engine: which uncertain parameters drive the metrics.

``sensitivity(scenario, "params/hebei.yaml", method="morris")`` samples the declared ranges
with SALib (``pip install 'scrapsim[sensitivity]'``; SALib >= 1.6, whose samplers take a numpy
Generator instead of seeding numpy's global one), runs every distinct sampled point as a sweep
of design ``"points"`` (the experiment lifecycle: local processes, Dask, a journal to resume
after a kill) with ``reps`` replications, averages each metric over the replications of a point
and analyses the averages with SALib, bootstrap 95% confidence intervals included.

Methods (D parameters):

* ``morris``: ``samples`` trajectories of D+1 points on a grid of ``levels`` levels (elementary
  effects; a cheap screening). ``mu``, ``mu_star`` (mean absolute effect), ``mu_star_conf`` and
  ``sigma`` are in the metric's unit per full range of the parameter (the metric's change over
  a step, divided by the step as a share of the range): a ``collection_change`` of 0.10 is 10
  percentage points, ``recovery_days`` are days.
* ``sobol``: Saltelli's scheme on a scrambled Sobol' sequence, ``samples`` = N a power of 2,
  N(D+2) points. First-order ``S1`` and total ``ST`` indices with ``S1_conf``/``ST_conf`` are
  shares of the metric's variance (dimensionless, 0-1). Second-order indices are off by default
  (``second_order=True`` costs N(2D+2) points and writes ``second_order.csv``).

Common random numbers: replication r runs with the same seed at every point, so differences
between points are the parameters', not noise. Seeds: ``SeedSequence(root)`` children 0 and 1
are the sweep's (replication seeds, LHS), child 2 draws the sample, child 3 the bootstrap;
one root seed gives the same sample and the same bytes whatever the worker count. Points that
coincide (Morris grids, rounded counts) run once.

The result folder (``results/<scenario>/sensitivity-<id>/`` or ``out``) holds ``indices.csv``,
``samples.csv``, ``runs.csv`` (one row per run), ``timings.csv``, ``manifest.json``,
``params.yaml``, ``scenario.yaml``, ``indices.png``/``.svg`` and the journal ``runs.jsonl``. It is
written in ``<folder>.partial`` and renamed when complete; the same call after a kill reuses
every run stored there.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from scrapsim.errors import ParamsError, SensitivityError, SweepSpecError
from scrapsim.experiments.engine import RunFn
from scrapsim.experiments.lifecycle import Runs, drive
from scrapsim.experiments.sensitivity.output import SensitivityResult, load
from scrapsim.experiments.sensitivity.params import ParamSpec, error_reason, load_params
from scrapsim.experiments.sweep import DesignRuns, base_scenario
from scrapsim.results.identity import digest, jsonable, package_version, scenario_hash
from scrapsim.results.run_folder import run_dir
from scrapsim.scenario import Scenario

__all__ = ["DEFAULT_REPS", "DEFAULT_SAMPLES", "INDEX_COLUMNS", "METHODS", "MODEL_RUN", "Analysis",
           "SensitivityError", "SensitivityResult", "ishigami", "model_metrics", "sensitivity"]

METHODS = ("morris", "sobol")
DEFAULT_SAMPLES = {"morris": 20, "sobol": 128}
"""Morris trajectories, or Sobol' base N (a power of 2)."""
DEFAULT_LEVELS = 4
DEFAULT_REPS = 4
INDEX_COLUMNS = {"morris": ("mu", "mu_star", "mu_star_conf", "sigma"),
                 "sobol": ("S1", "S1_conf", "ST", "ST_conf")}
MODEL_RUN = "scrapsim.experiments.sensitivity.analysis:model_metrics"
INSTALL_HINT = "pip install 'scrapsim[sensitivity]'"
METRIC_KEYS = ("collection_change", "offered_change", "demanded_change", "traded_change",
               "smelting_change", "price_change", "mean_price_pressure",
               "mean_price_pressure_level", "shut_count", "shut_share", "closed_share",
               "smelters_start", "recovery_days", "inspections", "violations", "fines")
"""Numeric summary keys a model run gives (also per region as ``region.<name>.<key>``)."""
ISHIGAMI_FIELDS = ("seasonality.summer_trough", "seasonality.autumn_peak",
                   "behaviour.relapse_share")



def _design(method: str, samples: int, levels: int, second_order: bool,
            reps: int) -> dict[str, Any]:
    """Method and sample size, as the manifest and the id record them."""
    extra = {"levels": levels} if method == "morris" else {"second_order": bool(second_order)}
    return {"method": method, "samples": samples, **extra, "reps": reps}


# ---------------------------------------------------------------- run functions

def model_metrics(scenario: Scenario, seed: int) -> dict[str, Any]:
    """The model's summary (with its intensity-0 baseline, same seed); a run whose smelting is
    not back by the end gets ``recovery_days`` = days from the last window to the end
    (censored: at least that many) and ``recovery_censored`` true."""
    from scrapsim.experiments.engine import model_summary

    summary = dict(model_summary(scenario, seed))
    censored = summary.get("recovery_days") is None and bool(summary.get("windows"))
    if censored:
        last = max(date.fromisoformat(str(w[1])) for w in summary["windows"])
        summary["recovery_days"] = (scenario.end - last).days + 1
    summary["recovery_censored"] = censored
    return summary


def ishigami(scenario: Scenario, seed: int) -> dict[str, float]:
    """Ishigami's test function (a=7, b=0.1) of three scenario shares in [0, 1] mapped to
    [-pi, pi]: ``seasonality.summer_trough``, ``seasonality.autumn_peak``,
    ``behaviour.relapse_share``. For testing the pipeline against known indices."""
    u = (scenario.seasonality.summer_trough, scenario.seasonality.autumn_peak,
         scenario.behaviour.relapse_share)
    x1, x2, x3 = (-math.pi + 2.0 * math.pi * v for v in u)
    return {"ishigami": math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)}


def model_metric_names(base: Scenario) -> list[str]:
    """Metric names a model run gives for ``base``."""
    regional = [f"region.{r.name}.{k}" for r in base.regions for k in METRIC_KEYS]
    return [*METRIC_KEYS, *regional]


# ---------------------------------------------------------------- plan

def _whole(value: Any, name: str, low: int, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParamsError("out of range", file=name, value=value, expected=expected)
    return value


def _check_method(method: str, samples: int | None, levels: int) -> int:
    if method not in METHODS:
        raise ParamsError("unknown method", file="--method", value=method,
                          expected="morris or sobol")
    n = DEFAULT_SAMPLES[method] if samples is None else samples
    if method == "morris":
        _whole(levels, "--levels", 2, "an even whole number >= 2")
        if levels % 2:
            raise ParamsError("Morris needs an even number of levels", file="--levels",
                              value=levels, expected="an even whole number >= 2")
        return _whole(n, "--samples", 2, "a whole number of trajectories >= 2")
    _whole(n, "--samples", 2, "a power of 2 >= 2 (Sobol' base N)")
    if n & (n - 1):
        raise ParamsError("Sobol' sampling needs a power of 2", file="--samples", value=n,
                          expected=f"a power of 2, e.g. {1 << n.bit_length() - 1} or "
                          f"{1 << n.bit_length()}")
    return n


class Analysis(DesignRuns):
    """A sensitivity analysis: the distinct points of a SALib sample run as a ``points``
    sweep (replications with common seeds), then analysed. Constructing one checks the
    parameters file and draws the sample; bad input raises :class:`ParamsError`."""

    kind = "sensitivity"
    id: str
    final: Path

    def __init__(self, scenario: Scenario | str | Path, params: str | Path | Mapping[str, Any],
                 *, method: str = "morris", samples: int | None = None,
                 levels: int = DEFAULT_LEVELS, second_order: bool = False,
                 reps: int = DEFAULT_REPS, seed: int | None = None, run_fn: RunFn = MODEL_RUN,
                 out: str | Path | None = None, overrides: Mapping[str, Any] | None = None,
                 figures: bool = True) -> None:
        n = _check_method(method, samples, levels)
        _whole(reps, "--reps", 1, "a whole number >= 1")
        base, source = base_scenario(scenario, overrides)
        root = base.seed if seed is None else _whole(seed, "--seed", 0, "a whole number >= 0")
        known = model_metric_names(base) if run_fn == MODEL_RUN else None
        self.spec: ParamSpec = load_params(params, base, known)
        self.method, self.samples, self.levels = method, n, levels
        self.second_order, self.reps = bool(second_order), reps
        self.root_seed = root
        self.x = sample_matrix(self)
        self.points, self.inverse = distinct_points(self, self.x)
        columns = {p.key: [pt[i] for pt in self.points]
                   for i, p in enumerate(self.spec.parameters)}
        try:
            super().__init__(base, columns, design="points", reps=reps, seed=root,
                             run_fn=run_fn, figures=figures)
        except SweepSpecError as exc:
            if not str(exc.file or "").startswith("--vary"):
                raise
            raise ParamsError(f"a sampled {error_reason(exc)}", file=self.spec.file,
                              path=exc.path, value=exc.value, expected=exc.expected) from None
        self.source = source
        self.id = digest({"scenario": scenario_hash(base), "params": self.spec.identity(),
                          "seed": root, "run_fn": jsonable(run_fn), "version": package_version(),
                          "design": self.method_info()})
        self.final = Path(out) if out is not None else run_dir(base) / f"sensitivity-{self.id}"
        self.result: SensitivityResult | None = None

    def seed(self, child: int) -> Any:
        """Child ``child`` of the root SeedSequence (2: the sample, 3: the bootstrap)."""
        import numpy as np

        return np.random.SeedSequence(self.root_seed).spawn(4)[child]

    def method_info(self) -> dict[str, Any]:
        """Method and sample size, as the manifest and the id record them."""
        return _design(self.method, self.samples, self.levels, self.second_order, self.reps)

    def finish(self, folder: Path, runs: Runs) -> tuple[list[str], dict[str, Any]]:
        from scrapsim.experiments.sensitivity import output

        table, _, timings = self.tables(runs.records)
        y = point_means(self, table, len(self.points))[self.inverse]
        _check_complete(self, y, folder / "runs.csv")
        indices, pairs = analyse(self, self.x, y)
        tables = output.Tables(indices, samples_table(self, self.points, self.inverse, y),
                               pairs, table, timings)
        files, body = output.write(self, folder, tables)
        self.result = SensitivityResult(tables.indices, tables.samples, folder, {},
                                        tables.second_order)
        return files, body

    def outcome(self, folder: Path, manifest: dict[str, Any]) -> SensitivityResult:
        if self.result is None:
            return load(folder)
        self.result.folder, self.result.manifest = folder, manifest
        return self.result

    def load(self, folder: Path) -> SensitivityResult:
        return load(folder)


# ---------------------------------------------------------------- sample, run, analyse

def salib() -> tuple[Any, Any, Any, Any]:
    """SALib's morris and sobol sample/analyze modules, or an ImportError naming the extra."""
    try:
        from SALib.analyze import morris as morris_analyze
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError:
        raise ImportError(f"sensitivity analysis needs SALib: {INSTALL_HINT}") from None
    return morris_sample, sobol_sample, morris_analyze, sobol_analyze


def sample_matrix(setup: Any) -> Any:
    """The SALib sample in the declared ranges: rows are points, columns the parameters."""
    import numpy as np

    morris_sample, sobol_sample, _, _ = salib()
    rng = np.random.default_rng(setup.seed(2))
    problem = setup.spec.problem()
    if setup.method == "morris":
        return morris_sample.sample(problem, setup.samples, num_levels=setup.levels, seed=rng)
    return sobol_sample.sample(problem, setup.samples, calc_second_order=setup.second_order,
                               seed=rng)


def distinct_points(setup: Any, x: Any) -> tuple[list[tuple[Any, ...]], Any]:
    """The values each sampled row runs with (counts rounded), each distinct row once, and for
    every row the index of its distinct point."""
    import numpy as np

    params = setup.spec.parameters
    index: dict[tuple[Any, ...], int] = {}
    inverse = np.empty(len(x), dtype=np.int64)
    for i, row in enumerate(x):
        values = tuple(p.value(v) for p, v in zip(params, row, strict=True))
        inverse[i] = index.setdefault(values, len(index))
    return list(index), inverse


def analyse(setup: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """SALib's indices per metric (``y``: one column per metric) as a tidy table, and the
    second-order table (None unless asked for)."""
    import numpy as np
    import pandas as pd

    _, _, morris_analyze, sobol_analyze = salib()
    problem, keys = setup.spec.problem(), setup.spec.keys
    boot = int(setup.seed(3).generate_state(1)[0])
    rows, pairs = [], []
    for j, metric in enumerate(setup.spec.metrics):
        if setup.method == "sobol" and np.all(y[:, j] == y[0, j]):  # no variance to split:
            rows += [{"metric": metric, "parameter": key, "method": setup.method,  # undefined
                      **dict.fromkeys(INDEX_COLUMNS["sobol"], math.nan)} for key in keys]
            continue                                 # (SALib warned and gave 0 ± 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if setup.method == "morris":
                res = morris_analyze.analyze(problem, x, y[:, j], num_levels=setup.levels,
                                             seed=boot)
            else:
                res = sobol_analyze.analyze(problem, y[:, j], seed=boot,
                                            calc_second_order=setup.second_order)
        for i, key in enumerate(keys):
            rows.append({"metric": metric, "parameter": key, "method": setup.method,
                         **{c: float(res[c][i]) for c in INDEX_COLUMNS[setup.method]}})
        if setup.method == "sobol" and setup.second_order:
            pairs += [{"metric": metric, "parameter_1": keys[a], "parameter_2": keys[b],
                       "S2": float(res["S2"][a, b]), "S2_conf": float(res["S2_conf"][a, b])}
                      for a in range(len(keys)) for b in range(a + 1, len(keys))]
    return pd.DataFrame(rows), (pd.DataFrame(pairs) if pairs else None)


def point_means(setup: Any, runs: Any, n_points: int) -> Any:
    """Each metric's mean over the successful replications of each distinct point
    (rows: points; columns: metrics in the file's order)."""
    import numpy as np

    ok = runs[runs["status"] == "ok"]
    out = np.full((n_points, len(setup.spec.metrics)), np.nan)
    for j, metric in enumerate(setup.spec.metrics):
        if metric not in runs.columns:
            raise ParamsError(f"the runs give no metric {metric!r}", file=setup.spec.file,
                              path=f"metrics.{j}", value=metric,
                              expected="a key of the run function's summary")
        values = ok[metric].to_numpy(dtype=float, na_value=np.nan)
        means = ok.assign(_v=values).groupby("point")["_v"].mean()
        out[means.index.to_numpy(dtype=int), j] = means.to_numpy()
    return out


def _check_complete(setup: Any, y: Any, runs_table: Path) -> None:
    import numpy as np

    for j, metric in enumerate(setup.spec.metrics):
        missing = int(np.isnan(y[:, j]).sum())
        if missing:
            raise SensitivityError(
                f"metric {metric!r} has no value at {missing} of {len(y)} sampled points (its "
                f"runs failed or gave none); see {runs_table}")


def samples_table(setup: Any, points: list[tuple[Any, ...]], inverse: Any, y: Any) -> Any:
    """One row per sampled point: its index, its distinct point (``point`` in ``runs/``), the
    values it ran with (counts rounded) and each metric's mean over the replications."""
    import pandas as pd

    columns: dict[str, Any] = {"sample": range(len(inverse)), "point": inverse}
    for i, p in enumerate(setup.spec.parameters):
        columns[p.key] = [points[k][i] for k in inverse]
    for j, metric in enumerate(setup.spec.metrics):
        columns[metric] = y[:, j]
    return pd.DataFrame(columns)


# ---------------------------------------------------------------- the whole analysis

def sensitivity(scenario: Scenario | str | Path, params: str | Path | Mapping[str, Any], *,
                method: str = "morris", samples: int | None = None,
                levels: int = DEFAULT_LEVELS, second_order: bool = False,
                reps: int = DEFAULT_REPS, seed: int | None = None, workers: int | None = None,
                scheduler: str | None = None, out: str | Path | None = None,
                quiet: bool = False, overrides: Mapping[str, Any] | None = None,
                run_fn: RunFn = MODEL_RUN, figures: bool = True,
                command: Sequence[str] | None = None) -> SensitivityResult:
    """Sample, run (or resume) and analyse; returns the indices and writes the folder.

    ``params``: a parameters file (see :mod:`scrapsim.experiments.sensitivity.params`) or the same
    structure as a mapping. ``samples``: Morris trajectories or the Sobol' base N (a power of
    2); default :data:`DEFAULT_SAMPLES`. ``levels``: Morris grid levels (even). ``reps``:
    replications per point, averaged. ``workers``/``scheduler``: as for
    :func:`scrapsim.experiments.sweep.sweep`. ``run_fn``: ``"module:function"`` taking ``(scenario,
    seed)`` and returning a dict holding the metrics (default: the model's summary).
    """
    salib()
    analysis = Analysis(scenario, params, method=method, samples=samples, levels=levels,
                        second_order=second_order, reps=reps, seed=seed, run_fn=run_fn,
                        out=out, overrides=overrides, figures=figures)
    result: SensitivityResult = drive(analysis, workers=workers, scheduler=scheduler,
                                      quiet=quiet, command=command)
    return result
