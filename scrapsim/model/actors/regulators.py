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

from scrapsim.model.actors.lists import Rounds, allot, class_lists, draw_uniform, escalate
from scrapsim.model.actors.smelters import (
    CLOSED,
    HALTED,
    RECTIFYING,
    RUNNING,
    SUSPENDED,
)
from scrapsim.model.actors.traders import ACTIVE
from scrapsim.model.actors.traders import CLOSED as T_CLOSED
from scrapsim.model.world import World
from scrapsim.scenario import SMELTER_CLASSES, Campaign, Sanctions

__all__ = ["Regulator", "escalate"]  # escalate: from lists, re-exported

TRADER, SMELTER = 0, 1
WORKSHOP = SMELTER_CLASSES.index("workshop")


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
        self._smelter_pools: dict[int, tuple] = {}
        self.verify_version = 0
        """Counts changes of :attr:`verify_by` (the smelter lists depend on it)."""
        n_c = len(model.scenario.campaigns)
        self.smelter_rounds = [Rounds(model.smelters.n) for _ in range(n_c)]
        self.trader_rounds = [Rounds(model.traders.n) for _ in range(n_c)]
        self.verify_by = np.full(model.smelters.n, -1, dtype=np.int64)
        """Campaign that ordered each smelter to rectify and has not verified it yet (-1: none)."""

    def start(self, env: simpy.Environment) -> None:
        """Schedule every campaign, deadline and audit (nothing at intensity 0)."""
        if self.intensity <= 0:
            return
        share = self.m.scenario.behaviour.false_report
        if share > 0:
            self.m.smelters.reports = (self.m.streams.get("reports"), share)
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
        self._order(self.verify_by == i, -1)        # left unverified

    # ---- inspections -----------------------------------------------------------------------
    def _inspect_day(self, i: int, c: Campaign, day: int) -> None:
        """Draw the day's Poisson number of visits; verification visits of sites this campaign
        ordered to rectify come first, the rest are inspections split over the target lists by
        weight (empty lists get none), each list visited in rounds (:class:`Rounds`), at times
        spread over the working morning."""
        rng = self.m.streams.get(f"campaign:{i}")
        n = int(rng.poisson(c.teams * c.inspections_per_team_day * self.intensity))
        if n == 0:
            return
        if c.lists:
            n -= self._verify(i, c, day, n, rng)
            if n == 0:
                return
        pools, traders = self._pools(i, c)
        weights = self._split(c, pools, traders)
        if weights.sum() <= 0:
            return
        counts = rng.multinomial(n, weights / weights.sum())
        if c.lists:
            sizes = np.array([p[0].size for p in pools] + [traders.size])
            counts = allot(counts, weights, sizes, rng)
            if c.list_order:
                counts[:3] = self._in_order(i, c, pools, int(counts[:3].sum()))
        picked = [self._pick(i, c, ids, cum, w, int(k), rng, day)
                  for k, (ids, cum, w) in zip(counts[:3], pools, strict=True) if k]
        if picked:
            ids = np.concatenate(picked)
            self._inspect_smelters(i, c, ids, day + 0.5 * np.sort(rng.random(ids.size)), rng)
        if counts[3]:
            if c.lists:
                ids = self.trader_rounds[i].pick(traders, int(counts[3]), rng, day=day)
            else:
                ids = traders[rng.integers(0, traders.size, counts[3])]
            self._inspect_traders(i, c, ids, day + 0.5 * np.sort(rng.random(ids.size)), rng)

    def _in_order(self, i: int, c: Campaign, pools: list, k: int) -> np.ndarray:
        """``k`` smelter visits over the three lists worked in ``c.list_order``: to each list's
        sites not yet visited this round, first list first; visits left when every named list
        is through its round start the new round from the first list (a list takes at most its
        length a day)."""
        seen = self.smelter_rounds[i].seen
        order = [SMELTER_CLASSES.index(x) for x in c.list_order]
        out = np.zeros(3, dtype=np.int64)
        for j in order:
            take = min(k, int((~seen[pools[j][0]]).sum()))
            out[j], k = take, k - take
        for j in order:
            take = min(k, pools[j][0].size - int(out[j]))
            out[j], k = out[j] + take, k - take
        return out

    def _pick(self, i: int, c: Campaign, ids: np.ndarray, cum: np.ndarray, w: np.ndarray,
              k: int, rng: np.random.Generator, day: int) -> np.ndarray:
        """``k`` smelters of one list: the next of the round (weights capacity**size_bias), or
        drawn with replacement when the campaign keeps no lists."""
        if c.lists:
            return self.smelter_rounds[i].pick(ids, k, rng, w, day)
        return ids[np.searchsorted(cum, rng.random(k) * cum[-1], side="right")]

    @staticmethod
    def _split(c: Campaign, pools: list, traders: np.ndarray) -> np.ndarray:
        """Weights of the four lists (large, small, workshop, traders); empty lists get none.
        With ``per_site`` the smelters' total weight is split by weight × list length."""
        t = c.targets
        w = np.array([t.large, t.small, t.workshop]) * [p[0].size > 0 for p in pools]
        if c.per_site and w.sum() > 0:
            sized = w * [p[0].size for p in pools]
            w = (t.large + t.small + t.workshop) * sized / sized.sum() if sized.sum() else w
        return np.append(w, t.traders if traders.size else 0.0)

    def _pools(self, i: int, c: Campaign) -> tuple[list, np.ndarray]:
        """The lists: open smelters of each class (ids, cumulative weights, weights: the
        differences of the cumulative ones) and traders in the campaign's regions; with lists,
        sites awaiting verification and suspended or rectifying plants (under a sanction) are
        off the lists, as are suspended traders. Kept until a state or an order changes."""
        s, tr = self.m.smelters, self.m.traders
        key = (s.version, self.verify_version)
        cached = self._smelter_pools.get(i)
        if cached is not None and cached[0] == key:
            pools = cached[1]
        else:
            here = self._smelters_in(i) & (s.state != CLOSED)
            if c.lists:
                here &= (self.verify_by < 0) & (s.state != SUSPENDED) & (s.state != RECTIFYING)
            pools = class_lists(here, s.klass, s.capacity, c.size_bias)
            self._smelter_pools[i] = (key, pools)
        cached = self._pool_cache.get(i)
        if cached is not None and cached[0] == tr.version:
            return pools, cached[1]
        open_ = (tr.state == ACTIVE) if c.lists else (tr.state != T_CLOSED)
        traders = np.flatnonzero(self.traders_in[i] & open_)
        self._pool_cache[i] = (tr.version, traders)
        return pools, traders

    def _p_detect(self, c: Campaign) -> float:
        return 1.0 - (1.0 - c.detection) * (1.0 - c.drones)

    def _detect(self, c: Campaign, ids: np.ndarray, eligible: np.ndarray,
                factor: np.ndarray | float, rng: np.random.Generator) -> np.ndarray:
        return eligible & (rng.random(ids.size) < self._p_detect(c) * factor)

    @staticmethod
    def _first_visits(ids: np.ndarray) -> np.ndarray | bool:
        """True for each actor's first inspection of the day (a second visit finds nothing new)."""
        if len(set(ids.tolist())) == ids.size:
            return True
        _, first = np.unique(ids, return_index=True)
        mask = np.zeros(ids.size, dtype=bool)
        mask[first] = True
        return mask

    def _visits(self, i: int, kind: int, ids: np.ndarray, times: np.ndarray,
                reg: np.ndarray, rounds: Rounds) -> None:
        """Log and count inspections (event value 1 on a site's first visit by the campaign)."""
        first = rounds.first_visits(ids)
        self.m.log.add(times, reg, kind, ids, i, "inspection", first.astype(float))
        if ids.size:
            self._add(int(times[0]), "inspections", reg)
            self._add(int(times[0]), "first_visits", reg[first])

    def _inspect_smelters(self, i: int, c: Campaign, ids: np.ndarray, times: np.ndarray,
                          rng: np.random.Generator) -> None:
        s = self.m.smelters
        reg = s.region[ids]
        self._visits(i, SMELTER, ids, times, reg, self.smelter_rounds[i])
        state = s.state[ids]
        live = (state == RUNNING) | (state == HALTED)
        eligible = s.violator[ids] & live & self._first_visits(ids)
        hidden = state == HALTED
        if c.lists and c.unlicensed_classes:
            paper = [SMELTER_CLASSES.index(k) for k in c.unlicensed_classes]
            hidden &= ~np.isin(s.klass[ids], paper)     # found on paper: no permits
        factor = np.where(hidden, c.halted_detection, 1.0)
        hit = self._detect(c, ids, eligible, factor, rng)
        if hit.any():
            self._sanction(i, c, SMELTER, ids[hit], times[hit], reg[hit], c.sanctions, rng)

    def _inspect_traders(self, i: int, c: Campaign, ids: np.ndarray, times: np.ndarray,
                         rng: np.random.Generator) -> None:
        tr = self.m.traders
        reg = tr.region[ids]
        self._visits(i, TRADER, ids, times, reg, self.trader_rounds[i])
        eligible = tr.violator[ids] & (tr.state[ids] == ACTIVE) & self._first_visits(ids)
        hit = self._detect(c, ids, eligible, 1.0, rng)
        if hit.any():
            self._sanction(i, c, TRADER, ids[hit], times[hit], reg[hit], c.trader_sanctions, rng)

    def _verify(self, i: int, c: Campaign, day: int, n: int, rng: np.random.Generator) -> int:
        """Up to ``n`` verification visits of sites this campaign ordered to rectify whose
        deadline has passed (back to running): a site still violating is found with the
        campaign's detection and closed (``verify_close``). Logs ``verification`` (value 1 when
        found), counted in ``verifications``; with ``verify: false`` the same visits are told
        apart from nothing: logged and counted as ``inspection`` (not a first visit), a site
        found still violating as a ``violation``, as a record that does not separate re-visits
        would count them (the dynamics are the same). Returns the number of visits made."""
        s = self.m.smelters
        mine = self.verify_by == i
        self._order(mine & (s.state == CLOSED), -1)          # closed at its deadline
        due = np.flatnonzero(mine & (s.state == RUNNING))
        if due.size == 0:
            return 0
        ids = draw_uniform(due, n, rng)
        self._order(ids, -1)
        self.smelter_rounds[i].mark(ids, day)             # visited in this round
        times = day + 0.5 * np.sort(rng.random(ids.size))
        found = s.violator[ids] & (rng.random(ids.size) < self._p_detect(c))
        reg = s.region[ids]
        if c.verify:
            self.m.log.add(times, reg, SMELTER, ids, i, "verification", found.astype(float))
            self._add(day, "verifications", reg)
        else:
            self.m.log.add(times, reg, SMELTER, ids, i, "inspection", 0.0)
            self._add(day, "inspections", reg)
            if found.any():
                self._count(i, SMELTER, ids[found], times[found], reg[found], "violation",
                            "violations")
        if found.any():
            self.m.count(day, "seized_smelters",
                         s.close(ids[found], self.m.log, times[found], i, "verify_close"))
        return int(ids.size)

    def _sanction(self, i: int, c: Campaign, actor: int, ids: np.ndarray, times: np.ndarray,
                  reg: np.ndarray, shares: Sanctions, rng: np.random.Generator) -> None:
        """Detected violations: log them, draw each one's sanction and apply it (smelters of
        the campaign's ``ban_classes`` are closed whatever the draw)."""
        self._count(i, actor, ids, times, reg, "violation", "violations")
        kind = self._sanction_kind(shares, ids.size, rng)
        if actor == SMELTER and c.ban_classes:
            banned = [SMELTER_CLASSES.index(k) for k in c.ban_classes]
            kind[np.isin(self.m.smelters.klass[ids], banned)] = 0
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
            self._order(ids, i)
        elif kind == 2:
            s.upgrade(ids, m.log, times, i, c.rectify_days)
            self._order(ids, i)
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

    def _order(self, which: np.ndarray, campaign: int) -> None:
        """Set :attr:`verify_by` of ``which`` (ids or a mask) to ``campaign`` (-1: none)."""
        if (self.verify_by[which] != campaign).any():
            self.verify_by[which] = campaign
            self.verify_version += 1

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
