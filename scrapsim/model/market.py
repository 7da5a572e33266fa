"""The scrap market as pure functions on regional arrays (no SimPy, no state).

Prices in CNY/t, volumes in t. Each region clears traders' supply against running smelters'
demand, both flows (t/day). The traded volume is ``min(supply, demand)``; the short side is
served in full and the long side pro rata to what each member offered or bid (the *pro-rata
rule*). The price each day moves part of the way to the one at which supply meets demand
(:func:`adjust_price`).

The functions are compiled loops over regions (numba, cached on disk): the model calls them
every day on arrays of a handful of regions, where numpy's per-call cost would dominate.
"""

from __future__ import annotations

import math

import numpy as np

from scrapsim.model.jit import njit

__all__ = [
    "adjust_price", "clear", "collection", "hold_factor", "interregional_flows", "lag_reference",
    "learn_discount", "offer_factor", "outside_flows", "price_pressure", "smelter_margin",
    "withhold_factor",
]


@njit(cache=True)
def price_pressure(demand: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """(demand − supply) / (demand + supply) in [−1, 1]; 0 where both are 0."""
    out = np.zeros(len(demand))
    for r in range(len(demand)):
        total = demand[r] + supply[r]
        if total > 0:
            out[r] = (demand[r] - supply[r]) / total
    return out


@njit(cache=True)
def clear(supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Traded volume and the shares of offers sold and of bids filled, per region (pro rata)."""
    n = len(supply)
    traded, sold, filled = np.zeros(n), np.zeros(n), np.zeros(n)
    for r in range(n):
        traded[r] = min(supply[r], demand[r])
        if supply[r] > 0:
            sold[r] = traded[r] / supply[r]
        if demand[r] > 0:
            filled[r] = traded[r] / demand[r]
    return traded, sold, filled


@njit(cache=True)
def lag_reference(reference: np.ndarray, anchor: np.ndarray, speed: float) -> None:
    """Move each region's reference price toward the primary anchor (primary − discount) by
    ``speed`` of the log gap per day, in place (CNY/t): scrap follows primary with a lag of
    about 1/speed days (FACTS pattern 4). Traders measure the scrap price against it
    (:func:`hold_factor`)."""
    for r in range(len(reference)):
        log_ref = math.log(reference[r])
        reference[r] = math.exp(log_ref + speed * (math.log(anchor[r]) - log_ref))


@njit(cache=True)
def learn_discount(discount: np.ndarray, price: np.ndarray, reference: np.ndarray,
                   rate: float) -> None:
    """Traders learn the usual log gap between the scrap price and the reference, in place:
    ``discount += rate·(log(price/reference) − discount)``. What they expect is
    ``reference·exp(discount)``: a gap that lasts (scrap cheap against primary because ingot
    lags) becomes normal after about 1/rate days, a sudden one (a glut) does not."""
    for r in range(len(discount)):
        discount[r] += rate * (math.log(price[r] / reference[r]) - discount[r])


@njit(cache=True)
def hold_factor(price: float, reference: float, elasticity: float) -> float:
    """Multiplier on what traders want to sell at ``price``: ``(price/reference)**elasticity``.

    Below the reference traders hold scrap back and wait, above it they sell more."""
    return (price / reference) ** elasticity


@njit(cache=True)
def adjust_price(price: np.ndarray, clearing: np.ndarray, speed: float, shock: np.ndarray,
                 floor: float, cap: float) -> np.ndarray:
    """Today's price: ``log p = log p_prev + speed·log(clearing/p_prev) + shock`` in [floor, cap].

    ``clearing`` is the price at which supply meets demand today; ``speed`` 1 clears fully,
    less is a partial adjustment (the price moves part of the way each clearing)."""
    out = np.empty(len(price))
    for r in range(len(price)):
        log_p = math.log(price[r])
        log_p += speed * (math.log(clearing[r]) - log_p) + shock[r]
        out[r] = min(max(math.exp(log_p), floor), cap)
    return out


@njit(cache=True)
def smelter_margin(ingot, metal_yield, scrap, processing_cost):
    """Margin per tonne of scrap smelted: ingot × yield − scrap − processing cost (CNY/t).

    Compiled for scalars (the daily kernel, one smelter at a time) and arrays alike."""
    return ingot * metal_yield - scrap - processing_cost


@njit(cache=True)
def collection(available: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Scrap collected from what waits at the sources, t/day.

    A matching function: ``available · (1 − exp(−wanted/available))``. It never exceeds either
    side, approaches ``wanted`` when scrap is plentiful (a backlog after a disruption is worked
    off at collection capacity) and ``available`` when traders are many.
    """
    out = np.zeros(len(available))
    for r in range(len(available)):
        if available[r] > 0:
            out[r] = min(available[r] * -math.expm1(-wanted[r] / available[r]), wanted[r])
    return out


@njit(cache=True)
def offer_factor(volatility: np.ndarray, gap: np.ndarray, fast_out: np.ndarray,
                 withhold: np.ndarray, volatility_ref: float) -> np.ndarray:
    """Divisor of traders' target yard cover, per region (1 in a calm market), at least 0.5.

    Yards are run down when prices are volatile ("fast in, fast out"):
    ``1 + fast_out·(v/v_ref − 1)`` kept in [0.5, 2]; built up in a rally (holders withhold):
    ``exp(−withhold · max(gap, 0))``, ``gap`` the log of the primary-implied value (primary −
    discount today) over the reference traders price scrap against (that value lagged,
    :func:`lag_reference`): how far scrap should still rise. The gap builds up as primary runs
    ahead and closes as the reference catches up, after the peak, so holders build their yards
    gradually in the rise and release them after it. Supply moves with the target: a factor
    above 1 sells stock down, below 1 holds scrap back.
    """
    out = np.empty(len(volatility))
    for r in range(len(volatility)):
        fast = min(max(1.0 + fast_out[r] * (volatility[r] / volatility_ref - 1.0), 0.5), 2.0)
        out[r] = max(fast * withhold_factor(gap[r], withhold[r]), 0.5)
    return out


@njit(cache=True)
def withhold_factor(gap: float, withhold: float) -> float:
    """Divisor of the target yard from withholding alone: ``exp(−withhold·max(gap, 0))``, at
    least 0.5 (the target at most doubles)."""
    return max(math.exp(-withhold * max(gap, 0.0)), 0.5)


@njit(cache=True)
def outside_flows(price: np.ndarray, stock: np.ndarray, reference: np.ndarray,
                  transport_cost: float, rate: float, out: np.ndarray,
                  into: np.ndarray) -> None:
    """Tonnes each region's traders ship to the rest of the country (``out``) and it ships in
    (``into``), by :func:`interregional_flows`' rule with the rest of the country as one more
    region at the ``reference`` price, holding as much as the region's own yards: ``rate ·
    (gap − cost)/cost`` of the yards a day where the gap exceeds the transport cost, at most
    half of them."""
    unit = max(transport_cost, 1.0)
    for r in range(len(price)):
        below = rate * max(reference[r] - price[r] - transport_cost, 0.0) / unit
        above = rate * max(price[r] - reference[r] - transport_cost, 0.0) / unit
        out[r] = min(below, 0.5) * stock[r]
        into[r] = min(above, 0.5) * stock[r]


@njit(cache=True)
def interregional_flows(price: np.ndarray, stock: np.ndarray, transport_cost: float,
                        rate: float, buyers: np.ndarray) -> np.ndarray:
    """Tonnes shipped from region i (row) to j (column) by traders, [region, region].

    Where ``price[j] − price[i]`` exceeds the transport cost, a share
    ``rate · (gap − cost)/cost`` of region i's trader stock moves to j; a region ships out at
    most half its stock a day. Nothing goes to a region whose ``buyers`` is 0 (no active
    trader to receive it), and that region takes no share of the half.
    """
    n = len(price)
    flows = np.zeros((n, n))
    unit = max(transport_cost, 1.0)
    for i in range(n):
        total = 0.0
        for j in range(n):
            if buyers[j] > 0:
                flows[i, j] = rate * max(price[j] - price[i] - transport_cost, 0.0) / unit
            total += flows[i, j]
        scale = 0.5 / total if total > 0.5 else 1.0
        for j in range(n):
            flows[i, j] *= scale * stock[i]
    return flows
