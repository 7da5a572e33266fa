"""A campaign's day of inspections in one compiled call (numba): visits, findings, sanctions.

:func:`campaign_day` is :meth:`scrapsim.model.actors.regulators.Regulator`'s day of a campaign:
the Poisson number of visits, verification visits of sites it ordered to rectify, the split of
the rest over its lists (large, small and workshop smelters, traders) by weight, each list's
sites in rounds (:func:`~scrapsim.model.draws.pick_round`), detection, each violation's
sanction and the state changes it makes (closures, false reports of closure, suspensions,
upgrade orders, fines), the day's enforcement totals and one event row per visit and change.
It draws on the campaign's own ``numpy.random.Generator`` (and the false reports' one) as the
numpy code it replaces did, draw for draw: numba's generator methods call the generator's bit
generator, and ``Generator.multinomial``, which numba lacks, is :func:`multinomial`, numpy's
algorithm on numba's ``binomial`` (numpy's too). So the sites, their order, the events and
the generators' states are those of the numpy code (``benchmarks/table_hashes.py`` checks the
shipped scenarios' tables; ``tests/test_campaign_day.py`` the draws and the variants).

Events are rows of two arrays returned to Python, ``(time, value)`` floats and ``(region,
actor, id, campaign, event)`` integers (:data:`EVENTS` names the event codes), in the order
the numpy code logged them. The arguments are tuples of arrays named by
:mod:`scrapsim.model.packing` (``CAMPAIGN_FIELDS``, ``CAMPAIGN_SMELTER_FIELDS``,
``CAMPAIGN_TRADER_FIELDS``); :mod:`scrapsim.model.sanction_kernels` holds the state changes.
"""

from __future__ import annotations

import numpy as np

from scrapsim.model import packing as pk
from scrapsim.model import sanction_kernels as sk
from scrapsim.model.draws import draw_uniform, pick_round
from scrapsim.model.jit import njit

__all__ = ["campaign_day", "campaign_day_one_stream", "multinomial"]

RUNNING, HALTED, SUSPENDED, RECTIFYING, CLOSED = range(5)
T_ACTIVE, T_SUSPENDED, T_CLOSED = range(3)
TRADER, SMELTER = 0, 1


@njit(cache=True)
def multinomial(rng, n, pvals):  # pragma: no cover
    """``Generator.multinomial(n, pvals)`` of numpy (its ``random_multinomial``): a binomial
    draw per category but the last, of what is left at the category's share of what is
    left."""
    d = pvals.size
    out = np.zeros(d, dtype=np.int64)
    remaining, left = 1.0, n
    for j in range(d - 1):
        out[j] = rng.binomial(left, pvals[j] / remaining)
        left -= out[j]
        if left <= 0:
            break
        remaining -= pvals[j]
    if left > 0:
        out[d - 1] = left
    return out


@njit(cache=True)
def _sum(x):  # pragma: no cover
    """numpy's sum of a short array (fewer than 8 items: in order, from 0)."""
    total = 0.0
    for v in x:
        total += v
    return total


@njit(cache=True, inline="always")
def _sanction(camp, sm, tr, actor, ids, times, rng, reports, values, day, cols, n_regions,
              ft, it, k, changes):  # pragma: no cover
    """``Regulator._sanction``: log and count the violations, draw their sanctions (banned
    classes closed whatever the draw) and apply them, one sanction at a time in code order."""
    par, campaign = camp[pk.K_PAR], camp[pk.K_FLAGS][pk.F_CAMPAIGN]
    region = sm[pk.CS_REGION] if actor == SMELTER else tr[pk.CT_REGION]
    k = sk.rows(ft, it, k, times, region, actor, ids, campaign, pk.E_VIOLATION, np.zeros(1))
    sk.add_counts(values, day, cols[pk.C_VIOLATIONS], region, ids, n_regions, 1.0)
    kind = sk.kinds(rng, ids.size, par, pk.P_S_EDGES if actor == SMELTER else pk.P_T_EDGES)
    if actor == SMELTER:
        banned = camp[pk.K_BANNED]
        for m in range(ids.size):
            if banned[sm[pk.CS_KLASS][ids[m]]]:
                kind[m] = 0
    fine = np.full(1, par[pk.P_FINE])
    for s in range(4):
        sel = kind == s
        if not sel.any():
            continue
        who, when = ids[sel], times[sel]
        if s == 3:
            k = sk.rows(ft, it, k, when, region, actor, who, campaign, pk.E_FINE, fine)
            sk.add_counts(values, day, cols[pk.C_FINES], region, who, n_regions, par[pk.P_FINE])
        elif actor == SMELTER and s == 0:
            k = sk.close_smelters(sm, who, when, campaign, pk.E_CLOSE, reports, par[pk.P_FALSE],
                                  values, day, cols, n_regions, ft, it, k, changes)
        elif actor == SMELTER:
            suspend = s == 1
            k = sk.stop_smelters(sm, who, when, campaign, SUSPENDED if suspend else RECTIFYING,
                                 par[pk.P_SUSPEND_DAYS if suspend else pk.P_RECTIFY_DAYS],
                                 par[pk.P_RECTIFY_DAYS], par[pk.P_FAIL],
                                 pk.E_SUSPEND if suspend else pk.E_UPGRADE, ft, it, k, changes)
            sk.order(camp[pk.K_VERIFY_BY], who, campaign)
        elif s == 0:
            k = sk.close_traders(tr, who, when, campaign, values, day, cols, n_regions, ft, it, k,
                                 changes)
        else:                               # suspended, or ordered to upgrade: stopped
            until = np.floor(when) + par[pk.P_SUSPEND_DAYS]
            sk.set_traders(tr, who, T_SUSPENDED, until, changes)
            k = sk.rows(ft, it, k, when, region, TRADER, who, campaign, pk.E_SUSPEND, np.zeros(1))
    return k


@njit(cache=True, inline="always")
def _visits(camp, actor, ids, times, region, values, day, cols, n_regions, ft, it,
            k):  # pragma: no cover
    """Log and count inspections (value 1 on a site's first visit by the campaign)."""
    ever = camp[pk.K_S_EVER] if actor == SMELTER else camp[pk.K_T_EVER]
    first = ~ever[ids]
    ever[ids] = True
    k = sk.rows(ft, it, k, times, region, actor, ids, camp[pk.K_FLAGS][pk.F_CAMPAIGN],
                pk.E_INSPECTION, first.astype(np.float64))
    sk.add_counts(values, day, cols[pk.C_INSPECTIONS], region, ids, n_regions, 1.0)
    sk.add_counts(values, day, cols[pk.C_FIRST], region, ids[first], n_regions, 1.0)
    return k


@njit(cache=True, inline="always")
def _verify(camp, sm, day, n, rng, reports, values, cols, n_regions, ft, it, k,
            changes):  # pragma: no cover
    """``Regulator._verify``: up to ``n`` verification visits of the sites this campaign
    ordered to rectify that are running again; returns (rows, visits made)."""
    par, flags = camp[pk.K_PAR], camp[pk.K_FLAGS]
    campaign, verify_by, state = flags[pk.F_CAMPAIGN], camp[pk.K_VERIFY_BY], sm[pk.CS_STATE]
    mine = verify_by == campaign
    sk.order(verify_by, np.flatnonzero(mine & (state == CLOSED)), -1)
    due = np.flatnonzero(mine & (state == RUNNING))
    if due.size == 0:
        return k, 0
    ids = draw_uniform(due, n, rng)
    sk.order(verify_by, ids, -1)
    camp[pk.K_S_SEEN][ids] = True
    camp[pk.K_S_LAST][ids] = day
    times = day + 0.5 * np.sort(rng.random(ids.size))
    found = sm[pk.CS_VIOLATOR][ids] & (rng.random(ids.size) < par[pk.P_DETECT])
    region = sm[pk.CS_REGION]
    if flags[pk.F_VERIFY]:
        k = sk.rows(ft, it, k, times, region, SMELTER, ids, campaign, pk.E_VERIFICATION,
                    found.astype(np.float64))
        sk.add_counts(values, day, cols[pk.C_VERIFICATIONS], region, ids, n_regions, 1.0)
    else:
        k = sk.rows(ft, it, k, times, region, SMELTER, ids, campaign, pk.E_INSPECTION, np.zeros(1))
        sk.add_counts(values, day, cols[pk.C_INSPECTIONS], region, ids, n_regions, 1.0)
        if found.any():
            k = sk.rows(ft, it, k, times[found], region, SMELTER, ids[found], campaign,
                        pk.E_VIOLATION, np.zeros(1))
            sk.add_counts(values, day, cols[pk.C_VIOLATIONS], region, ids[found], n_regions, 1.0)
    if found.any():
        k = sk.close_smelters(sm, ids[found], times[found], campaign, pk.E_VERIFY_CLOSE,
                              reports, 0.0, values, day, cols, n_regions, ft, it, k, changes)
    return k, ids.size


@njit(cache=True, inline="always")
def _lists(camp, sm):  # pragma: no cover
    """``Regulator._pools``' smelter lists: the open smelters of each class in the campaign's
    regions (with lists, those under a sanction or awaiting verification are off them); the
    ids, the cumulative weights and the weights taken back from them (``np.diff``)."""
    state, here = sm[pk.CS_STATE], camp[pk.K_HERE].copy()
    lists, verify_by = camp[pk.K_FLAGS][pk.F_LISTS], camp[pk.K_VERIFY_BY]
    for j in range(here.size):
        st = state[j]
        off = lists and (verify_by[j] >= 0 or st in (SUSPENDED, RECTIFYING))
        if st == CLOSED or off:
            here[j] = False
    out = []
    for c in range(3):
        ids = np.flatnonzero(here & (sm[pk.CS_KLASS] == c))
        cum = np.cumsum(camp[pk.K_WEIGHT][ids])
        w = np.empty(ids.size)
        for m in range(ids.size):
            w[m] = cum[m] - (cum[m - 1] if m else 0.0)
        out.append((ids, cum, w))
    return out


@njit(cache=True, inline="always")
def _split(par, flags, sizes):  # pragma: no cover
    """``Regulator._split``: the four lists' weights (empty lists none; with ``per_site`` the
    smelters' total weight split by weight × list length)."""
    w = np.empty(3)
    for c in range(3):
        w[c] = par[pk.P_LARGE + c] * (1.0 if sizes[c] > 0 else 0.0)
    if flags[pk.F_PER_SITE] and _sum(w) > 0:
        sized = np.empty(3)
        for c in range(3):
            sized[c] = w[c] * sizes[c]
        total = _sum(sized)
        if total:
            for c in range(3):
                w[c] = par[pk.P_SMELTER_WEIGHT] * sized[c] / total
    out = np.empty(4)
    out[:3] = w
    out[3] = par[pk.P_TRADERS] if sizes[3] else 0.0
    return out


@njit(cache=True, inline="always")
def _allot(counts, weights, sizes, rng):  # pragma: no cover
    """:func:`scrapsim.model.actors.lists.allot`: visits per list capped at its length, the
    visits over a cap to the lists with room by weight (a few passes, then dropped)."""
    for _ in range(4):
        over = np.maximum(counts - sizes, 0)
        if not over.any():
            break
        counts = counts - over
        room = weights * (counts < sizes)
        total = _sum(room)
        if total <= 0:
            break
        counts = counts + multinomial(rng, over.sum(), room / total)
    return np.minimum(counts, sizes)


@njit(cache=True, inline="always")
def _in_order(order, seen, lists, k):  # pragma: no cover
    """``Regulator._in_order``: ``k`` smelter visits over the lists worked in ``order``."""
    out = np.zeros(3, dtype=np.int64)
    for j in order:
        take = min(k, int((~seen[lists[j][0]]).sum()))
        out[j], k = take, k - take
    for j in order:
        take = min(k, lists[j][0].size - out[j])
        out[j], k = out[j] + take, k - take
    return out


@njit(cache=True)
def campaign_day(day, camp, sm, tr, values, cols, rng, reports):  # pragma: no cover
    """One day of campaign ``camp`` (``packing.CAMPAIGN_FIELDS``) on the smelters ``sm`` and
    traders ``tr`` (``CAMPAIGN_SMELTER_FIELDS``, ``CAMPAIGN_TRADER_FIELDS``, changed in place),
    adding the day's totals to ``values[day, :, cols]`` (``COLUMNS``); ``rng`` the campaign's
    generator, ``reports`` that of false reports of closure. Returns the event rows (floats
    ``[time, value]``, integers ``[region, actor, id, campaign, event]``) and what changed
    (see ``CH_*``)."""
    par, flags = camp[pk.K_PAR], camp[pk.K_FLAGS]
    lists = flags[pk.F_LISTS] != 0
    changes = np.zeros(5)
    changes[pk.CH_TRADER_DUE] = np.inf
    n = rng.poisson(par[pk.P_VISITS])
    cap = 8 * n + 8
    ft, it = np.empty((cap, 2)), np.empty((cap, 5), dtype=np.int64)
    k = 0
    n_regions = values.shape[1]
    if n == 0:
        return ft[:0].copy(), it[:0].copy(), changes
    if lists:
        k, done = _verify(camp, sm, day, n, rng, reports, values, cols, n_regions, ft, it, k,
                          changes)
        n -= done
        if n == 0:
            return ft[:k].copy(), it[:k].copy(), changes
    pool = camp[pk.K_T_POOL]
    found = _lists(camp, sm)
    sizes = np.array([found[0][0].size, found[1][0].size, found[2][0].size, pool.size])
    weights = _split(par, flags, sizes)
    total = _sum(weights)
    if total <= 0:
        return ft[:k].copy(), it[:k].copy(), changes
    counts = multinomial(rng, n, weights / total)
    if lists:
        counts = _allot(counts, weights, sizes, rng)
        if camp[pk.K_ORDER].size:
            counts[:3] = _in_order(camp[pk.K_ORDER], camp[pk.K_S_SEEN], found, counts[:3].sum())
    picked = np.zeros(0, dtype=np.int64)
    for c in range(3):
        if counts[c]:
            ids, cum, w = found[c]
            if lists:
                got = pick_round(ids, w, True, counts[c], camp[pk.K_S_SEEN],
                                 camp[pk.K_S_LAST], day, rng)
            else:
                got = ids[np.searchsorted(cum, rng.random(counts[c]) * cum[-1], side="right")]
            picked = np.concatenate((picked, got))
    if counts[:3].any():
        k = _inspect_smelters(camp, sm, tr, picked, day, rng, reports, values, cols,
                              n_regions, ft, it, k, changes)
    if counts[3]:
        if lists:
            ids = pick_round(pool, np.zeros(0), False, counts[3], camp[pk.K_T_SEEN],
                             camp[pk.K_T_LAST], day, rng)
        else:
            ids = pool[rng.integers(0, pool.size, counts[3])]
        k = _inspect_traders(camp, sm, tr, ids, day, rng, reports, values, cols, n_regions,
                             ft, it, k, changes)
    return ft[:k].copy(), it[:k].copy(), changes


@njit(cache=True)
def campaign_day_one_stream(day, camp, sm, tr, values, cols, rng):  # pragma: no cover
    """:func:`campaign_day` of a run without false reports (whose stream it then never draws
    on): one generator to unbox from Python instead of two, about 9 µs a call (numba unboxes
    a generator with three ``ctypes.cast`` calls)."""
    return campaign_day(day, camp, sm, tr, values, cols, rng, rng)


@njit(cache=True, inline="always")
def _inspect_smelters(camp, sm, tr, ids, day, rng, reports, values, cols, n_regions, ft, it,
                      k, changes):  # pragma: no cover
    """``Regulator._inspect_smelters``: visits, detection (halted sites found less, unless
    their class has no permits to hide), sanctions."""
    par = camp[pk.K_PAR]
    times = day + 0.5 * np.sort(rng.random(ids.size))
    k = _visits(camp, SMELTER, ids, times, sm[pk.CS_REGION], values, day, cols, n_regions, ft, it,
                k)
    state = sm[pk.CS_STATE][ids]
    live = (state == RUNNING) | (state == HALTED)
    eligible = sm[pk.CS_VIOLATOR][ids] & live & sk.first_of_day(ids)
    hidden = state == HALTED
    if camp[pk.K_FLAGS][pk.F_LISTS]:
        for m in range(ids.size):
            if camp[pk.K_UNLICENSED][sm[pk.CS_KLASS][ids[m]]]:
                hidden[m] = False
    factor = np.where(hidden, par[pk.P_HALTED], 1.0)
    hit = eligible & (rng.random(ids.size) < par[pk.P_DETECT] * factor)
    if hit.any():
        k = _sanction(camp, sm, tr, SMELTER, ids[hit], times[hit], rng, reports, values, day,
                      cols, n_regions, ft, it, k, changes)
    return k


@njit(cache=True, inline="always")
def _inspect_traders(camp, sm, tr, ids, day, rng, reports, values, cols, n_regions, ft, it,
                     k, changes):  # pragma: no cover
    """``Regulator._inspect_traders``: visits, detection of active violators, sanctions."""
    times = day + 0.5 * np.sort(rng.random(ids.size))
    k = _visits(camp, TRADER, ids, times, tr[pk.CT_REGION], values, day, cols, n_regions, ft, it,
                k)
    eligible = tr[pk.CT_VIOLATOR][ids] & (tr[pk.CT_STATE][ids] == T_ACTIVE) & sk.first_of_day(ids)
    hit = eligible & (rng.random(ids.size) < camp[pk.K_PAR][pk.P_DETECT] * 1.0)
    if hit.any():
        k = _sanction(camp, sm, tr, TRADER, ids[hit], times[hit], rng, reports, values, day,
                      cols, n_regions, ft, it, k, changes)
    return k
