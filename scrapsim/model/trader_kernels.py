"""Compiled passes over the trader population (numba, cached on disk): collection, supply,
sales, shipping. Traders of a region are contiguous (``bounds``) and sorted by cost.
Volumes in t (flows t/day), prices CNY/t. :func:`scrapsim.model.kernels.market_day` runs them.
"""

from __future__ import annotations

import numpy as np

from scrapsim.model import market
from scrapsim.model.jit import njit

__all__ = ["collect", "offered_at", "region_sums", "room_at", "scale_offers", "sell_and_sum",
           "ship", "ship_and_offer", "ship_plan", "stock_up", "wanted"]

# Each pass over the traders does all that can be done with what is known when it starts, so a
# day reads and writes each trader array as few times as the rules allow (five passes on a
# trading day: what traders want, collection, shipping with offers, offers at the price, sales;
# the clearing reads the offers' prefix sums and the cost order). Sums run in trader order, as
# the rules did when each was its own pass, so the bytes are the same.
#
# A loop over one region's traders runs over unsigned indices (``range(np.uint64(lo), ...)``):
# with a signed index whose start is read from ``bounds``, numba wraps each subscript for
# negative values (a shift, an and and an add per array read), which the compiler cannot drop
# because it cannot prove the start is not negative. The indices and the arithmetic on the
# values are the same, so are the bytes; a pass takes about 40% less time (``wanted`` 3.2 →
# 1.8 ns a trader at 200,000 traders in 31 regions).


@njit(cache=True, inline="always")
def room_at(stock, target):  # pragma: no cover
    """Share of its capacity a trader still collects at: 1 while its yard is below its calm
    target (``cover × temper`` days of capacity), falling linearly to 0 at twice that:
    holding scrap costs money, so a full yard stops buying and the glut waits at the sources.
    A trader who withholds in a rally (a larger target, :func:`ship_and_offer`) fills its yard
    and so buys less: the scrap waits at the sources, held back along the chain."""
    return min(max(2.0 - stock / target, 0.0), 1.0) if target > 0.0 else 1.0


@njit(cache=True)
def wanted(bounds, cost, base, tolerance, temper_eff, stock, cover, price, risk, factor, room,
           out):  # pragma: no cover
    """Per region: t/day traders want to collect: those with a cost below ``price`` and a
    tolerance above the risk, at ``base × room`` each (:func:`room_at`, kept in ``room`` for
    :func:`stock_up`), times ``factor[r]``. Traders are sorted by cost within their region,
    so the pass stops at the first one who cannot collect at the price. The tolerance test
    is a 0/1 factor, not a branch (tolerances are not sorted: on a day the risk splits the
    traders a branch is mispredicted about half the time, about 4 ns a trader); ``room`` is
    written for every trader below the price (:func:`stock_up` reads it only where the test
    holds) and ``x × 1.0``, ``x × 0.0`` and ``total + 0.0`` are exact, so the sums are the
    same bytes."""
    for r in range(len(price)):
        total = 0.0
        p, k, c = price[r], risk[r], cover[r]
        for i in range(np.uint64(bounds[r]), np.uint64(bounds[r + 1])):
            if cost[i] >= p:
                break
            x = room_at(stock[i], c * temper_eff[i] * base[i])
            room[i] = x
            total += base[i] * x * np.float64(tolerance[i] > k)
        out[r] = total * factor[r]


@njit(cache=True)
def stock_up(bounds, cost, base, tolerance, price, risk, ratio, room, stock, collected,
             held):  # pragma: no cover
    """Add each collecting trader's share (``base × room × ratio``, ``room`` as
    :func:`wanted` left it) of the regional collection to its yard; ``collected`` holds each
    trader's t of the day (0 for those who did not), ``held`` each region's yards after it.
    Who collects is a 0/1 factor, not a branch, as in :func:`wanted`."""
    for r in range(len(price)):
        total = 0.0
        p, k = price[r], risk[r]
        rate = ratio[r] if ratio[r] > 0.0 else 0.0
        for i in range(np.uint64(bounds[r]), np.uint64(bounds[r + 1])):
            c = base[i] * room[i] * rate * np.float64((cost[i] < p) & (tolerance[i] > k))
            collected[i] = c
            stock[i] += c
            total += stock[i]
        held[r] = total


@njit(cache=True)
def ship_and_offer(bounds, shipping, keep, spread, base, temper_eff, collected, stock, cover,
                   sell_days, factor, offers, cum):  # pragma: no cover
    """Yards ship (when ``shipping``: keep ``keep[r]`` of their stock and receive ``base ×
    spread[r]`` of inflows, :func:`ship_plan`), then each active trader says what it wants to
    sell today at the reference price (t), a flow: what it collected plus a share
    ``1/sell_days`` of the gap between its yard and its target yard, at least 0. The target is
    ``cover × temper / factor`` days of its collection (``factor``:
    :func:`market.offer_factor`, above 1 when prices are volatile, below 1 in a rally). A
    trader who collects nothing has no target and sells its yard down; a suspended or closed
    one (``base`` 0) offers nothing. ``cum``: prefix sums of the offers over all traders, for
    the clearing (:func:`offered_at`); the price scales the offers afterwards
    (:func:`market.hold_factor`, :func:`scale_offers`).

    The offers are one loop without branches or a running sum, which the compiler vectorises
    (its two divisions a trader are most of the pass), the prefix sums a second, short one;
    each value is computed as before, so the bytes are the same."""
    cum[0] = 0.0
    for r in range(len(factor)):
        days = max(sell_days[r], 1.0)
        kp, sp, cv, f = keep[r], spread[r], cover[r], factor[r]
        lo, hi = np.uint64(bounds[r]), np.uint64(bounds[r + 1])
        for i in range(lo, hi):
            s = stock[i] * kp + base[i] * sp if shipping else stock[i]
            stock[i] = s
            target = cv * temper_eff[i] / f * collected[i]
            o = max(collected[i] + (s - collected[i] - target) / days, 0.0)
            offers[i] = o if base[i] > 0.0 else 0.0
        total = cum[lo]
        for i in range(lo, hi):
            total += offers[i]
            cum[i + np.uint64(1)] = total


@njit(cache=True)
def offered_at(lo, hi, cost, cum, price, expected):  # pragma: no cover
    """What traders ``lo..hi-1`` of one region offer at ``price`` before the hold factor (t):
    the offers (prefix sums ``cum``) of those whose reservation price, ``min(cost, expected)``,
    is at most ``price``. A holder does not sell below what it paid for its scrap (its cost)
    while it expects the price back above that; traders are sorted by cost."""
    if price >= expected:
        return cum[hi] - cum[lo]
    k = lo + np.searchsorted(cost[lo:hi], price, side="right")
    return cum[k] - cum[lo]


@njit(cache=True)
def scale_offers(bounds, cost, expected, price, hold, offers, stock, out):  # pragma: no cover
    """Offers at today's price: 0 from a trader whose reservation price (``min(cost,
    expected)``, :func:`offered_at`) is above it, else times ``hold[r]``, at most the yard;
    regional totals."""
    for r in range(len(hold)):
        total = 0.0
        for i in range(np.uint64(bounds[r]), np.uint64(bounds[r + 1])):
            o = 0.0
            if min(cost[i], expected[r]) <= price[r]:
                o = min(offers[i] * hold[r], stock[i])
            offers[i] = o
            total += o
        out[r] = total


@njit(cache=True)
def sell_and_sum(bounds, sold, offers, stock, held):  # pragma: no cover
    """Remove the sold share of each offer from its yard; ``held``: each region's yards after."""
    for r in range(len(sold)):
        total = 0.0
        for i in range(np.uint64(bounds[r]), np.uint64(bounds[r + 1])):
            if sold[r] > 0.0:
                stock[i] -= offers[i] * sold[r]
            total += stock[i]
        held[r] = total


@njit(cache=True)
def ship(bounds, keep, spread, base, stock):  # pragma: no cover
    """Yards keep ``keep[r]`` of their stock and receive ``base × spread[r]`` of inflows."""
    for r in range(len(keep)):
        for i in range(np.uint64(bounds[r]), np.uint64(bounds[r + 1])):
            stock[i] = stock[i] * keep[r] + base[i] * spread[r]


@njit(cache=True)
def region_sums(bounds, x, out):  # pragma: no cover
    """Regional totals of a population array whose regions are contiguous."""
    for r in range(len(bounds) - 1):
        total = 0.0
        for i in range(np.uint64(bounds[r]), np.uint64(bounds[r + 1])):
            total += x[i]
        out[r] = total


@njit(cache=True)
def collect(bounds, cost, base, tolerance, price, price0, elasticity, risk, season, available,
            stock, collected, temper_eff, cover, room, held):  # pragma: no cover
    """One day's collection; returns t collected per region, ``held`` the yards after it.

    A trader collects if its cost is below the price and its risk tolerance above the
    perceived enforcement risk, at capacity scaled by ``season·(price/price0)**elasticity``
    and by the room left in its yard (:func:`room_at`; ``room`` a buffer);
    :func:`market.collection` says how much of what waits at the sources the region gets, and
    each trader gets its share of it."""
    n = len(price)
    factor = np.empty(n)
    for r in range(n):
        factor[r] = season * (price[r] / price0[r]) ** elasticity[r]
    want = np.zeros(n)
    wanted(bounds, cost, base, tolerance, temper_eff, stock, cover, price, risk, factor, room,
           want)
    got = market.collection(available, want)
    ratio = np.zeros(n)
    for r in range(n):
        if want[r] > 0:
            ratio[r] = got[r] / want[r] * factor[r]
    stock_up(bounds, cost, base, tolerance, price, risk, ratio, room, stock, collected, held)
    return got


@njit(cache=True)
def ship_plan(price, base_total, active_count, held, transport_cost, rate, reference, outside,
              inflow, outflow, to_outside, from_outside, keep, spread):  # pragma: no cover
    """Traders ship scrap to regions whose price exceeds theirs by more than the transport
    cost (none into a region without active traders, which takes no share of the half a yard
    a region ships at most); fills ``inflow`` and ``outflow``. With
    ``outside``, the rest of the country is one more region, at the ``reference`` price and
    holding as much as each region's own yards (:func:`market.outside_flows`); its flows go to
    ``to_outside`` and ``from_outside``. ``held``: each region's yards; ``keep`` and
    ``spread`` say how the yards move (:func:`ship`, :func:`ship_and_offer` apply it)."""
    n = len(price)
    inflow[:] = 0.0
    outflow[:] = 0.0
    to_outside[:] = 0.0
    from_outside[:] = 0.0
    if outside:
        market.outside_flows(price, held, reference, transport_cost, rate, to_outside,
                             from_outside)
        for r in range(n):
            if active_count[r] == 0:
                from_outside[r] = 0.0
    if n > 1:
        flows = market.interregional_flows(price, held, transport_cost, rate, active_count)
        for i in range(n):  # nothing flows to a region without active traders
            for j in range(n):
                outflow[i] += flows[i, j]
                inflow[j] += flows[i, j]
        for r in range(n if outside else 0):  # to regions and outside: at most half a yard
            total = outflow[r] + to_outside[r]
            if total > 0.5 * held[r]:
                scale = 0.5 * held[r] / total
                to_outside[r] *= scale
                for j in range(n):
                    inflow[j] -= (1.0 - scale) * flows[r, j]
                outflow[r] *= scale
    keep[:] = 1.0
    spread[:] = 0.0
    for r in range(n):
        if held[r] > 0:
            keep[r] = 1.0 - (outflow[r] + to_outside[r]) / held[r]
        if base_total[r] > 0:
            spread[r] = (inflow[r] + from_outside[r]) / base_total[r]
