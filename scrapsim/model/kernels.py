"""Compiled inner loops of the market day (numba), one pass over each population.

A day touches every trader and smelter a few times. As numpy expressions that was about sixty
small array calls, each paying ~1 µs of dispatch whatever its length; here each step is one
compiled loop, and :func:`market_day` runs a whole market day in one call, composed of the
other kernels and of the pure functions of :mod:`scrapsim.model.market` (compiled too), so every
economic rule is written once. The methods of :mod:`scrapsim.model.actors` call the same kernels.
Compiled code is cached on disk (``cache=True``): only the first run on a machine compiles
(about 9 s on the reference machine).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scrapsim.model import market

__all__ = [
    "INPUT_FIELDS", "MARKET_FIELDS", "SMELTER_FIELDS", "TRADER_FIELDS", "clear_day", "collect",
    "follow", "land", "market_day", "offer", "pack", "plan", "receive", "region_sums", "sell",
    "ship", "ship_day", "smelt", "state_summary", "stock_up", "wanted",
]


@njit(cache=True)
def wanted(bounds, cost, base, tolerance, price, risk, factor, out):  # pragma: no cover
    """Per region: t/day traders want to collect (cost below price, tolerance above risk)."""
    for r in range(len(price)):
        total = 0.0
        for i in range(bounds[r], bounds[r + 1]):
            if cost[i] >= price[r]:
                break  # traders are sorted by cost within their region
            if tolerance[i] > risk[r]:
                total += base[i]
        out[r] = total * factor[r]


@njit(cache=True)
def stock_up(bounds, cost, base, tolerance, price, risk, ratio, stock):  # pragma: no cover
    """Add each collecting trader's share (``base × ratio``) of the regional collection."""
    for r in range(len(price)):
        if ratio[r] <= 0.0:
            continue
        for i in range(bounds[r], bounds[r + 1]):
            if cost[i] >= price[r]:
                break
            if tolerance[i] > risk[r]:
                stock[i] += base[i] * ratio[r]


@njit(cache=True)
def offer(bounds, temper_eff, share, stock, offers, out):  # pragma: no cover
    """Each trader offers ``min(temper × share[r], 1)`` of its yard; regional totals in ``out``."""
    for r in range(len(share)):
        total = 0.0
        for i in range(bounds[r], bounds[r + 1]):
            o = min(temper_eff[i] * share[r], 1.0) * stock[i]
            offers[i] = o
            total += o
        out[r] = total


@njit(cache=True)
def sell(bounds, sold, offers, stock):  # pragma: no cover
    """Remove the sold share of each offer from its yard."""
    for r in range(len(sold)):
        if sold[r] <= 0.0:
            continue
        for i in range(bounds[r], bounds[r + 1]):
            stock[i] -= offers[i] * sold[r]


@njit(cache=True)
def ship(bounds, keep, spread, base, stock):  # pragma: no cover
    """Yards keep ``keep[r]`` of their stock and receive ``base × spread[r]`` of inflows."""
    for r in range(len(keep)):
        for i in range(bounds[r], bounds[r + 1]):
            stock[i] = stock[i] * keep[r] + base[i] * spread[r]


@njit(cache=True)
def region_sums(bounds, x, out):  # pragma: no cover
    """Regional totals of a population array whose regions are contiguous."""
    for r in range(len(bounds) - 1):
        total = 0.0
        for i in range(bounds[r], bounds[r + 1]):
            total += x[i]
        out[r] = total


@njit(cache=True)
def plan(region, capacity, metal_yield, cost, cover, rate0, response, margin0, running, stock,
         price, ingot, season, cut, use, bid, demand):  # pragma: no cover
    """Each smelter sets today's use (t) and bid (t); regional bids summed into ``demand``.

    Operating rate ``clip(rate0·season + response·(margin − margin0)/ingot, 0, 1)·(1 − cut)``;
    a running smelter with a positive margin bids use plus a fifth of its gap to target cover.
    """
    demand[:] = 0.0
    for j in range(len(capacity)):
        r = region[j]
        margin = market.smelter_margin(ingot, metal_yield[j], price[r], cost[j])
        rate = rate0[j] * season + response[j] * (margin - margin0[j]) / ingot
        rate = min(max(rate, 0.0), 1.0) * (1.0 - cut[r])
        use[j] = capacity[j] * rate * running[j]
        b = 0.0
        if margin > 0.0 and running[j] > 0.0:
            b = max(use[j] + (cover[j] * capacity[j] * rate0[j] - stock[j]) / 5.0, 0.0)
        bid[j] = b
        demand[r] += b


@njit(cache=True)
def smelt(region, group, metal_yield, use, stock, smelted, smelted_r, ingot_r, by_group,
          stock_r, violator, violating_r):  # pragma: no cover
    """Each smelter smelts up to its use from stock; regional and class totals filled in, and
    ``violating_r``: the scrap smelted by violating (non-compliant) smelters per region."""
    smelted_r[:] = 0.0
    ingot_r[:] = 0.0
    by_group[:] = 0.0
    stock_r[:] = 0.0
    violating_r[:] = 0.0
    for j in range(len(use)):
        r = region[j]
        s = min(use[j], stock[j])
        stock[j] -= s
        smelted[j] = s
        smelted_r[r] += s
        ingot_r[r] += s * metal_yield[j]
        by_group[group[j]] += s
        stock_r[r] += stock[j]
        if violator[j]:
            violating_r[r] += s


@njit(cache=True)
def follow(old, new, volatility, trend, a_vol, a_trend, primary_change):  # pragma: no cover
    """Update the moving volatility and trend of each region after a price step (in place)."""
    for r in range(len(old)):
        change = math.log(new[r] / old[r])
        volatility[r] += a_vol * (abs(change) - volatility[r])
        trend[r] += a_trend * (0.5 * (change + primary_change) - trend[r])


@njit(cache=True)
def land(region, import_share, open_regions, imports, stock, landed):  # pragma: no cover
    """Imports land at large plants by ``import_share``; ``landed`` per region (0 where no
    large plant is open)."""
    for j in range(len(stock)):
        stock[j] += import_share[j] * imports[region[j]]
    for r in range(len(imports)):
        landed[r] = imports[r] if open_regions[r] else 0.0


@njit(cache=True)
def receive(region, bid, filled, stock):  # pragma: no cover
    """Each smelter's stock grows by the filled share of its bid."""
    for j in range(len(bid)):
        stock[j] += bid[j] * filled[region[j]]


@njit(cache=True)
def collect(bounds, cost, base, tolerance, price, price0, elasticity, risk, season, available,
            stock):  # pragma: no cover
    """One day's collection; returns t collected per region.

    A trader collects if its cost is below the price and its risk tolerance above the
    perceived enforcement risk, at capacity scaled by ``season·(price/price0)**elasticity``;
    :func:`market.collection` says how much of what waits at the sources the region gets, and
    each trader gets its capacity's share of it."""
    n = len(price)
    factor = np.empty(n)
    for r in range(n):
        factor[r] = season * (price[r] / price0[r]) ** elasticity[r]
    want = np.zeros(n)
    wanted(bounds, cost, base, tolerance, price, risk, factor, want)
    got = market.collection(available, want)
    ratio = np.zeros(n)
    for r in range(n):
        if want[r] > 0:
            ratio[r] = got[r] / want[r] * factor[r]
    stock_up(bounds, cost, base, tolerance, price, risk, ratio, stock)
    return got


@njit(cache=True)
def clear_day(trade, bounds, temper_eff, offer_share, tstock, offers, volatility, trend,
              fast_out, withhold, volatility_ref, trend_ref, region, capacity, metal_yield, cost,
              cover, rate0, response, margin0, running, sstock, use, bid, price, ingot, season,
              cut, out):  # pragma: no cover
    """Smelters plan; when ``trade``, the region clears: offers, pro-rata trade, stocks move.

    Writes per region into ``out``: offered, demanded, traded (t) and price pressure (NaN on a
    day without clearing).
    """
    n = len(price)
    demand = np.zeros(n)
    plan(region, capacity, metal_yield, cost, cover, rate0, response, margin0, running, sstock,
         price, ingot, season, cut, use, bid, demand)
    out[:, :] = 0.0
    out[:, 3] = np.nan
    if not trade:
        return
    factor = market.offer_factor(volatility, trend, fast_out, withhold, volatility_ref,
                                 trend_ref)
    offered = np.zeros(n)
    offer(bounds, temper_eff, factor * offer_share, tstock, offers, offered)
    traded, sold, filled = market.clear(offered, demand)
    sell(bounds, sold, offers, tstock)
    receive(region, bid, filled, sstock)
    pressure = market.price_pressure(demand, offered)
    for r in range(n):
        out[r, 0], out[r, 1], out[r, 2], out[r, 3] = offered[r], demand[r], traded[r], pressure[r]


@njit(cache=True)
def state_summary(region, group, klass, state, running, capacity, until, counts,
                  running_by_class, import_share, import_totals):  # pragma: no cover
    """Smelter counts by [region, state] (states 0-4: running, halted, suspended, rectifying,
    closed) and running plants by [region·3 + class]; each large plant's share of its region's
    imports (running plants weighted 1, stopped but open ones 1e-6, closed 0); returns the
    earliest day a suspension or rectification ends (inf if none)."""
    next_due = np.inf
    for j in range(len(state)):
        r, st = region[j], state[j]
        counts[r, st] += 1
        running_by_class[group[j]] += running[j]
        if klass[j] == 0 and st != 4:
            w = capacity[j] * (1.0 if running[j] > 0 else 1e-6)
            import_share[j] = w
            import_totals[r] += w
        if (st == 2 or st == 3) and until[j] < next_due:
            next_due = until[j]
    for j in range(len(state)):
        if import_share[j] > 0:
            import_share[j] /= import_totals[region[j]]
    return next_due


@njit(cache=True)
def ship_day(price, bounds, base, base_total, active_count, stock, transport_cost, rate,
             inflow, outflow):  # pragma: no cover
    """Traders ship scrap to regions whose price exceeds theirs by more than the transport
    cost (none into a region without active traders); fills ``inflow`` and ``outflow``."""
    n = len(price)
    held = np.zeros(n)
    region_sums(bounds, stock, held)
    flows = market.interregional_flows(price, held, transport_cost, rate)
    inflow[:] = 0.0
    outflow[:] = 0.0
    for i in range(n):
        for j in range(n):
            if active_count[j] > 0:
                outflow[i] += flows[i, j]
                inflow[j] += flows[i, j]
    keep, spread = np.ones(n), np.zeros(n)
    for r in range(n):
        if held[r] > 0:
            keep[r] = 1.0 - outflow[r] / held[r]
        if base_total[r] > 0:
            spread[r] = inflow[r] / base_total[r]
    ship(bounds, keep, spread, base, stock)


# ---- the day's arguments: four tuples of arrays (numba types a plain tuple of arrays as
# fast as separate arguments; a namedtuple costs ~6 µs a call more). Fields by position:
INPUT_FIELDS = ("collection_season", "smelting_season", "ingot", "primary_change", "risk",
                "generation", "output_cut", "anchor", "price_noise", "imports")
"""Whole-run input arrays, [day] or [day, region]: the kernel reads day ``d`` (and ``d + 1``
for tomorrow's price)."""
(I_CSEASON, I_SSEASON, I_INGOT, I_PRIMARY_CHANGE, I_RISK, I_GENERATION, I_CUT, I_ANCHOR,
 I_NOISE, I_IMPORTS) = range(10)
MARKET_FIELDS = ("constants", "price", "price0", "uncollected", "volatility", "trend",
                 "pressure")
"""Regional market state, [region], changed in place; ``constants`` see :func:`market_day`."""
M_CONST, M_PRICE, M_PRICE0, M_UNCOLLECTED, M_VOL, M_TREND, M_PRESSURE = range(7)
TRADER_FIELDS = ("bounds", "cost", "base", "base_total", "active_count", "tolerance",
                 "temper_eff", "stock", "offers", "elasticity", "offer_share", "fast_out",
                 "withhold")
"""Trader arrays ([trader], or [region] for totals and regional behaviour)."""
(T_BOUNDS, T_COST, T_BASE, T_BASE_TOTAL, T_ACTIVE, T_TOL, T_TEMPER, T_STOCK, T_OFFERS,
 T_ELASTICITY, T_OFFER_SHARE, T_FAST_OUT, T_WITHHOLD) = range(13)
SMELTER_FIELDS = ("region", "group", "capacity", "metal_yield", "cost", "cover", "rate0",
                  "response", "margin0", "running", "stock", "use", "bid", "smelted",
                  "import_share", "import_regions", "counts", "running_by_class", "violator")
"""Smelter arrays ([smelter]; ``import_regions`` [region], ``counts`` [region, state],
``running_by_class`` [region, class]; ``violator`` [smelter] bool, changed in place)."""
(S_REGION, S_GROUP, S_CAPACITY, S_YIELD, S_COST, S_COVER, S_RATE0, S_RESPONSE, S_MARGIN0,
 S_RUNNING, S_STOCK, S_USE, S_BID, S_SMELTED, S_IMPORT_SHARE, S_IMPORT_REGIONS, S_COUNTS,
 S_RUNNING_BY_CLASS, S_VIOLATOR) = range(19)


def pack(obj: object, fields: tuple[str, ...]) -> tuple:
    """The tuple of ``obj``'s arrays named by ``fields`` (the arrays, not copies)."""
    return tuple(getattr(obj, f) for f in fields)


@njit(cache=True)
def market_day(day, inp, mkt, tr, sm, values, cols):  # pragma: no cover
    """One market day in one compiled call: collection, shipping, clearing, smelting, the
    day's row (``values[day]``, columns ``cols``, see ``simulation.KERNEL_COLUMNS``) and
    tomorrow's price.

    ``inp``, ``mkt``, ``tr``, ``sm``: the tuples of :data:`INPUT_FIELDS`, :data:`MARKET_FIELDS`,
    :data:`TRADER_FIELDS`, :data:`SMELTER_FIELDS`. ``mkt[M_CONST]`` holds the market
    constants: price_speed, anchor_speed, price_floor, price_cap, volatility_ref, trend_ref,
    transport_cost, flow_rate, 1/volatility_days, 1/trend_days, clearing_days.
    """
    mk, price, pressure = mkt[M_CONST], mkt[M_PRICE], mkt[M_PRESSURE]
    uncollected, volatility, trend = mkt[M_UNCOLLECTED], mkt[M_VOL], mkt[M_TREND]
    tb, tstock, tactive = tr[T_BOUNDS], tr[T_STOCK], tr[T_ACTIVE]
    region, sstock, counts, by_class = sm[S_REGION], sm[S_STOCK], sm[S_COUNTS], \
        sm[S_RUNNING_BY_CLASS]
    n_days = len(inp[I_INGOT])
    trade = day % int(mk[10]) == 0
    has_next = day + 1 < n_days
    nxt = min(day + 1, n_days - 1)
    row = values[day]
    n = len(price)
    imports = np.zeros(n)
    land(region, sm[S_IMPORT_SHARE], sm[S_IMPORT_REGIONS], inp[I_IMPORTS][day], sstock, imports)
    available = uncollected + inp[I_GENERATION][day]
    got = collect(tb, tr[T_COST], tr[T_BASE], tr[T_TOL], price, mkt[M_PRICE0],
                  tr[T_ELASTICITY], inp[I_RISK][day], inp[I_CSEASON][day], available, tstock)
    for r in range(n):
        uncollected[r] = available[r] - got[r]
    inflow, outflow = np.zeros(n), np.zeros(n)
    if n > 1 and mk[7] > 0:
        ship_day(price, tb, tr[T_BASE], tr[T_BASE_TOTAL], tactive, tstock, mk[6], mk[7],
                 inflow, outflow)
    cleared = np.empty((n, 4))
    clear_day(trade, tb, tr[T_TEMPER], tr[T_OFFER_SHARE], tstock, tr[T_OFFERS], volatility,
              trend, tr[T_FAST_OUT], tr[T_WITHHOLD], mk[4], mk[5], region, sm[S_CAPACITY],
              sm[S_YIELD], sm[S_COST], sm[S_COVER], sm[S_RATE0], sm[S_RESPONSE], sm[S_MARGIN0],
              sm[S_RUNNING], sstock, sm[S_USE], sm[S_BID], price, inp[I_INGOT][day],
              inp[I_SSEASON][day], inp[I_CUT][day], cleared)
    if trade:
        pressure[:] = cleared[:, 3]
    smelted_r, ingot_r, stock_r, by_group = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(3 * n)
    violating_r = np.zeros(n)
    smelt(region, sm[S_GROUP], sm[S_YIELD], sm[S_USE], sstock, sm[S_SMELTED], smelted_r,
          ingot_r, by_group, stock_r, sm[S_VIOLATOR], violating_r)
    held = np.zeros(n)
    region_sums(tb, tstock, held)
    for r in range(n):
        values_r = (uncollected[r], got[r], inflow[r], outflow[r], held[r], cleared[r, 0],
                    cleared[r, 1], cleared[r, 2], stock_r[r], smelted_r[r],
                    min(ingot_r[r], smelted_r[r]), price[r], pressure[r], by_group[3 * r],
                    by_group[3 * r + 1], by_group[3 * r + 2], imports[r], tactive[r],
                    float(counts[r, 0]), float(counts[r, 1]), float(counts[r, 2]),
                    float(counts[r, 3]), float(counts[r, 4]), by_class[r, 0],
                    by_class[r, 1], by_class[r, 2], violating_r[r])
        for k in range(len(cols)):
            row[r, cols[k]] = values_r[k]
    if has_next and trade:
        new = market._price_step(price, pressure, inp[I_ANCHOR][nxt], mk[0], mk[1],
                                 inp[I_NOISE][nxt], mk[2], mk[3])
        follow(price, new, volatility, trend, mk[8], mk[9], inp[I_PRIMARY_CHANGE][nxt])
        price[:] = new
