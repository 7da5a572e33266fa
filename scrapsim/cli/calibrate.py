"""``scrapsim calibrate``: the command-line face of :mod:`scrapsim.experiments.calibration.search`.

``add_parser`` only declares options (argparse, nothing heavy); ``main`` imports the optimizer,
numpy and the model when the command runs. Exit status: 0 fitted, 1 the workers failed (runs
done so far are stored: the same command resumes), 2 bad input (scenario, targets file,
options; nothing written), 130 interrupted (stored runs kept).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from scrapsim.cli.engine import add_engine_options, guarded, overrides, scenario_path

__all__ = ["add_parser", "main"]

PROG = "scrapsim calibrate"
EPILOG = """\
The targets file lists the parameters to fit (scenario fields by dotted path, with bounds) and
the observed moments to fit them to (value ± sd, with sources); see targets/hebei.yaml.

example:
  python -m scrapsim calibrate scenarios/hebei.yaml --targets targets/hebei.yaml
  python -m scrapsim scenarios/hebei.yaml --out fitted-run   # compare with:
  python -m scrapsim results/hebei/calibration-<id>/fitted.yaml
"""


def add_parser(subparsers: Any) -> None:
    """Register ``calibrate`` on an argparse subparsers object (declares options only)."""
    p = subparsers.add_parser(
        "calibrate", help="fit uncertain parameters to observed moments (targets file)",
        description=textwrap.fill("Fit the parameters a targets file names to its target moments: "
        "differential evolution (scipy) on the weighted distance between the model's mean "
        "over replications (common seeds) and each target; standard errors from the "
        "moments' Jacobian around the optimum (sandwich covariance of target and simulation "
        "error). Writes the fitted scenario, the fit per target, the parameters with 95% "
        "intervals and a figure.", 88), epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=scenario_path, metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--targets", type=Path, required=True, metavar="TARGETS.yaml",
                   help="parameters with bounds and target moments")
    p.add_argument("--reps", type=int, default=8, metavar="N",
                   help="replications per point, the same seeds at every point (default 8)")
    p.add_argument("--popsize", type=int, default=8, metavar="N",
                   help="population per parameter of differential evolution (default 8)")
    p.add_argument("--maxiter", type=int, default=20, metavar="N",
                   help="at most N generations (default 20)")
    p.add_argument("--tol", type=float, default=0.05, metavar="X",
                   help="stop when the standard deviation of the population's objective is "
                   "below X (a target off by one sd adds 1 to the objective; default 0.05)")
    add_engine_options(p, out_help="calibration folder (default results/<scenario>/"
                       "calibration-<id>, the id fixed by scenario, targets, settings and "
                       "seeds)", quiet_help="no progress lines and no tables")


def main(args: argparse.Namespace) -> int:
    """Run the calibration described by ``args``; returns the exit status."""
    from scrapsim.experiments.calibration.output import format_fit
    from scrapsim.experiments.calibration.search import calibrate

    status, cal = guarded(PROG, lambda: calibrate(
        args.scenario, args.targets, reps=args.reps, popsize=args.popsize, maxiter=args.maxiter,
        tol=args.tol, seed=args.seed, workers=args.workers, scheduler=args.scheduler,
        out=args.out, quiet=args.quiet, overrides=overrides(args) or None, command=sys.argv),
        force=args.force)
    if cal is None:
        return status
    if not args.quiet:
        print(format_fit(cal))
        wall = cal.manifest["session"].get("wall_s")
        took = f" in {wall:.1f} s" if wall is not None else " (already complete)"
        print(f"calibration {cal.manifest['scenario']['name']}{took} -> {cal.folder}\n"
              f"fitted scenario: {cal.folder / 'fitted.yaml'}")
    return 0
