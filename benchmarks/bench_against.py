"""This checkout against another (the previous implementation), measured in the same run.

    git worktree add ../before HEAD~3 && (cd ../before && python -m scrapsim.model.aot)
    python benchmarks/bench_against.py ../before [--rounds 7]

Two worker processes, one importing each checkout (``PYTHONPATH``), take turns: in each round
each runs every case once, so both see the same machine. A case is a simulated year built
and run without baseline (Hebei, national_2017) or Hebei's intensity-0 twin, or a sweep's unit of
work (``hebei+sweep``: a run given its seed's baseline, run before and not timed, with the mass
balance checked and the summary made, as ``scrapsim.run`` does in a sweep). Prints the median
wall time of each side and the ratio this / other (below 1: this checkout is faster), the
ratio of the fastest runs (steadier on a shared machine), and the
loops backend each side runs (build the other checkout's extension first, or both compile
just in time: compare like with like).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("hebei", "hebei@0", "hebei+sweep", "national_2017")

WORKER = r"""
import json, sys, time
import scrapsim
from scrapsim.model import loops
from scrapsim.model.simulation import Model, baseline_of, compile_time
compile_time()
root = sys.argv[1]
scenarios = {}
from scrapsim.model.simulation import run
for name in sys.argv[2:]:
    sc = scrapsim.load_scenario(f"{root}/scenarios/{name.split('@')[0].split('+')[0]}.yaml")
    scenarios[name] = baseline_of(sc) if name.endswith("@0") else sc
print(json.dumps({"backend": loops.BACKEND}), flush=True)
for line in sys.stdin:
    name, seed = line.split()
    if name.endswith("+sweep"):   # the baseline of the seed run before, untimed, and shared
        base = run(baseline_of(scenarios[name]), int(seed), baseline=False)
        t0 = time.perf_counter()
        run(scenarios[name], int(seed), baseline=base)
    else:
        t0 = time.perf_counter()
        Model(scenarios[name], int(seed)).run()
    print(json.dumps({"s": time.perf_counter() - t0}), flush=True)
"""


def start(tree: Path, cases: list[str]) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT), *cases], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())["backend"]


def ask(proc: subprocess.Popen[str], case: str, seed: int) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{case} {seed}\n")
    proc.stdin.flush()
    return float(json.loads(proc.stdout.readline())["s"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout (its repository root)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    cases = args.cases.split(",")
    this, this_backend = start(ROOT, cases)
    other, other_backend = start(args.other.resolve(), cases)
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for i in range(args.rounds + 1):
            for case in cases:
                for side, proc in (("this", this), ("other", other))[:: 1 if i % 2 else -1]:
                    t = ask(proc, case, i)
                    if i:  # the first round warms caches
                        times.setdefault((side, case), []).append(t)
    finally:
        for proc in (this, other):
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
    print(f"loops: this {this_backend}, other {other_backend}; median of {args.rounds} rounds")
    print(f"{'case':<16}{'this ms':>10}{'other ms':>10}{'this/other':>12}{'of fastest':>12}")
    for case in cases:
        a, b = times[("this", case)], times[("other", case)]
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{case:<16}{ma * 1e3:>10.1f}{mb * 1e3:>10.1f}{ma / mb:>12.3f}"
              f"{min(a) / min(b):>12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
