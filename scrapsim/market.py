"""The scrap market as pure functions on regional arrays (no SimPy, no state).

Prices in CNY/t, volumes in t. Each region clears traders' offers against running smelters'
bids. The traded volume is ``min(supply, demand)``; the short side is served in full and the long
side pro rata to what each member offered or bid (the *pro-rata rule*).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "clear", "collection", "interregional_flows", "offer_factor", "price_pressure",
    "price_step", "smelter_margin",
]


def price_pressure(demand: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """(demand − supply) / (demand + supply) in [−1, 1]; 0 where both are 0."""
    total = demand + supply
    out = np.zeros_like(total, dtype=float)
    np.divide(demand - supply, total, out=out, where=total > 0)
    return out


def clear(supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Traded volume and the shares of offers sold and of bids filled, per region (pro rata)."""
    traded = np.minimum(supply, demand)
    sold = np.zeros_like(traded)
    filled = np.zeros_like(traded)
    np.divide(traded, supply, out=sold, where=supply > 0)
    np.divide(traded, demand, out=filled, where=demand > 0)
    return traded, sold, filled


def price_step(price: np.ndarray, pressure: np.ndarray, anchor: float | np.ndarray,
               speed: float, anchor_speed: float, shock: np.ndarray,
               floor: float, cap: float) -> np.ndarray:
    """Next scrap price: log-price moves with excess demand and toward ``anchor``.

    ``log p' = log p + speed·pressure + anchor_speed·log(anchor/p) + shock``, kept in
    [floor, cap]. The anchor term makes scrap follow the primary price with a lag of about
    1/anchor_speed days (FACTS pattern 4).
    """
    log_p = np.log(price)
    log_p = log_p + speed * pressure + anchor_speed * (np.log(anchor) - log_p) + shock
    return np.clip(np.exp(log_p), floor, cap)


def smelter_margin(ingot: float, metal_yield: np.ndarray, scrap: np.ndarray,
                   processing_cost: np.ndarray) -> np.ndarray:
    """Margin per tonne of scrap smelted: ingot × yield − scrap − processing cost (CNY/t)."""
    return ingot * metal_yield - scrap - processing_cost


def collection(available: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Scrap collected from what waits at the sources, t/day.

    A matching function: ``available · (1 − exp(−wanted/available))``. It never exceeds either
    side, approaches ``wanted`` when scrap is plentiful (a backlog after a disruption is worked
    off at collection capacity) and ``available`` when traders are many.
    """
    out = np.zeros_like(available, dtype=float)
    ok = available > 0
    out[ok] = available[ok] * -np.expm1(-wanted[ok] / available[ok])
    return np.minimum(out, wanted)


def offer_factor(volatility: np.ndarray, trend: np.ndarray, fast_out: float, withhold: float,
                 volatility_ref: float, trend_ref: float) -> np.ndarray:
    """Multiplier on the calm-market offer share, per region.

    More is offered when prices are volatile ("fast in, fast out"): ``1 + fast_out·(v/v_ref − 1)``
    kept in [0.5, 2]; less when they rise fast (holders withhold in a rally):
    ``exp(−withhold · max(trend, 0)/trend_ref)``.
    """
    fast = np.clip(1.0 + fast_out * (volatility / volatility_ref - 1.0), 0.5, 2.0)
    return fast * np.exp(-withhold * np.maximum(trend, 0.0) / trend_ref)


def interregional_flows(price: np.ndarray, stock: np.ndarray, transport_cost: float,
                        rate: float) -> np.ndarray:
    """Tonnes shipped from region i (row) to j (column) by traders, [region, region].

    Where ``price[j] − price[i]`` exceeds the transport cost, a share
    ``rate · (gap − cost)/cost`` of region i's trader stock moves to j; a region ships out at
    most half its stock a day.
    """
    gap = price[None, :] - price[:, None] - transport_cost
    share = rate * np.maximum(gap, 0.0) / max(transport_cost, 1.0)
    total = share.sum(axis=1)
    scale = np.where(total > 0.5, 0.5 / np.maximum(total, 1e-300), 1.0)
    return share * scale[:, None] * stock[:, None]
