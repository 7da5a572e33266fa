"""Running the checks of :mod:`scrapsim.experiments.validation.checks` on the experiment engine,
and their table (terminal text and CSV)."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapsim.errors import ScenarioError
from scrapsim.experiments.engine import Engine, Task
from scrapsim.experiments.lifecycle import Experiment, Runs, check_engine, drive
from scrapsim.experiments.validation.checks import CHECKS, COLUMNS, Check, Metrics, Row
from scrapsim.results.identity import digest, package_version, scenario_hash
from scrapsim.results.journal import run_key
from scrapsim.results.run_folder import RESULTS_ROOT
from scrapsim.scenario import Scenario

__all__ = ["TABLE", "Validation", "ValidationResult", "format_table", "measure", "run_checks",
           "validate", "write_csv"]

MEASURE = "scrapsim.experiments.validation.run:measure"
TABLE = "validate.csv"


# --- running ------------------------------------------------------------------------------

def measure(scenario: Any, seed: int, check: str) -> Metrics:
    """Run function on the engine: the check named ``check`` on one seed."""
    return {c.name: c for c in CHECKS}[check].measure(scenario, seed)


def _select(names: Sequence[str] | None) -> list[Check]:
    known = {c.name: c for c in CHECKS}
    for name in names or ():
        if name not in known:
            raise ScenarioError("unknown check", file="--check", value=name,
                                expected="one of " + ", ".join(known))
    return [c for c in CHECKS if not names or c.name in names]


class Validation(Experiment):
    """The checks over seeds ``0 .. reps-1`` on the scenario library (one scenario each)."""

    kind = "validation"
    run_fn = (MEASURE, {"check": ""})

    def __init__(self, names: Sequence[str] | None = None, reps: int = 10,
                 folder: str | Path | None = None,
                 overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 out: str | Path | None = None) -> None:
        from scrapsim.scenario import load_scenario
        from scrapsim.scenario.library import folder as library_folder

        folder = library_folder("scenarios") if folder is None else folder

        if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
            raise ScenarioError("needs at least one replication", file="--reps", value=reps,
                                expected="a whole number >= 1")
        self.checks, self.reps = _select(names), reps
        self.library: dict[str, Scenario] = {}
        for name in sorted({c.scenario for c in self.checks}):
            self.library[name] = load_scenario(Path(folder) / f"{name}.yaml",
                                               dict((overrides or {}).get(name, {})) or None)
        self.hashes = {n: scenario_hash(sc) for n, sc in self.library.items()}
        self.version, self.source = package_version(), str(folder)
        self.seeds, self.root_seed = list(range(reps)), 0
        self.id = digest({"checks": [c.name for c in self.checks], "reps": reps,
                          "scenarios": self.hashes, "version": self.version})
        self.final = Path(out) if out is not None else \
            RESULTS_ROOT / "validation" / f"validation-{self.id}"
        self.rows: list[Row] | None = None

    @property
    def total(self) -> int:
        return len(self.checks) * self.reps

    def key(self, check: Check, seed: int) -> str:
        return run_key(self.hashes[check.scenario], check.name, seed, seed, self.version)

    def execute(self, runs: Runs) -> None:
        """Each check's replications on the engine (its own run function), shared out over
        the workers in as many batches as there are (one check runs at a time: with its
        seeds in one batch, a second worker had nothing to do)."""
        for c in self.checks:
            text = self.library[c.scenario].model_dump_json()
            tasks = [Task(i, seed, seed, self.key(c, seed), text)
                     for i, seed in enumerate(self.seeds)]
            missing = sum(t.key not in runs.stored for t in tasks)
            chunk = max(1, -(-missing // runs.engine.slots)) if missing else None
            runs.run(tasks, chunk=chunk, run_fn=(MEASURE, {"check": c.name}))

    def table(self, records: Mapping[str, dict[str, Any]]) -> list[Row]:
        """One Row per metric (registry order); a failed run counts as missing."""
        out = []
        for c in self.checks:
            summaries = [records[self.key(c, s)].get("summary") or {} for s in self.seeds]
            out += [Row(c, m, tuple(r.get(m) for r in summaries)) for m in c.targets]
        return out

    def finish(self, folder: Path, runs: Runs) -> tuple[list[str], dict[str, Any]]:
        self.rows = self.table(runs.stored)
        write_csv(self.rows, folder / TABLE)
        return [TABLE], {
            "checks": [c.name for c in self.checks], "reps": self.reps,
            "scenarios": {n: {"file": str(Path(self.source) / f"{n}.yaml"), "hash": h}
                          for n, h in self.hashes.items()},
            "metrics": len(self.rows), "passed": sum(r.passed for r in self.rows),
            "failing": sorted({r.check.name for r in self.rows if not r.passed}),
            "failed_runs": runs.failed}

    def scenario_info(self) -> dict[str, Any]:
        return {"name": "library", "file": self.source,
                "hash": digest(self.hashes, length=64)}

    def outcome(self, folder: Path, manifest: dict[str, Any]) -> ValidationResult:
        if self.rows is None:
            from scrapsim.results.journal import read_records

            self.rows = self.table({r["key"]: r for r in read_records(folder)})
        return ValidationResult(self.rows, folder, manifest)


@dataclass
class ValidationResult:
    """The rows of a validation, where its folder is, and its manifest."""

    rows: list[Row]
    folder: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def to_pandas(self) -> Any:
        """The table as a DataFrame (the columns of ``validate.csv``)."""
        import pandas as pd

        return pd.DataFrame([_record(r) for r in self.rows], columns=list(COLUMNS))


def run_checks(names: Sequence[str] | None = None, reps: int = 10,
               folder: str | Path | None = None, workers: int = 1,
               overrides: Mapping[str, Mapping[str, Any]] | None = None,
               scheduler: str | None = None) -> list[Row]:
    """Run the checks (all, or those ``names``) over seeds 0..reps-1 on the scenario files in
    ``folder`` and return one Row per metric, in registry order, writing nothing; ``overrides``
    maps a scenario name to dotted overrides applied before the check (to switch a mechanism
    off). ``workers`` local processes, or the Dask cluster at ``scheduler``."""
    exp = Validation(names, reps, folder, overrides)
    with Engine(check_engine(workers, scheduler), scheduler) as engine:
        runs = Runs(exp, engine)
        exp.execute(runs)
    return exp.table(runs.stored)


def validate(names: Sequence[str] | None = None, reps: int = 10,
             folder: str | Path | None = None, *, workers: int | None = 1,
             scheduler: str | None = None, out: str | Path | None = None,
             overrides: Mapping[str, Mapping[str, Any]] | None = None, quiet: bool = True,
             command: Sequence[str] | None = None) -> ValidationResult:
    """Run (or resume) the checks and publish their folder (``validate.csv``, manifest,
    journal) under ``results/validation/`` or ``out``."""
    exp = Validation(names, reps, folder, overrides, out)
    result: ValidationResult = drive(exp, workers=workers, scheduler=scheduler, quiet=quiet,
                                     command=command)
    return result


# --- output -------------------------------------------------------------------------------

def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _record(row: Row) -> dict[str, Any]:
    lo, hi = row.interval
    return {"pattern": row.check.pattern, "check": row.check.name,
            "scenario": row.check.scenario, "metric": row.metric, "target": row.target.text,
            "in_sample": row.target.fitted, "mean": row.mean, "ci_low": lo, "ci_high": hi,
            "reps": len(row.values),
            "missing": len(row.values) - len(row.valid), "passed": row.passed}


def format_table(rows: Sequence[Row]) -> str:
    """The table as aligned plain text, one line per metric, and a pass count."""
    head = ("#", "check", "metric", "target", "model (95% CI)", "pass", "fitted")
    lines = []
    for row in rows:
        lo, hi = row.interval
        ci = "" if lo is None else f" [{_fmt(lo)}, {_fmt(hi)}]"
        miss = len(row.values) - len(row.valid)
        value = _fmt(row.mean) + ci + (f" ({miss} missing)" if miss else "")
        lines.append((str(row.check.pattern), row.check.name, row.metric, row.target.text,
                      value, "PASS" if row.passed else "FAIL",
                      "in-sample" if row.target.fitted else ""))
    widths = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in [head, *lines]]
    passed = sum(r.passed for r in rows)
    text.append(f"{passed} of {len(rows)} metrics pass; checks failing: "
                + (", ".join(sorted({r.check.name for r in rows if not r.passed})) or "none"))
    fitted = sorted({r.target.fitted for r in rows if r.target.fitted})
    if fitted:
        text.append(f"in-sample: {sum(bool(r.target.fitted) for r in rows)} rows whose evidence "
                    f"a calibration used ({', '.join(fitted)})")
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
