"""Smelters (secondary-aluminium / alloy-ingot makers) as a struct of arrays, and their state
machine.

States: ``running → suspended (power cut until a rectification deadline) → rectifying → running``;
``running|halted|suspended → closed`` (banned: stock and equipment removed); ``halted`` (a
violating workshop stops by itself while inspectors are in its region, restarts when they leave
unless caught); ``closed → running`` by relapse; a reported closure can be false (the site goes on
running, ``false_closed``) and a reported rectification undone (the site still violates).
Every transition is a method on index arrays that records one event per smelter.
"""

from __future__ import annotations

import numpy as np

from scrapsim.model import loops
from scrapsim.model import packing as pk
from scrapsim.model.actors.traders import _lognormal
from scrapsim.model.records import EventLog
from scrapsim.scenario import SMELTER_CLASSES, Scenario

__all__ = ["CLOSED", "HALTED", "RECTIFYING", "RUNNING", "STATES", "SUSPENDED", "Smelters"]

RUNNING, HALTED, SUSPENDED, RECTIFYING, CLOSED = range(5)
STATES = ("running", "halted", "suspended", "rectifying", "closed")
SMELTER = 1
FALSE_REPORTABLE = ("close", "deadline_close", "rectify_fail_close")
"""Closure events a site can report falsely (audit and verification closures are real)."""


class Smelters:
    """All smelters of a scenario, contiguous by region then class.

    Per smelter: ``capacity`` t scrap/day, ``metal_yield``, ``cost`` CNY/t processing cost,
    ``cover`` target stock in days, ``rate0`` operating rate at the reference margin,
    ``response`` operating-rate change per unit margin/ingot, ``stock`` t, ``state``, ``until``
    (day the current suspension or rectification ends), ``violator``, ``relapsed``.
    """

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        rows = [self._draw(r.smelters, i, rng) for i, r in enumerate(scenario.regions)]
        cols = list(zip(*rows, strict=False))
        cat = [np.concatenate(c) for c in cols]
        (self.region, self.klass, self.capacity, self.metal_yield, self.cost, self.cover,
         self.rate0, self.response, violator) = cat
        self.region = self.region.astype(np.int64)
        self.klass = self.klass.astype(np.int64)
        self.violator = violator.astype(bool)
        self.n = len(self.capacity)
        self.n_regions = len(scenario.regions)
        self.state = np.zeros(self.n, dtype=np.int64)
        self.until = np.zeros(self.n)
        self.next_days = np.zeros(self.n)
        self.fail = np.zeros(self.n)
        self.relapsed = np.zeros(self.n, dtype=bool)
        self.stock = np.zeros(self.n)
        self.use = np.zeros(self.n)
        self.bid = np.zeros(self.n)
        self.margin0 = np.zeros(self.n)
        self.running = np.ones(self.n)
        self.group = self.region * 3 + self.klass
        self.closed_version = 0
        self.version = 0
        """Counts state changes (what depends on states may be kept until it moves)."""
        self.relapse_day = np.full(self.n, np.inf)
        self.false_closed = np.zeros(self.n, dtype=bool)
        self.rectifiable = np.isin(self.klass, [SMELTER_CLASSES.index(k)
                                                for k in scenario.behaviour.rectifiable])
        self.reports: tuple[np.random.Generator, float] | None = None
        """(stream, share) of false reports, set by the regulator; None: every report true."""
        self.kernel_arrays: tuple[np.ndarray, ...] = ()
        """The arrays of ``packing.CAMPAIGN_SMELTER_FIELDS``, packed once a run by the model."""
        r = self.n_regions
        self.demand, self.smelted_r, self.ingot_r, self.stock_r = (np.zeros(r) for _ in range(4))
        self.smelted, self.by_group = np.zeros(self.n), np.zeros(3 * r)
        self.counts = np.zeros((r, 5), dtype=np.int64)
        self.running_by_class = np.zeros((r, 3))
        self.import_share = np.zeros(self.n)
        self.import_regions = np.zeros(r, dtype=bool)
        self._dirty = True
        self._checked = self._deadlines_checked = False
        self.refresh()

    def refresh(self) -> None:
        """Recompute what depends only on states (after any transition; cheap when unchanged)."""
        if not self._dirty:
            return
        self._dirty = False
        args = (self.region, self.group, self.klass, self.state, self.running, self.capacity,
                self.until, self.counts, self.running_by_class.reshape(-1), self.import_share,
                self.import_regions)
        if not self._checked:
            loops.check("state_summary", *args)
            self._checked = True
        self.next_due = loops.state_summary(*args)

    @property
    def n_closed(self) -> int:
        """Smelters closed (as of the last :meth:`refresh`)."""
        return int(self.counts[:, CLOSED].sum())

    @staticmethod
    def _draw(smelters, region: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        parts = []
        for k, name in enumerate(SMELTER_CLASSES):
            c = getattr(smelters, name)
            n = c.count
            parts.append((
                np.full(n, region), np.full(n, k), _lognormal(rng, c.capacity, c.capacity_cv, n),
                np.full(n, c.metal_yield), _lognormal(rng, c.processing_cost, 0.08, n),
                np.full(n, c.cover_days), np.full(n, c.operating_rate),
                np.full(n, c.margin_response), rng.random(n) < c.violator_share,
            ))
        return tuple(np.concatenate([p[j] for p in parts]).astype(float) for j in range(9))

    # ---- daily economics -------------------------------------------------------------------
    def margins(self, ingot: float, price: np.ndarray) -> np.ndarray:
        """Margin per tonne of scrap (CNY/t) at the regional scrap ``price``."""
        return loops.smelter_margin(ingot, self.metal_yield, price[self.region], self.cost)

    # ---- state machine ---------------------------------------------------------------------
    def _set(self, ids: np.ndarray, state: int) -> None:
        if ids.size == 0:
            return
        self._dirty = True
        self.version += 1
        if state == CLOSED or (self.state[ids] == CLOSED).any():
            self.closed_version += 1
        self.state[ids] = state
        self.running[ids] = 1.0 if state == RUNNING else 0.0

    def changed(self, closed: bool) -> None:
        """States were changed in place by compiled code (a campaign's day); ``closed``: a
        closure among the changes (what :meth:`_set` would have counted)."""
        self._dirty = True
        self.version += 1
        if closed:
            self.closed_version += 1

    def halt(self, ids: np.ndarray, log: EventLog, t: float, campaign: int) -> None:
        ids = ids[self.state[ids] == RUNNING]
        self._set(ids, HALTED)
        log.add(t, self.region[ids], SMELTER, ids, campaign, "halt")

    def restart(self, ids: np.ndarray, log: EventLog, t: float, campaign: int) -> None:
        ids = ids[self.state[ids] == HALTED]
        self._set(ids, RUNNING)
        log.add(t, self.region[ids], SMELTER, ids, campaign, "restart")

    def close(self, ids: np.ndarray, log: EventLog, t: float | np.ndarray, campaign: int,
              event: str = "close") -> np.ndarray:
        """Ban ``ids``: stock and equipment removed; returns tonnes seized per region.

        Closures found false are reported too: when :attr:`reports` is set, a share of the
        ``close``, ``deadline_close`` and ``rectify_fail_close`` reports is false (see
        :meth:`_false_closures`); audit and verification closures are always real."""
        keep = self.state[ids] != CLOSED
        ids, t = ids[keep], (np.asarray(t, float)[keep] if np.ndim(t) else t)
        log.add(t, self.region[ids], SMELTER, ids, campaign, event)
        if self.reports is not None and event in FALSE_REPORTABLE and ids.size:
            ids, t = self._false_closures(ids, t, log, campaign)
        self._set(ids, CLOSED)
        self.relapsed[ids] = False
        self.false_closed[ids] = False
        seized = self.stock[ids].copy()
        self.stock[ids] = 0.0
        log.add(t, self.region[ids], SMELTER, ids, campaign, "seize", seized)
        return np.bincount(self.region[ids], weights=seized, minlength=self.n_regions)

    def _false_closures(self, ids: np.ndarray, t: float | np.ndarray, log: EventLog,
                        campaign: int) -> tuple[np.ndarray, float | np.ndarray]:
        """Reported closures that are false: the site keeps (or goes back to) producing, still
        violating, flagged ``false_closed`` until an audit or inspection closes it; logs
        ``false_close`` (value 0). Returns the ids (and times) really closed."""
        assert self.reports is not None
        rng, share = self.reports
        false = rng.random(ids.size) < share
        fake = ids[false]
        tf = np.asarray(t, float)[false] if np.ndim(t) else t
        self._set(fake, RUNNING)
        self.violator[fake] = True
        self.false_closed[fake] = True
        log.add(tf, self.region[fake], SMELTER, fake, campaign, "false_close")
        return ids[~false], (np.asarray(t, float)[~false] if np.ndim(t) else t)

    def suspend(self, ids: np.ndarray, log: EventLog, t: float | np.ndarray, campaign: int,
                days: float,
                rectify_days: float, fail: float) -> None:
        """Power cut until ``t + days``; then rectify for ``rectify_days`` or close (``fail``).

        Only running or halted plants can be suspended; others are left as they are."""
        keep = (self.state[ids] == RUNNING) | (self.state[ids] == HALTED)
        ids, t = ids[keep], (np.asarray(t, float)[keep] if np.ndim(t) else t)
        self._set(ids, SUSPENDED)
        self.until[ids] = np.floor(t) + days
        self.next_days[ids] = rectify_days
        self.fail[ids] = fail
        log.add(t, self.region[ids], SMELTER, ids, campaign, "suspend")

    def upgrade(self, ids: np.ndarray, log: EventLog, t: float | np.ndarray, campaign: int,
                days: float) -> None:
        """Order to upgrade: a running or halted plant stops to rectify for ``days``."""
        keep = (self.state[ids] == RUNNING) | (self.state[ids] == HALTED)
        ids, t = ids[keep], (np.asarray(t, float)[keep] if np.ndim(t) else t)
        self._set(ids, RECTIFYING)
        self.until[ids] = np.floor(t) + days
        log.add(t, self.region[ids], SMELTER, ids, campaign, "upgrade")

    def advance(self, day: int, rng: np.random.Generator, log: EventLog) -> np.ndarray:
        """Deadlines falling on ``day``: suspended → rectifying or closed; rectifying → running
        (in one compiled call, :func:`~scrapsim.model.sanction_kernels.smelter_deadlines`;
        ``rng`` draws the failed rectifications).

        Returns tonnes seized per region from plants closed for not rectifying.
        """
        self.refresh()
        seized = np.zeros(self.n_regions)
        if day < self.next_due:
            return seized
        reports, share = self.reports if self.reports is not None else (rng, 0.0)
        args = (day, pk.pack(self, pk.CAMPAIGN_SMELTER_FIELDS), self.rectifiable, rng, reports,
                float(share), seized)
        if not self._deadlines_checked:   # the same arrays (and types) every time
            loops.check("smelter_deadlines", *args)
            self._deadlines_checked = True
        floats, ints, changed = loops.smelter_deadlines(*args)
        log.add_rows(floats, ints, pk.EVENTS)
        self.changed(closed=bool(changed[pk.CH_SMELTERS_CLOSED]))
        return seized

    def relapse(self, ids: np.ndarray, log: EventLog, t: float) -> None:
        """Closed sites that restart illegally (audits found ~4.6% in 2017); others ignored."""
        ids = ids[self.state[ids] == CLOSED]
        self._set(ids, RUNNING)
        self.violator[ids] = True
        self.relapsed[ids] = True
        log.add(t, self.region[ids], SMELTER, ids, -1, "relapse")

    def state_counts(self) -> np.ndarray:
        """[region, state] counts."""
        self.refresh()
        return self.counts
