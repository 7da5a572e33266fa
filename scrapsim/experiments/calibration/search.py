"""Fitting uncertain scenario parameters to observed moments (``scrapsim calibrate``).

The objective is the weighted distance between the model's moments and the targets,
``Q(θ) = Σ_k ((m̄_k(θ) − t_k) / sd_k)²``, where ``m̄_k`` is the mean over ``reps`` replications
whose seeds are the same at every θ (common random numbers): the noise of one seed is frozen, so
Q is a deterministic function of θ that an optimizer can compare point with point. The global
search is scipy's differential evolution, one generation at a time on the sweep engine's workers
(local processes or a Dask cluster), every run journaled as it finishes, so a killed calibration
resumes with no run repeated. The scenario's own values seed the population, so the fit is never
worse than the start.

Uncertainty comes from the objective's curvature: with ``J = ∂m̄/∂θ`` fitted by least squares
over points 7.5% and 15% of the range either side of θ̂ (CRN again), ``W = diag(1/sd²)``
and ``A = JᵀWJ`` (the Gauss–Newton Hessian of Q / 2), the
parameter covariance is ``A⁻¹ + A⁻¹JᵀW Σ_sim WJ A⁻¹``: target error plus simulation error
(``Σ_sim`` the covariance of the replications' moments / reps). The 95% interval θ̂ ± 1.96 se
is clipped to the search range; a parameter whose unclipped interval is wider than the range is
reported as not identified by the targets, and so is one on a direction the targets do not fix
(more parameters than targets, or two that move the moments alike: the pseudo-inverse would give
it the spread of the other directions). The formula assumes the model can meet the targets:
when Q stays far above its degrees of freedom the intervals are, if anything, too narrow.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scrapsim.experiments.batching import BLOCK_SEEDS
from scrapsim.experiments.calibration.output import Calibration, load_calibration, write_tables
from scrapsim.experiments.calibration.targets import Targets, TargetsError, load_targets
from scrapsim.experiments.design import rep_seeds
from scrapsim.experiments.engine import Task
from scrapsim.experiments.lifecycle import Experiment, Runs, drive
from scrapsim.experiments.sweep import base_scenario
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

__all__ = ["Calibration", "Fit", "calibrate", "covariance"]

RUN_FN = "scrapsim.experiments.calibration.targets:moments"
Z95 = 1.959963984540054
MISSING_Z = 10.0
"""A target with no valid replication at a point counts as 10 sd away."""


class Evaluator:
    """Moments of points θ over the replications, run on an Engine and journaled."""

    def __init__(self, base: Scenario, targets: Targets, seeds: list[int], runs: Runs,
                 tag: str) -> None:
        self.base, self.targets, self.seeds, self.runs = base, targets, seeds, runs
        self.run_fn = (RUN_FN, {"specs": [t.as_dict() for t in targets.targets]})
        self.tag = tag
        self.measured = "moments-" + digest(self.run_fn)
        """Which moments a run stores: part of its key, so other targets never misread it."""
        self.values = np.array([t.value for t in targets.targets])
        self.sd = np.array([t.sd for t in targets.targets])
        self.evaluations: list[tuple[dict[str, Any], float]] = []
        self.needed: set[str] = set()
        """Every run the search has asked for (stored before or run now): a count that does
        not depend on whether the search was resumed."""

    def point(self, x: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """θ as scenario overrides (integers rounded, floats to 12 significant digits)."""
        return {p.key: int(round(v)) if p.integer else float(f"{v:.12g}")
                for p, v in zip(self.targets.parameters, x, strict=True)}

    def _key(self, text: str, rep: int) -> str:
        return run_key(self.tag, text, rep, self.seeds[rep], self.measured)

    def moments(self, xs: np.ndarray) -> np.ndarray:
        """Per point, replication and target: the moment (NaN where a run failed);
        ``xs`` is (points, parameters), the result (points, reps, targets)."""
        points = [self.point(x) for x in xs]
        texts = [canonical_json(p) for p in points]
        tasks, queued, scenarios = [], set(), {}
        for r in range(len(self.seeds)):     # the engine regroups them: a point's seeds together
            for text, point in zip(texts, points, strict=True):
                key = self._key(text, r)
                self.needed.add(key)
                if key in queued:
                    continue
                queued.add(key)
                if text not in scenarios:
                    scenarios[text] = self.base.with_overrides(point).model_dump_json()
                tasks.append(Task(0, r, self.seeds[r], key, scenarios[text]))
        pending = sum(t.key not in self.runs.stored for t in tasks)
        chunk = 1
        if pending:   # small chunks (a generation ends when its slowest chunk does), but each
            # at least a point's seeds, run as one batch
            chunk = max(min(len(self.seeds), BLOCK_SEEDS),
                        math.ceil(pending / (8 * self.runs.engine.slots)))
        self.runs.run(tasks, chunk=chunk, run_fn=self.run_fn)
        names = [t.name for t in self.targets.targets]
        out = np.full((len(points), len(self.seeds), len(names)), np.nan)
        for i, text in enumerate(texts):
            for r in range(len(self.seeds)):
                summary = self.runs[self._key(text, r)].get("summary") or {}
                out[i, r] = [np.nan if summary.get(n) is None else summary[n] for n in names]
        return out

    def objective(self, m: np.ndarray) -> np.ndarray:
        """Q for each point of ``m`` (points, reps, targets)."""
        mean = _nanmean(m, axis=1)
        z = (mean - self.values) / self.sd
        z = np.where(np.isfinite(z), z, MISSING_Z)
        return (z ** 2).sum(axis=1)

    def __call__(self, xt: np.ndarray) -> np.ndarray:
        """The vectorized objective differential evolution calls: ``xt`` is (parameters, S)."""
        xs = np.atleast_2d(np.asarray(xt).T) if np.ndim(xt) > 1 else np.asarray(xt)[None, :]
        q = self.objective(self.moments(xs))
        self.evaluations += [(self.point(x), float(v)) for x, v in zip(xs, q, strict=True)]
        return q if np.ndim(xt) > 1 else q[0]


def _nanmean(m: np.ndarray, axis: int) -> np.ndarray:
    """Mean over the valid runs; NaN (no warning) where no run gave the moment."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(m, axis=axis)


def covariance(jac: np.ndarray, sd: np.ndarray, sim_cov: np.ndarray,
               ranges: np.ndarray | None = None) -> np.ndarray:
    """Sandwich covariance of θ̂ (parameters × parameters) from the moments' Jacobian
    (targets × parameters), the targets' sd and the simulation covariance of the mean moments;
    a parameter the targets do not fix (:func:`unfixed`, on the Jacobian in shares of the
    parameters' ``ranges``) gets an infinite variance."""
    w = np.diag(1.0 / sd ** 2)
    a_inv = np.linalg.pinv(jac.T @ w @ jac)
    cov = a_inv + a_inv @ jac.T @ w @ sim_cov @ w @ jac @ a_inv
    scale = np.ones(jac.shape[1]) if ranges is None else np.asarray(ranges, float)
    free = unfixed(jac / sd[:, None] * scale[None, :])
    cov[free, :] = cov[:, free] = np.nan
    cov[free, free] = np.inf
    return cov


def unfixed(jac: np.ndarray, part: float = 0.1) -> np.ndarray:
    """Parameters (columns) on a direction the moments do not move along: a unit null vector of
    the weighted Jacobian (columns in shares of the parameters' ranges) with at least ``part``
    in them (more parameters than targets, or parameters that move the moments alike). The
    pseudo-inverse would give them a finite variance: the spread of the fixed directions, not
    the ridge's."""
    _, s, vt = np.linalg.svd(jac, full_matrices=True)
    tol = max(jac.shape) * np.finfo(float).eps * (s.max() if s.size else 0.0) * 1e4
    rank = int((s > tol).sum()) if s.size and s.max() > 0 else 0
    null = vt[rank:]
    return (np.abs(null) >= part).any(axis=0) if null.size else np.zeros(jac.shape[1], bool)


STEPS = (-0.15, -0.075, 0.075, 0.15)
"""Offsets (shares of the search range) around θ̂ at which the Jacobian is fitted: wide enough
that moments built from discrete events (shut counts, halts drawn against fixed uniforms under
common random numbers) change, and fitted by least squares rather than one difference."""


def _offsets(ev: Evaluator, x: np.ndarray) -> list[np.ndarray]:
    """Per parameter: the points x + s·range for s in STEPS, inside the bounds (integers
    rounded, at least one unit apart)."""
    rows = []
    for j, p in enumerate(ev.targets.parameters):
        pts = []
        for s in STEPS:
            v = x[j] + s * (p.high - p.low)
            v = min(max(round(v) if p.integer else v, p.low), p.high)
            y = x.copy()
            y[j] = v
            pts.append(y)
        rows.append(np.array(pts))
    return rows


def uncertainty(ev: Evaluator, x: np.ndarray) -> dict[str, Any]:
    """Moments at θ̂ with their spread, the Jacobian and the parameters' covariance."""
    at = ev.moments(x[None, :])[0]                          # (reps, targets)
    around = _offsets(ev, x)
    means = _nanmean(ev.moments(np.concatenate(around)), axis=1)
    centre = _nanmean(at, axis=0)
    jac = np.zeros((len(ev.sd), len(around)))
    for j, pts in enumerate(around):
        m = means[j * len(STEPS):(j + 1) * len(STEPS)]
        dx = np.append(pts[:, j] - x[j], 0.0)
        dm = np.vstack([m, centre]) - centre
        ok = np.isfinite(dm).all(axis=1)
        if (dx[ok] ** 2).sum() > 0:
            jac[:, j] = (dx[ok] @ dm[ok]) / (dx[ok] ** 2).sum()   # slope through θ̂
    reps = at.shape[0]
    filled = np.where(np.isnan(at), centre, at)
    sim = np.cov(filled, rowvar=False).reshape(len(ev.sd), len(ev.sd)) / reps if reps > 1 \
        else np.zeros((len(ev.sd), len(ev.sd)))
    ranges = np.array([p.high - p.low for p in ev.targets.parameters], float)
    cov = covariance(np.nan_to_num(jac), ev.sd, np.nan_to_num(sim), ranges)
    return {"at": at, "jacobian": jac, "covariance": cov}


def _tables(ev: Evaluator, x: np.ndarray, start: np.ndarray, unc: dict[str, Any]) -> tuple:
    import pandas as pd
    from scipy.stats import t as student

    se = np.sqrt(np.clip(np.diag(unc["covariance"]), 0, None))
    params = []
    for j, p in enumerate(ev.targets.parameters):
        lo, hi = max(x[j] - Z95 * se[j], p.low), min(x[j] + Z95 * se[j], p.high)
        params.append({"parameter": p.key, "low": p.low, "high": p.high, "start": start[j],
                       "fitted": ev.point(x)[p.key], "se": se[j], "ci_low": lo, "ci_high": hi,
                       "identified": bool(2 * Z95 * se[j] < p.high - p.low),
                       "source": p.source})
    at = unc["at"]
    rows = []
    for k, t in enumerate(ev.targets.targets):
        v = at[:, k][np.isfinite(at[:, k])]
        mean = float(v.mean()) if len(v) else math.nan
        half = float(student.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))) \
            if len(v) > 1 else math.nan
        rows.append({"target": t.name, "moment": t.moment, "period": _period_text(t.period),
                     "of": t.of, "value": t.value, "sd": t.sd, "model": mean,
                     "ci_low": mean - half, "ci_high": mean + half,
                     "z": (mean - t.value) / t.sd, "within_2sd": abs(mean - t.value) <= 2 * t.sd,
                     "source": t.source})
    return pd.DataFrame(params), pd.DataFrame(rows)


def _period_text(period: str | tuple[str, str]) -> str:
    return period if isinstance(period, str) else f"{period[0]}..{period[1]}"


# --- the command ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The search: replications, differential-evolution budget, root seed."""

    reps: int = 8
    popsize: int = 8
    maxiter: int = 20
    tol: float = 0.05
    seed: int | None = 0

    def check(self) -> None:
        for name, low in (("reps", 1), ("popsize", 2), ("maxiter", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise TargetsError(f"needs a whole number >= {low}", file=f"--{name}",
                                   value=value, expected=f"a whole number >= {low}")
        if not self.tol > 0:
            raise TargetsError("must be positive", file="--tol", value=self.tol,
                               expected="a number > 0")
        if self.seed is not None and int(self.seed) < 0:
            raise TargetsError("must not be negative", file="--seed", value=self.seed,
                               expected="a whole number >= 0")


class Fit(Experiment):
    """A calibration: differential evolution over the targets file's parameters, then the
    uncertainty around the optimum, every run journalled."""

    kind = "calibration"

    def __init__(self, scenario: Scenario | str | Path, targets: Targets | str | Path, *,
                 settings: Settings, out: str | Path | None = None,
                 overrides: Mapping[str, Any] | None = None, quiet: bool = True) -> None:
        self.base, self.source = base_scenario(scenario, overrides)
        self.spec = targets if isinstance(targets, Targets) else load_targets(targets, self.base)
        root = self.base.seed if settings.seed is None else int(settings.seed)
        self.settings = Settings(settings.reps, settings.popsize, settings.maxiter,
                                 settings.tol, root)
        self.settings.check()
        self.root_seed, self.seeds, self.quiet = root, rep_seeds(root, settings.reps), quiet
        identity = {
            "scenario": scenario_hash(self.base), "version": package_version(),
            "seeds": self.seeds, "settings": jsonable(self.settings.__dict__),
            "parameters": [jsonable(p.__dict__) for p in self.spec.parameters],
            "targets": [jsonable(t.__dict__) for t in self.spec.targets]}
        self.id = digest(identity)
        budget = {k: v for k, v in identity["settings"].items() if k not in ("maxiter", "tol")}
        self._work_id = digest({**identity, "settings": budget})
        self.final = Path(out) if out is not None else \
            run_dir(self.base) / f"calibration-{self.id}"
        self.result: Calibration | None = None

    @property
    def work_id(self) -> str:
        """The id less the search's budget (``maxiter``, ``tol``): the same search stopped later
        or sooner runs the same generations first, so a rerun with a new budget resumes the
        runs an interrupted one stored."""
        return self._work_id

    def execute(self, runs: Runs) -> None:
        """The search, then the Jacobian and covariance at its optimum."""
        from scipy.optimize import differential_evolution

        spec, st = self.spec, self.settings
        ev = Evaluator(self.base, spec, self.seeds, runs, scenario_hash(self.base))
        self.start = np.array([min(max(float(self.base.get(p.key)), p.low), p.high)
                               for p in spec.parameters])
        self.history: list[dict[str, Any]] = []
        self.search = differential_evolution(
            ev, [(p.low, p.high) for p in spec.parameters], popsize=st.popsize,
            maxiter=st.maxiter, tol=0.0, atol=st.tol, polish=False,
            rng=np.random.default_rng(np.random.SeedSequence(self.root_seed).spawn(3)[2]),
            x0=self.start, integrality=[p.integer for p in spec.parameters], vectorized=True,
            updating="deferred",
            callback=_progress(ev, self.history, time.perf_counter(), self.quiet))
        self.x = np.array([float(v) for v in ev.point(self.search.x).values()])
        self.search_runs = len(runs.needed)
        self.unc = uncertainty(ev, self.x)
        self.ev = ev

    def finish(self, folder: Path, runs: Runs) -> tuple[list[str], dict[str, Any]]:
        ev, spec = self.ev, self.spec
        params, fit = _tables(ev, self.x, self.start, self.unc)
        files, hist, fitted = write_tables(folder, self.base, spec, self.id, params, fit,
                                           self.history, ev.evaluations)
        objective = float(ev.objective(self.unc["at"][None])[0])
        self.result = Calibration(params, fit, hist, fitted, objective, folder, {})
        return files, {
            "calibration_id": self.id, "targets": spec.file, "settings": self.settings.__dict__,
            "objective": objective,
            "degrees_of_freedom": len(spec.targets) - len(spec.parameters),
            "optimizer": {"method": "scipy.optimize.differential_evolution",
                          "nit": self.search.nit, "points": len(ev.evaluations),
                          "success": bool(self.search.success),
                          "message": str(self.search.message)},
            "jacobian": {"targets": [t.name for t in spec.targets], "parameters": spec.keys,
                         "values": self.unc["jacobian"].tolist()},
            "covariance": [[v if math.isfinite(v) else None for v in row]   # None: unfixed
                           for row in self.unc["covariance"].tolist()],
            "session": {"runs_search": self.search_runs,
                        "runs_uncertainty": len(runs.needed) - self.search_runs}}

    def outcome(self, folder: Path, manifest: dict[str, Any]) -> Calibration:
        if self.result is None:
            return load_calibration(folder, manifest)
        self.result.folder, self.result.manifest = folder, manifest
        return self.result

    def load(self, folder: Path) -> Calibration:
        return load_calibration(folder)


def calibrate(scenario: Scenario | str | Path, targets: Targets | str | Path, *,
              reps: int = 8, popsize: int = 8, maxiter: int = 20, tol: float = 0.05,
              seed: int | None = None, workers: int | None = None,
              scheduler: str | None = None, out: str | Path | None = None,
              quiet: bool = True, overrides: Mapping[str, Any] | None = None,
              command: Sequence[str] | None = None) -> Calibration:
    """Fit the targets file's parameters of ``scenario`` to its targets; write and return the
    fit. ``reps`` replications per point (common seeds), differential evolution with a
    population of ``popsize`` × parameters for at most ``maxiter`` generations, stopping early
    when the standard deviation of the population's objective is below ``tol`` (in Q's units:
    a target off by one sd adds 1; an absolute threshold, because a misfit floor from targets
    the model cannot meet would inflate a relative one)."""
    fit = Fit(scenario, targets, settings=Settings(reps, popsize, maxiter, tol, seed), out=out,
              overrides=overrides, quiet=quiet)
    result: Calibration = drive(fit, workers=workers, scheduler=scheduler, quiet=quiet,
                                command=command)
    return result


def _progress(ev: Evaluator, history: list[dict[str, Any]], started: float,
              quiet: bool) -> Callable[[Any], None]:
    """The callback of each generation: its best point into ``history`` and one line out."""
    def callback(intermediate_result: Any) -> None:
        intermediate = intermediate_result
        best = ev.point(intermediate.x)
        history.append({"generation": len(history) + 1, "evaluations": len(ev.evaluations),
                        "best_objective": float(intermediate.fun), "runs": len(ev.needed),
                        **best})               # no times: the table is the same on a resume
        if not quiet:
            shown = ", ".join(f"{k.rsplit('.', 1)[-1]}={v:.4g}" for k, v in best.items())
            print(f"generation {len(history)}: Q={intermediate.fun:.4g} ({shown}) "
                  f"{len(ev.needed)} runs, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
    return callback
