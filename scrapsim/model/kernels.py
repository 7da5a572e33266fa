"""Compiled inner loops of the market day (numba), one pass over each population.

A day touches every trader and smelter a few times. As numpy expressions that was about sixty
small array calls, each paying ~1 µs of dispatch whatever its length; here each step is one
compiled loop, and :func:`market_day` runs a whole market day in one call, composed of the
population passes (:mod:`~scrapsim.model.trader_kernels`, :mod:`~scrapsim.model.smelter_kernels`)
and of the pure functions of :mod:`scrapsim.model.market` (compiled too), so every economic
rule is written once. The day's arguments are four tuples of arrays named in
:mod:`~scrapsim.model.packing`.
Compiled code is cached on disk (``cache=True``): only the first run on a machine compiles
(about 70 s on the 2-core reference machine, with the campaign day of
:mod:`scrapsim.model.campaign_kernels`). An installed scrapsim uses none of this at run time:
``pip install`` compiles the loops Python calls ahead of time (:mod:`scrapsim.model.aot`,
:mod:`scrapsim.model.loops`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scrapsim.model import market
from scrapsim.model.packing import (
    I_ANCHOR,
    I_CSEASON,
    I_CUT,
    I_GENERATION,
    I_IMPORTS,
    I_INGOT,
    I_NOISE,
    I_RISK,
    I_SSEASON,
    INPUT_FIELDS,
    M_CONST,
    M_DISCOUNT,
    M_PRESSURE,
    M_PRICE,
    M_PRICE0,
    M_REF,
    M_UNCOLLECTED,
    M_VOL,
    MARKET_FIELDS,
    S_BID,
    S_CAPACITY,
    S_COST,
    S_COUNTS,
    S_COVER,
    S_GROUP,
    S_IMPORT_REGIONS,
    S_IMPORT_SHARE,
    S_MARGIN0,
    S_RATE0,
    S_REGION,
    S_RESPONSE,
    S_RUNNING,
    S_RUNNING_BY_CLASS,
    S_SMELTED,
    S_STOCK,
    S_USE,
    S_VIOLATOR,
    S_YIELD,
    SMELTER_FIELDS,
    T_ACTIVE,
    T_BASE,
    T_BASE_TOTAL,
    T_BOUNDS,
    T_COLLECTED,
    T_COST,
    T_COVER,
    T_CUM,
    T_ELASTICITY,
    T_FAST_OUT,
    T_HOLD,
    T_OFFERS,
    T_ROOM,
    T_SELL_DAYS,
    T_STOCK,
    T_TEMPER,
    T_TOL,
    T_WITHHOLD,
    TRADER_FIELDS,
    pack,
)
from scrapsim.model.smelter_kernels import (
    BID_DAYS,
    bid_terms,
    demand_of,
    land,
    plan,
    receive,
    smelt,
    state_summary,
)
from scrapsim.model.trader_kernels import (
    collect,
    offered_at,
    region_sums,
    room_at,
    scale_offers,
    sell_and_sum,
    ship,
    ship_and_offer,
    ship_plan,
    stock_up,
    wanted,
)

__all__ = [
    "BID_DAYS", "INPUT_FIELDS", "MARKET_FIELDS", "SMELTER_FIELDS", "TRADER_FIELDS", "bid_terms",
    "bisect", "clear_day", "clearing_prices", "collect", "demand_of", "excess_at", "follow",
    "land", "market_day", "market_days", "monotone", "offered_at", "pack", "plan", "receive",
    "region_sums", "room_at", "scale_offers", "sell_and_sum", "settled", "ship",
    "ship_and_offer", "ship_plan", "smelt", "state_summary", "stock_up", "wanted",
]


STRONG = 1e-12
"""Relative margin by which demand and supply must differ at a price for the clearing to take
the comparison there as settled for every price beyond it (:func:`clearing_prices`)."""
BESIDE = 1e-13
"""Distance in log price from such a price within which the bisection still evaluates."""
ILLINOIS_STEPS, ILLINOIS_WIDTH = 12, 1e-9
"""At most this many steps of regula falsi, until the bracket is this narrow (log price): supply
is a staircase of traders' costs, on which it stalls at finer scales (30 steps to 1e-11 took
more evaluations in all than 12 to 1e-9, measured on Hebei and national_2017 states)."""


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
def settled(terms, lo, hi, ingot, cut, bounds, cost, cum, reference, hold, a, b,
            guess):  # pragma: no cover
    """The interval of log prices outside which the bisection of :func:`clearing_prices`
    knows its test's answer without evaluating it: ``(low, high)`` such that demand exceeds
    supply by the relative margin :data:`STRONG` at ``exp(low)`` and falls short of it by
    that margin at ``exp(high)`` (``-inf``/``inf`` where no such price was found).

    By monotonicity (:func:`monotone`), demand exceeds supply at every price below
    ``exp(low)``, so the test is true there, and false above ``exp(high)``: the margin covers
    the rounding of ``exp`` and of the hold factor's power (under an ulp each), so this holds
    of the numbers the bisection would compute, not only of exact ones. ``low`` and ``high``
    are found near the crossing from ``guess`` (yesterday's price) by an expanding bracket
    and the Illinois variant of regula falsi on ``demand - supply``, then a probe 2e-11 to
    each side. On states of Hebei and national_2017 runs this and the steps left to evaluate
    take 12-41 evaluations, 26 on average, against the bisection's forty."""
    low, high = -np.inf, np.inf
    m = min(max(math.log(guess), a), b)
    d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(m), reference, hold)
    if not (math.isfinite(d) and math.isfinite(s)):
        return low, high
    if d > s * (1.0 + STRONG):
        low = m
    elif d * (1.0 + STRONG) < s:
        high = m
    up = d > s
    xl, fl, xh, fh = m, d - s, m, d - s
    step = 0.02
    while True:                                   # bracket the crossing
        x = min(m + step, b) if up else max(m - step, a)
        d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(x), reference,
                         hold)
        if not (math.isfinite(d) and math.isfinite(s)):
            return -np.inf, np.inf
        if d > s * (1.0 + STRONG):
            low = max(low, x)
        elif d * (1.0 + STRONG) < s:
            high = min(high, x)
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
    side = 0
    for _ in range(ILLINOIS_STEPS):               # Illinois on the bracket [xl, xh]
        if xh - xl < ILLINOIS_WIDTH:
            break
        x = xh - fh * (xh - xl) / (fh - fl) if fh != fl else 0.5 * (xl + xh)
        if not (xl < x < xh):
            x = 0.5 * (xl + xh)
        d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(x), reference,
                         hold)
        if not (math.isfinite(d) and math.isfinite(s)):
            break
        if d > s * (1.0 + STRONG):
            low = max(low, x)
        elif d * (1.0 + STRONG) < s:
            high = min(high, x)
        if d > s:
            xl, fl = x, d - s
            if side == 1:
                fh *= 0.5
            side = 1
        else:
            xh, fh = x, d - s
            if side == -1:
                fl *= 0.5
            side = -1
    for x in (xl - 2e-11, xh + 2e-11):            # settle the last stretch from both sides
        if low < x < high:
            d, s = excess_at(terms, lo, hi, ingot, cut, bounds, cost, cum, math.exp(x),
                             reference, hold)
            if d > s * (1.0 + STRONG):
                low = x
            elif d * (1.0 + STRONG) < s:
                high = x
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
    with),
    but evaluates it only within the interval :func:`settled` leaves open around the crossing
    (found from ``guess``, yesterday's prices): about 26 evaluations a region and day instead
    of forty."""
    n = len(reference)
    terms, starts = np.empty((len(sm[S_REGION]), 7)), np.empty(n + 1, dtype=np.int64)
    bid_terms(sm[S_REGION], sm[S_CAPACITY], sm[S_YIELD], sm[S_COST], sm[S_COVER], sm[S_RATE0],
              sm[S_RESPONSE], sm[S_MARGIN0], sm[S_RUNNING], sm[S_STOCK], ingot, season, n,
              terms, starts)
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
    terms, starts = np.empty((len(sm[S_REGION]), 7)), np.empty(n + 1, dtype=np.int64)
    bid_terms(sm[S_REGION], sm[S_CAPACITY], sm[S_YIELD], sm[S_COST], sm[S_COVER], sm[S_RATE0],
              sm[S_RESPONSE], sm[S_MARGIN0], sm[S_RUNNING], sm[S_STOCK], ingot, season, n,
              terms, starts)
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


@njit(cache=True)
def follow(old, new, volatility, a_vol):  # pragma: no cover
    """Update the moving volatility of each region's scrap price after a price step (in
    place)."""
    for r in range(len(old)):
        volatility[r] += a_vol * (abs(math.log(new[r] / old[r])) - volatility[r])


@njit(cache=True)
def clear_day(trade, shipping, keep, spread, tr, sm, mkt, shock, anchor, ingot, season, cut,
              out, held):  # pragma: no cover
    """Yards ship (when ``shipping``, by ``keep`` and ``spread``, :func:`ship_plan`); smelters
    plan; when ``trade``, the region clears at today's price: the price moves from
    yesterday's toward the price at which supply (:func:`ship_and_offer` ×
    :func:`market.hold_factor`) meets demand (:func:`demand_of`) by the partial adjustment
    :func:`market.adjust_price`; trade is pro rata at that price; stocks move. Holders
    withhold by the rally gap, the log of the primary-implied value (today's anchor) over the
    lagged reference (:func:`market.offer_factor`).

    Writes per region into ``out``: offered (supply), demanded, traded (t/day) and price
    pressure (NaN on a day without clearing); into ``held`` the traders' yards at the end.
    """
    mk, price, volatility = mkt[M_CONST], mkt[M_PRICE], mkt[M_VOL]
    reference = mkt[M_REF]
    tb, tstock = tr[T_BOUNDS], tr[T_STOCK]
    n = len(price)
    out[:, :] = 0.0
    out[:, 3] = np.nan
    supply = np.zeros(n)
    if trade:
        market.lag_reference(reference, anchor, mk[1])
        expected, gap = np.empty(n), np.empty(n)
        for r in range(n):
            expected[r] = reference[r] * math.exp(mkt[M_DISCOUNT][r])
            gap[r] = math.log(anchor[r] / reference[r])
        factor = market.offer_factor(volatility, gap, tr[T_FAST_OUT], tr[T_WITHHOLD], mk[4])
        ship_and_offer(tb, shipping, keep, spread, tr[T_BASE], tr[T_TEMPER], tr[T_COLLECTED],
                       tstock, tr[T_COVER], tr[T_SELL_DAYS], factor, tr[T_OFFERS], tr[T_CUM])
        target = np.empty(n)
        clearing_prices(tb, tr[T_COST], tr[T_CUM], expected, tr[T_HOLD], sm, ingot, season,
                        cut, mk[2], mk[3], target, price)
        new = market.adjust_price(price, target, mk[0], shock, mk[2], mk[3])
        follow(price, new, volatility, mk[7])
        price[:] = new
        hold = np.empty(n)
        for r in range(n):
            hold[r] = market.hold_factor(price[r], expected[r], tr[T_HOLD][r])
        market.learn_discount(mkt[M_DISCOUNT], price, reference, mk[9])
        scale_offers(tb, tr[T_COST], expected, price, hold, tr[T_OFFERS], tstock, supply)
    elif shipping:
        ship(tb, keep, spread, tr[T_BASE], tstock)
    demand = np.zeros(n)
    plan(sm[S_REGION], sm[S_CAPACITY], sm[S_YIELD], sm[S_COST], sm[S_COVER], sm[S_RATE0],
         sm[S_RESPONSE], sm[S_MARGIN0], sm[S_RUNNING], sm[S_STOCK], price, ingot, season, cut,
         sm[S_USE], sm[S_BID], demand)
    if not trade:
        region_sums(tb, tstock, held)
        return
    traded, sold, filled = market.clear(supply, demand)
    sell_and_sum(tb, sold, tr[T_OFFERS], tstock, held)
    receive(sm[S_REGION], sm[S_BID], filled, sm[S_STOCK])
    pressure = market.price_pressure(demand, supply)
    for r in range(n):
        out[r, 0], out[r, 1], out[r, 2], out[r, 3] = supply[r], demand[r], traded[r], pressure[r]


@njit(cache=True)
def market_day(day, inp, mkt, tr, sm, values, cols):  # pragma: no cover
    """One market day in one compiled call: collection, shipping, clearing, smelting, the
    day's row (``values[day]``, columns ``cols``, see ``simulation.KERNEL_COLUMNS``); the
    price of the day is set by the clearing (:func:`clear_day`).

    ``inp``, ``mkt``, ``tr``, ``sm``: the tuples of :data:`INPUT_FIELDS`, :data:`MARKET_FIELDS`,
    :data:`TRADER_FIELDS`, :data:`SMELTER_FIELDS`. ``mkt[M_CONST]`` holds the market
    constants: price_speed (share of the way to the clearing price per clearing), anchor_speed,
    price_floor, price_cap, volatility_ref, transport_cost, flow_rate, 1/volatility_days,
    clearing_days, 1/discount_days, outside (1: trade with the rest of the country).
    """
    mk, price, pressure = mkt[M_CONST], mkt[M_PRICE], mkt[M_PRESSURE]
    uncollected = mkt[M_UNCOLLECTED]
    tb, tstock, tactive = tr[T_BOUNDS], tr[T_STOCK], tr[T_ACTIVE]
    region, sstock, counts, by_class = sm[S_REGION], sm[S_STOCK], sm[S_COUNTS], \
        sm[S_RUNNING_BY_CLASS]
    trade = day % int(mk[8]) == 0
    row = values[day]
    n = len(price)
    imports = np.zeros(n)
    land(region, sm[S_IMPORT_SHARE], sm[S_IMPORT_REGIONS], inp[I_IMPORTS][day], sstock, imports)
    available = uncollected + inp[I_GENERATION][day]
    held = np.zeros(n)
    got = collect(tb, tr[T_COST], tr[T_BASE], tr[T_TOL], price, mkt[M_PRICE0],
                  tr[T_ELASTICITY], inp[I_RISK][day], inp[I_CSEASON][day], available, tstock,
                  tr[T_COLLECTED], tr[T_TEMPER], tr[T_COVER], tr[T_ROOM], held)
    for r in range(n):
        uncollected[r] = available[r] - got[r]
    inflow, outflow = np.zeros(n), np.zeros(n)
    to_outside, from_outside = np.zeros(n), np.zeros(n)
    keep, spread = np.ones(n), np.zeros(n)
    outside = mk[10] > 0
    shipping = (n > 1 or outside) and mk[6] > 0
    if shipping:
        ship_plan(price, tr[T_BASE_TOTAL], tactive, held, mk[5], mk[6], mkt[M_REF], outside,
                  inflow, outflow, to_outside, from_outside, keep, spread)
    cleared = np.empty((n, 4))
    clear_day(trade, shipping, keep, spread, tr, sm, mkt, inp[I_NOISE][day], inp[I_ANCHOR][day],
              inp[I_INGOT][day], inp[I_SSEASON][day], inp[I_CUT][day], cleared, held)
    if trade:
        pressure[:] = cleared[:, 3]
    smelted_r, ingot_r, stock_r, by_group = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(3 * n)
    violating_r = np.zeros(n)
    smelt(region, sm[S_GROUP], sm[S_YIELD], sm[S_USE], sstock, sm[S_SMELTED], smelted_r,
          ingot_r, by_group, stock_r, sm[S_VIOLATOR], violating_r)
    for r in range(n):
        values_r = (uncollected[r], got[r], inflow[r], outflow[r], held[r], cleared[r, 0],
                    cleared[r, 1], cleared[r, 2], stock_r[r], smelted_r[r],
                    min(ingot_r[r], smelted_r[r]), price[r], pressure[r], by_group[3 * r],
                    by_group[3 * r + 1], by_group[3 * r + 2], imports[r], tactive[r],
                    float(counts[r, 0]), float(counts[r, 1]), float(counts[r, 2]),
                    float(counts[r, 3]), float(counts[r, 4]), by_class[r, 0],
                    by_class[r, 1], by_class[r, 2], violating_r[r], to_outside[r],
                    from_outside[r])
        for k in range(len(cols)):
            row[r, cols[k]] = values_r[k]


@njit(cache=True)
def market_days(first, last, inp, mkt, tr, sm, values, cols):  # pragma: no cover
    """Market days ``first..last-1`` in one call (:func:`market_day` each): the days between
    two events of the timeline, on which nothing else happens."""
    for day in range(first, last):
        market_day(day, inp, mkt, tr, sm, values, cols)
