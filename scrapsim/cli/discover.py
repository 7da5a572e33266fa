"""``scrapsim discover``: the command line of
:func:`scrapsim.experiments.exploration.discover.discover`. Without EMA Workbench and
scikit-learn it says what to install and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "main"]

PROG = "scrapsim discover"


def add_parser(subparsers: Any) -> None:
    """Register the ``discover`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "discover", help="find where an outcome happens: PRIM boxes and a CART tree",
        description="Scenario discovery over the cases of an explore (or LHS sweep) folder: "
        "PRIM (EMA Workbench) boxes with coverage, density and quasi-p-values, and a CART tree "
        "(scikit-learn) of where METRIC is above or below a value "
        "(pip install 'scrapsim[discovery]').")
    p.add_argument("folder", type=Path, metavar="FOLDER", help="an explore or sweep folder")
    p.add_argument("--metric", required=True, metavar="M", help="the outcome, e.g. price_change")
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--above", type=float, metavar="X", help="cases of interest: M > X")
    side.add_argument("--below", type=float, metavar="X", help="cases of interest: M < X")
    p.add_argument("--threshold", type=float, default=0.8, metavar="D",
                   help="density a box must reach to be chosen (default 0.8)")
    p.add_argument("--peel-alpha", type=float, default=0.05, metavar="A",
                   help="share of cases peeled per step (default 0.05)")
    p.add_argument("--mass-min", type=float, default=0.05, metavar="M",
                   help="smallest box, as a share of the cases (default 0.05; also CART's "
                   "smallest leaf)")
    p.add_argument("--box", type=int, metavar="N", help="choose box N of the trajectory")
    p.add_argument("--policy", dest="policies", action="append", metavar="NAME",
                   help="only this policy's cases (repeatable): boxes in the uncertainties")
    p.add_argument("--max-depth", type=int, default=3, metavar="N",
                   help="depth of the CART tree (default 3)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="result folder (default FOLDER-discover-M-above|below-X)")
    p.add_argument("--no-plot", action="store_true", help="skip the figures")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")


def main(args: argparse.Namespace) -> int:
    """Run the discovery; returns the exit status (2 bad input or a missing library)."""
    from scrapsim.errors import ScenarioError
    from scrapsim.experiments.exploration.discover import discover, libraries

    try:
        libraries()
        result = discover(args.folder, args.metric, above=args.above, below=args.below,
                          threshold=args.threshold, peel_alpha=args.peel_alpha,
                          mass_min=args.mass_min, box=args.box, max_depth=args.max_depth,
                          policies=args.policies,
                          out=args.out, figures=not args.no_plot, command=sys.argv)
    except (ScenarioError, OSError, ImportError) as exc:
        from scrapsim.results.folders import os_problem

        print(f"{PROG}: error: {os_problem(exc)}", file=sys.stderr)
        return 2
    if not args.quiet:
        m = result.manifest
        print(f"discover {m['outcome']}: {m['cases']} cases, {m['of_interest']} of interest; "
              f"box {result.chosen} of boxes 0-{len(result.trajectory) - 1} on the peeling "
              "trajectory (box 0 holds every case)")
        print(result.rules)
        for r in result.box.itertuples():
            qp = [f"{end} {v:.2g}" for end, v in (("lower", r.qp_lower), ("upper", r.qp_upper))
                  if v == v]
            print(f"  {r.input}: {r.lower:.4g} to {r.upper:.4g} (sampled {r.minimum:.4g} to "
                  f"{r.maximum:.4g}); quasi-p {', '.join(qp) or 'n/a'}")
        print(f"-> {result.folder}")
    return 0
