"""``scrapsim check SCENARIO [--set KEY=VALUE]``: is the scenario's market in balance without
enforcement?

Runs the intensity-0 twin (same seed) and prints, per region, mean generation, collection,
smelting less imports and scrap shipped out, net (t/day), the mean price-pressure index, the
trend of each stock over the run and a verdict (:mod:`scrapsim.model.balance` states the
thresholds). Exit status 0 when every region is balanced, 1 when one is not, 2 on bad input.
``add_parser`` only declares options; ``main`` imports the model.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scrapsim.cli.engine import overrides, scenario_path

__all__ = ["add_parser", "format_balance", "main"]

EPILOG = """\
A region is balanced when its mean price pressure is within +-0.05 and no stock (uncollected
scrap, trader yards, smelter stocks) changes over the run by more than 50% of its mean level
and more than 3 days of the region's smelting (the least-squares line through its daily
values). Seasonality moves stocks within the year; a glut that builds up fails.
Exit status: 0 balanced; 1 out of balance; 2 bad input.
"""


def add_parser(subparsers: Any) -> None:
    """Register ``check`` on an argparse subparsers object (declares options only)."""
    p = subparsers.add_parser(
        "check", help="is the scenario's market in balance without enforcement?",
        description="Run the scenario's intensity-0 twin and print, per region, generation "
        "vs collection vs smelting less imports, mean price pressure, the trend of each stock "
        "and a verdict.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=scenario_path, metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="random seed (default: the scenario's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field by dotted path before the check, as 'run' does "
                   "(repeatable)")


def format_balance(title: str, rows: list[Any]) -> str:
    """The balance table of :func:`scrapsim.model.balance.balance` rows, one line a region."""
    head = (f"{'region':<18}{'generated':>10}{'collected':>10}{'smelted':>9}{'imports':>9}"
            f"{'smelted-imports':>16}{'shipped out':>12}{'pressure':>9}  {'uncollected':>14}"
            f"{'trader yards':>15}"
            f"{'smelter stock':>15}  verdict")
    lines = [title, "flows in t/day (means); stocks: change over the run, % of the mean "
             "level (days of smelting)", head]
    for b in rows:
        trends = "".join(f"{f'{b.trend[s]:+.0%} ({b.trend_days[s]:+.1f} d)':>15}"
                         for s in ("uncollected", "trader_stock", "smelter_stock"))
        lines.append(f"{b.region:<18}{b.generated:>10.0f}{b.collected:>10.0f}{b.smelted:>9.0f}"
                     f"{b.imports:>9.0f}{b.smelted - b.imports:>16.0f}{b.shipped_out:>12.0f}"
                     f"{b.pressure:>+9.3f} "
                     f"{trends}  "
                     f"{'balanced' if b.balanced else 'OUT OF BALANCE'}")
    for b in rows:
        lines.extend(f"  {b.region}: {p}" for p in b.problems)
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Run the twin, print the table; 0 when every region is balanced, else 1."""
    from scrapsim.model.balance import balance
    from scrapsim.model.simulation import baseline_of, run
    from scrapsim.scenario import load_scenario

    changes = overrides(args)
    scenario = load_scenario(args.scenario, changes or None)
    idle = [k for k in changes if k.split(".")[0] in ("enforcement", "campaigns", "behaviour")]
    if idle:            # the twin runs without enforcement: these change nothing it checks
        print(f"scrapsim check: note: the check runs the scenario without enforcement, so "
              f"--set {idle[0]} changes nothing it checks", file=sys.stderr)
    seed = scenario.seed if args.seed is None else args.seed
    result = run(baseline_of(scenario), seed=seed, baseline=False)
    rows = balance(result.daily, [r.name for r in scenario.regions])
    title = (f"balance of {scenario.name} without enforcement (seed {seed}, "
             f"{scenario.start} to {scenario.end}, {scenario.days} days)")
    print(format_balance(title, rows))
    ok = all(b.balanced for b in rows)
    print("verdict: balanced" if ok else "verdict: OUT OF BALANCE")
    return 0 if ok else 1
