"""What a campaign's findings change, compiled (numba): the event rows, the day's totals, the
smelters' and traders' state changes of :mod:`scrapsim.model.actors.smelters` and
:mod:`scrapsim.model.actors.traders` (closures, false reports of closure, suspensions, upgrade
orders) and the rectification orders, each as the numpy method it replaces computed it (the
same sums in the same order). :func:`scrapsim.model.campaign_kernels.campaign_day` calls them.
"""

from __future__ import annotations

import math

import numpy as np

from scrapsim.model import packing as pk
from scrapsim.model.jit import njit

__all__ = ["add_counts", "add_weights", "calendar_day", "calendar_day_one_stream",
           "close_smelters", "close_traders",
           "first_of_day", "kinds", "order", "rows", "set_traders", "smelter_deadlines",
           "stop_smelters"]

RUNNING, HALTED, SUSPENDED, RECTIFYING, CLOSED = range(5)
T_ACTIVE, T_SUSPENDED, T_CLOSED = range(3)
TRADER, SMELTER = 0, 1


@njit(cache=True, inline="always")
def _row(ft, it, k, t, region, actor, ident, campaign, event, value):  # pragma: no cover
    ft[k, 0], ft[k, 1] = t, value
    it[k, 0], it[k, 1], it[k, 2], it[k, 3], it[k, 4] = region, actor, ident, campaign, event
    return k + 1


@njit(cache=True)
def rows(ft, it, k, times, region, actor, ids, campaign, event, values):  # pragma: no cover
    """One row per id; ``values`` one per id, or a single value for all."""
    one = values.size == 1
    for j in range(ids.size):
        k = _row(ft, it, k, times[j], region[ids[j]], actor, ids[j], campaign, event,
                 values[0] if one else values[j])
    return k


@njit(cache=True)
def add_counts(values, day, col, region, ids, n_regions, weight):  # pragma: no cover
    """``values[day, :, col] += weight × (count of ids per region)`` (numpy's
    ``value * np.bincount(...)``: counted, then multiplied)."""
    if ids.size == 0:
        return
    count = np.zeros(n_regions, dtype=np.int64)
    for j in ids:
        count[region[j]] += 1
    for r in range(n_regions):
        values[day, r, col] += weight * count[r]


@njit(cache=True)
def add_weights(values, day, col, region, ids, weights, n_regions):  # pragma: no cover
    """``values[day, :, col] += np.bincount(region[ids], weights=weights)``."""
    per = np.zeros(n_regions)
    for j in range(ids.size):
        per[region[ids[j]]] += weights[j]
    for r in range(n_regions):
        values[day, r, col] += per[r]


@njit(cache=True)
def _set_smelters(sm, ids, state, changes):  # pragma: no cover
    """``Smelters._set``: ``ids`` to ``state`` (running 1 only when running)."""
    if ids.size == 0:
        return
    st = sm[pk.CS_STATE]
    changes[pk.CH_SMELTERS] = 1.0
    closed = state == CLOSED
    for j in ids:
        if st[j] == CLOSED:
            closed = True
    if closed:
        changes[pk.CH_SMELTERS_CLOSED] = 1.0
    for j in ids:
        st[j] = state
        sm[pk.CS_RUNNING][j] = 1.0 if state == RUNNING else 0.0


@njit(cache=True)
def close_smelters(sm, ids, times, campaign, event, reports, false_share, values, day, cols,
                   n_regions, ft, it, k, changes):  # pragma: no cover
    """``Smelters.close``: ban the open ones of ``ids``; with ``false_share`` > 0 (reports
    that may be false: ``close`` and ``rectify_fail_close``) a share of them is false (the site
    goes on, flagged); seized stock counted."""
    keep = sm[pk.CS_STATE][ids] != CLOSED
    ids, times = ids[keep], times[keep]
    k = rows(ft, it, k, times, sm[pk.CS_REGION], SMELTER, ids, campaign, event, np.zeros(1))
    if false_share > 0.0 and ids.size:
        false = reports.random(ids.size) < false_share
        fake = ids[false]
        _set_smelters(sm, fake, RUNNING, changes)
        for j in fake:
            sm[pk.CS_VIOLATOR][j] = True
            sm[pk.CS_FALSE_CLOSED][j] = True
        k = rows(ft, it, k, times[false], sm[pk.CS_REGION], SMELTER, fake, campaign,
                 pk.E_FALSE_CLOSE, np.zeros(1))
        ids, times = ids[~false], times[~false]
    _set_smelters(sm, ids, CLOSED, changes)
    seized = np.empty(ids.size)
    for m in range(ids.size):
        j = ids[m]
        sm[pk.CS_RELAPSED][j] = False
        sm[pk.CS_FALSE_CLOSED][j] = False
        seized[m] = sm[pk.CS_STOCK][j]
        sm[pk.CS_STOCK][j] = 0.0
    k = rows(ft, it, k, times, sm[pk.CS_REGION], SMELTER, ids, campaign, pk.E_SEIZE, seized)
    add_weights(values, day, cols[pk.C_SEIZED_S], sm[pk.CS_REGION], ids, seized, n_regions)
    return k


@njit(cache=True)
def stop_smelters(sm, ids, times, campaign, state, days, next_days, fail, event, ft, it, k,
                  changes):  # pragma: no cover
    """``Smelters.suspend`` / ``upgrade``: the running or halted ones of ``ids`` stop until
    ``floor(t) + days``."""
    st = sm[pk.CS_STATE][ids]
    keep = (st == RUNNING) | (st == HALTED)
    ids, times = ids[keep], times[keep]
    _set_smelters(sm, ids, state, changes)
    for m in range(ids.size):
        j = ids[m]
        sm[pk.CS_UNTIL][j] = np.floor(times[m]) + days
        if state == SUSPENDED:
            sm[pk.CS_NEXT_DAYS][j] = next_days
            sm[pk.CS_FAIL][j] = fail
    return rows(ft, it, k, times, sm[pk.CS_REGION], SMELTER, ids, campaign, event, np.zeros(1))


@njit(cache=True)
def smelter_deadlines(day, sm, rectifiable, behaviour, reports, false_share,
                      seized):  # pragma: no cover
    """``Smelters.advance``: the suspensions and rectifications ending on ``day``. A
    rectifying plant reopens (violating only if its class cannot rectify; with
    ``false_share`` > 0 that share of reopenings is ``false_rectify``, still violating, drawn
    on ``reports``); a suspended one fails its rectification with its ``fail`` probability
    (drawn on ``behaviour``) and is closed (``rectify_fail_close``, a report that may be false)
    or starts rectifying for its ``next_days`` (on a day with false rectifications drawn, the
    failures are drawn on ``reports`` too, as the numpy code it replaces did, whose ``rng``
    the reports' stream had replaced). Adds the tonnes seized to ``seized`` per region;
    returns the event rows and what changed, as :func:`campaign_day` does."""
    st, until = sm[pk.CS_STATE], sm[pk.CS_UNTIL]
    n_rect = n_susp = 0
    for j in range(st.size):
        if until[j] <= day:
            n_rect += st[j] == RECTIFYING
            n_susp += st[j] == SUSPENDED
    rect, susp = np.empty(n_rect, np.int64), np.empty(n_susp, np.int64)
    a = b = 0
    for j in range(st.size):
        if until[j] <= day and st[j] == RECTIFYING:
            rect[a], a = j, a + 1
        elif until[j] <= day and st[j] == SUSPENDED:
            susp[b], b = j, b + 1
    ft = np.empty((2 * (n_rect + n_susp) + 1, 2))
    it = np.empty((2 * (n_rect + n_susp) + 1, 5), np.int64)
    changes, region, none = np.zeros(5), sm[pk.CS_REGION], np.zeros(1)
    times = np.full(n_rect + n_susp, float(day))
    _set_smelters(sm, rect, RUNNING, changes)
    for j in rect:
        sm[pk.CS_VIOLATOR][j] = not rectifiable[j]
    k = rows(ft, it, 0, times, region, SMELTER, rect, -1, pk.E_REOPEN, none)
    draw = behaviour
    if false_share > 0.0 and rect.size:
        undone = rect[reports.random(rect.size) < false_share]
        for j in undone:
            sm[pk.CS_VIOLATOR][j] = True
        k = rows(ft, it, k, times, region, SMELTER, undone, -1, pk.E_FALSE_RECTIFY, none)
        draw = reports   # the numpy code's draws after a false rectification's (same bytes)
    failed = draw.random(susp.size) < sm[pk.CS_FAIL][susp]
    k = close_smelters(sm, susp[failed], times[:failed.sum()], -1, pk.E_RECTIFY_FAIL_CLOSE,
                       reports, false_share, seized.reshape((1, seized.size, 1)), 0,
                       np.zeros(pk.C_SEIZED_S + 1, np.int64), seized.size, ft, it, k, changes)
    ok = susp[~failed]
    _set_smelters(sm, ok, RECTIFYING, changes)
    for j in ok:
        until[j] = day + sm[pk.CS_NEXT_DAYS][j]
    k = rows(ft, it, k, times, region, SMELTER, ok, -1, pk.E_RECTIFY, none)
    return ft[:k], it[:k], changes


@njit(cache=True)
def order(verify_by, ids, campaign):  # pragma: no cover
    """The campaign that ordered ``ids`` to rectify (-1: none; changed in place)."""
    for j in ids:
        verify_by[j] = campaign


@njit(cache=True)
def set_traders(tr, ids, state, until, changes):  # pragma: no cover
    """``Traders.set_state``: ``ids`` (unique) to ``state``, regional capacity and counts
    updated as numpy's ``bincount`` sums did; ``until`` (NaN: none) the end of a suspension."""
    if ids.size == 0:
        return
    active = 1.0 if state == T_ACTIVE else 0.0
    region, st = tr[pk.CT_REGION], tr[pk.CT_STATE]
    base_total, active_count = tr[pk.CT_BASE_TOTAL], tr[pk.CT_ACTIVE_COUNT]
    n = base_total.size
    d_base, d_count = np.zeros(n), np.zeros(n)
    for j in ids:
        d_base[region[j]] += tr[pk.CT_CAPACITY][j] * active - tr[pk.CT_BASE][j]
        d_count[region[j]] += active - (1.0 if st[j] == T_ACTIVE else 0.0)
    for r in range(n):
        base_total[r] += d_base[r]
    for r in range(n):
        active_count[r] += d_count[r]
    for r in range(n):
        if active_count[r] <= 0:
            base_total[r] = 0.0
    for j in ids:
        st[j] = state
        tr[pk.CT_BASE][j] = tr[pk.CT_CAPACITY][j] * active
        tr[pk.CT_TEMPER_EFF][j] = tr[pk.CT_TEMPER][j] * active
    changes[pk.CH_TRADERS] = 1.0
    if state == T_CLOSED:
        changes[pk.CH_TRADERS_CLOSED] = 1.0
    if not math.isnan(until[0]):
        for m in range(ids.size):
            tr[pk.CT_UNTIL][ids[m]] = until[m]
            changes[pk.CH_TRADER_DUE] = min(changes[pk.CH_TRADER_DUE], until[m])


@njit(cache=True)
def first_of_day(ids):  # pragma: no cover
    """True at each id's first place in ``ids`` (a second visit the same day finds nothing)."""
    out = np.zeros(ids.size, dtype=np.bool_)
    order = np.argsort(ids, kind="mergesort")
    for m in range(ids.size):
        if m == 0 or ids[order[m]] != ids[order[m - 1]]:
            out[order[m]] = True
    return out


@njit(cache=True)
def kinds(rng, n, par, first):  # pragma: no cover
    """Each violation's sanction, 0 close, 1 suspend, 2 upgrade, 3 fine, by the shares'
    cumulative edges ``par[first:first + 3]``."""
    return np.searchsorted(par[first:first + 3], rng.random(n), side="right")


@njit(cache=True)
def close_traders(tr, ids, times, campaign, values, day, cols, n_regions, ft, it, k,
                  changes):  # pragma: no cover
    """``Traders.close``: closed for good, yards confiscated (``close`` and ``seize``, value
    the tonnes, per trader); the tonnes counted in ``seized_traders``."""
    seized = tr[pk.CT_STOCK][ids].copy()
    tr[pk.CT_STOCK][ids] = 0.0
    set_traders(tr, ids, T_CLOSED, np.full(1, np.nan), changes)
    region = tr[pk.CT_REGION]
    k = rows(ft, it, k, times, region, TRADER, ids, campaign, pk.E_CLOSE, np.zeros(1))
    k = rows(ft, it, k, times, region, TRADER, ids, campaign, pk.E_SEIZE, seized)
    add_weights(values, day, cols[pk.C_SEIZED_T], region, ids, seized, n_regions)
    return k


@njit(cache=True)
def _reopen_traders(day, tr, changes):  # pragma: no cover
    """``Traders.reopen_due``: suspended traders whose suspension ends by ``day`` become active
    (:func:`set_traders`); returns their ids and the earliest end of the suspensions left
    (inf: none; NaN if one has none, as numpy's ``min``). One pass over the traders, not
    numpy's five (two masks, their and, ``flatnonzero``, the suspended's ends): at 200,000
    traders a day's reopenings took about 300 µs that way, 60 µs this way."""
    st, until = tr[pk.CT_STATE], tr[pk.CT_UNTIL]
    back = np.empty(st.size, np.int64)
    n, rest, undated = 0, np.inf, False
    for j in range(st.size):
        if st[j] == T_SUSPENDED:
            u = until[j]
            if u <= day:
                back[n] = j
                n += 1
            elif u < rest:
                rest = u
            elif u != u:
                undated = True
    back = back[:n].copy()
    set_traders(tr, back, T_ACTIVE, np.full(1, np.nan), changes)
    return back, (np.nan if undated else rest)


@njit(cache=True)
def _relapse_clocks(day, sm, relapse_day, quiet_cum, hazard, never, behaviour,
                    stale, next_relapse, ft, it, k, changes):  # pragma: no cover
    """Relapses (the model's clocks, once numpy code in ``Model``): when closures changed
    (``stale``), a clock for each closed site without one, an exponential number of quiet
    days (mean ``1/hazard``, drawn on ``behaviour`` in id order) counted on ``quiet_cum``
    from ``day`` (``never`` when it runs out after the run), and none for sites not closed;
    then the closed sites whose clock has run out by ``day`` restart, violating
    (``relapse``). Returns the next row and the earliest clock left (inf: none)."""
    st = sm[pk.CS_STATE]
    if stale:
        new = np.flatnonzero((st == CLOSED) & np.isinf(relapse_day))
        wait = behaviour.exponential(1.0 / hazard, new.size)
        region, days = sm[pk.CS_REGION], quiet_cum.shape[0]
        for m in range(new.size):
            r = region[new[m]]
            at = np.searchsorted(quiet_cum[:, r], quiet_cum[day, r] + max(wait[m], 1e-9))
            relapse_day[new[m]] = at if at < days else never
        relapse_day[st != CLOSED] = np.inf
        next_relapse = relapse_day.min() if st.size else np.inf
    if day < next_relapse:
        return k, next_relapse
    due = np.flatnonzero((relapse_day <= day) & (st == CLOSED))
    relapse_day[due] = np.inf
    _set_smelters(sm, due, RUNNING, changes)
    for j in due:
        sm[pk.CS_VIOLATOR][j] = True
        sm[pk.CS_RELAPSED][j] = True
    k = rows(ft, it, k, np.full(due.size, float(day)), sm[pk.CS_REGION], SMELTER, due, -1,
             pk.E_RELAPSE, np.zeros(1))
    return k, (relapse_day.min() if st.size else np.inf)


@njit(cache=True)
def calendar_day(day, sm, rectifiable, behaviour, reports, false_share, smelters_due, tr,
                 traders_due, relapse_day, quiet_cum, hazard, never, stale, next_relapse,
                 values, col):  # pragma: no cover
    """What falls due on a day before its market, in the order the model's numpy code took
    it: the smelters' deadlines when ``smelters_due`` (:func:`smelter_deadlines`, the tonnes
    seized added to ``values[day, :, col]``), the traders' suspensions ending when
    ``traders_due`` (``reopen``), and with ``hazard`` > 0 the relapse clocks when closures
    changed (``stale``, or a closure among the deadlines) or one runs out (``day`` >=
    ``next_relapse``, :func:`_relapse_clocks`). Returns the event rows (floats, ints) and
    :data:`~scrapsim.model.packing.CH_SMELTERS` .. ``CH_NEXT_RELAPSE`` of what changed (the
    traders' next end of a suspension when ``traders_due``, whether the clocks ran, the next
    relapse day)."""
    n_regions = values.shape[1]
    changes = np.zeros(pk.CH_NEXT_RELAPSE + 1)
    changes[pk.CH_TRADER_DUE] = np.inf
    if smelters_due:
        seized = np.zeros(n_regions)
        ft, it, changed = smelter_deadlines(day, sm, rectifiable, behaviour, reports,
                                            false_share, seized)
        for r in range(n_regions):
            values[day, r, col] += seized[r]
        changes[:pk.CH_TRADER_DUE] = changed[:pk.CH_TRADER_DUE]
    else:
        ft, it = np.empty((0, 2)), np.empty((0, 5), np.int64)
    back = np.empty(0, np.int64)
    if traders_due:
        back, due = _reopen_traders(day, tr, changes)
        changes[pk.CH_TRADER_NEXT] = due
    k = ft.shape[0]
    extra = back.size + (sm[pk.CS_STATE].size if hazard > 0.0 else 0)
    ft2, it2 = np.empty((k + extra, 2)), np.empty((k + extra, 5), np.int64)
    ft2[:k], it2[:k] = ft, it
    k = rows(ft2, it2, k, np.full(back.size, float(day)), tr[pk.CT_REGION], TRADER, back, -1,
             pk.E_REOPEN, np.zeros(1))
    stale = stale or changes[pk.CH_SMELTERS_CLOSED] > 0.0
    if hazard > 0.0 and (stale or day >= next_relapse):
        changes[pk.CH_CLOCKS] = 1.0
        k, next_relapse = _relapse_clocks(day, sm, relapse_day, quiet_cum, hazard, never,
                                          behaviour, stale, next_relapse, ft2, it2, k, changes)
    changes[pk.CH_NEXT_RELAPSE] = next_relapse
    return ft2[:k], it2[:k], changes


@njit(cache=True)
def calendar_day_one_stream(day, sm, rectifiable, behaviour, smelters_due, tr, traders_due,
                            relapse_day, quiet_cum, hazard, never, stale, next_relapse, values,
                            col):  # pragma: no cover
    """:func:`calendar_day` of a run without false reports (``reports`` is ``behaviour`` and
    never drawn on, ``false_share`` 0): one generator to unbox instead of two (about 9 µs a
    call)."""
    return calendar_day(day, sm, rectifiable, behaviour, behaviour, 0.0, smelters_due, tr,
                        traders_due, relapse_day, quiet_cum, hazard, never, stale, next_relapse,
                        values, col)
