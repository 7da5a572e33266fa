"""Traders (collectors and dealers) as a struct of arrays, grouped by region.

Traders of a region are contiguous and sorted by collection cost, so "who collects at this
price" is a prefix found by ``searchsorted`` and regional totals are slice sums. A day costs a
handful of vectorized operations per region whatever the number of traders.
"""

from __future__ import annotations

import numpy as np

from scrapsim.model import loops
from scrapsim.model.records import EventLog
from scrapsim.scenario import Scenario

__all__ = ["ACTIVE", "CLOSED", "SUSPENDED", "Traders"]

ACTIVE, SUSPENDED, CLOSED = 0, 1, 2
TRADER = 0
"""Actor kind of traders in the event table."""


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    if n == 0 or mean <= 0:
        return np.zeros(n)
    sigma2 = np.log1p(cv**2)
    return rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), n)


class Traders:
    """All traders of a scenario.

    Arrays (length n): ``capacity`` t/day, ``cost`` CNY/t, ``tolerance`` (perceived-risk level
    at which the trader stops), ``temper`` (individual multiplier on the target yard cover),
    ``stock`` t, ``collected`` and ``offers`` (t of the day), ``state``
    (ACTIVE/SUSPENDED/CLOSED), ``until`` (day a suspension ends), ``violator``. Per region:
    ``cover`` (target yard, days of collection), ``sell_days``, ``elasticity``, ``fast_out``,
    ``withhold``.
    """

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        parts = [self._draw(r.traders, rng) for r in scenario.regions]
        counts = np.array([len(p[0]) for p in parts], dtype=np.int64)
        self.bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.kernel_arrays: tuple[np.ndarray, ...] = ()
        """The arrays of ``packing.CAMPAIGN_TRADER_FIELDS``, packed once a run by the model."""
        self.n = int(self.bounds[-1])
        self.region = np.repeat(np.arange(len(counts)), counts)
        cat = [np.concatenate([p[k] for p in parts]) if self.n else np.zeros(0) for k in range(5)]
        self.capacity, self.cost, self.tolerance, self.temper, violator = cat
        self.violator = violator.astype(bool)
        self.stock = np.zeros(self.n)
        self.state = np.zeros(self.n, dtype=np.int8)
        self.until = np.zeros(self.n)
        self.cover = np.array([r.traders.cover_days for r in scenario.regions])
        self.sell_days = np.array([r.traders.sell_days for r in scenario.regions])
        self.hold = np.array([r.traders.hold_elasticity for r in scenario.regions])
        self.fast_out = np.array([r.traders.fast_out for r in scenario.regions])
        self.withhold = np.array([r.traders.withhold for r in scenario.regions])
        self.elasticity = np.array([r.traders.elasticity for r in scenario.regions])
        self.offers = np.zeros(self.n)
        self.collected = np.zeros(self.n)
        self.cum = np.zeros(self.n + 1)  # prefix sums of the offers (the clearing's buffer)
        self.room = np.zeros(self.n)  # room left in each yard today (collection's buffer)
        self.refresh()

    @staticmethod
    def _draw(pop, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        n = pop.count
        cap = _lognormal(rng, pop.capacity, pop.capacity_cv, n)
        cost = np.maximum(rng.normal(pop.cost, pop.cost_sd, n), 0.0)
        tol = _lognormal(rng, pop.risk_tolerance, 0.35, n)
        temper = _lognormal(rng, 1.0, 0.3, n)
        violator = rng.random(n) < pop.violator_share
        order = np.argsort(cost, kind="stable")
        return cap[order], cost[order], tol[order], temper[order], violator[order].astype(float)

    def refresh(self) -> None:
        """Recompute every state-derived cache from scratch (at build time)."""
        active = self.state == ACTIVE
        self.base = self.capacity * active
        self.temper_eff = self.temper * active
        self.base_total = self._per_region(self.base)
        self.active_count = self._per_region(active * 1.0)
        pending = self.state == SUSPENDED
        self.next_due = float(self.until[pending].min()) if pending.any() else np.inf
        self.version = getattr(self, "version", 0) + 1
        self.closed_version = getattr(self, "closed_version", 0) + 1

    def set_state(self, ids: np.ndarray, state: int, until: np.ndarray | None = None) -> None:
        """Move ``ids`` (unique) to ``state``, updating the caches incrementally."""
        if ids.size == 0:
            return
        active = float(state == ACTIVE)
        reg = self.region[ids]
        n = len(self.base_total)
        self.base_total += np.bincount(reg, weights=self.capacity[ids] * active - self.base[ids],
                                       minlength=n)
        self.active_count += np.bincount(reg, weights=active - (self.state[ids] == ACTIVE),
                                         minlength=n)
        self.base_total[self.active_count <= 0] = 0.0
        self.state[ids] = state
        self.base[ids] = self.capacity[ids] * active
        self.temper_eff[ids] = self.temper[ids] * active
        if state == CLOSED:
            self.closed_version += 1
        if until is not None:
            self.until[ids] = until
            self.next_due = min(self.next_due, float(np.min(until)))
        self.version += 1

    def changed(self, closed: bool, due: float) -> None:
        """States were changed in place by compiled code (a campaign's day), regional totals
        included; ``closed``: a trader closed among them; ``due``: the earliest end of a
        suspension it set (inf: none)."""
        if closed:
            self.closed_version += 1
        self.next_due = min(self.next_due, due)
        self.version += 1

    def reopen_due(self, day: int) -> np.ndarray:
        """Suspended traders whose suspension ends by ``day`` become active; returns their ids."""
        if day < self.next_due:
            return np.zeros(0, dtype=np.int64)
        pending = self.state == SUSPENDED
        back = np.flatnonzero(pending & (self.until <= day))
        self.set_state(back, ACTIVE)
        rest = pending & (self.until > day)
        self.next_due = float(self.until[rest].min()) if rest.any() else np.inf
        return back

    def _per_region(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.bounds) - 1)
        loops.region_sums(self.bounds, np.ascontiguousarray(x, dtype=float), out)
        return out

    def sums(self, x: np.ndarray) -> np.ndarray:
        """Regional totals of a trader array."""
        return self._per_region(x)

    def close(self, ids: np.ndarray, log: EventLog, t: float | np.ndarray,
              campaign: int) -> np.ndarray:
        """Close ``ids`` for good and confiscate their yards; returns tonnes seized per region.

        Logs a ``close`` and a ``seize`` event (value: tonnes) per trader."""
        seized = self.stock[ids].copy()
        self.stock[ids] = 0.0
        self.set_state(ids, CLOSED)
        reg = self.region[ids]
        log.add(t, reg, TRADER, ids, campaign, "close")
        log.add(t, reg, TRADER, ids, campaign, "seize", seized)
        return np.bincount(reg, weights=seized, minlength=len(self.bounds) - 1)

    def suspend(self, ids: np.ndarray, log: EventLog, t: np.ndarray, campaign: int,
                days: float) -> None:
        """Stop ``ids`` until ``floor(t) + days`` (suspension or upgrade order); logs
        ``suspend``."""
        self.set_state(ids, SUSPENDED, np.floor(t) + days)
        log.add(t, self.region[ids], TRADER, ids, campaign, "suspend")
