"""The run summary against its intensity-0 baseline (same seed: common random numbers).

Changes are relative and taken over the campaign windows (the union of every campaign's
[start, end], clipped to the run; per region, the windows of the campaigns covering it):
``collection_change = Σ collected / Σ baseline collected − 1`` and likewise for offered,
demanded, traded and smelted, and ``violating_smelting_change`` for the scrap smelted by
violating (non-compliant) smelters, the environmental outcome; ``price_change`` compares mean
scrap prices;
``mean_price_pressure`` is the mean price-pressure index minus the baseline's (so 0 means no
policy effect; the level itself is ``mean_price_pressure_level``). Shut counts are taken over the
whole run, since announcement halts start before a window opens and suspensions outlast it.
A scenario without campaigns is compared over the whole run. ``recovery_days`` counts the days
after the last window until the 7-day mean of smelting is back to at least 95% of the
baseline's (MODEL.md's "within 5%", with a post-pulse rebound above the baseline counting as
recovered). ``trader_stock_recovery_days`` and ``price_recovery_days`` count the days after the
last window until the 7-day means of trader stock and of the scrap price are back within
``RECOVERY_BANDS`` of the baseline's (±25% and ±5%) and stay there for ``RECOVERY_HOLD`` (14)
days; None if that never happens within the run, and all three None for a run that enforces
nothing (intensity 0, or no campaign with teams inside the run: it is its own baseline, and
its "recovery" on the day after a window was an artefact). Trader yards swing by a few days of
collection even in a market left alone, hence the wider band.
``violation_rate`` is violations over inspections (None without inspections);
``campaigns`` counts each campaign's inspections, first visits, verifications, violations,
closures and audits per region (:mod:`scrapsim.model.enforcement`), and
``audit_share_not_closed`` is the share of sites audits found not closed, over all audits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scrapsim.model.enforcement import by_campaign, rates
from scrapsim.model.table import Table

__all__ = ["SUMMARY_KEYS", "summarize"]

SUMMARY_KEYS = (
    "collection_change", "smelting_change", "price_change", "mean_price_pressure", "shut_share",
    "shut_count", "closed_share", "smelters_start", "recovery_days", "trader_stock_recovery_days",
    "price_recovery_days",
)
FLOWS = {"collection_change": "collected", "offered_change": "offered",
         "demanded_change": "demanded", "traded_change": "traded", "smelting_change": "smelted",
         "violating_smelting_change": "smelted_violating"}
NOT_RUNNING = ("halted", "suspended", "rectifying", "closed")
RECOVERY_BANDS = {"trader_stock": 0.25, "scrap_price": 0.05}
"""Relative band around the baseline within which a stock or price counts as recovered."""
RECOVERY_HOLD = 14
"""Days the 7-day mean must stay within its band to count as back."""


def _matrix(daily: Table, col: str, n_reg: int) -> np.ndarray:
    return np.asarray(daily[col], float).reshape(-1, n_reg)


def _ratio(num: float, den: float) -> float | None:
    return float(num / den - 1.0) if den > 0 else None


def _window_mask(windows: list, start, n_days: int, region: str | None) -> np.ndarray:
    mask = np.zeros(n_days, dtype=bool)
    for _, regions, a, b in windows:
        if region is None or region in regions:
            mask[(a - start).days:(b - start).days + 1] = True
    return mask


def _metrics(run: Table, base: Table, cols: list[int], n_reg: int, window: np.ndarray,
             smelters_start: int, last_end: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    def pick(t, c):
        return (_matrix(t, c, n_reg)[:, cols])
    for key, col in FLOWS.items():
        out[key] = _ratio(pick(run, col)[window].sum(), pick(base, col)[window].sum()) \
            if window.any() else None
    price, bprice = pick(run, "scrap_price")[window], pick(base, "scrap_price")[window]
    out["price_change"] = _ratio(price.mean(), bprice.mean()) if window.any() else None
    press, bpress = pick(run, "price_pressure")[window], pick(base, "price_pressure")[window]
    out["mean_price_pressure"] = float(press.mean() - bpress.mean()) if window.any() else None
    out["mean_price_pressure_level"] = float(press.mean()) if window.any() else None
    shut = sum(pick(run, c).sum(axis=1) for c in NOT_RUNNING)
    out["shut_count"] = int(round(shut.max())) if shut.size else 0
    out["shut_share"] = out["shut_count"] / smelters_start if smelters_start else 0.0
    out["shut_day"] = int(shut.argmax()) if shut.size else None
    closed_end = int(round(pick(run, "closed")[-1].sum()))
    out["closed_share"] = closed_end / smelters_start if smelters_start else 0.0
    out["smelters_start"] = smelters_start
    out["recovery_days"] = _recovery(pick(run, "smelted").sum(axis=1),
                                     pick(base, "smelted").sum(axis=1), last_end)
    for col, band in RECOVERY_BANDS.items():
        agg = (np.mean if col == "scrap_price" else np.sum)
        out[f"{'price' if col == 'scrap_price' else col}_recovery_days"] = _back_within(
            agg(pick(run, col), axis=1), agg(pick(base, col), axis=1), band, last_end)
    for col in ("inspections", "violations", "fines", "first_visits", "verifications", "audits"):
        out[col] = float(pick(run, col).sum())
    out["violation_rate"] = out["violations"] / out["inspections"] if out["inspections"] \
        else None
    return out


def _recovery(smelted: np.ndarray, base: np.ndarray, last_end: int | None) -> int | None:
    """Days after the last window until smelting is back: its 7-day mean at least 95% of the
    baseline's (a rebound above the baseline counts as back); None if never in the run."""
    if last_end is None:
        return None
    kernel = np.ones(7) / 7.0
    run_mean = np.convolve(smelted, kernel)[:len(smelted)]
    base_mean = np.convolve(base, kernel)[:len(base)]
    for day in range(last_end + 1, len(smelted)):
        if run_mean[day] >= 0.95 * base_mean[day]:
            return day - last_end
    return None


def _back_within(x: np.ndarray, base: np.ndarray, band: float,
                 last_end: int | None) -> int | None:
    """Days after the last window until the 7-day mean of ``x`` is within ``band`` of the
    baseline's and stays there for ``RECOVERY_HOLD`` days; None if never in the run."""
    if last_end is None:
        return None
    kernel = np.ones(7) / 7.0
    xm, bm = np.convolve(x, kernel)[:len(x)], np.convolve(base, kernel)[:len(base)]
    inside = np.abs(xm - bm) <= band * np.abs(bm)
    outside = np.concatenate([[0], np.cumsum(~inside)])     # days outside before each day
    first = last_end + 1
    held = outside[first + RECOVERY_HOLD:] == outside[first:len(x) - RECOVERY_HOLD + 1]
    found = np.flatnonzero(held)
    return int(found[0]) + 1 if found.size else None


def _smelters_start(result, cols: list[int], n_reg: int) -> int:
    states = ("running",) + NOT_RUNNING
    first = sum(_matrix(result.daily, c, n_reg)[0, cols].sum() for c in states)
    return int(round(first))


def summarize(result, baseline) -> dict[str, Any]:
    """MODEL.md's summary of ``result`` against ``baseline`` (a Result at intensity 0)."""
    sc = result.scenario
    names = [r.name for r in sc.regions]
    n_reg, n_days = len(names), sc.days
    windows = result.windows

    done: dict[tuple, dict[str, Any]] = {}

    def block(cols: list[int], region: str | None) -> dict[str, Any]:
        mask = _window_mask(windows, sc.start, n_days, region)
        ends = [(b - sc.start).days for _, regs, _, b in windows
                if region is None or region in regs]
        if not mask.any():
            mask = _window_mask(windows, sc.start, n_days, None)
            ends = [(b - sc.start).days for *_, b in windows]
        if not mask.any():
            mask = np.ones(n_days, dtype=bool)
        last_end = max(ends) if ends and sc.enforced else None   # nothing to recover from
        # a one-region scenario's region is the whole: the same numbers, worked out once
        key = (tuple(cols), mask.tobytes(), last_end)
        if key not in done:
            done[key] = _metrics(result.daily, baseline.daily, cols, n_reg, mask,
                                 _smelters_start(result, cols, n_reg), last_end)
        return dict(done[key])

    summary = block(list(range(n_reg)), None)
    summary["windows"] = [[a.isoformat(), b.isoformat()] for *_, a, b in windows]
    summary["seed"] = result.seed
    summary["intensity"] = sc.enforcement.intensity
    summary["regions"] = {name: block([i], name) for i, name in enumerate(names)}
    summary["campaigns"] = by_campaign(result.log, sc)
    audits = [c["all"] for c in summary["campaigns"].values()]
    summary["audit_share_not_closed"] = rates({
        "inspections": 0, "violations": 0, "audited": sum(a["audited"] for a in audits),
        "audit_found": sum(a["audit_found"] for a in audits)})["audit_share_not_closed"]
    return summary
