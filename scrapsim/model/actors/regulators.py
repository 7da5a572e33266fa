"""Regulators: dated campaigns as SimPy processes that inspect single actors.

A campaign announces itself (traders grow wary, violating workshops halt), then each day of its
window its teams make a Poisson number of inspections (``teams × inspections_per_team_day ×
intensity``), each on one smelter or trader drawn by the campaign's targeting, at times spread
over the day's working hours (before the market clears at midday). A detected violation gets a
sanction drawn from the campaign's shares. Deadlines and audits are single dated events. A
day's inspections are one compiled call (:func:`scrapsim.model.campaign_kernels.campaign_day`),
so SimPy carries one event per campaign-day rather than one per inspection; each inspection
is still its own row in the event table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from datetime import date, timedelta

import numpy as np
import simpy

from scrapsim.model import loops
from scrapsim.model import packing as ck
from scrapsim.model.actors.lists import Rounds, escalate
from scrapsim.model.actors.smelters import (
    CLOSED,
    HALTED,
    RUNNING,
    SUSPENDED,
)
from scrapsim.model.actors.traders import ACTIVE
from scrapsim.model.actors.traders import CLOSED as T_CLOSED
from scrapsim.model.world import World
from scrapsim.scenario import SMELTER_CLASSES, Campaign

__all__ = ["Regulator", "escalate"]  # escalate: from lists, re-exported

TRADER, SMELTER = 0, 1
WORKSHOP = SMELTER_CLASSES.index("workshop")
DEADLINE_STEP_DAYS = 7
"""Days between the closures of a deadline's ``even`` programme."""


class Regulator:
    """Runs every campaign of the scenario on the model's environment."""

    def __init__(self, model: World) -> None:
        self.m = model
        self.intensity = model.scenario.enforcement.intensity
        names = [r.name for r in model.scenario.regions]
        self.region_sets = [np.array([names.index(r) for r in c.regions])
                            for c in model.scenario.campaigns]
        self.smelters_in = [np.isin(model.smelters.region, r) for r in self.region_sets]
        self.traders_in = [np.isin(model.traders.region, r) for r in self.region_sets]
        self._pool_cache: dict[int, tuple] = {}
        n_c = len(model.scenario.campaigns)
        self.smelter_rounds = [Rounds(model.smelters.n) for _ in range(n_c)]
        self.trader_rounds = [Rounds(model.traders.n) for _ in range(n_c)]
        self.verify_by = np.full(model.smelters.n, -1, dtype=np.int64)
        """Campaign that ordered each smelter to rectify and has not verified it yet (-1: none)."""
        self._fixed: list[tuple] = []
        self._columns = np.array([model.recorder.index[k] for k in ck.COLUMNS], dtype=np.int64)
        self._reports: np.random.Generator | None = None
        self._checked: set[int] = set()

    def start(self, env: simpy.Environment) -> None:
        """Schedule every campaign, deadline and audit (nothing at intensity 0)."""
        if self.intensity <= 0:
            return
        share = self.m.scenario.behaviour.false_report
        if share > 0:
            self.m.smelters.reports = (self.m.streams.get("reports"), share)
            self._reports = self.m.smelters.reports[0]
        self._fixed = [self._fixed_parts(i, c) for i, c in enumerate(self.m.scenario.campaigns)]
        for i, c in enumerate(self.m.scenario.campaigns):
            env.process(self._campaign(env, i, c))
            if c.deadline is not None:
                for when, chance in self._deadline_steps(c):
                    env.process(self._at(env, when, functools.partial(self._deadline, i, chance)))
            for audit in c.audits:
                env.process(self._at(env, audit, functools.partial(self._audit, i)))

    def _day(self, when: date) -> int:
        return (when - self.m.scenario.start).days

    def _at(self, env: simpy.Environment, when: date,
            action: Callable[[int], None]) -> Generator:
        day = self._day(when)
        if 0 <= day < self.m.n_days:
            yield env.timeout(day - env.now)
            action(day)

    def _campaign(self, env: simpy.Environment, i: int, c: Campaign) -> Generator:
        first, last = self._day(c.start), min(self._day(c.end), self.m.n_days - 1)
        announce = max(first - int(round(c.announcement_days)), 0)
        if last < 0 or announce >= self.m.n_days:
            return
        yield env.timeout(announce - env.now)
        self._announce(i, c, announce)
        for day in range(max(first, 0), last + 1):
            yield env.timeout(day - env.now)
            self._inspect_day(i, c, day)
        if last + 1 < self.m.n_days:
            yield env.timeout(last + 1 - env.now)
            self._leave(i, last + 1)

    # ---- announcement and departure --------------------------------------------------------
    def _smelters_in(self, i: int) -> np.ndarray:
        return self.smelters_in[i]

    def _announce(self, i: int, c: Campaign, day: int) -> None:
        s = self.m.smelters
        classes = [SMELTER_CLASSES.index(k) for k in c.halt_classes]
        cand = np.flatnonzero(self._smelters_in(i) & s.violator & (s.state == RUNNING)
                              & np.isin(s.klass, classes))
        rng = self.m.streams.get(f"campaign:{i}")
        halt = cand[rng.random(cand.size) < escalate(c.halt_share, self.intensity)]
        s.halt(halt, self.m.log, float(day), i)

    def _leave(self, i: int, day: int) -> None:
        """Inspectors leave: halted workshops restart where no other campaign is active."""
        s = self.m.smelters
        quiet = ~self.m.inputs.campaign_active[day]
        ids = np.flatnonzero(self._smelters_in(i) & (s.state == HALTED) & quiet[s.region])
        s.restart(ids, self.m.log, float(day), i)
        self.verify_by[self.verify_by == i] = -1          # left unverified

    # ---- inspections -----------------------------------------------------------------------
    def _inspect_day(self, i: int, c: Campaign, day: int) -> None:
        """The day's Poisson number of visits in one compiled call
        (:func:`scrapsim.model.campaign_kernels.campaign_day`): verification visits of sites
        this campaign ordered to rectify come first, the rest are inspections split over the
        target lists by weight (empty lists get none), each list visited in rounds
        (:class:`Rounds`), at times spread over the working morning; detected violations get
        their sanctions. It changes the populations, the rounds and the orders in place and
        returns the day's events, logged here, and what changed."""
        s, tr = self.m.smelters, self.m.traders
        rng = self.m.streams.get(f"campaign:{i}")
        sr, trr = self.smelter_rounds[i], self.trader_rounds[i]
        camp = (*self._fixed[i], self.verify_by, sr.seen, sr.ever, sr.last,
                self._trader_list(i, c), trr.seen, trr.ever, trr.last)
        # without false reports their stream is never drawn on: the loop without it
        args: tuple = (day, camp, s.kernel_arrays, tr.kernel_arrays, self.m.recorder.values,
                       self._columns, rng,
                       *(() if self._reports is None else (self._reports,)))
        name, loop = ("campaign_day_one_stream", loops.campaign_day_one_stream) \
            if self._reports is None else ("campaign_day", loops.campaign_day)
        if i not in self._checked:   # the same arrays (and types) every day of the run
            loops.check(name, *args)
            self._checked.add(i)
        floats, ints, changed = loop(*args)
        self.m.log.add_rows(floats, ints, ck.EVENTS)
        if changed[ck.CH_SMELTERS]:
            s.changed(closed=bool(changed[ck.CH_SMELTERS_CLOSED]))
        if changed[ck.CH_TRADERS]:
            tr.changed(closed=bool(changed[ck.CH_TRADERS_CLOSED]),
                       due=float(changed[ck.CH_TRADER_DUE]))

    def _fixed_parts(self, i: int, c: Campaign) -> tuple:
        """What :func:`~scrapsim.model.campaign_kernels.campaign_day` reads of campaign ``i``
        that does not change during the run (its numbers, switches, classes, regions' smelters
        and their list weights)."""
        t, sc, tc = c.targets, c.sanctions, c.trader_sanctions
        share = self.m.scenario.behaviour.false_report
        par = {"visits": c.teams * c.inspections_per_team_day * self.intensity,
               "detect": self._p_detect(c), "halted_detection": c.halted_detection,
               "large": t.large, "small": t.small, "workshop": t.workshop,
               "traders": t.traders, "smelter_weight": t.large + t.small + t.workshop,
               "close": sc.close, "suspend": sc.close + sc.suspend,
               "upgrade": sc.close + sc.suspend + sc.upgrade,
               "trader_close": tc.close, "trader_suspend": tc.close + tc.suspend,
               "trader_upgrade": tc.close + tc.suspend + tc.upgrade,
               "suspend_days": float(c.suspend_days), "rectify_days": float(c.rectify_days),
               "rectify_failure": c.rectify_failure, "fine": c.fine,
               "false_report": share if share > 0 else 0.0}
        flags = np.array([i, c.lists, c.verify, c.per_site], dtype=np.int64)
        classes = SMELTER_CLASSES
        order = np.array([classes.index(x) for x in c.list_order], dtype=np.int64)
        unlicensed = np.array([k in c.unlicensed_classes for k in classes])
        banned = np.array([k in c.ban_classes for k in classes])
        weight = np.ascontiguousarray(self.m.smelters.capacity ** c.size_bias, dtype=float)
        return (np.array([float(par[k]) for k in ck.PARAMETERS]), flags, order, unlicensed,
                banned, self.smelters_in[i], weight)

    def _trader_list(self, i: int, c: Campaign) -> np.ndarray:
        """The traders a campaign may visit: with lists the active ones of its regions (the
        suspended are off the list), else every trader not closed. Kept until a state changes."""
        tr = self.m.traders
        cached = self._pool_cache.get(i)
        if cached is not None and cached[0] == tr.version:
            return cached[1]
        open_ = (tr.state == ACTIVE) if c.lists else (tr.state != T_CLOSED)
        traders = np.flatnonzero(self.traders_in[i] & open_)
        self._pool_cache[i] = (tr.version, traders)
        return traders

    def _p_detect(self, c: Campaign) -> float:
        return 1.0 - (1.0 - c.detection) * (1.0 - c.drones)

    def _add(self, day: int, column: str, reg: np.ndarray,
             value: float | np.ndarray = 1.0) -> None:
        """Add ``value`` per actor to the regional total of ``column`` on ``day``."""
        self.m.count_actors(day, column, reg, value)

    # ---- deadlines and audits --------------------------------------------------------------
    def _deadline_steps(self, c: Campaign) -> list[tuple[date, float | None]]:
        """The dates of a deadline's closures and the chance each site still listed is shut on
        each (None: the deadline's share, as on ``at_deadline``). ``even``: weekly from the
        campaign's start, step j of K shuts d / (K - d (j - 1)) of the sites left (d the
        deadline's share at this intensity), so that d of the list is shut by the deadline,
        the same number each week when nothing else shuts any."""
        assert c.deadline is not None
        if c.deadline_pace == "at_deadline":
            return [(c.deadline, None)]
        weeks = max((c.deadline - c.start).days - 1, 0) // DEADLINE_STEP_DAYS
        dates = [c.start + timedelta(days=DEADLINE_STEP_DAYS * (j + 1)) for j in range(weeks)]
        dates.append(c.deadline)
        d, k = escalate(c.deadline_share, self.intensity), len(dates)
        return [(when, d / (k - d * j)) for j, when in enumerate(dates)]

    def _deadline(self, i: int, share: float | None, day: int) -> None:
        """Listed scattered enterprises (violating workshops) still operating are shut: with
        ``share`` None (``at_deadline``) every one, the deadline's share of them; else each
        with chance ``share``, sites already reported shut (truly or falsely) left alone."""
        c, s = self.m.scenario.campaigns[i], self.m.smelters
        live = (s.state == RUNNING) | (s.state == HALTED) | (s.state == SUSPENDED)
        listed = self._smelters_in(i) & (s.klass == WORKSHOP) & s.violator & live
        if share is not None:
            listed &= ~s.false_closed
        cand = np.flatnonzero(listed)
        rng = self.m.streams.get(f"campaign:{i}")
        p = escalate(c.deadline_share, self.intensity) if share is None else share
        ids = cand[rng.random(cand.size) < p]
        seized = s.close(ids, self.m.log, float(day), i, "deadline_close")
        self.m.count(day, "seized_smelters", seized)

    def _audit(self, i: int, day: int) -> None:
        """Audit of reported closures in the campaign's regions: every site reported closed
        (closed, falsely closed or relapsed) is visited (``audit``, value 1 when found not
        closed, counted in ``audits``); falsely closed and relapsed sites are found with
        ``audit_detection`` and closed for real (``audit_close``)."""
        c, s = self.m.scenario.campaigns[i], self.m.smelters
        reported = (s.state == CLOSED) | s.false_closed | s.relapsed
        cand = np.flatnonzero(self._smelters_in(i) & reported)
        rng = self.m.streams.get(f"campaign:{i}")
        open_ = (s.state[cand] != CLOSED)
        found = open_ & (rng.random(cand.size) < escalate(c.audit_detection, self.intensity))
        self.m.log.add(float(day), s.region[cand], SMELTER, cand, i, "audit", found.astype(float))
        self._add(day, "audits", s.region[cand])
        ids = cand[found]
        self.m.count(day, "seized_smelters", s.close(ids, self.m.log, float(day), i,
                                                     "audit_close"))
