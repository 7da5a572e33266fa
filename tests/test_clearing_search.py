"""The clearing's bisection skips the steps whose answer is settled (``clearing_kernels.clearing_prices``)
and must end on the same bytes as the bisection that evaluates every step (``clearing_kernels.bisect``):
on the states of real runs (Hebei, and national_2017's six regions with imports and
shipping), with the guess, the traders' offers, the hold elasticity, the ingot price, the cut
and the price bounds moved about, including guesses at the bounds, crossings at the bounds,
no supply, no demand and inputs for which monotonicity is not guaranteed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scrapsim import load_scenario
from scrapsim.model import clearing_kernels as kernels
from scrapsim.model.packing import (
    S_CAPACITY,
    S_COST,
    S_COVER,
    S_MARGIN0,
    S_RATE0,
    S_REGION,
    S_RESPONSE,
    S_RUNNING,
    S_STOCK,
    S_YIELD,
    T_BOUNDS,
    T_COST,
    T_CUM,
    T_HOLD,
)
from scrapsim.model.simulation import Model
from scrapsim.model.smelter_kernels import bid_terms

ROOT = Path(__file__).resolve().parents[1]


def states(name: str, days: tuple[int, ...]) -> list[tuple]:
    """(tr, sm) of a run stopped after each of ``days`` (copies of the packed arrays)."""
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    out = []
    for day in days:
        m = Model(sc.with_overrides({"end": str(np.datetime64(sc.start) + day)}), seed=3)
        m.run()
        _, _, tr, sm = m._day_args
        out.append((tuple(np.copy(a) for a in tr), tuple(np.copy(a) for a in sm)))
    return out


@pytest.fixture(scope="module")
def real_states() -> list[tuple]:
    return states("hebei", (40, 230)) + states("national_2017", (120,))


def both(tr: tuple, sm: tuple, reference: np.ndarray, hold: np.ndarray, ingot: float,
         season: float, cut: np.ndarray, floor: float, cap: float, cum: np.ndarray,
         guess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(reference)
    fast, plain = np.empty(n), np.empty(n)
    kernels.clearing_prices(tr[T_BOUNDS], tr[T_COST], cum, reference, hold, sm, ingot, season,
                            cut, floor, cap, fast, guess)
    kernels.bisect(tr[T_BOUNDS], tr[T_COST], cum, reference, hold, sm, ingot, season, cut,
                   floor, cap, plain)
    return fast, plain


def test_the_clearing_ends_on_the_bisections_bytes(real_states: list[tuple]) -> None:
    rng = np.random.default_rng(20171)
    cases = 0
    for tr, sm in real_states:
        n = len(tr[T_BOUNDS]) - 1
        for _ in range(400):
            offers = np.diff(tr[T_CUM]) * rng.lognormal(0.0, 1.0)
            if rng.random() < 0.1:
                offers[:] = 0.0                               # no supply at any price
            cum = np.concatenate([[0.0], np.cumsum(offers)])
            sm2 = list(sm)
            sm2[S_STOCK] = sm[S_STOCK] * rng.uniform(0.0, 3.0)
            if rng.random() < 0.1:
                sm2[S_RUNNING] = np.zeros_like(sm[S_RUNNING])  # no demand at any price
            reference = rng.uniform(6000.0, 14000.0, n)
            hold = rng.choice([0.0, 0.5, 3.0, 12.0, 50.0], n)
            ingot = rng.uniform(9000.0, 20000.0)
            cut = rng.choice([0.0, 0.3, 1.0], n)
            floor, cap = (3000.0, 30000.0) if rng.random() < 0.7 else (8000.0, 9000.0)
            guess = rng.choice([floor, cap, rng.uniform(floor, cap), rng.uniform(1.0, 1e6)], n)
            fast, plain = both(tr, tuple(sm2), reference, hold, ingot, rng.uniform(0.5, 1.2),
                               cut, floor, cap, cum, guess)
            assert fast.tobytes() == plain.tobytes(), (fast, plain)
            cases += 1
    assert cases == 1200


def test_the_crossing_is_found_near_the_guess_and_far_from_it(real_states: list[tuple]) -> None:
    tr, sm = real_states[0]
    n = len(tr[T_BOUNDS]) - 1
    reference, hold, cut = np.full(n, 11000.0), tr[T_HOLD].copy(), np.zeros(n)
    _, plain = both(tr, sm, reference, hold, 15000.0, 1.0, cut, 3000.0, 30000.0, tr[T_CUM],
                    np.full(n, 9000.0))
    assert 3000.0 < plain[0] < 30000.0                     # a crossing inside the bounds
    for guess in (plain * (1 + 1e-13), plain, plain * 0.999, plain * 1.5, np.full(n, 3000.0),
                  np.full(n, 30000.0), np.full(n, 1e-3)):
        fast, _ = both(tr, sm, reference, hold, 15000.0, 1.0, cut, 3000.0, 30000.0,
                       tr[T_CUM], guess)
        assert fast.tobytes() == plain.tobytes()


def test_the_settled_interval_is_narrow_and_holds_the_crossing(real_states: list[tuple]) -> None:
    """What makes it fast: the interval left to evaluate is within about 1e-10 of the crossing,
    so a handful of the forty steps evaluate; and the answer lies inside it."""
    tr, sm = real_states[0]
    n = len(tr[T_BOUNDS]) - 1
    reference, hold, cut = np.full(n, 11000.0), tr[T_HOLD].copy(), np.zeros(n)
    _, plain = both(tr, sm, reference, hold, 15000.0, 1.0, cut, 3000.0, 30000.0, tr[T_CUM],
                    np.full(n, 9000.0))
    terms, starts = np.empty((len(sm[0]), 7)), np.empty(n + 1, dtype=np.int64)
    bid_terms(sm[S_REGION], sm[S_CAPACITY], sm[S_YIELD], sm[S_COST], sm[S_COVER],
                      sm[S_RATE0], sm[S_RESPONSE], sm[S_MARGIN0], sm[S_RUNNING], sm[S_STOCK],
                      15000.0, 1.0, n, terms, starts)
    low, high = kernels.settled(terms, starts[0], starts[1], 15000.0, 0.0, tr[T_BOUNDS][:2],
                                tr[T_COST], tr[T_CUM], 11000.0, hold[0], np.log(3000.0),
                                np.log(30000.0), 9000.0)
    crossing = np.log(plain[0])
    assert low < crossing < high
    assert high - low < 1e-10


def test_without_monotonicity_it_is_the_plain_bisection(real_states: list[tuple]) -> None:
    tr, sm = real_states[0]
    n = len(tr[T_BOUNDS]) - 1
    terms = np.ones((3, 7))
    assert kernels.monotone(terms, 0, 3, 15000.0, 0.0, 3.0)
    assert not kernels.monotone(terms, 0, 3, -1.0, 0.0, 3.0)
    assert not kernels.monotone(terms, 0, 3, 15000.0, 1.5, 3.0)
    assert not kernels.monotone(terms, 0, 3, 15000.0, 0.0, -3.0)
    terms[1, 3] = -0.5
    assert not kernels.monotone(terms, 0, 3, 15000.0, 0.0, 3.0)
    fast, plain = both(tr, sm, np.full(n, 11000.0), np.full(n, -2.0), 15000.0, 1.0,
                       np.zeros(n), 3000.0, 30000.0, tr[T_CUM], np.full(n, 9000.0))
    assert fast.tobytes() == plain.tobytes()
