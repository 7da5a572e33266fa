"""Baselines run once per (seed, what a no-enforcement run depends on): the figure in the README.

    python benchmarks/bench_baselines.py             # Sobol' N = 8 on params/hebei.yaml, 2 reps
    python benchmarks/bench_baselines.py --samples 16 --reps 4

Runs the same Sobol' sensitivity of Hebei twice in this process (one worker, so every baseline
is counted): with the memo keyed as before (the intensity-0 twin's whole scenario JSON,
campaign fields included: the reference) and as now (:func:`scrapsim.model.simulation.
baseline_key`). Prints how many baselines each ran, the wall times and their ratio, and checks
that both wrote the same bytes of ``runs.csv`` and ``indices.csv``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def whole_twin_key(scenario) -> str:
    """The key before: every field of the intensity-0 twin, campaigns included."""
    from scrapsim.model.simulation import baseline_of

    return baseline_of(scenario).model_dump_json()


def measure(folder: Path, samples: int, reps: int) -> tuple[int, float]:
    from scrapsim.experiments import engine
    from scrapsim.experiments.sensitivity.analysis import sensitivity

    engine._BASELINES.clear()
    before = engine.BASELINE_RUNS[0]
    start = time.perf_counter()
    sensitivity(ROOT / "scenarios" / "hebei.yaml", ROOT / "params" / "hebei.yaml",
                method="sobol", samples=samples, reps=reps, workers=1, quiet=True, out=folder,
                figures=False)
    return engine.BASELINE_RUNS[0] - before, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    from scrapsim.model import simulation
    from scrapsim.model.simulation import compile_time

    compile_time()  # compile (or load) the kernels before either is timed
    new_key = simulation.baseline_key
    with tempfile.TemporaryDirectory() as tmp:
        simulation.baseline_key = whole_twin_key  # type: ignore[assignment]
        try:
            old_n, old_s = measure(Path(tmp) / "before", args.samples, args.reps)
        finally:
            simulation.baseline_key = new_key  # type: ignore[assignment]
        new_n, new_s = measure(Path(tmp) / "now", args.samples, args.reps)
        same = all((Path(tmp) / "before" / f).read_bytes() == (Path(tmp) / "now" / f).read_bytes()
                   for f in ("runs.csv", "indices.csv"))
    print(f"Sobol' N={args.samples}, {args.reps} reps on Hebei (params/hebei.yaml), 1 worker")
    print(f"  keyed on the whole twin (before): {old_n:4d} baselines  {old_s:6.1f} s")
    print(f"  keyed on baseline_key (now):      {new_n:4d} baselines  {new_s:6.1f} s")
    print(f"  ratio now/before: {new_s / old_s:.2f} of the wall time; same bytes: {same}")
    if not same:
        raise SystemExit("the two keys gave different tables")


if __name__ == "__main__":
    main()
