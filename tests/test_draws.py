"""Compiled list draws (scrapsim.model.draws) give numpy's numbers: the same sites in the same
order, and the campaign's Generator left where numpy leaves it, so a run's bytes do not depend
on which of the two drew. The references are numpy's own draws (scrapsim.model.actors.lists)
and the numpy form of a round's pick that the compiled one replaced."""

from __future__ import annotations

import numpy as np
import pytest

from scrapsim.model import draws, loops
from scrapsim.model.actors import lists


def _same_state(a: np.random.Generator, b: np.random.Generator) -> bool:
    return a.bit_generator.state == b.bit_generator.state


# populations either side of numpy's switch from Floyd's algorithm to a tail shuffle
# (more than 10,000 sites and a sample above a fiftieth of them)
CASES = [(pop, k) for pop in (1, 2, 7, 100, 999, 10_001, 30_000)
         for k in sorted({1, 2, pop // 60 + 1, pop // 49 + 1, pop // 2, pop - 1, pop})
         if 1 <= k <= pop]


@pytest.mark.parametrize("seed", range(6))
def test_uniform_and_weighted_draws_are_numpys(seed: int) -> None:
    for pop, k in CASES:
        ids = np.arange(pop, dtype=np.int64) * 3 + 5
        weights = np.random.default_rng(seed + 100).random(pop) + 0.1
        for compiled, numpy_draw, args in (
                (draws.draw_uniform, lists.draw_uniform, (ids, k)),
                (draws.draw_weighted, lists.draw_weighted, (ids, weights, k))):
            a, b = np.random.default_rng(seed), np.random.default_rng(seed)
            got, want = compiled(*args, a), numpy_draw(*args, b)
            assert np.array_equal(got, want), (compiled.__name__, pop, k)
            assert _same_state(a, b), (compiled.__name__, pop, k)


def test_permutation_is_numpys() -> None:
    """The 1-D shuffle that replaced numba's n-dimensional one: numpy's order, and the
    generator's state (its buffered 32-bit half included) where numpy leaves it."""
    for n in [*range(0, 41), 65_537]:
        ids = np.arange(n, dtype=np.int64) * 7 - 3
        a, b = np.random.default_rng(n), np.random.default_rng(n)
        a.integers(0, 5, dtype=np.uint32), b.integers(0, 5, dtype=np.uint32)  # a half buffered
        assert np.array_equal(draws.permutation(a, ids), b.permutation(ids)), n
        assert _same_state(a, b), n


def test_choice_is_numpys_for_every_small_case() -> None:
    for pop in range(1, 40):
        for k in range(1, pop + 1):
            a, b = np.random.default_rng(pop * 100 + k), np.random.default_rng(pop * 100 + k)
            assert np.array_equal(draws.choice_without_replacement(a, pop, k),
                                  b.choice(pop, size=k, replace=False)), (pop, k)
            assert _same_state(a, b)


def _numpy_pick(r: lists.Rounds, pool: np.ndarray, k: int, rng: np.random.Generator,
                weights: np.ndarray | None, day: int) -> np.ndarray:
    """Rounds.pick as it was before it was compiled (numpy calls)."""
    def draw(ids: np.ndarray, w: np.ndarray | None, n: int) -> np.ndarray:
        if ids.size == 0 or n <= 0:
            return np.zeros(0, dtype=np.int64)
        return lists.draw_uniform(ids, n, rng) if w is None else \
            lists.draw_weighted(ids, w, n, rng)

    if k <= 0 or pool.size == 0:
        return np.zeros(0, dtype=np.int64)
    fresh = ~r.seen[pool]
    first = draw(pool[fresh], None if weights is None else weights[fresh], k)
    if first.size < k:
        r.seen[pool] = False
        r.seen[first] = True
        rest = ~r.seen[pool] & (r.last[pool] != day)
        more = draw(pool[rest], None if weights is None else weights[rest],
                    min(k - first.size, int(rest.sum())))
        first = np.concatenate([first, more])
    r.mark(first, day)
    return first


@pytest.mark.parametrize("weighted", [False, True], ids=["traders", "smelters"])
def test_a_year_of_picks_is_the_numpy_one(weighted: bool) -> None:
    """A list worked over many days through several rounds (a pool that shrinks and grows as
    sites close and reopen): the same picks, rounds and generator state every day."""
    n = 300
    plan = np.random.default_rng(7)
    compiled, reference = lists.Rounds(n), lists.Rounds(n)
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    capacity = plan.random(n) * 50 + 1
    for day in range(120):
        pool = np.flatnonzero(plan.random(n) < 0.6)
        weights = capacity[pool] ** 0.5 if weighted else None
        k = int(plan.integers(0, 40))
        got = compiled.pick(pool, k, a, weights, day)
        want = _numpy_pick(reference, pool, k, b, weights, day)
        assert np.array_equal(got, want), day
        assert np.array_equal(compiled.seen, reference.seen), day
        assert np.array_equal(compiled.last, reference.last), day
        assert _same_state(a, b), day


def test_the_pick_refuses_what_is_not_a_generator() -> None:
    r = lists.Rounds(4)
    args = (np.arange(4), np.zeros(0), False, 2, r.seen, r.last, 0)
    loops.check("pick_round", *args, np.random.default_rng(0))
    with pytest.raises(TypeError, match="pick_round: argument 7"):
        loops.check("pick_round", *args, np.random.RandomState(0))
    with pytest.raises(TypeError, match="pick_round: argument 0"):
        loops.check("pick_round", np.arange(4.0), *args[1:], np.random.default_rng(0))
