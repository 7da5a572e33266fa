"""Compiled inner loops of the market day (numba), one pass over each population.

A day touches every trader and smelter a few times. As numpy expressions that was about sixty
small array calls, each paying ~1 µs of dispatch whatever its length; here each step is one
compiled loop, and :func:`market_day` runs a whole market day in one call, composed of the
population passes (:mod:`~scrapsim.model.trader_kernels`, :mod:`~scrapsim.model.smelter_kernels`)
and of the pure functions of :mod:`scrapsim.model.market` (compiled too), so every economic
rule is written once. The day's arguments are four tuples of arrays named in
:mod:`~scrapsim.model.packing`.
Compiled code is cached on disk (``cache=True``, in a folder named by the kernels' sources,
:mod:`scrapsim.model.jit`): only the first run on a machine compiles (about 50 s on the
2-core reference machine, ``benchmarks/bench_compile.py``, with the campaign day of
:mod:`scrapsim.model.campaign_kernels`). An installed scrapsim uses none of this at run time:
``pip install`` compiles the loops Python calls ahead of time (:mod:`scrapsim.model.aot`,
:mod:`scrapsim.model.loops`).
"""

from __future__ import annotations

import math

import numpy as np

from scrapsim.model import market
from scrapsim.model.clearing_kernels import clearing_prices
from scrapsim.model.jit import njit
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
    "BID_DAYS", "INPUT_FIELDS", "MARKET_FIELDS", "SMELTER_FIELDS", "TRADER_FIELDS", "batch_days",
    "bid_terms",
    "clear_day", "clearing_prices", "collect", "demand_of", "follow", "land", "market_day",
    "market_days", "offered_at", "pack", "plan", "receive", "region_sums", "room_at",
    "scale_offers", "sell_and_sum", "ship", "ship_and_offer", "ship_plan", "smelt",
    "state_summary", "stock_up", "wanted",
]


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


@njit(cache=True)
def _inputs_row(t, r):  # pragma: no cover
    """Replication ``r``'s :data:`INPUT_FIELDS` (row ``r`` of each array)."""
    return (t[0][r], t[1][r], t[2][r], t[3][r], t[4][r], t[5][r], t[6][r], t[7][r], t[8][r])


@njit(cache=True)
def _market_row(t, r):  # pragma: no cover
    """Replication ``r``'s :data:`MARKET_FIELDS` (row ``r`` of each array)."""
    return (t[0][r], t[1][r], t[2][r], t[3][r], t[4][r], t[5][r], t[6][r], t[7][r])


@njit(cache=True)
def _traders_row(t, r):  # pragma: no cover
    """Replication ``r``'s :data:`TRADER_FIELDS` (row ``r`` of each array)."""
    return (t[0][r], t[1][r], t[2][r], t[3][r], t[4][r], t[5][r], t[6][r], t[7][r], t[8][r],
            t[9][r], t[10][r], t[11][r], t[12][r], t[13][r], t[14][r], t[15][r], t[16][r],
            t[17][r])


@njit(cache=True)
def _smelters_row(t, r):  # pragma: no cover
    """Replication ``r``'s :data:`SMELTER_FIELDS` (row ``r`` of each array)."""
    return (t[0][r], t[1][r], t[2][r], t[3][r], t[4][r], t[5][r], t[6][r], t[7][r], t[8][r],
            t[9][r], t[10][r], t[11][r], t[12][r], t[13][r], t[14][r], t[15][r], t[16][r],
            t[17][r], t[18][r])


@njit(cache=True)
def batch_days(first, last, inp, mkt, tr, sm, values, cols):  # pragma: no cover
    """Market days ``first..last-1`` of R replications of one scenario in one call: each
    argument is :func:`market_days`' with a leading replication axis (array ``k`` of each
    tuple is ``(R, ...)``, ``values`` ``(R, days, regions, columns)``), replication ``r``
    advanced on row ``r`` of each as :func:`market_days` advances a single run, so its bytes
    are the same (:mod:`scrapsim.model.batch`)."""
    for r in range(values.shape[0]):
        market_days(first, last, _inputs_row(inp, r), _market_row(mkt, r), _traders_row(tr, r),
                    _smelters_row(sm, r), values[r], cols)


@njit(cache=True)
def smooth(x, alpha):  # pragma: no cover
    """Exponential smoothing along days, ``y[t] = y[t-1] + alpha·(x[t] − y[t-1])`` with
    ``y[-1] = 0``, of a ``[day, region]`` array (the perceived risk of
    :func:`scrapsim.model.inputs.build_inputs`): the same operations in the same order as a
    numpy loop over days, without its three array calls a day."""
    out = np.empty_like(x)
    n_days, n = x.shape
    for r in range(n):
        prev = 0.0
        for t in range(n_days):
            prev = prev + alpha * (x[t, r] - prev)
            out[t, r] = prev
    return out
