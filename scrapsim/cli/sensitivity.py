"""``scrapsim sensitivity``: the command line of
:func:`scrapsim.experiments.sensitivity.analysis.sensitivity`.

``add_parser`` only declares options (argparse, nothing heavy); ``main`` imports SALib, the sweep
machinery and pandas when the command runs. Without SALib it says what to install and exits 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from scrapsim.cli.engine import add_engine_options, guarded, overrides, scenario_path

__all__ = ["add_parser", "format_table", "main"]

PROG = "scrapsim sensitivity"
EPILOG = """\
PARAMS.yaml names the scenario fields to vary, with ranges and where each comes from:
  parameters:
    campaigns.0.rectify_failure: {low: 0.0, high: 0.3, source: "why this range"}
    campaigns.0.teams: {low: 7, high: 21, source: "..."}    # a count: rounded when sampled
  metrics: [collection_change, smelting_change, price_change, shut_share, recovery_days]
params/hebei.yaml is a worked example for scenarios/hebei.yaml.

Methods: morris (default; --samples = trajectories, default 20, on --levels grid levels,
default 4: (D+1) points per trajectory) screens cheaply; sobol (--samples = base N, a power of 2,
default 128: N(D+2) points; --second-order for N(2D+2) points and S2) gives variance shares.
Every point runs --reps times (replication r with the same seed at every point) and each metric
is averaged over them before the analysis.

Outputs (results/<scenario>/sensitivity-<id>/ or --out): indices.csv (indices and 95% CI
half-widths), samples.csv, runs.csv (one row per run), timings.csv, runs.jsonl (the journal
of finished runs), manifest.json, params.yaml, scenario.yaml, indices.png|svg. After a kill or
Ctrl-C the same command reuses the stored runs.
'scrapsim report FOLDER' includes the table and figure.

Exit status: 0 ok; 1 runs failed (or the workers were lost); 2 bad input; 130 interrupted.
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``sensitivity`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "sensitivity", help="global sensitivity of the summary metrics (Morris or Sobol')",
        description="Sample the parameter ranges of PARAMS.yaml with SALib, run every point\n"
        "with replications on the sweep engine, and print and write Morris or Sobol' indices\n"
        "with 95% confidence intervals (pip install 'scrapsim[sensitivity]').", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=scenario_path, metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--params", type=Path, required=True, metavar="PARAMS.yaml",
                   help="parameters to vary, their ranges, and the metrics")
    p.add_argument("--method", choices=("morris", "sobol"), default="morris",
                   help="morris (screening, default) or sobol (variance shares)")
    p.add_argument("--samples", "--trajectories", dest="samples", type=int, metavar="N",
                   help="Morris trajectories (default 20) or Sobol' base N, a power of 2 "
                   "(default 128)")
    p.add_argument("--levels", type=int, default=4, metavar="P",
                   help="Morris grid levels, even (default 4)")
    p.add_argument("--second-order", action="store_true",
                   help="Sobol': also second-order indices (N(2D+2) points instead of N(D+2))")
    p.add_argument("--reps", type=int, default=4, metavar="N",
                   help="replications per point, averaged (default 4)")
    p.add_argument("--no-plot", action="store_true", help="skip indices.png and indices.svg")
    add_engine_options(p, out_help="result folder (default results/<scenario>/sensitivity-<id>)",
                       quiet_help="no progress bar and no table")


def main(args: argparse.Namespace) -> int:
    """Run the analysis described by ``args``; returns the exit status."""
    from scrapsim.errors import MissingExtraError, require_extra

    try:
        require_extra("sensitivity", "sensitivity analysis (SALib's samplers)")
    except MissingExtraError as exc:
        return _fail(str(exc), 2)
    from scrapsim.experiments.sensitivity.analysis import SensitivityError, sensitivity

    status, result = guarded(PROG, lambda: sensitivity(
        args.scenario, args.params, method=args.method, samples=args.samples,
        levels=args.levels, second_order=args.second_order, reps=args.reps, seed=args.seed,
        workers=args.workers, scheduler=args.scheduler, out=args.out, quiet=args.quiet,
        overrides=overrides(args), figures=not args.no_plot), (SensitivityError,),
        force=args.force)
    if result is None:
        return status
    if not args.quiet:
        print(format_table(result))
    return 0


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def _num(x: Any) -> str:
    x = float(x)
    return "n/a" if not math.isfinite(x) else f"{x:.3g}"


COLUMNS: dict[str, tuple[str, list[tuple[str, str, str | None]]]] = {
    "morris": ("mu_star", [("mu*", "mu_star", "mu_star_conf"), ("mu", "mu", None),
                           ("sigma", "sigma", None)]),
    "sobol": ("ST", [("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf")])}
"""Per method: the column ranking parameters, then (header, value, CI) printed."""


def _design_line(m: dict[str, Any]) -> str:
    if m["method"] == "morris":
        what = f"morris, {m['samples']} trajectories on {m['levels']} levels"
    else:
        what = f"sobol, N={m['samples']}" + (", second order" if m.get("second_order") else "")
    return (f"sensitivity {m['scenario']['name']}: {what}, {m['points']} points "
            f"({m['distinct_points']} distinct) x {m['reps']} rep{'s' * (m['reps'] != 1)} = "
            f"{m['runs']} runs")


def _noise_note(indices: Any, m: dict[str, Any], shown: list) -> list[str]:
    """A line when most indices' 95% intervals are wider than the indices themselves: the
    sample is too small to rank the parameters (Sobol' at N = 8 on Hebei: S1 from -0.21 to
    1.66), which the table alone leaves the reader to notice."""
    import numpy as np

    from scrapsim.experiments.sensitivity.analysis import DEFAULT_SAMPLES

    noisy = total = 0
    for _, value, conf in shown:
        if conf is None:
            continue
        v, c = indices[value].to_numpy(float), indices[conf].to_numpy(float)
        ok = np.isfinite(v) & np.isfinite(c)
        total += int(ok.sum())
        noisy += int((c[ok] > np.abs(v[ok])).sum())
    if not total or 2 * noisy <= total:
        return []
    return [f"note: {noisy} of {total} indices have a 95% interval wider than the index: too "
            f"few samples to rank the parameters (--samples {m['samples']}; the default is "
            f"{DEFAULT_SAMPLES[m['method']]})"]


def format_table(result: Any) -> str:
    """The indices for the terminal: per metric, parameters by importance, index ± 95% CI."""
    m = result.manifest
    rank, shown = COLUMNS[m["method"]]
    head = [h + (" ± 95% CI" if c else "") for h, _, c in shown]
    rows = [["metric", "parameter", *head]]
    for metric in dict.fromkeys(result.indices["metric"]):
        part = result.indices[result.indices["metric"] == metric]
        part = part.sort_values(rank, ascending=False, kind="stable", na_position="last")
        if m["method"] == "sobol" and part[rank].isna().all():
            rows.append([str(metric), "(constant over the samples: no variance to split, "
                         "indices undefined)", *[""] * len(shown)])
            continue
        for _, r in part.iterrows():
            cells = [_num(r[v]) + (f" ± {_num(r[c])}" if c else "") for _, v, c in shown]
            rows.append([str(metric), str(r["parameter"]), *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [_design_line(m)]
    lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in
                        enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]
    lines += _noise_note(result.indices, m, shown)
    s = m.get("session") or {}
    done = f"{s.get('ran', 0)} ran now" + (f", {s['resumed']} reused" if s.get("resumed") else "")
    wall = f" in {s['wall_s']:.1f} s" if s.get("note") is None and "wall_s" in s else \
        f" ({s['note']})" if s.get("note") else ""
    lines.append(f"{m['runs']} runs: {done}{wall} -> {result.folder}")
    return "\n".join(lines)
