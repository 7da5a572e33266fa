"""FACTS.md's "patterns a credible model reproduces" as checks (``scrapsim validate``).

Each check is a small function ``(scenario, seed) -> {metric: value}`` run on one scenario of the
library (``scenarios/*.yaml``) for seeds ``0 .. reps-1``. Variants (whom enforcement hits, no
withholding, ...) are the same scenario through :meth:`Scenario.with_overrides` with the same
seed, and every change is taken against the intensity-0 twin of that seed (common random
numbers). A row reports the mean over replications with its 95% t-interval; it passes when the
mean lies in the target range (the interval is shown, not tested, so two replications can pass).
A check passes when all its rows pass. Targets quote FACTS.md where it gives a number.

Units: days, tonnes (t/day for flows), CNY/t for prices; changes are relative (−0.4 = −40%).
The command line is :mod:`scrapsim.cli.validate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

__all__ = ["CHECKS", "COLUMNS", "Check", "Metrics", "Row", "Target"]

PROG = "scrapsim validate"
CONFIDENCE = 0.95
COLUMNS = ("pattern", "check", "scenario", "metric", "target", "in_sample", "mean", "ci_low",
           "ci_high", "reps", "missing", "passed")
SMELTERS_ONLY = {"campaigns.0.targets.traders": 0, "campaigns.0.perceived_risk": 0}
COLLECTION_ONLY = {"campaigns.0.targets.large": 0, "campaigns.0.targets.small": 0,
                   "campaigns.0.targets.workshop": 0, "campaigns.0.targets.traders": 1,
                   "campaigns.0.halt_share": 0, "campaigns.0.perceived_risk": 0.95}

Metrics = dict[str, float | None]


@dataclass(frozen=True)
class Target:
    """Inclusive range ``lo <= mean <= hi`` (None: unbounded) and how FACTS.md states it;
    ``fitted`` names the targets file whose calibration used this same evidence (the row is
    in-sample: it shows the model *can* match it, not that it predicts it), "" otherwise."""

    lo: float | None
    hi: float | None
    text: str
    fitted: str = ""

    def holds(self, value: float | None) -> bool:
        return value is not None and (self.lo is None or value >= self.lo) and (
            self.hi is None or value <= self.hi)


@dataclass(frozen=True)
class Check:
    """One FACTS.md pattern: the scenario it runs on, its per-seed measure and its targets."""

    name: str
    pattern: int
    scenario: str
    measure: Callable[[Any, int], Metrics]
    targets: Mapping[str, Target]


@dataclass(frozen=True)
class Row:
    """One metric of one check over the replications."""

    check: Check
    metric: str
    values: tuple[float | None, ...]

    @property
    def target(self) -> Target:
        return self.check.targets[self.metric]

    @property
    def valid(self) -> list[float]:
        return [v for v in self.values if v is not None and math.isfinite(v)]

    @property
    def mean(self) -> float | None:
        return sum(self.valid) / len(self.valid) if self.valid else None

    @property
    def interval(self) -> tuple[float | None, float | None]:
        """95% t-interval of the mean over replications (None with fewer than two)."""
        x = np.asarray(self.valid)
        if x.size < 2:
            return None, None
        from scipy.stats import t

        half = float(t.ppf(0.5 + CONFIDENCE / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        return float(x.mean()) - half, float(x.mean()) + half

    @property
    def passed(self) -> bool:
        """The mean is in the target range and no replication lacked the metric."""
        return len(self.valid) == len(self.values) and self.target.holds(self.mean)


# --- helpers on result tables -----------------------------------------------------------------

def _series(table: Any, column: str, n_regions: int) -> Any:
    """A daily column summed over regions: t/day (or a count) per day."""
    return np.asarray(table[column], dtype=float).reshape(-1, n_regions).sum(axis=1)


def _change(result: Any, column: str, a: int, b: int | None = None) -> float | None:
    """Σ column over days [a, b) against the baseline's, minus 1 (relative change)."""
    n = len(result.scenario.regions)
    x = _series(result.daily, column, n)[a:b].sum()
    y = _series(result.baseline.daily, column, n)[a:b].sum()
    return float(x / y - 1.0) if y > 0 else None


def _day(scenario: Any, iso: str) -> int:
    """Day index of a date (0 = the scenario's start)."""
    return (date.fromisoformat(iso) - scenario.start).days


def _smooth(x: Any, days: int = 7) -> Any:
    """Centred moving mean; element i covers days [i, i+days)."""
    return np.convolve(x, np.ones(days) / days, mode="valid")


def _first(mask: Any) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _run(scenario: Any, seed: int, baseline: bool = True) -> Any:
    from scrapsim.experiments.batching import model_run  # the model only when a check runs

    # a check's variants differ in their campaigns: one baseline per (scenario, seed) serves
    # all; the check's own scenario runs batched with the chunk's other seeds
    return model_run(scenario, seed, baseline)


# --- the checks ---------------------------------------------------------------------------------

def hebei_pulse(scenario: Any, seed: int) -> Metrics:
    """Pattern 1: shut count, collection and smelting changes in the window, recovery days
    (first day after the last window when the 7-day mean of smelting is back to 95% of the
    baseline's; the summary's ``recovery_days`` asks for ±5% and so waits out the rebound)."""
    r = _run(scenario, seed)
    s = r.summary
    n = len(scenario.regions)
    smelted = _smooth(_series(r.daily, "smelted", n))
    base = _smooth(_series(r.baseline.daily, "smelted", n))
    end = max((b - scenario.start).days for *_, b in r.windows) if r.windows else None
    at = None if end is None else max(end - 3, 0)      # the 7-day mean centred on the end day
    back = None if at is None else _first(smelted[at:] >= 0.95 * base[at:])
    return {"shut_count": float(s["shut_count"]), "collection_change": s["collection_change"],
            "smelting_change": s["smelting_change"],
            "recovery_days": None if back is None else float(back)}


def compliant_shift(scenario: Any, seed: int) -> Metrics:
    """Pattern 2 (Shandong): after the end-of-October deadline large plants smelt more than at
    intensity 0, workshops less, and fewer workshops run at the end (exit for good)."""
    r = _run(scenario, seed)
    a = max(_day(scenario, "2017-10-31"), 0)
    n = len(scenario.regions)
    end = _series(r.daily, "running_workshop", n)[-1]
    base = _series(r.baseline.daily, "running_workshop", n)[-1]
    return {"large_smelting_change": _change(r, "smelted_large", a),
            "workshop_smelting_change": _change(r, "smelted_workshop", a),
            "workshops_running_at_end": float(end / base - 1.0) if base > 0 else None}


def price_sign(scenario: Any, seed: int) -> Metrics:
    """Pattern 3 (Hebei variants): price change when only smelters are inspected, and when only
    collection is (traders inspected, perceived risk 0.95, no smelter touched)."""
    down = _run(scenario.with_overrides(SMELTERS_ONLY), seed).summary["price_change"]
    up = _run(scenario.with_overrides(COLLECTION_ONLY), seed).summary["price_change"]
    return {"price_change_smelters_hit": down, "price_change_collection_hit": up}


def primary_lag(scenario: Any, seed: int, max_lag: int = 60) -> Metrics:
    """Pattern 4 (national 2017's intensity-0 twin): lag (days) at which the correlation of the
    mean scrap price with the primary price, shifted, peaks (−60..60); offers in Aug–Sep
    against the same twin with ``withhold = 0`` in every region (same seed).

    Both are taken on the twin: the pattern is how scrap answers primary, and in the year with
    its campaigns the 2+26 deadline and the heating-season curbs move the scrap price by more
    than the rally (its correlation with primary peaks below 0.25), so the peak's lag there
    measures the campaign calendar, not the market (docs/MODEL.md, issue 10)."""
    scenario = scenario.with_overrides({"enforcement.intensity": 0})
    r = _run(scenario, seed, baseline=False)
    n = len(scenario.regions)
    scrap = _series(r.daily, "scrap_price", n) / n
    primary = _series(r.daily, "primary_price", n) / n
    corr = []
    for k in range(-max_lag, max_lag + 1):
        a, b = (scrap[k:], primary[:len(primary) - k]) if k >= 0 else (scrap[:k], primary[-k:])
        corr.append(np.corrcoef(a, b)[0, 1] if a.std() > 0 and b.std() > 0 else -np.inf)
    free = scenario.with_overrides({f"regions.{g.name}.traders.withhold": 0
                                    for g in scenario.regions})
    w = _run(free, seed, baseline=False)
    a, b = _day(scenario, "2017-08-01"), _day(scenario, "2017-10-01")
    offered, offered_free = (_series(x.daily, "offered", n)[a:b].sum() for x in (r, w))
    return {"lag_days": float(int(np.argmax(corr)) - max_lag),
            "offered_in_rally_vs_no_withholding":
                float(offered / offered_free - 1.0) if offered_free > 0 else None}


def seasonality(scenario: Any, seed: int) -> Metrics:
    """Pattern 5 (no enforcement): days by which collection's Chinese-New-Year dip (7-day mean
    below 85% of its spring level, days 80-140) starts before smelting's; mean smelting over
    11 Jul - 8 Aug (the model's trough is centred on 25 July) against 1 Apr - 31 May (FACTS.md:
    operating rate 56% in July 2017, with inspections, against about 65%)."""
    r = _run(scenario, seed, baseline=False)
    dips = []
    for column in ("collected", "smelted"):
        x = _smooth(_series(r.daily, column, len(scenario.regions)))
        dips.append(_first(x[:90] < 0.85 * x[80:140].mean()))
    smelted = _series(r.daily, "smelted", len(scenario.regions))
    apr, jun, jul, aug = (_day(scenario, f"2017-{d}") for d in ("04-01", "06-01", "07-11",
                                                                 "08-09"))
    first, second = dips
    lead = None if first is None or second is None else float(second - first)
    return {"cny_collection_lead_days": lead,
            "summer_smelting_vs_spring": float(smelted[jul:aug].mean() /
                                               smelted[apr:jun].mean() - 1.0)}


def thin_buffers(scenario: Any, seed: int) -> Metrics:
    """Pattern 6 (Hebei, collection-only variant): days from collection falling below half the
    baseline's to smelting falling below half (smelter cover 7-10 days plus trader yards)."""
    r = _run(scenario.with_overrides(COLLECTION_ONLY), seed)
    n = len(scenario.regions)
    ratio = {c: _series(r.daily, c, n) / _series(r.baseline.daily, c, n)
             for c in ("collected", "smelted")}
    c, s = _first(ratio["collected"] < 0.5), _first(ratio["smelted"] < 0.5)
    return {"days_collection_to_smelting_drop": None if c is None or s is None else float(s - c)}


def relapse(scenario: Any, seed: int) -> Metrics:
    """Pattern 7 (Shandong): relapse events over distinct closed smelters."""
    ev = _run(scenario, seed, baseline=False).events
    kind = ev["event"]
    closed = np.isin(kind, ["close", "deadline_close", "rectify_fail_close"]) & (
        ev["actor"] == "smelter")
    sites = np.unique(ev["actor_id"][closed]).size
    share = float((kind == "relapse").sum() / sites) if sites else None
    return {"relapsed_share_of_closed": share}


def imports_large(scenario: Any, seed: int) -> Metrics:
    """Pattern 8 (Guangdong, collection hit): change of large-plant smelting minus change of
    workshop smelting over the campaign windows."""
    r = _run(scenario, seed)
    days = [(a - scenario.start).days for *_, a, _ in r.windows]
    ends = [(b - scenario.start).days + 1 for *_, b in r.windows]
    a, b = (min(days), max(ends)) if days else (0, None)
    large, shop = _change(r, "smelted_large", a, b), _change(r, "smelted_workshop", a, b)
    return {"large_minus_workshop_change": None if large is None or shop is None
            else large - shop}


TWO_PLUS_26 = "two-plus-26-supervision"
"""Name of the 2+26 supervision campaign in ``national_2017.yaml``."""


def _campaign_events(result: Any, name: str) -> tuple[Any, Any, int]:
    """(days, events, start day) of the events of campaign ``name``."""
    ev = result.events
    mine = ev["campaign"] == name
    days = np.floor(np.asarray(ev["time"], float)[mine]).astype(int)
    c = next(c for c in result.scenario.campaigns if c.name == name)
    return days, np.asarray(ev["event"])[mine], (c.start - result.scenario.start).days


def _rate(days: Any, events: Any, a: int, b: int) -> float | None:
    """Violations found over inspections made on days [a, b)."""
    span = (days >= a) & (days < b)
    done = int((span & (events == "inspection")).sum())
    return float((span & (events == "violation")).sum() / done) if done else None


def two_plus_26(scenario: Any, seed: int) -> Metrics:
    """2+26 supervision (national 2017): violations among inspected sites in the campaign's
    first weeks (7-23 April, the window of targets/two_plus_26.yaml, which ends when the third
    central batch starts) and from its start to 30 September, and the fall between them; the
    share of sites the September audit of reported closures found not closed; the share of the
    2+26 regions' workshops still running at the end of 2017 (of those at the start)."""
    r = _run(scenario, seed, baseline=False)
    days, events, a = _campaign_events(r, TWO_PLUS_26)
    early = _rate(days, events, a, _day(scenario, "2017-04-24"))
    sept = _rate(days, events, a, _day(scenario, "2017-10-01"))
    ev = r.events
    audit = (ev["campaign"] == TWO_PLUS_26) & (ev["event"] == "audit")
    names = [g.name for g in scenario.regions]
    c = next(c for c in scenario.campaigns if c.name == TWO_PLUS_26)
    cols = [names.index(g) for g in c.regions]
    shops = np.asarray(r.daily["running_workshop"], float).reshape(-1, len(names))[:, cols]
    start = sum(scenario.regions[k].smelters.workshop.count for k in cols)
    return {"violation_rate_first_weeks": early, "violation_rate_to_september": sept,
            "violation_rate_fall": None if early is None or sept is None else early - sept,
            "audit_share_not_closed": float(np.asarray(ev["value"])[audit].mean())
            if audit.any() else None,
            "workshops_running_at_end": float(shops[-1].sum() / start) if start else None}


CHECKS: tuple[Check, ...] = (
    Check("hebei_pulse", 1, "hebei", hebei_pulse, {
        "shut_count": Target(160, 168, "164 of 167 shut (±4)", fitted="targets/hebei.yaml"),
        "collection_change": Target(None, -0.1, "falls (≤ −10%)"),
        "smelting_change": Target(None, -0.1, "falls (≤ −10%)"),
        "recovery_days": Target(0, 28, "2–4 weeks (≤ 28 d)", fitted="targets/hebei.yaml")}),
    Check("compliant_shift", 2, "shandong", compliant_shift, {
        "large_smelting_change": Target(0.05, None, "large plants run fuller (≥ +5%)"),
        "workshop_smelting_change": Target(None, -0.05, "workshops smelt less (≤ −5%)"),
        "workshops_running_at_end": Target(None, -0.1, "workshops exit for good (≤ −10%)")}),
    Check("price_sign", 3, "hebei", price_sign, {
        "price_change_smelters_hit": Target(None, -0.01, "falls (≤ −1%)"),
        "price_change_collection_hit": Target(0.01, None, "rises (≥ +1%)")}),
    Check("primary_lag", 4, "national_2017", primary_lag, {
        "lag_days": Target(1, 60, "scrap lags primary (1–60 d)"),
        "offered_in_rally_vs_no_withholding":
            Target(None, -0.05, "holders withhold (≤ −5%)")}),
    Check("seasonality", 5, "no_enforcement", seasonality, {
        "cny_collection_lead_days": Target(1, 30, "traders stop first (1–30 d)"),
        "summer_smelting_vs_spring": Target(-0.25, -0.05, "summer trough (56/65−1 = −14%)",
                                            fitted="targets/hebei.yaml")}),
    Check("thin_buffers", 6, "hebei", thin_buffers, {
        "days_collection_to_smelting_drop": Target(0, 21, "within days (≤ 21 d)")}),
    Check("relapse", 7, "shandong", relapse, {
        "relapsed_share_of_closed": Target(0.001, 0.10, "a few per cent (audit ~4.6%)")}),
    Check("imports_large", 8, "guangdong", imports_large, {
        "large_minus_workshop_change": Target(0.1, None, "large plants fall less (≥ +10 pts)")}),
    Check("two_plus_26", 9, "national_2017", two_plus_26, {
        "violation_rate_first_weeks": Target(0.6, 0.8, "~70% violating in the first weeks",
                                               fitted="targets/two_plus_26.yaml"),
        "violation_rate_to_september": Target(0.5, 0.6, "54.5% (22,832 / 41,928) by Sep"),
        "violation_rate_fall": Target(0.05, None, "falls (≥ 5 pts, 70% → 54.5%)"),
        "audit_share_not_closed": Target(0.025, 0.065, "347 of 7,705 audited (4.5%)",
                                         fitted="targets/two_plus_26.yaml"),
        "workshops_running_at_end": Target(None, 0.1, "near-complete exit (Dacheng 600+ → 17)")}),
)
