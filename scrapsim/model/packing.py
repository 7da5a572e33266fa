"""The market day's arguments (:func:`scrapsim.model.kernels.market_day`): four tuples of arrays,
their fields by position, and :func:`pack`. Free of numba, so a run on the ahead-of-time loops
(:mod:`scrapsim.model.loops`) never imports it.
"""

from __future__ import annotations

__all__ = ["INPUT_FIELDS", "MARKET_FIELDS", "SMELTER_FIELDS", "TRADER_FIELDS", "pack"]

# Tuples, not namedtuples: numba types a plain tuple of arrays as fast as separate arguments; a
# namedtuple costs ~6 µs a call more. Fields by position:
INPUT_FIELDS = ("collection_season", "smelting_season", "ingot_paid", "risk", "generation",
                "output_cut", "anchor", "price_noise", "imports")
"""Whole-run input arrays, [day] or [day, region]: the kernel reads day ``d`` (and ``d + 1``
for tomorrow's price)."""
(I_CSEASON, I_SSEASON, I_INGOT, I_RISK, I_GENERATION, I_CUT, I_ANCHOR, I_NOISE,
 I_IMPORTS) = range(9)
MARKET_FIELDS = ("constants", "price", "price0", "uncollected", "volatility", "pressure",
                 "reference", "discount")
"""Regional market state, [region], changed in place; ``constants`` see :func:`market_day`;
``reference``: the lagged primary anchor (:func:`market.lag_reference`); ``discount``: the log
gap to it traders have learnt (:func:`market.learn_discount`); they expect
``reference·exp(discount)``."""
M_CONST, M_PRICE, M_PRICE0, M_UNCOLLECTED, M_VOL, M_PRESSURE, M_REF, M_DISCOUNT = range(8)
TRADER_FIELDS = ("bounds", "cost", "base", "base_total", "active_count", "tolerance",
                 "temper_eff", "stock", "offers", "collected", "elasticity", "cover",
                 "sell_days", "fast_out", "withhold", "hold", "cum", "room")
"""Trader arrays ([trader], or [region] for totals and regional behaviour; ``cum``
[trader + 1] and ``room``: buffers the day reuses, the offers' prefix sums and the room left
in each yard)."""
(T_BOUNDS, T_COST, T_BASE, T_BASE_TOTAL, T_ACTIVE, T_TOL, T_TEMPER, T_STOCK, T_OFFERS,
 T_COLLECTED, T_ELASTICITY, T_COVER, T_SELL_DAYS, T_FAST_OUT, T_WITHHOLD, T_HOLD,
 T_CUM, T_ROOM) = range(18)
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


