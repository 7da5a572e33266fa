"""``scrapsim explore``: the command line of
:func:`scrapsim.experiments.exploration.explore.explore`.

``add_parser`` only declares options (argparse, nothing heavy); ``main`` imports the experiment
machinery when the command runs.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from scrapsim.cli.engine import add_engine_options, guarded, overrides, scenario_path

__all__ = ["add_parser", "format_table", "main"]

PROG = "scrapsim explore"
EPILOG = """\
STUDY.yaml names the policy levers (a grid) or named policies, the uncertainties with sourced
ranges, the metrics, their goals and the design:
  levers: {campaigns.0.teams: [7, 14, 21], campaigns.0.targets.traders: [0.0, 1.0]}
  uncertainties:
    regions.hebei.traders.risk_tolerance: {low: 0.4, high: 0.9, source: "why"}
  metrics: [price_change, smelting_change, violating_smelting_change]
  goals: {violating_smelting_change: lower, smelting_change: higher}
  design: {sampler: lhs, samples: 32, reps: 3}        # sampler lhs or sobol (2^k samples)
studies/price_sign.yaml is a worked example for scenarios/hebei.yaml.

Every policy runs in every sampled scenario, --reps times (replication r with the same seed
everywhere: common random numbers), each against the same scenario without enforcement.
Outputs (results/<scenario>/explore-<id>/ or --out): runs.csv (one row per run: policy,
scenario, rep, seed, levers, uncertainties, every metric), robust.csv, dominance.csv,
figures/tradeoff.png|svg, study.yaml, scenario.yaml, manifest.json, runs.jsonl (the journal: a
killed exploration resumes with the same command). Then: scrapsim discover FOLDER --metric M
--above X, scrapsim robust FOLDER, scrapsim report FOLDER.

Exit status: 0 ok; 1 runs failed (or the workers were lost); 2 bad input; 130 interrupted.
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``explore`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "explore", help="run policies across uncertainty scenarios (a study file)",
        description="Run every policy of STUDY.yaml in every sampled uncertainty scenario,\n"
        "with replications, on the experiment engine; one tidy row per run.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=scenario_path, metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--study", type=Path, required=True, metavar="STUDY.yaml",
                   help="levers or policies, uncertainties, metrics, goals and design")
    p.add_argument("--samples", type=int, metavar="N",
                   help="uncertainty scenarios (default: the study's design)")
    p.add_argument("--reps", type=int, metavar="N",
                   help="replications per policy and scenario (default: the study's design)")
    p.add_argument("--no-plot", action="store_true", help="skip the trade-off figure")
    add_engine_options(p, out_help="result folder (default results/<scenario>/explore-<id>)",
                       quiet_help="no progress bar and no table")


def main(args: argparse.Namespace) -> int:
    """Run the exploration described by ``args``; returns the exit status."""
    from scrapsim.experiments.exploration.explore import explore

    status, result = guarded(PROG, lambda: explore(
        args.scenario, args.study, samples=args.samples, reps=args.reps, seed=args.seed,
        workers=args.workers, scheduler=args.scheduler, out=args.out, quiet=args.quiet,
        overrides=overrides(args), figures=not args.no_plot))
    if result is None:
        return status
    if not args.quiet:
        print(format_table(result))
    return 1 if result.failed else 0


def _num(x: Any) -> str:
    x = float(x)
    return "n/a" if not math.isfinite(x) else f"{x:+.3f}"


def format_table(result: Any) -> str:
    """The runs line, then per policy and metric: mean, P10, P90, max regret."""
    m = result.manifest
    s = m.get("session") or {}
    done = f"{s.get('ran', 0)} ran now" + (f", {s['resumed']} resumed" if s.get("resumed")
                                           else "") + (f" ({s['note']})" if s.get("note") else "")
    lines = [f"explore {m['scenario']['name']}: {m['policies']} policies x {m['scenarios']} "
             f"scenarios x {m['reps']} rep{'s' * (m['reps'] != 1)} = {m['runs']} runs: {done}, "
             f"{m['failed']} failed"]
    lines += robust_lines(result.robust, m.get("non_dominated") or [])
    lines += [m["figure_note"]] if m.get("figure_note") else []
    lines.append(f"-> {result.folder}")
    return "\n".join(lines)


def robust_lines(table: Any, non_dominated: list[str]) -> list[str]:
    """The robustness table for the terminal (shared with ``scrapsim robust``): one row per
    policy, each metric's mean across scenarios and, for goal metrics, its maximum regret."""
    if table is None or not len(table):
        return []
    metrics = list(dict.fromkeys(table["metric"]))
    goals = {str(r.metric): r.goal for r in table.itertuples()
             if isinstance(r.goal, str) and r.goal}
    head = ["policy"] + [f"{m} ({goals[m]} better; max regret)" if m in goals else m
                         for m in metrics]
    rows = [head]
    for policy in dict.fromkeys(table["policy"].astype(str)):
        part = table[table["policy"].astype(str) == policy].set_index("metric")
        cells = [_num(part.at[m, "mean"]) + (f" ({_num(part.at[m, 'regret_max'])})"
                                             if m in goals else "") for m in metrics]
        rows.append([policy + (" *" if policy in non_dominated else ""), *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                     enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]
    last = ("* non-dominated: no other policy is at least as good on the mean of every goal "
            "metric and better on one") if goals else ("* every policy: no metric compared has "
                                                        "a goal (--goal METRIC=lower|higher), "
                                                        "so none can dominate another")
    return ["Mean across the uncertainty scenarios (P10 and P90 in robust.csv):", *out, last]
