"""Robust policy comparison: how each policy fares across the uncertainty scenarios.

From a table with one row per run (``policy``, ``scenario``, ``rep``, metrics: an exploration's
``runs.csv``), each metric is first averaged over the successful replications of a policy in a
scenario (common random numbers: the same seeds everywhere). Then, per policy and metric, across
the scenarios: the mean, the 10th and 90th percentiles (linear interpolation) and, for metrics
with a goal (``lower`` or ``higher`` is better), the regret: in each scenario, how far the policy
is from the best policy in that scenario (0 for the best; metric units), its mean and maximum
(Savage's minimax regret). A policy is *dominated* when another is at least as good on the mean
of every goal metric and better on one (means within one part in a million of the metric's
scale are a tie); the others are the non-dominated set.

Files: ``robust.csv`` (one row per policy and metric: ``policy, metric, goal, scenarios, mean,
p10, p90, regret_mean, regret_max``), ``dominance.csv`` (``policy, non_dominated,
dominated_by``) and the trade-off figure ``figures/tradeoff.png|svg``
(:func:`scrapsim.plots.discovery.tradeoff_figure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapsim.errors import ParamsError
from scrapsim.results.folders import write_text

__all__ = ["RobustResult", "dominance", "figure_note", "robust", "robustness", "write"]

QUANTILES = (0.1, 0.9)
TIE = 1e-6
"""Two means closer than this share of the metric's largest (absolute) mean are equal for
dominance: policies that reach the same outcomes by other paths (a plant closed or suspended
stops smelting all the same while inspectors are there) differ by parts in 10⁹ of their
means, far below what the replications resolve, and neither is better."""
GAIN, SUPPLY, PRICE = "violating_smelting_change", "smelting_change", "price_change"
"""What the trade-off figure shows: environmental gain (less scrap smelted by violating sites)
against supply loss (less scrap smelted) and the scrap price change."""


@dataclass
class RobustResult:
    """Per policy and metric across scenarios (``table``), the dominance table, the
    non-dominated policies in table order, and the per-scenario means behind them."""

    table: Any
    dominance: Any
    non_dominated: list[str]
    outcomes: Any = field(repr=False, default=None)
    folder: Path | None = None
    manifest: dict[str, Any] = field(repr=False, default_factory=dict)


def _check(runs: Any, metrics: Sequence[str], goals: Mapping[str, str], file: str) -> None:
    if not metrics:
        raise ParamsError("names no metric to compare the policies on", file=file,
                          expected="at least one metric column")
    need = {"policy", "scenario", *metrics}
    missing = sorted(need - set(runs.columns))
    if missing:
        import difflib

        close = difflib.get_close_matches(missing[0], [str(c) for c in runs.columns], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParamsError(f"the table has no column {missing[0]!r}{hint}", file=file,
                          value=missing[0], expected="columns policy, scenario and the metrics")
    for metric, goal in goals.items():
        if goal not in ("lower", "higher"):
            raise ParamsError("unknown goal", file=file, path=f"goals.{metric}", value=goal,
                              expected="lower or higher")


def robustness(runs: Any, metrics: Sequence[str], goals: Mapping[str, str] | None = None,
               file: str = "<table>") -> RobustResult:
    """The robustness and dominance tables of ``runs`` (see the module's docstring)."""
    import numpy as np
    import pandas as pd

    goals = {m: g for m, g in (goals or {}).items() if m in metrics}
    _check(runs, metrics, goals, file)
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    policies = list(dict.fromkeys(runs["policy"].astype(str)))
    values = ok.assign(policy=ok["policy"].astype(str))[["policy", "scenario", *metrics]]
    for m in metrics:
        values[m] = pd.to_numeric(values[m], errors="coerce")
    outcomes = values.groupby(["policy", "scenario"], sort=False).mean().reset_index()
    rows = []
    for metric in metrics:
        wide = outcomes.pivot(index="scenario", columns="policy", values=metric)
        wide = wide.reindex(columns=policies)
        regret = _regret(wide, goals.get(metric))
        for p in policies:
            x = wide[p].to_numpy(float)
            x = x[np.isfinite(x)]
            lo, hi = (float(np.quantile(x, q)) if len(x) else float("nan") for q in QUANTILES)
            r = regret[p].to_numpy(float) if regret is not None else np.array([])
            r = r[np.isfinite(r)]
            rows.append({"policy": p, "metric": metric, "goal": goals.get(metric, ""),
                         "scenarios": len(x), "mean": float(x.mean()) if len(x) else np.nan,
                         "p10": lo, "p90": hi,
                         "regret_mean": float(r.mean()) if len(r) else np.nan,
                         "regret_max": float(r.max()) if len(r) else np.nan})
    table = pd.DataFrame(rows)
    dom = dominance(table, goals, policies)
    kept = [p for p, nd in zip(dom["policy"], dom["non_dominated"], strict=True) if nd]
    return RobustResult(table, dom, kept, outcomes)


def _regret(wide: Any, goal: str | None) -> Any:
    """Per scenario (rows) and policy (columns): distance to the scenario's best policy."""
    if goal is None:
        return None
    if goal == "higher":
        return wide.rsub(wide.max(axis=1), axis=0)
    return wide.sub(wide.min(axis=1), axis=0)


def dominance(table: Any, goals: Mapping[str, str], policies: Sequence[str]) -> Any:
    """Which policies no other beats: A dominates B when A's mean is at least as good as B's
    on every goal metric and better on one (NaN means are never better; means within
    :data:`TIE` of the metric's largest are a tie)."""
    import numpy as np
    import pandas as pd

    metrics = list(goals)
    means = table.pivot(index="policy", columns="metric", values="mean")
    score = np.column_stack([means.loc[list(policies), m].to_numpy(float) *
                             (1.0 if goals[m] == "higher" else -1.0) for m in metrics]) \
        if metrics else np.zeros((len(policies), 0))
    # means within TIE of each other (relative to the metric's largest) are equal: policies
    # that reach the same outcomes by different paths differ in the last digits of their sums
    tie = TIE * np.nanmax(np.abs(score), axis=0, initial=0.0) if metrics else score
    by: list[list[str]] = [[] for _ in policies]
    for b in range(len(policies)):
        for a in range(len(policies)):
            if a != b and metrics and np.all(score[a] >= score[b] - tie) and \
                    np.any(score[a] > score[b] + tie):
                by[b].append(str(policies[a]))
    return pd.DataFrame({"policy": list(policies), "non_dominated": [not d for d in by],
                         "dominated_by": [";".join(d) for d in by]})


def figure_note(table: Any) -> str | None:
    """Why there is no trade-off figure for ``table`` (None: there is one)."""
    metrics = set(table["metric"]) if len(table) else set()
    if GAIN in metrics and (SUPPLY in metrics or PRICE in metrics):
        return None
    return (f"no trade-off figure: it needs {GAIN} and {SUPPLY} or {PRICE} among the metrics "
            "compared")


def write(folder: Path, result: RobustResult, figures: bool = True) -> list[str]:
    """robust.csv, dominance.csv and (when its metrics are there) the trade-off figure."""
    write_text(folder / "robust.csv", result.table.to_csv(index=False, lineterminator="\n"))
    write_text(folder / "dominance.csv",
               result.dominance.to_csv(index=False, lineterminator="\n"))
    files = ["robust.csv", "dominance.csv"]
    if figures:
        from scrapsim.plots.discovery import tradeoff_figure
        from scrapsim.plots.timeseries import save

        fig = tradeoff_figure(result.table, result.non_dominated, GAIN, SUPPLY, PRICE)
        if fig is not None:
            for path in save(fig, folder / "figures" / "tradeoff.png", ("png", "svg")):
                files.append(str(path.relative_to(folder)))
    return files


def robust(source: str | Path | Any, *, metrics: Sequence[str] | None = None,
           goals: Mapping[str, str] | None = None, out: str | Path | None = None,
           figures: bool = True, command: Sequence[str] | None = None) -> RobustResult:
    """Per policy, each metric across the uncertainty scenarios, regret and dominance.

    ``source``: an exploration folder (then ``metrics`` default to its study's, ``goals`` are
    laid over its study's, a metric given a goal is compared too, and the tables and
    trade-off figure are written to ``out``, default ``<folder>-robust``), or a pandas table
    with ``policy``, ``scenario`` and the metrics (then nothing is written and ``metrics`` is
    required).
    """
    if not isinstance(source, (str, Path)):
        if metrics is None:
            raise ParamsError("a table needs its metrics named", file="metrics",
                              expected="a list of metric columns")
        return robustness(source, list(metrics), goals)
    from scrapsim.experiments.exploration.source import publish_analysis, read_source
    from scrapsim.results.identity import digest, package_version

    src = read_source(source, ("explore",))
    study = src.manifest.get("study") or {}
    chosen = list(metrics if metrics is not None else study.get("metrics") or [])
    aims = {**(study.get("goals") or {}), **(goals or {})}   # the study's, as given over them
    chosen += [m for m in (goals or {}) if m not in chosen]  # a goal given is compared on
    present = [m for m in chosen if m in src.runs.columns or m in (goals or {})]
    if metrics is None and chosen and not present:
        raise ParamsError(f"its runs give none of the study's metrics ({', '.join(chosen)})",
                          file=str(src.folder),
                          expected="an explore folder as scrapsim wrote it")
    result = robustness(src.runs, present if metrics is None else chosen, aims,
                        file=str(src.folder))
    given = {"metrics": None if metrics is None else list(metrics), "goals": dict(goals or {})}
    slug = "" if metrics is None and not goals else f"-{digest(given, 6)}"  # not the study's
    final = Path(out) if out is not None else src.folder.with_name(
        f"{src.folder.name}-robust{slug}")
    ident = digest({"source": src.manifest.get("id"), "metrics": chosen, "goals": aims,
                    "version": package_version()})

    def save(tmp: Path) -> tuple[list[str], dict[str, Any]]:
        return write(tmp, result, figures), {"metrics": chosen, "goals": aims,
                                             "non_dominated": result.non_dominated,
                                             "figure_note": figure_note(result.table)
                                             if figures else None}

    manifest, _ = publish_analysis("robust", ident, src, final, save,
                                   list(command) if command is not None else None)
    result.folder, result.manifest = final, manifest
    return result
