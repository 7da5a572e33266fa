"""Large populations: a trader-day of the market kernel against the memory-bandwidth bound.

    python benchmarks/bench_bandwidth.py [--traders 2000000] [--days 30]

national_2017's intensity-0 twin with every region's trader count scaled so the country has
``--traders`` traders (capacity scaled down by the same factor, so the market is the same
size), ``--days`` market days in one compiled call (``kernels.market_days``; one call a day on
a checkout without it), after a warm-up day. Reference, measured in the same run: ``numpy.copyto`` of one trader array into another
(read + write, the bandwidth a numpy copy reaches), scaled to the bytes a trader-day moves
through the day's passes (:data:`BYTES_PER_TRADER_DAY`). Prints ns per trader-day, the bound,
and their ratio (issue 12's target: at most 1.5).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # this checkout's scrapsim, not an installed one

BYTES_PER_TRADER_DAY = 8 * (6 + 7 + 7 + 4 + 3)
"""float64 reads and writes per trader on a trading day, pass by pass (trader_kernels):
what traders want (cost, tolerance, base, temper, stock; room written) 6, collection (cost,
tolerance, base, room, stock read; collected and stock written) 7, shipping and offers
(stock, base, temper, collected read; stock, offers, prefix sum written) 7, offers at the
price (cost, offers, stock read; offers written) 4, sales and sums (offers, stock read; stock
written) 3. A pass reads an array it also writes once."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traders", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import scrapsim
    from scrapsim.model import loops
    from scrapsim.model.simulation import Model, baseline_of, compile_time

    compile_time()
    sc = baseline_of(scrapsim.load_scenario(ROOT / "scenarios" / "national_2017.yaml"))
    total = sum(r.traders.count for r in sc.regions)
    factor = args.traders / total
    overrides = {}
    for i, r in enumerate(sc.regions):
        overrides[f"regions.{i}.traders.count"] = int(round(r.traders.count * factor))
        overrides[f"regions.{i}.traders.capacity"] = r.traders.capacity / factor
    sc = sc.with_overrides(overrides)
    model = Model(sc, 0)
    n = model.traders.n
    args_ = (*model._day_args, model.recorder.values, model._cols)
    days = getattr(loops, "market_days", None)
    if days is None:  # an earlier checkout (bench_against's other side): one call a day
        def days(first: int, last: int, *a: object) -> None:
            for d in range(first, last):
                loops.market_day(d, *a)
    days(0, 1, *args_)
    kernel, copy = [], []
    a, b = np.random.default_rng(0).random(n), np.empty(n)
    for k in range(args.repeat):
        first = 1 + k * args.days
        if first + args.days > sc.days:
            break
        t0 = time.perf_counter()
        days(first, first + args.days, *args_)
        kernel.append((time.perf_counter() - t0) / (args.days * n))
        t0 = time.perf_counter()
        for _ in range(20):
            np.copyto(b, a)
        copy.append((time.perf_counter() - t0) / (20 * n * 16))  # s per byte moved
    ns = statistics.median(kernel) * 1e9
    bound = statistics.median(copy) * BYTES_PER_TRADER_DAY * 1e9
    print(f"traders {n:,} ({loops.BACKEND} loops), {args.days} days x {len(kernel)}")
    print(f"kernel            {ns:8.2f} ns per trader-day")
    print(f"bandwidth bound   {bound:8.2f} ns per trader-day "
          f"({BYTES_PER_TRADER_DAY} B at numpy copy speed, "
          f"{1 / statistics.median(copy) / 1e9:.1f} GB/s)")
    print(f"kernel / bound    {ns / bound:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
