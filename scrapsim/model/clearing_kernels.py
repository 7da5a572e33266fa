"""The day's clearing price per region (numba): a bisection on log price that evaluates its
test only where the answer is not already settled.

:func:`clearing_prices` takes the same forty steps as :func:`bisect`, the plain bisection, and
ends on the same bytes; :func:`settled` finds, near the crossing, the prices beyond which
monotonicity (:func:`monotone`) settles each step. Called from :func:`kernels.clear_day`.
"""

from __future__ import annotations

import math

import numpy as np

from scrapsim.model import market
from scrapsim.model.jit import njit
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
)
from scrapsim.model.smelter_kernels import bid_terms, demand_of
from scrapsim.model.trader_kernels import offered_at

__all__ = ["BESIDE", "ILLINOIS_STEPS", "ILLINOIS_WIDTH", "JUMP", "JUMPS", "STRONG", "bisect",
           "clearing_prices", "excess_at", "monotone", "one_jump", "region_terms", "settled",
           "tighten"]

STRONG = 1e-12
"""Relative margin by which demand and supply must differ at a price for the clearing to take
the comparison there as settled for every price beyond it (:func:`clearing_prices`)."""
BESIDE = 1e-13
"""Distance in log price from such a price within which the bisection still evaluates."""
ILLINOIS_STEPS, ILLINOIS_WIDTH = 12, 1e-10
"""At most this many steps of regula falsi, until the bracket is this narrow (log price)."""
JUMP, JUMPS = 1e-11, 6
"""Supply is a staircase of traders' costs (and of the expected price, above which every
holder sells) and demand drops where a smelter's margin reaches 0: regula falsi stalls on a
jump, keeping one end of its bracket. When it does (twice the same end), :func:`settled`
looks for the only jump inside the bracket (:func:`one_jump`, at most ``JUMPS`` times) and
evaluates ``JUMP`` (log price) to each side of it. With these on 54 states of Hebei and
national_2017 runs a region-day took 16.7 evaluations on average, against 24.8 with the
search before (12 steps to 1e-9, no jumps probed)."""


@njit(cache=True)
def region_terms(sm, ingot, season, n):  # pragma: no cover
    """:func:`bid_terms` of the running smelters, rows of region ``r`` from ``starts[r]``."""
    terms, starts = np.empty((len(sm[S_REGION]), 7)), np.empty(n + 1, dtype=np.int64)
    bid_terms(sm[S_REGION], sm[S_CAPACITY], sm[S_YIELD], sm[S_COST], sm[S_COVER], sm[S_RATE0],
              sm[S_RESPONSE], sm[S_MARGIN0], sm[S_RUNNING], sm[S_STOCK], ingot, season, n,
              terms, starts)
    return terms, starts


@njit(cache=True)
def excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, p, reference,
              hold):  # pragma: no cover
    """Smelters' demand at ``p`` (:func:`demand_of`) and traders' supply there
    (:func:`offered_at` × :func:`market.hold_factor`), both exactly as the bisection's test
    ``demand > supply`` computes them."""
    d = demand_of(terms, lo, hi, p, ingot, cut)
    s = offered_at(bounds[0], bounds[1], cost, cum, p, reference)
    return d, s * market.hold_factor(p, reference, hold)


@njit(cache=True)
def monotone(terms, lo, hi, ingot, cut, hold):  # pragma: no cover
    """Whether demand at a price can only fall as the price rises and supply only rise, in
    floating point and not just on paper: true when ``ingot`` > 0, ``cut`` <= 1, the hold
    elasticity and every smelter's response and capacity >= 0 (then each step of
    :func:`demand_of` and :func:`offered_at`, and the sums over smelters and the traders'
    prefix sums of offers that are never negative, is a monotone rounding of a monotone
    function). The schema's bounds guarantee it; the clearing checks rather than assumes."""
    if not (ingot > 0.0 and cut <= 1.0 and hold >= 0.0):
        return False
    for k in range(lo, hi):  # noqa: SIM110 (a loop numba compiles)
        if not (terms[k, 3] >= 0.0 and terms[k, 5] >= 0.0):
            return False
    return True


@njit(cache=True)
def tighten(d, s, x, low, high):  # pragma: no cover
    """``(low, high)`` of :func:`settled` after evaluating demand ``d`` and supply ``s`` at log
    price ``x``: ``x`` settles the prices below it when demand exceeds supply by the margin
    :data:`STRONG`, those above it when it falls short by that margin or is 0 (then it is 0 at
    every higher price, each smelter's bid being at least 0 and falling with the price, and
    ``d > s`` is false there, supply being at least 0: no margin is needed)."""
    if d > s * (1.0 + STRONG):
        return max(low, x), high
    if d * (1.0 + STRONG) < s or d == 0.0:
        return low, min(high, x)
    return low, high


@njit(cache=True)
def one_jump(terms, lo, hi, cost, lo_t, hi_t, pl, ph, expected):  # pragma: no cover
    """The price of the only jump of supply or demand in ``(pl, ph]``, or -1 (none, or more
    than one): a trader's cost (it offers from there, :func:`offered_at`), the expected price
    (every holder offers from there) or a smelter's break-even (its bid drops to 0 at a margin
    of 0, :func:`demand_of`)."""
    n = hi_t - lo_t
    c = -1.0
    if ph < expected or pl >= expected:
        kl = np.searchsorted(cost[lo_t:hi_t], pl, side="right") if pl < expected else n
        kh = np.searchsorted(cost[lo_t:hi_t], ph, side="right") if ph < expected else n
        count = kh - kl
        if count == 1:
            c = cost[lo_t + kl]
    else:
        kl = np.searchsorted(cost[lo_t:hi_t], pl, side="right")
        count = max(np.searchsorted(cost[lo_t:hi_t], expected, side="left") - kl, 0) + 1
        if count == 1:
            c = expected
    if count > 1:
        return -1.0
    for k in range(lo, hi):
        bp = terms[k, 0] - terms[k, 1]
        if pl < bp <= ph:
            count += 1
            if count > 1:
                return -1.0
            c = bp
    return c if count == 1 else -1.0


@njit(cache=True)
def settled(terms, lo, hi, ingot, cut, bounds, cost, cum, reference, hold, a, b,
            guess):  # pragma: no cover
    """The interval of log prices outside which the bisection of :func:`clearing_prices`
    knows its test's answer without evaluating it: ``(low, high)`` such that demand exceeds
    supply by the relative margin :data:`STRONG` at ``exp(low)`` and falls short of it by
    that margin (or demand is 0) at ``exp(high)`` (``-inf``/``inf`` where no such price was
    found).

    By monotonicity (:func:`monotone`), demand exceeds supply at every price below
    ``exp(low)``, so the test is true there, and false above ``exp(high)``: the margin covers
    the rounding of ``exp`` and of the hold factor's power (under an ulp each), so this holds
    of the numbers the bisection would compute, not only of exact ones. ``low`` and ``high``
    are found near the crossing from ``guess`` (yesterday's price) by an expanding bracket
    and the Illinois variant of regula falsi on ``demand - supply`` (probing each side of a
    jump it stalls on, :data:`JUMPS`), then a probe 2e-11 to each side. On 54 states of Hebei
    and national_2017 runs this and the steps left to evaluate take 4-40 evaluations, 16.7
    on average (24.8 before the jumps were probed and 0 demand settled the prices above it),
    against the bisection's forty."""
    low, high = -np.inf, np.inf
    m = min(max(math.log(guess), a), b)
    d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(m), reference, hold)
    if not (math.isfinite(d) and math.isfinite(s)):
        return low, high
    low, high = tighten(d, s, m, low, high)
    up = d > s
    xl, fl, xh, fh = m, d - s, m, d - s
    step = 0.02
    while True:                                   # bracket the crossing
        x = min(m + step, b) if up else max(m - step, a)
        d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(x), reference,
                         hold)
        if not (math.isfinite(d) and math.isfinite(s)):
            return -np.inf, np.inf
        low, high = tighten(d, s, x, low, high)
        if (d > s) != up:
            if up:
                xh, fh = x, d - s
            else:
                xl, fl = x, d - s
            break
        if up:
            xl, fl = x, d - s
        else:
            xh, fh = x, d - s
        if x <= a or x >= b:
            return low, high                      # no crossing inside: one side settles all
        m, step = x, step * 4.0
    side, repeated, jumps = 0, False, 0
    for _ in range(ILLINOIS_STEPS):               # Illinois on the bracket [xl, xh]
        if xh - xl < ILLINOIS_WIDTH:
            break
        if repeated and jumps < JUMPS:            # stalled: on a jump?
            jumps += 1
            c = one_jump(terms, lo, hi, cost, bounds[0], bounds[1], math.exp(xl),
                         math.exp(xh), reference)
            if c > 0.0:
                for x in (math.log(c) - JUMP, math.log(c) + JUMP):
                    if xl < x < xh:
                        d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum,
                                         math.exp(x), reference, hold)
                        low, high = tighten(d, s, x, low, high)
                        if d > s:
                            xl, fl = x, d - s
                        else:
                            xh, fh = x, d - s
                            break
                side, repeated = 0, False
                continue
        x = xh - fh * (xh - xl) / (fh - fl) if fh != fl else 0.5 * (xl + xh)
        if not (xl < x < xh):
            x = 0.5 * (xl + xh)
        d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(x), reference,
                         hold)
        if not (math.isfinite(d) and math.isfinite(s)):
            break
        low, high = tighten(d, s, x, low, high)
        if d > s:
            xl, fl = x, d - s
            repeated = side == 1
            if side == 1:
                fh *= 0.5
            side = 1
        else:
            xh, fh = x, d - s
            repeated = side == -1
            if side == -1:
                fl *= 0.5
            side = -1
    for x in (xl - 2e-11, xh + 2e-11):            # settle the last stretch from both sides
        if low < x < high:
            d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(x),
                             reference, hold)
            low, high = tighten(d, s, x, low, high)
    return low, high


@njit(cache=True)
def clearing_prices(bounds, cost, cum, reference, hold, sm, ingot, season, cut, floor, cap,
                    out, guess):  # pragma: no cover
    """Per region, the price at which traders' supply at ``p`` (the offers of those whose
    reservation price is at most ``p``, :func:`offered_at` on the offers' prefix sums ``cum``,
    times ``hold_factor(p)``) meets smelters' demand at ``p`` (:func:`demand_of`; bisection on
    log p, 40 steps: 1e-12 of the range), in [floor, cap]: ``floor`` when supply exceeds
    demand even there, ``cap`` when demand exceeds supply even there.

    The bisection takes the same forty steps and ends on the same bytes as one that evaluates
    its test at every step (:func:`bisect`, which ``tests/test_clearing_search.py`` compares it
    with), but evaluates it only within the interval :func:`settled` leaves open around the crossing
    (found from ``guess``, yesterday's prices): about 17 evaluations a region and day instead
    of forty."""
    n = len(reference)
    terms, starts = region_terms(sm, ingot, season, n)
    for r in range(n):
        lo, hi = starts[r], starts[r + 1]
        a, b = math.log(floor), math.log(cap)
        low, high = -np.inf, np.inf
        if monotone(terms, lo, hi, ingot, cut[r], hold[r]):
            low, high = settled(terms, lo, hi, ingot, cut[r], bounds[r:r + 2], cost, cum,
                                reference[r], hold[r], a, b, guess[r])
        for _ in range(40):
            mid = 0.5 * (a + b)
            if mid <= low - BESIDE:
                a = mid
            elif mid >= high + BESIDE:
                b = mid
            else:
                d, s = excess_at(terms, lo, hi, ingot, cut[r], bounds[r:r + 2], cost, cum,
                                 math.exp(mid), reference[r], hold[r])
                if d > s:
                    a = mid
                else:
                    b = mid
        out[r] = math.exp(0.5 * (a + b))


@njit(cache=True)
def bisect(bounds, cost, cum, reference, hold, sm, ingot, season, cut, floor, cap,
           out):  # pragma: no cover
    """The plain bisection :func:`clearing_prices` reproduces: its test evaluated at each of
    the forty steps (the clearing before the settled interval; kept as the reference the
    tests compare it with)."""
    n = len(reference)
    terms, starts = region_terms(sm, ingot, season, n)
    for r in range(n):
        a, b = math.log(floor), math.log(cap)
        for _ in range(40):
            mid = 0.5 * (a + b)
            p = math.exp(mid)
            d = demand_of(terms, starts[r], starts[r + 1], p, ingot, cut[r])
            s = offered_at(bounds[r], bounds[r + 1], cost, cum, p, reference[r])
            if d > s * market.hold_factor(p, reference[r], hold[r]):
                a = mid
            else:
                b = mid
        out[r] = math.exp(0.5 * (a + b))
