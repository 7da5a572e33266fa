"""Speed of single runs: a simulated year of Hebei and of national_2017, and CLI start-up.

    python benchmarks/bench_model.py [--repeat N]

Prints, per scenario, the median wall time of one run (building the model included; no
baseline, no mass-balance check, no disk; the event table is built on first use and not timed:
about 1 ms for Hebei), SimPy events per second, and nanoseconds per agent-day (traders +
smelters, times days).
Targets on the 2-core reference machine: Hebei ≤ 20 ms, national ≤ 1 s, --help ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # this checkout's scrapsim, not an installed one


def bench_scenario(path: Path, repeat: int) -> dict:
    from scrapsim import load_scenario
    from scrapsim.model.simulation import Model

    scenario = load_scenario(path)
    times, builds, events = [], [], 0
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        model = Model(scenario, seed=i)
        t1 = time.perf_counter()
        result = model.run()
        t2 = time.perf_counter()
        if i:  # the first run warms caches and imports
            builds.append(t1 - t0)
            times.append(t2 - t0)
            events = result.n_events
    agents = model.traders.n + model.smelters.n
    med = statistics.median(times)
    return {"scenario": scenario.name, "days": scenario.days, "traders": model.traders.n,
            "smelters": model.smelters.n, "run_s": med, "build_s": statistics.median(builds),
            "events_per_s": events / med, "ns_per_agent_day": med / (agents * scenario.days) * 1e9,
            "inspection_events": len(result.events["time"])}


def bench_help(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "scrapsim", "--help"], check=True,
                       capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'scenario':<16}{'traders':>9}{'smelters':>9}{'run ms':>9}{'build ms':>9}"
          f"{'events/s':>10}{'ns/agent-day':>13}{'events.csv rows':>16}")
    for name in ("hebei", "national_2017"):
        r = bench_scenario(ROOT / "scenarios" / f"{name}.yaml", args.repeat)
        print(f"{r['scenario']:<16}{r['traders']:>9}{r['smelters']:>9}{r['run_s'] * 1e3:>9.1f}"
              f"{r['build_s'] * 1e3:>9.1f}{r['events_per_s']:>10.0f}{r['ns_per_agent_day']:>13.1f}"
              f"{r['inspection_events']:>16}")
    print(f"python -m scrapsim --help: {bench_help(args.repeat) * 1e3:.0f} ms (median of {args.repeat})")


if __name__ == "__main__":
    main()
