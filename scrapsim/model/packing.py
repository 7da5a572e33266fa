"""The market day's arguments (:func:`scrapsim.model.kernels.market_day`): four tuples of arrays,
their fields by position, and :func:`pack`; and those of a campaign's day
(:func:`scrapsim.model.campaign_kernels.campaign_day`). Free of numba, so a run on the
ahead-of-time loops (:mod:`scrapsim.model.loops`) never imports it.
"""

from __future__ import annotations

__all__ = ["CAMPAIGN_FIELDS", "CAMPAIGN_SMELTER_FIELDS", "CAMPAIGN_TRADER_FIELDS", "COLUMNS",
           "EVENTS", "FLAGS", "INPUT_FIELDS", "MARKET_FIELDS", "PARAMETERS", "SMELTER_FIELDS",
           "TRADER_FIELDS", "pack", "still_packed"]

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


# ---- the campaign day's arguments (:func:`scrapsim.model.campaign_kernels.campaign_day`) ----

EVENTS = ("inspection", "verification", "violation", "close", "verify_close", "false_close",
          "seize", "suspend", "upgrade", "fine", "reopen", "false_rectify", "rectify_fail_close",
          "rectify", "relapse")
"""Event names by code, as the event table spells them (the last five: deadlines and
relapses)."""
(E_INSPECTION, E_VERIFICATION, E_VIOLATION, E_CLOSE, E_VERIFY_CLOSE, E_FALSE_CLOSE, E_SEIZE,
 E_SUSPEND, E_UPGRADE, E_FINE, E_REOPEN, E_FALSE_RECTIFY, E_RECTIFY_FAIL_CLOSE,
 E_RECTIFY, E_RELAPSE) = range(15)
COLUMNS = ("inspections", "first_visits", "verifications", "violations", "fines",
           "seized_smelters", "seized_traders")
"""The daily columns the day adds to, in the order of the ``cols`` argument."""
C_INSPECTIONS, C_FIRST, C_VERIFICATIONS, C_VIOLATIONS, C_FINES, C_SEIZED_S, C_SEIZED_T = \
    range(7)
PARAMETERS = ("visits", "detect", "halted_detection", "large", "small", "workshop", "traders",
              "smelter_weight", "close", "suspend", "upgrade", "trader_close",
              "trader_suspend", "trader_upgrade", "suspend_days", "rectify_days",
              "rectify_failure", "fine", "false_report")
"""The campaign's numbers (a float array): the day's expected visits (teams × visits a team
a day × intensity), the chance of finding a violation that is there (drones included), that of
finding a halted one relative to it, the targeting weights, their smelters' sum, the sanction
shares' cumulative edges (smelters, then traders: close, + suspend, + upgrade), the
sanctions' days and rectification failure, the fine (CNY) and the share of false reports of
closure (0: all true)."""
(P_VISITS, P_DETECT, P_HALTED, P_LARGE, P_SMALL, P_WORKSHOP, P_TRADERS, P_SMELTER_WEIGHT,
 P_S_EDGES, _P1, _P2, P_T_EDGES, _P4, _P5, P_SUSPEND_DAYS, P_RECTIFY_DAYS, P_FAIL, P_FINE,
 P_FALSE) = range(19)
FLAGS = ("campaign", "lists", "verify", "per_site")
"""The campaign's switches (an int array): its index, then 0/1 for ``lists``, ``verify`` and
``per_site``."""
F_CAMPAIGN, F_LISTS, F_VERIFY, F_PER_SITE = range(4)
CAMPAIGN_FIELDS = ("parameters", "flags", "list_order", "unlicensed", "banned", "here",
                   "weight", "verify_by", "smelter_seen", "smelter_ever", "smelter_last",
                   "trader_pool", "trader_seen", "trader_ever", "trader_last")
"""The campaign and its rounds: :data:`PARAMETERS`, :data:`FLAGS`, the classes of its
``list_order`` (int), ``unlicensed_classes`` and ``ban_classes`` (bool per class), its regions'
smelters (bool per smelter), each smelter's weight on the lists (``capacity**size_bias``,
computed by numpy), the campaign that ordered each smelter to rectify (-1 none, changed in
place), and the rounds (seen this round, ever visited, day of the last visit) of its smelter
list and its trader list (the open traders of its regions, ids)."""
(K_PAR, K_FLAGS, K_ORDER, K_UNLICENSED, K_BANNED, K_HERE, K_WEIGHT, K_VERIFY_BY, K_S_SEEN,
 K_S_EVER, K_S_LAST, K_T_POOL, K_T_SEEN, K_T_EVER, K_T_LAST) = range(15)
CAMPAIGN_SMELTER_FIELDS = ("region", "klass", "state", "running", "violator", "until",
                           "next_days", "fail", "relapsed", "false_closed", "stock")
"""The smelters' arrays the day reads and changes (:class:`~scrapsim.model.actors.smelters.
Smelters`)."""
(CS_REGION, CS_KLASS, CS_STATE, CS_RUNNING, CS_VIOLATOR, CS_UNTIL, CS_NEXT_DAYS, CS_FAIL,
 CS_RELAPSED, CS_FALSE_CLOSED, CS_STOCK) = range(11)
CAMPAIGN_TRADER_FIELDS = ("region", "state", "violator", "stock", "capacity", "base",
                          "temper", "temper_eff", "base_total", "active_count", "until")
"""The traders' arrays the day reads and changes (:class:`~scrapsim.model.actors.traders.
Traders`)."""
(CT_REGION, CT_STATE, CT_VIOLATOR, CT_STOCK, CT_CAPACITY, CT_BASE, CT_TEMPER, CT_TEMPER_EFF,
 CT_BASE_TOTAL, CT_ACTIVE_COUNT, CT_UNTIL) = range(11)

# What the day changed, returned to Python (its last array): smelter states, a closure among
# them, trader states, a trader closed (1.0 for yes), and the earliest end of a trader's
# suspension it set (inf: none). A calendar day
# (:func:`scrapsim.model.sanction_kernels.calendar_day`) adds the traders' next end of a
# suspension after reopenings, 1.0 when the relapse clocks ran, and the next relapse day.
(CH_SMELTERS, CH_SMELTERS_CLOSED, CH_TRADERS, CH_TRADERS_CLOSED, CH_TRADER_DUE, CH_TRADER_NEXT,
 CH_CLOCKS, CH_NEXT_RELAPSE) = range(8)


def pack(obj: object, fields: tuple[str, ...]) -> tuple:
    """The tuple of ``obj``'s arrays named by ``fields`` (the arrays, not copies)."""
    return tuple(getattr(obj, f) for f in fields)


def still_packed(obj: object, fields: tuple[str, ...], packed: tuple) -> bool:
    """Whether ``packed`` (a :func:`pack` of ``obj``) still holds ``obj``'s arrays."""
    return len(packed) == len(fields) and all(
        a is getattr(obj, f) for a, f in zip(packed, fields, strict=True))
