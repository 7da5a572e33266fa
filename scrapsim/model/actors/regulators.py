"""Regulators: dated campaigns as SimPy processes that inspect single actors.

A campaign announces itself (traders grow wary, violating workshops halt), then each day of its
window its teams make a Poisson number of inspections (``teams × inspections_per_team_day ×
intensity``), each on one smelter or trader drawn by the campaign's targeting, at times spread
over the day's working hours (before the market clears at midday). A detected violation gets a
sanction drawn from the campaign's shares. Deadlines and audits are single dated events. A
day's inspections are drawn as one batch, so SimPy carries one event per campaign-day rather
than one per inspection; each inspection is still its own row in the event table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from datetime import date

import numpy as np
import simpy

from scrapsim.model.actors.smelters import CLOSED, HALTED, RUNNING, SUSPENDED
from scrapsim.model.actors.traders import ACTIVE
from scrapsim.model.actors.traders import CLOSED as T_CLOSED
from scrapsim.model.world import World
from scrapsim.scenario import SMELTER_CLASSES, Campaign, Sanctions

__all__ = ["Regulator", "escalate"]

TRADER, SMELTER = 0, 1
WORKSHOP = SMELTER_CLASSES.index("workshop")


def escalate(share: float, intensity: float) -> float:
    """Probability ``1 − (1 − share)**intensity``: 0 at intensity 0, ``share`` at 1, rising."""
    return 1.0 - (1.0 - share) ** intensity


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

    def start(self, env: simpy.Environment) -> None:
        """Schedule every campaign, deadline and audit (nothing at intensity 0)."""
        if self.intensity <= 0:
            return
        for i, c in enumerate(self.m.scenario.campaigns):
            env.process(self._campaign(env, i, c))
            if c.deadline is not None:
                env.process(self._at(env, c.deadline, functools.partial(self._deadline, i)))
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

    # ---- inspections -----------------------------------------------------------------------
    def _inspect_day(self, i: int, c: Campaign, day: int) -> None:
        """Draw the day's Poisson number of inspections, split them over the target groups by
        weight (empty groups get none), pick each actor (smelters by capacity**size_bias) and
        inspect smelters and traders at times spread over the working morning."""
        rng = self.m.streams.get(f"campaign:{i}")
        n = rng.poisson(c.teams * c.inspections_per_team_day * self.intensity)
        if n == 0:
            return
        pools, traders = self._pools(i, c)
        weights = np.array([w if p[0].size else 0.0 for w, p in zip(self._weights(c), pools)]
                           + [c.targets.traders if traders.size else 0.0])
        if weights.sum() <= 0:
            return
        counts = rng.multinomial(n, weights / weights.sum())
        picked = [ids[np.searchsorted(cum, rng.random(k) * cum[-1], side="right")]
                  for k, (ids, cum) in zip(counts[:3], pools) if k]
        if picked:
            ids = np.concatenate(picked)
            self._inspect_smelters(i, c, ids, day + 0.5 * np.sort(rng.random(ids.size)), rng)
        if counts[3]:
            ids = traders[rng.integers(0, traders.size, counts[3])]
            self._inspect_traders(i, c, ids, day + 0.5 * np.sort(rng.random(ids.size)), rng)

    @staticmethod
    def _weights(c: Campaign) -> list[float]:
        t = c.targets
        return [t.large, t.small, t.workshop]

    def _pools(self, i: int, c: Campaign) -> tuple[list, np.ndarray]:
        """Open smelters of each class (ids, cumulative weights) and open traders in the
        campaign's regions; cached until a closure or reopening changes them."""
        s, tr = self.m.smelters, self.m.traders
        key = (s.closed_version, tr.closed_version)
        cached = self._pool_cache.get(i)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        here = self._smelters_in(i) & (s.state != CLOSED)
        pools = []
        for k in range(3):
            ids = np.flatnonzero(here & (s.klass == k))
            pools.append((ids, np.cumsum(s.capacity[ids] ** c.size_bias)))
        traders = np.flatnonzero(self.traders_in[i] & (tr.state != T_CLOSED))
        self._pool_cache[i] = (key, pools, traders)
        return pools, traders

    def _detect(self, c: Campaign, ids: np.ndarray, eligible: np.ndarray,
                factor: np.ndarray | float, rng: np.random.Generator) -> np.ndarray:
        p = 1.0 - (1.0 - c.detection) * (1.0 - c.drones)
        return eligible & (rng.random(ids.size) < p * factor)

    @staticmethod
    def _first_visits(ids: np.ndarray) -> np.ndarray | bool:
        """True for each actor's first inspection of the day (a second visit finds nothing new)."""
        if len(set(ids.tolist())) == ids.size:
            return True
        _, first = np.unique(ids, return_index=True)
        mask = np.zeros(ids.size, dtype=bool)
        mask[first] = True
        return mask

    def _inspect_smelters(self, i: int, c: Campaign, ids: np.ndarray, times: np.ndarray,
                          rng: np.random.Generator) -> None:
        s = self.m.smelters
        reg = s.region[ids]
        self._count(i, SMELTER, ids, times, reg, "inspection", "inspections")
        state = s.state[ids]
        eligible = s.violator[ids] & ((state == RUNNING) | (state == HALTED)) & self._first_visits(ids)
        factor = np.where(state == HALTED, c.halted_detection, 1.0)
        hit = self._detect(c, ids, eligible, factor, rng)
        if hit.any():
            self._sanction(i, c, SMELTER, ids[hit], times[hit], reg[hit], c.sanctions, rng)

    def _inspect_traders(self, i: int, c: Campaign, ids: np.ndarray, times: np.ndarray,
                         rng: np.random.Generator) -> None:
        tr = self.m.traders
        reg = tr.region[ids]
        self._count(i, TRADER, ids, times, reg, "inspection", "inspections")
        eligible = tr.violator[ids] & (tr.state[ids] == ACTIVE) & self._first_visits(ids)
        hit = self._detect(c, ids, eligible, 1.0, rng)
        if hit.any():
            self._sanction(i, c, TRADER, ids[hit], times[hit], reg[hit], c.trader_sanctions, rng)

    def _sanction(self, i: int, c: Campaign, actor: int, ids: np.ndarray, times: np.ndarray,
                  reg: np.ndarray, shares: Sanctions, rng: np.random.Generator) -> None:
        """Detected violations: log them, draw each one's sanction and apply it."""
        self._count(i, actor, ids, times, reg, "violation", "violations")
        kind = self._sanction_kind(shares, ids.size, rng)
        apply = (self._sanction_trader, self._sanction_smelter)[actor]
        for k in np.unique(kind).tolist():
            sel = kind == k
            apply(k, i, c, ids[sel], times[sel], reg[sel])

    def _sanction_smelter(self, kind: int, i: int, c: Campaign, ids: np.ndarray,
                          times: np.ndarray, reg: np.ndarray) -> None:
        m, s = self.m, self.m.smelters
        if kind == 0:
            m.count(int(times[0]), "seized_smelters", s.close(ids, m.log, times, i))
        elif kind == 1:
            s.suspend(ids, m.log, times, i, c.suspend_days, c.rectify_days, c.rectify_failure)
        elif kind == 2:
            s.upgrade(ids, m.log, times, i, c.rectify_days)
        else:
            self._fine(i, c, SMELTER, ids, times, reg)

    def _sanction_trader(self, kind: int, i: int, c: Campaign, ids: np.ndarray,
                         times: np.ndarray, reg: np.ndarray) -> None:
        """Close: yard confiscated; suspend or upgrade order: stops for ``suspend_days``."""
        m, tr = self.m, self.m.traders
        if kind == 0:
            m.count(int(times[0]), "seized_traders", tr.close(ids, m.log, times, i))
        elif kind in (1, 2):
            tr.suspend(ids, m.log, times, i, c.suspend_days)
        else:
            self._fine(i, c, TRADER, ids, times, reg)

    def _add(self, day: int, column: str, reg: np.ndarray,
             value: float | np.ndarray = 1.0) -> None:
        """Add ``value`` per actor to the regional total of ``column`` on ``day``."""
        self.m.count_actors(day, column, reg, value)

    def _count(self, i: int, kind: int, ids: np.ndarray, times: np.ndarray, reg: np.ndarray,
               event: str, column: str) -> None:
        """Log one ``event`` per actor and count it in the day's ``column``."""
        self.m.log.add(times, reg, kind, ids, i, event)
        if ids.size:
            self._add(int(times[0]), column, reg)

    @staticmethod
    def _sanction_kind(shares: Sanctions, n: int, rng: np.random.Generator) -> np.ndarray:
        """0 close, 1 suspend, 2 upgrade, 3 fine, drawn by the campaign's shares."""
        close = shares.close
        edges = np.array([close, close + shares.suspend, close + shares.suspend + shares.upgrade])
        return np.searchsorted(edges, rng.random(n), side="right")

    def _fine(self, i: int, c: Campaign, kind: int, ids: np.ndarray, times: np.ndarray,
              reg: np.ndarray) -> None:
        self.m.log.add(times, reg, kind, ids, i, "fine", c.fine)
        if ids.size:
            self._add(int(times[0]), "fines", reg, c.fine)

    # ---- deadlines and audits --------------------------------------------------------------
    def _deadline(self, i: int, day: int) -> None:
        """Every listed scattered enterprise (violating workshop) still operating is shut."""
        c, s = self.m.scenario.campaigns[i], self.m.smelters
        live = (s.state == RUNNING) | (s.state == HALTED) | (s.state == SUSPENDED)
        cand = np.flatnonzero(self._smelters_in(i) & (s.klass == WORKSHOP) & s.violator & live)
        rng = self.m.streams.get(f"campaign:{i}")
        ids = cand[rng.random(cand.size) < escalate(c.deadline_share, self.intensity)]
        seized = s.close(ids, self.m.log, float(day), i, "deadline_close")
        self.m.count(day, "seized_smelters", seized)

    def _audit(self, i: int, day: int) -> None:
        """Follow-up audit of closures: relapsed sites found are closed again."""
        c, s = self.m.scenario.campaigns[i], self.m.smelters
        cand = np.flatnonzero(self._smelters_in(i) & s.relapsed & (s.state != CLOSED))
        rng = self.m.streams.get(f"campaign:{i}")
        self.m.log.add(float(day), s.region[cand], SMELTER, cand, i, "inspection")
        self._add(day, "inspections", s.region[cand])
        ids = cand[rng.random(cand.size) < escalate(c.audit_detection, self.intensity)]
        self.m.log.add(float(day), s.region[ids], SMELTER, ids, i, "violation")
        self._add(day, "violations", s.region[ids])
        self.m.count(day, "seized_smelters", s.close(ids, self.m.log, float(day), i,
                                                     "audit_close"))
