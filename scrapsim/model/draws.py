"""Compiled draws from a campaign's list, on the campaign's own ``numpy.random.Generator``.

numba compiles code that takes a ``Generator`` (ahead of time too): its draws call the
generator's own bit generator, so ``rng.random``, ``rng.exponential`` and ``rng.integers`` in
compiled code give numpy's numbers and leave the generator where numpy would, and so does
:func:`permutation`, numpy's 1-D shuffle on numba's ``random_interval`` (numba's own
``Generator.permutation`` took 8 s to compile); ``tests/test_draws.py`` compares them.
``Generator.choice`` without replacement is not among what numba compiles:
:func:`choice_without_replacement` follows numpy 2's algorithm (Floyd's, with a hash set, or a
tail shuffle of a large population) step by step on the same bounded integers, so it too gives
numpy's sample.

:func:`pick_round` is :meth:`scrapsim.model.actors.lists.Rounds.pick` in one call: the day's
visits to a list, the unvisited sites first, a new round when they run out.
"""

from __future__ import annotations

import numpy as np

# numpy's random_interval as numba's Generator.shuffle draws with it (in numba 0.59 and later)
from numba.np.random.random_methods import random_interval as _interval

from scrapsim.model.jit import njit

__all__ = ["choice_without_replacement", "draw_uniform", "draw_weighted", "permutation",
           "pick_round"]

_EMPTY = -1  # a free slot of the hash set (numpy's uint64 -1)


@njit(cache=True)
def _mask(value):  # pragma: no cover
    """The smallest 2**k − 1 at or above ``value`` (numpy's ``_gen_mask``)."""
    mask = value
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    mask |= mask >> 32
    return mask


@njit(cache=True)
def _bounded(rng, high):  # pragma: no cover
    """A uniform integer in [0, high], as numpy's ``random_bounded_uint64(0, high)``."""
    if high == 0:
        return 0
    return rng.integers(0, high + 1)


@njit(cache=True)
def _shuffle(rng, data, n, first):  # pragma: no cover
    """numpy's ``_shuffle_int``: swap ``data[i]`` with a uniform ``data[j]``, j ≤ i, for i from
    ``n − 1`` down to ``first``."""
    for i in range(n - 1, first - 1, -1):
        j = _bounded(rng, i)
        data[i], data[j] = data[j], data[i]


@njit(cache=True)
def choice_without_replacement(rng, pop, k):  # pragma: no cover
    """Positions of ``k`` distinct draws from ``range(pop)``, in draw order:
    ``Generator.choice(pop, size=k, replace=False)`` of numpy 2 (shuffle on)."""
    if pop > 10000 and k > pop // 50:      # a tail shuffle of the whole range
        idx = np.arange(pop)
        _shuffle(rng, idx, pop, max(pop - k, 1))
        return idx[pop - k:].copy()
    idx = np.empty(k, dtype=np.int64)
    mask = _mask(np.int64(1.2 * k))
    table = np.full(mask + 1, _EMPTY, dtype=np.int64)
    for j in range(pop - k, pop):           # Floyd's algorithm
        val = _bounded(rng, j)
        loc = val & mask
        while table[loc] != _EMPTY and table[loc] != val:
            loc = (loc + 1) & mask
        if table[loc] == _EMPTY:
            table[loc] = val
            idx[j - pop + k] = val
        else:
            loc = j & mask
            while table[loc] != _EMPTY:
                loc = (loc + 1) & mask
            table[loc] = j
            idx[j - pop + k] = j
    _shuffle(rng, idx, k, 1)
    return idx


@njit(cache=True)
def permutation(rng, ids):  # pragma: no cover
    """``rng.permutation(ids)`` of a 1-D array: numpy's shuffle of a copy (a swap with a
    uniform ``j ≤ i`` from ``random_interval``, for i from the end down to 1), as numba's
    ``Generator.permutation`` does, without its n-dimensional swaps, which took 8.1 s of the
    loops' compile (0.4 s this way)."""
    out = ids.copy()
    bitgen = rng.bit_generator
    for i in range(out.size - 1, 0, -1):
        j = np.intp(_interval(bitgen, i))
        if j != i:
            out[i], out[j] = out[j], out[i]
    return out


@njit(cache=True)
def draw_uniform(ids, k, rng):  # pragma: no cover
    """:func:`scrapsim.model.actors.lists.draw_uniform`: ``k`` distinct ids drawn uniformly
    (all of them, shuffled, if fewer)."""
    if k >= ids.size:
        return permutation(rng, ids)
    return ids[choice_without_replacement(rng, ids.size, k)]


@njit(cache=True)
def draw_weighted(ids, weights, k, rng):  # pragma: no cover
    """:func:`scrapsim.model.actors.lists.draw_weighted`: ``k`` distinct ids (all if fewer),
    each drawn with probability ∝ weight, in draw order (smallest exponential clock first;
    the clocks are continuous, so the k smallest are those numpy's partition finds)."""
    clocks = rng.exponential(1.0, ids.size) / weights
    order = np.argsort(clocks, kind="mergesort")
    return ids[order[:min(k, ids.size)]]


@njit(cache=True)
def _draw(ids, weights, weighted, k, rng):  # pragma: no cover
    if ids.size == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    if weighted:
        return draw_weighted(ids, weights, k, rng)
    return draw_uniform(ids, k, rng)


@njit(cache=True)
def pick_round(pool, weights, weighted, k, seen, last, day, rng):  # pragma: no cover
    """``k`` sites of ``pool`` on ``day`` (see :meth:`~scrapsim.model.actors.lists.Rounds.
    pick`; ``weights`` per pool site when ``weighted``): the sites not ``seen`` this round
    first; when they run out the round ends for the list and the rest come from a new round,
    no site twice on one day. Marks the picked sites ``seen`` and ``last`` visited on ``day``."""
    if k <= 0 or pool.size == 0:
        return np.zeros(0, dtype=np.int64)
    fresh = ~seen[pool]
    first = _draw(pool[fresh], weights[fresh] if weighted else weights, weighted, k, rng)
    if first.size < k:                          # the round is over for this list
        seen[pool] = False
        seen[first] = True
        rest = ~seen[pool] & (last[pool] != day)
        more = _draw(pool[rest], weights[rest] if weighted else weights, weighted,
                     min(k - first.size, int(rest.sum())), rng)
        first = np.concatenate((first, more))
    seen[first] = True
    last[first] = day
    return first
