"""Baselines run once per (seed, what a no-enforcement run depends on): the figure in the README.

    python benchmarks/bench_baselines.py             # Sobol' N = 8 on params/hebei.yaml, 2 reps
    python benchmarks/bench_baselines.py --samples 16 --reps 4

Runs the same Sobol' sensitivity of Hebei three times in this process (one worker, so every
baseline is counted): with the memo keyed on the intensity-0 twin's whole scenario JSON,
campaign fields included (the first key: the reference), on the twin less its campaigns (the
key until behaviour and traders' tolerance were left out of it) and as now
(:func:`scrapsim.model.simulation.baseline_key`). Prints how many baselines each ran, the wall
times and their ratios, and checks that all wrote the same bytes of ``runs.csv`` and
``indices.csv``.
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


def campaigns_only_key(scenario) -> str:
    """The key before behaviour and traders' tolerance were left out: the twin less its words,
    seed, enforcement and campaigns."""
    import json

    data = scenario.model_dump(mode="json", exclude={"name", "description", "sources",
                                                     "assumptions", "seed", "enforcement",
                                                     "campaigns"})
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def measure(folder: Path, samples: int, reps: int) -> tuple[int, float]:
    from scrapsim.experiments import batching, engine
    from scrapsim.experiments.sensitivity.analysis import sensitivity

    batching._BASELINES.clear()
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
    keys = {"whole twin (first key)": whole_twin_key,
            "twin less campaigns (before)": campaigns_only_key, "baseline_key (now)": new_key}
    measured = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, key) in enumerate(keys.items()):
            simulation.baseline_key = key  # type: ignore[assignment]
            try:
                measured[label] = measure(Path(tmp) / str(i), args.samples, args.reps)
            finally:
                simulation.baseline_key = new_key  # type: ignore[assignment]
        same = all((Path(tmp) / "0" / f).read_bytes() == (Path(tmp) / str(i) / f).read_bytes()
                   for i in (1, 2) for f in ("runs.csv", "indices.csv"))
    print(f"Sobol' N={args.samples}, {args.reps} reps on Hebei (params/hebei.yaml), 1 worker")
    first = measured["whole twin (first key)"][1]
    for label, (n, seconds) in measured.items():
        print(f"  keyed on {label:30s} {n:4d} baselines  {seconds:6.1f} s  "
              f"{seconds / first:.2f} of the first")
    now, before = measured["baseline_key (now)"][1], measured["twin less campaigns (before)"][1]
    print(f"  now / before: {now / before:.2f} of the wall time; same bytes: {same}")
    if not same:
        raise SystemExit("the keys gave different tables")

if __name__ == "__main__":
    main()
