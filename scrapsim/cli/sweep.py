"""``scrapsim sweep``: the command-line face of :func:`scrapsim.experiments.sweep.sweep`.

``add_parser`` only declares options (argparse, nothing heavy); ``main`` imports the sweep
machinery when the command runs. ``python -m scrapsim.cli.sweep ARGS`` is the same command.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scrapsim.cli.engine import add_engine_options, guarded, overrides, scenario_path

__all__ = ["add_parser", "main"]

PROG = "scrapsim sweep"
EPILOG = """\
--vary forms: KEY=START:STOP:N (N values, both ends included), KEY=v1,v2,... (listed values),
KEY=LOW..HIGH (bounds, with --design lhs). KEY is any scenario field by dotted path
(enforcement.intensity, regions.hebei.traders.count, campaigns.0.teams). Several --vary give the
full grid. Replication r uses the same seed at every point, and every metric is taken against
the intensity-0 run of that seed.

Outputs (results/<scenario>/sweep-<id>/ or --out): runs.csv, runs.parquet, curves.csv,
timings.csv, manifest.json, scenario.yaml, figures/*.png|svg. Runs are stored as they finish:
after a kill or Ctrl-C, the same command resumes where it stopped.

Exit status: 0 all runs ok; 1 some runs failed (tables written, failures listed in
manifest.json) or the workers were lost; 2 bad input; 130 interrupted.
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``sweep`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "sweep", help="vary scenario fields over a grid or LHS design with replications",
        description="Run a scenario over a design of points with replications (common random "
        "numbers) and write runs, curves with 95% bands, and the supply, smelting-demand and "
        "price-pressure figures.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=scenario_path, metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=SPEC",
                   help="a varied field (repeatable; see below)")
    p.add_argument("--design", choices=("grid", "lhs"), default="grid",
                   help="full grid of the --vary values (default) or a Latin hypercube")
    p.add_argument("--samples", type=int, metavar="N", help="points of an LHS design")
    p.add_argument("--reps", type=int, default=10, metavar="N",
                   help="replications per point (default 10)")
    p.add_argument("--no-plot", action="store_true", help="skip the figures")
    add_engine_options(p, out_help="sweep folder (default results/<scenario>/sweep-<id>, the "
                       "id fixed by scenario, design, seeds)",
                       quiet_help="no progress bar and no summary line")


def main(args: argparse.Namespace) -> int:
    """Run the sweep described by ``args``; returns the exit status."""
    import importlib.util

    from scrapsim.experiments.sweep import format_line, sweep

    status, result = guarded(PROG, lambda: sweep(
        args.scenario, args.vary, reps=args.reps, workers=args.workers,
        scheduler=args.scheduler, seed=args.seed, design=args.design, samples=args.samples,
        out=args.out, quiet=args.quiet, overrides=overrides(args), figures=not args.no_plot),
        force=args.force)
    if result is None:
        return status
    if importlib.util.find_spec("pyarrow") is None and not args.quiet:
        print(f"{PROG}: note: runs.parquet is not written: pyarrow is not installed "
              "(pip install 'scrapsim[parquet]'); runs.csv holds the same table",
              file=sys.stderr)
    if not args.quiet:
        print(format_line(result))
    return 1 if result.failed else 0


def _standalone(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scrapsim")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return main(parser.parse_args(["sweep", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(_standalone())
