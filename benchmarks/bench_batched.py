"""Hebei runs per second on one core against a minimal batched numpy model of the same size.

    python benchmarks/bench_batched.py [--seeds 8] [--points 6] [--reps 40]

The reference, written for this benchmark and measured in the same run (``minimal_model``):
Hebei's populations (2,000 traders, 167 smelters, 365 days) as ``(R, N)`` arrays advancing
``R`` replications together, a day being collection (traders below the price whose risk
tolerance is above the perceived risk collect into their yards, less as the yard fills),
offers, a clearing by forty bisection steps on the price for all replications at once (the
offers of the traders below a price, through prefix sums, against the smelters' bids at an
operating rate set by the margin) and the trades. A campaign is a window of high perceived
risk. It has none of scrapsim's inspections, sanctions, shipping, imports, inputs or tables:
the cost of the market's arithmetic in numpy with the fixed costs of a day shared by ``R``
replications. Timed batched (``--reps`` replications a call) and unbatched (one), and batched
without the clearing (the price follows the log of demand over supply, no bisection: what a
model that does not clear costs).

scrapsim, in this process: ``--points`` enforcement intensities × ``--seeds`` seeds of
``scenarios/hebei.yaml``, each run with the intensity-0 baseline of its seed run once per seed
and shared (as a sweep does), counted as runs of the enforcement points; unbatched (one
``scrapsim.run`` per run, the implementation before batched replications) and batched as the
experiments run them since (``scrapsim.run_batch`` per point over the seeds, the baselines one
batch), the two taking turns.

Prints runs/s on one core of each and the ratios: issue 12's targets are scrapsim at least as
many runs/s per core as the batched model, and a Hebei year at most 0.5 × the unbatched one.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAYS, TRADERS, SMELTERS = 365, 2000, 167


def minimal_model(reps: int, seed: int, steps: int = 40) -> np.ndarray:
    """``reps`` replications of the minimal market, advanced together; returns the price path
    ``[day, rep]``. ``steps`` bisection steps clear the market (scrapsim's forty); with 0 the
    price moves by the log of demand over supply at yesterday's price instead (no clearing)."""
    rng = np.random.default_rng(seed)
    r, n, m = reps, TRADERS, SMELTERS
    cost = np.sort(rng.normal(1500.0, 300.0, (r, n)), axis=1)
    capacity = rng.lognormal(0.0, 0.5, (r, n)) * 2.0
    tolerance = rng.lognormal(np.log(0.6), 0.35, (r, n))
    stock = capacity * 5.0
    s_cap = rng.lognormal(0.0, 0.6, (r, m)) * 30.0
    s_cost = rng.lognormal(np.log(900.0), 0.08, (r, m))
    s_stock = s_cap * 10.0
    ingot, metal_yield, rate0, response = 15000.0, 0.85, 0.7, 2.0
    risk = np.where((np.arange(DAYS) >= 200) & (np.arange(DAYS) < 245), 0.9, 0.1)
    price = np.full(r, 11000.0)
    offset = (np.arange(r) * 1e7)[:, None]                 # one search over all replications
    flat_cost = (cost + offset).ravel()
    path = np.empty((DAYS, r))
    for day in range(DAYS):
        collecting = (cost < price[:, None]) & (tolerance > risk[day])
        room = np.clip(2.0 - stock / (capacity * 5.0), 0.0, 1.0)
        stock += capacity * room * collecting
        offers = stock * 0.2
        cum = np.concatenate([np.zeros((r, 1)), np.cumsum(offers, axis=1)], axis=1).ravel()
        target = s_cap * 10.0 - s_stock
        lo, hi = np.full(r, np.log(2000.0)), np.full(r, np.log(40000.0))
        for _ in range(steps):
            p = np.exp(0.5 * (lo + hi))
            k = np.searchsorted(flat_cost, p + offset[:, 0], side="right")
            supply = cum[k + np.arange(r)] - cum[np.arange(r) * (n + 1)]
            margin = ingot * metal_yield - p[:, None] - s_cost
            use = s_cap * np.clip(rate0 + response * (margin - 2000.0) / ingot, 0.0, 1.0)
            bids = np.where(margin > 0, np.maximum(use + target / 5.0, 0.0), 0.0)
            up = bids.sum(axis=1) > supply
            lo, hi = np.where(up, 0.5 * (lo + hi), lo), np.where(up, hi, 0.5 * (lo + hi))
        if steps:
            price = 0.7 * price + 0.3 * np.exp(0.5 * (lo + hi))
        k = np.searchsorted(flat_cost, price + offset[:, 0], side="right")
        supply = cum[k + np.arange(r)] - cum[np.arange(r) * (n + 1)]
        margin = ingot * metal_yield - price[:, None] - s_cost
        use = s_cap * np.clip(rate0 + response * (margin - 2000.0) / ingot, 0.0, 1.0)
        bids = np.where(margin > 0, np.maximum(use + target / 5.0, 0.0), 0.0)
        demand = bids.sum(axis=1)
        traded = np.minimum(supply, demand)
        sold = np.divide(traded, supply, out=np.zeros(r), where=supply > 0)
        filled = np.divide(traded, demand, out=np.zeros(r), where=demand > 0)
        stock -= offers * (cost <= price[:, None]) * sold[:, None]
        if not steps:
            ratio = np.divide(demand, supply, out=np.full(r, 2.0), where=supply > 0)
            price = price * np.exp(0.3 * np.log(np.clip(ratio, 0.5, 2.0)))
        s_stock += bids * filled[:, None]
        s_stock -= np.minimum(use * (margin > 0), s_stock)
        path[day] = price
    return path


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--points", type=int, default=6)
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import scrapsim
    from scrapsim.model.simulation import baseline_of, compile_time

    compile_time()
    hebei = scrapsim.load_scenario(ROOT / "scenarios" / "hebei.yaml")
    points = [hebei.with_overrides({"enforcement.intensity": float(x)})
              for x in np.linspace(2.0 / args.points, 2.0, args.points)]

    def sweep() -> None:
        for seed in range(args.seeds):
            base = scrapsim.run(baseline_of(hebei), seed=seed, baseline=False)
            for sc in points:
                scrapsim.run(sc, seed=seed, baseline=base)

    def sweep_batched() -> None:
        seeds = list(range(args.seeds))
        bases = scrapsim.run_batch(baseline_of(hebei), seeds, baseline=False)
        for sc in points:
            scrapsim.run_batch(sc, seeds, baseline=bases)

    def one_run() -> None:
        scrapsim.run(hebei, seed=0, baseline=False)

    minimal_model(2, 0)                                      # warm numpy's paths
    batched = best_of(args.repeat, lambda: minimal_model(args.reps, 1))
    single = best_of(args.repeat, lambda: minimal_model(1, 1))
    no_clearing = best_of(args.repeat, lambda: minimal_model(args.reps, 1, steps=0))
    ours_batched = ours = float("inf")
    for _ in range(args.repeat):                              # taking turns
        ours = min(ours, best_of(1, sweep))
        ours_batched = min(ours_batched, best_of(1, sweep_batched))
    year = best_of(args.repeat * 3, one_run)
    n_runs = args.seeds * args.points
    rate_unbatched, rate_batched = n_runs / ours, args.reps / batched
    rate_ours = n_runs / ours_batched
    print(f"scrapsim sweep       {rate_ours:7.1f} runs/s on one core ({n_runs} runs with "
          f"{args.seeds} shared baselines in {ours_batched:.2f} s, batched)")
    print(f"  unbatched          {rate_unbatched:7.1f} runs/s (one run a call, {ours:.2f} s): "
          f"batched / unbatched time {ours_batched / ours:.3f}")
    print(f"minimal batched      {rate_batched:7.1f} runs/s ({args.reps} replications a call "
          f"in {batched:.2f} s)")
    print(f"minimal unbatched    {1 / single:7.1f} runs/s ({single * 1e3:.1f} ms a run)")
    print(f"minimal batched, no clearing {args.reps / no_clearing:7.1f} runs/s (the price "
          "follows demand / supply: no bisection)")
    print(f"scrapsim Hebei year  {year * 1e3:7.1f} ms (no baseline)")
    print(f"sweep / batched      {rate_ours / rate_batched:7.3f}  (target >= 1)")
    print(f"sweep / batched, no clearing {rate_ours * no_clearing / args.reps:7.3f}")
    print(f"year / unbatched     {year / single:7.3f}  (target <= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
