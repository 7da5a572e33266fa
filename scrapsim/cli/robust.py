"""``scrapsim robust``: the command line of :func:`scrapsim.experiments.exploration.robust.robust`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "main"]

PROG = "scrapsim robust"


def _goal(text: str) -> tuple[str, str]:
    metric, _, goal = text.partition("=")
    if goal not in ("lower", "higher") or not metric:
        raise argparse.ArgumentTypeError(f"{text!r}: expected METRIC=lower or METRIC=higher")
    return metric, goal


def add_parser(subparsers: Any) -> None:
    """Register the ``robust`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "robust", help="compare an exploration's policies across its scenarios",
        description="Per policy of an exploration folder: each metric's mean, 10th and 90th "
        "percentile and regret across the uncertainty scenarios, the non-dominated policies "
        "and the trade-off figure (environmental gain against supply loss and price change).")
    p.add_argument("folder", type=Path, metavar="FOLDER", help="a scrapsim explore folder")
    p.add_argument("--metric", dest="metrics", action="append", metavar="M",
                   help="a metric to compare (repeatable; default: the study's)")
    p.add_argument("--goal", dest="goals", action="append", type=_goal, metavar="M=lower|higher",
                   help="which direction is better for a metric, compared even when the "
                   "study does not list it (repeatable; laid over the study's goals)")
    p.add_argument("--out", type=Path, metavar="DIR", help="result folder (default "
                   "FOLDER-robust)")
    p.add_argument("--no-plot", action="store_true", help="skip the trade-off figure")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")


def main(args: argparse.Namespace) -> int:
    """Compare the policies; returns the exit status (2 bad input)."""
    from scrapsim.cli.explore import robust_lines
    from scrapsim.errors import ScenarioError
    from scrapsim.experiments.exploration.robust import robust

    try:
        result = robust(args.folder, metrics=args.metrics,
                        goals=dict(args.goals) if args.goals else None, out=args.out,
                        figures=not args.no_plot, command=sys.argv)
    except (ScenarioError, OSError) as exc:
        from scrapsim.results.folders import os_problem

        print(f"{PROG}: error: {os_problem(exc)}", file=sys.stderr)
        return 2
    if not args.quiet:
        note = result.manifest.get("figure_note")
        print("\n".join([*robust_lines(result.table, result.non_dominated),
                         *([note] if note else []), f"-> {result.folder}"]))
    return 0
