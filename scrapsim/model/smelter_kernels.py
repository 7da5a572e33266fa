"""Compiled passes over the smelter population (numba, cached on disk): planning (use and
bids), smelting, imports, deliveries and state summaries. Volumes in t (flows t/day), prices
CNY/t. :func:`scrapsim.model.kernels.market_day` runs them.
"""

from __future__ import annotations

import numpy as np

from scrapsim.model import market
from scrapsim.model.jit import njit

__all__ = ["BID_DAYS", "bid_terms", "demand_of", "land", "plan", "receive", "smelt",
           "state_summary"]

BID_DAYS = 5.0
"""Days over which a smelter closes the gap between its scrap stock and its target cover."""


@njit(cache=True)
def plan(region, capacity, metal_yield, cost, cover, rate0, response, margin0, running, stock,
         price, ingot, season, cut, use, bid, demand):  # pragma: no cover
    """Each smelter sets today's use (t) and bid (t); regional bids summed into ``demand``.

    Operating rate ``clip(rate0·season + response·(margin − margin0)/ingot, 0, 1)·(1 − cut)``;
    a running smelter with a positive margin bids use plus ``1/BID_DAYS`` of its gap to target
    cover.
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
            b = max(use[j] + (cover[j] * capacity[j] * rate0[j] - stock[j]) / BID_DAYS, 0.0)
        bid[j] = b
        demand[r] += b


@njit(cache=True)
def bid_terms(region, capacity, metal_yield, cost, cover, rate0, response, margin0, running,
              stock, ingot, season, n_regions, terms, starts):  # pragma: no cover
    """What a running smelter's bid depends on that does not change with the price, one row
    per running smelter (``terms``, rows of a region contiguous from ``starts[r]``): ingot ×
    yield, processing cost, rate0 × season, response, margin0, capacity, and ``1/BID_DAYS``
    of its gap to target cover. Returns the number of rows. The clearing evaluates demand at
    forty prices a day (:func:`demand_of`), so this is worked out once."""
    k, j = 0, 0
    for r in range(n_regions):
        starts[r] = k
        while j < len(capacity) and region[j] == r:  # smelters are sorted by region
            i, j = j, j + 1
            if running[i] <= 0.0:
                continue
            terms[k, 0] = ingot * metal_yield[i]
            terms[k, 1] = cost[i]
            terms[k, 2] = rate0[i] * season
            terms[k, 3] = response[i]
            terms[k, 4] = margin0[i]
            terms[k, 5] = capacity[i]
            terms[k, 6] = (cover[i] * capacity[i] * rate0[i] - stock[i]) / BID_DAYS
            k += 1
    starts[n_regions] = k
    return k


@njit(cache=True)
def demand_of(terms, lo, hi, price, ingot, cut):  # pragma: no cover
    """The bids (t) the running smelters in rows ``lo..hi-1`` of :func:`bid_terms` would make
    at ``price``, by the rule of :func:`plan`: none at a margin of 0 or less, else use at the
    operating rate ``clip(rate0·season + response·(margin − margin0)/ingot, 0, 1)·(1 − cut)``
    plus the gap term, at least 0."""
    total = 0.0
    for k in range(np.uint64(lo), np.uint64(hi)):   # unsigned: no wrapping of each subscript
        margin = terms[k, 0] - price - terms[k, 1]
        if margin <= 0.0:
            continue
        rate = terms[k, 2] + terms[k, 3] * (margin - terms[k, 4]) / ingot
        use = terms[k, 5] * min(max(rate, 0.0), 1.0) * (1.0 - cut)
        total += max(use + terms[k, 6], 0.0)
    return total


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
def state_summary(region, group, klass, state, running, capacity, until, counts,
                  running_by_class, import_share, import_regions):  # pragma: no cover
    """Smelter counts by [region, state] (states 0-4: running, halted, suspended, rectifying,
    closed) and running plants by [region·3 + class]; each large plant's share of its region's
    imports (running plants weighted 1, stopped but open ones 1e-6, closed 0) and, in
    ``import_regions``, the regions with a plant to land them at; returns the earliest day a
    suspension or rectification ends (inf if none). Every output is overwritten."""
    counts[:, :] = 0
    running_by_class[:] = 0.0
    import_share[:] = 0.0
    import_totals = np.zeros(len(import_regions))
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
    for r in range(len(import_regions)):
        import_regions[r] = import_totals[r] > 0
    return next_due
