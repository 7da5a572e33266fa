"""Running the checks of :mod:`scrapsim.experiments.validation.checks` on the experiment engine,
and their table (terminal text and CSV)."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scrapsim.experiments.validation.checks import CHECKS, COLUMNS, Check, Metrics, Row

__all__ = ["format_table", "measure", "run_checks", "write_csv"]


# --- running ------------------------------------------------------------------------------

def _measure(name: str, scenario: Any, seed: int) -> Metrics:
    """Worker entry: the named check on one seed."""
    return {c.name: c for c in CHECKS}[name].measure(scenario, seed)


def _select(names: Sequence[str] | None) -> list[Check]:
    known = {c.name: c for c in CHECKS}
    for name in names or ():
        if name not in known:
            raise ValueError(f"unknown check {name!r}; expected one of " + ", ".join(known))
    return [c for c in CHECKS if not names or c.name in names]


def run_checks(names: Sequence[str] | None = None, reps: int = 10,
               folder: str | Path = "scenarios", workers: int = 1,
               overrides: Mapping[str, Mapping[str, Any]] | None = None,
               scheduler: str | None = None) -> list[Row]:
    """Run the checks (all, or those ``names``) over seeds 0..reps-1 on the scenario files in
    ``folder``; ``overrides`` maps a scenario name to dotted overrides applied before the check
    (to switch a mechanism off). Runs on the sweep engine: ``workers`` local processes, or the
    Dask cluster at ``scheduler``. Returns one Row per metric, in registry order."""
    from scrapsim.scenario import load_scenario

    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    checks = _select(names)
    lib = {}
    for name in sorted({c.scenario for c in checks}):
        lib[name] = load_scenario(Path(folder) / f"{name}.yaml",
                                  dict((overrides or {}).get(name, {})) or None)
    plan = [(c.name, seed) for c in checks for seed in range(reps)]
    results = _on_engine(plan, [lib[c.scenario] for c in checks for _ in range(reps)],
                         workers, scheduler)
    by_check = {c.name: results[i * reps:(i + 1) * reps] for i, c in enumerate(checks)}
    return [Row(c, m, tuple(r.get(m) for r in by_check[c.name]))
            for c in checks for m in c.targets]


def measure(scenario: Any, index: int, plan: Sequence[tuple[str, int]]) -> Metrics:
    """Run function on the sweep engine: task ``index`` of ``plan`` (check name, seed)."""
    name, seed = plan[index]
    return _measure(name, scenario, seed)


def _on_engine(plan: list[tuple[str, int]], scenarios: list[Any], workers: int,
               scheduler: str | None) -> list[Metrics]:
    """Every (check, seed) of ``plan`` as one batch on an Engine; results in plan order. The
    task's seed slot carries its index in the plan, which the run function looks up."""
    from scrapsim.experiments.engine import Engine, Task

    texts = {id(sc): sc.model_dump_json() for sc in scenarios}
    tasks = [Task(i, seed, i, f"{name}|{seed}", texts[id(sc)])
             for i, ((name, seed), sc) in enumerate(zip(plan, scenarios))]
    out: list[Metrics | None] = [None] * len(plan)

    def done(task: Task, result: dict[str, Any]) -> None:
        if result["status"] != "ok":
            raise RuntimeError(f"check {task.key} failed: {result['error']}")
        out[task.point] = result["summary"]

    with Engine(workers, scheduler) as engine:
        engine.run(tasks, done, ("scrapsim.experiments.validation.run:measure", {"plan": plan}))
    return [m or {} for m in out]


# --- output -------------------------------------------------------------------------------

def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _record(row: Row) -> dict[str, Any]:
    lo, hi = row.interval
    return {"pattern": row.check.pattern, "check": row.check.name,
            "scenario": row.check.scenario, "metric": row.metric, "target": row.target.text,
            "mean": row.mean, "ci_low": lo, "ci_high": hi, "reps": len(row.values),
            "missing": len(row.values) - len(row.valid), "passed": row.passed}


def format_table(rows: Sequence[Row]) -> str:
    """The table as aligned plain text, one line per metric, and a pass count."""
    head = ("#", "check", "metric", "target", "model (95% CI)", "pass")
    lines = []
    for row in rows:
        lo, hi = row.interval
        ci = "" if lo is None else f" [{_fmt(lo)}, {_fmt(hi)}]"
        miss = len(row.values) - len(row.valid)
        value = _fmt(row.mean) + ci + (f" ({miss} missing)" if miss else "")
        lines.append((str(row.check.pattern), row.check.name, row.metric, row.target.text,
                      value, "PASS" if row.passed else "FAIL"))
    widths = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
            for line in [head, *lines]]
    passed = sum(r.passed for r in rows)
    text.append(f"{passed} of {len(rows)} metrics pass; checks failing: "
                + (", ".join(sorted({r.check.name for r in rows if not r.passed})) or "none"))
    return "\n".join(text)


def write_csv(rows: Sequence[Row], path: str | Path) -> Path:
    """Write the rows as CSV (columns COLUMNS; floats round-trip) via a temporary file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            out = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
            out.writeheader()
            for row in rows:
                out.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v)
                              for k, v in _record(row).items()})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
