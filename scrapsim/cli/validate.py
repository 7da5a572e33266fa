"""``scrapsim validate``: the command-line face of :mod:`scrapsim.experiments.validation`.

``add_parser`` only declares options (argparse, nothing heavy); ``main`` imports the checks, and
with them numpy and the model, when the command runs. Exit status: 0 every row passes, 1 some
row fails (table and folder still written), 2 bad input (a bad option, a missing or invalid
scenario file, an --out that is a file or holds something else).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["CHECK_NAMES", "add_parser", "main"]

CHECK_NAMES = ("hebei_pulse", "compliant_shift", "price_sign", "primary_lag", "seasonality",
               "thin_buffers", "relapse", "imports_large", "two_plus_26")
"""The registry's names (scrapsim.experiments.validation.CHECKS), listed here so --help
imports nothing."""
FEW = 4
"""Below this many replications the table is followed by a note on its intervals."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return value


def add_parser(subparsers: Any) -> None:
    """Register ``validate`` on an argparse subparsers object (declares options only)."""
    p = subparsers.add_parser(
        "validate", help="check the model against FACTS.md's patterns (table + CSV)",
        description="Run each pattern of FACTS.md as a check on the scenario library with "
        "replications (seeds 0..N-1, common random numbers) and print pattern, metric, target, "
        "model mean with its 95% interval and pass/fail. Exit status: 0 all pass, 1 some "
        "fail, 2 bad input.")
    p.add_argument("--reps", type=_positive, default=10, metavar="N",
                   help="replications per check (default 10)")
    p.add_argument("--out", type=Path, metavar="DIR", default=None,
                   help="result folder (default results/validation/validation-<id>, the id "
                   "fixed by the checks, replications and scenario files): validate.csv, "
                   "manifest.json and the journal runs.jsonl; a killed run resumes")
    p.add_argument("--workers", type=_positive, default=1, metavar="N",
                   help="local worker processes (default 1: in this process)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on an existing Dask distributed cluster instead")
    p.add_argument("--check", action="append", metavar="NAME", dest="checks",
                   choices=CHECK_NAMES,
                   help="run only this check (repeatable): " + ", ".join(CHECK_NAMES))
    p.add_argument("--scenarios", type=Path, default=None, metavar="DIR",
                   help="folder of the scenario library (default: the one shipped in the "
                   "package, 'scrapsim list')")


def _library(folder: Path | None) -> Path:
    if folder is not None:
        if not folder.is_dir():     # not each scenario's "no such file" under it
            from scrapsim.errors import ScenarioError

            raise ScenarioError("no such folder", file="--scenarios", value=str(folder),
                                expected="a folder of scenario files (like the library's)")
        return folder
    from scrapsim.scenario.library import folder as library_folder

    return library_folder("scenarios")


def main(args: argparse.Namespace) -> int:
    """Run the checks, print the table, publish the folder; 0 all pass, 1 some fail."""
    import time

    from scrapsim.cli.engine import guarded
    from scrapsim.experiments.validation import TABLE, format_table, validate

    start = time.perf_counter()
    status, result = guarded("scrapsim validate", lambda: validate(
        args.checks, reps=args.reps, folder=_library(args.scenarios), workers=args.workers,
        scheduler=args.scheduler, out=args.out, quiet=False))
    if result is None:
        return status
    print(format_table(result.rows))
    print(f"{args.reps} replication{'s' * (args.reps != 1)}, "
          f"{time.perf_counter() - start:.1f} s; table in {result.folder / TABLE}")
    if args.reps < FEW:
        print(f"note: with {args.reps} replication{'s' * (args.reps != 1)} the intervals are "
              "wide and may pass physical limits (a t-interval on "
              f"{max(args.reps - 1, 0)} degree{'s' * (args.reps != 2)} of freedom); rows pass "
              "on their means; the default is 10", file=sys.stderr)
    return 0 if result.passed else 1
