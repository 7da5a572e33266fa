"""The model's lifecycle: build (populations, inputs) → run the SimPy timeline → results.

The SimPy environment carries what is discrete in time: one market day per day (at midday:
deadlines falling due, collection, inter-regional shipping, clearing, smelting, the day's row),
and the regulators' campaigns, deadlines and audits. Populations are numpy arrays advanced by
vectorized steps inside the market day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import simpy

from . import market
from .actors.regulators import Regulator
from .actors.smelters import CLOSED, Smelters
from .actors.traders import Traders
from .calendar import Inputs, build_inputs
from .records import DailyRecorder, EventLog, check_balance
from .rng import Streams
from .scenario import Scenario, ScenarioError
from .table import Table

__all__ = ["Model", "Result", "run"]

ACCUMULATORS = ("inspections", "violations", "fines", "seized_traders", "seized_smelters")


@dataclass
class Result:
    """Everything one run produced; nothing is written to disk."""

    scenario: Scenario
    seed: int
    daily: Table
    initial: Table
    events: Table
    windows: list[tuple[str, list[str], date, date]]
    wall_time: float
    n_events: int
    summary: dict | None = None
    baseline: Result | None = field(default=None, repr=False)

    def frames(self) -> dict:
        """The tables as pandas DataFrames (imports pandas)."""
        return {"daily": self.daily.to_pandas(), "events": self.events.to_pandas(),
                "initial": self.initial.to_pandas()}


class Model:
    """One simulation of a scenario with one seed."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        _check_inputs(scenario)
        self.scenario, self.seed = scenario, seed
        self.streams = Streams(seed)
        self.n_days, self.n_regions = scenario.days, len(scenario.regions)
        self.inputs: Inputs = build_inputs(scenario, self.streams.get("inputs"))
        self.traders = Traders(scenario, self.streams.get("traders"))
        self.smelters = Smelters(scenario, self.streams.get("smelters"))
        self.log = EventLog()
        self.recorder = DailyRecorder(self.n_days, self.n_regions)
        self.acc = {k: np.zeros(self.n_regions) for k in ACCUMULATORS}
        self.relapse_hazard = -np.log1p(-scenario.behaviour.relapse_share) / 365.0
        self._initial_state()

    # ---- build --------------------------------------------------------------------------------
    def _initial_state(self) -> None:
        """Start near the no-enforcement steady state: stocks at their targets, price at anchor."""
        sc, inp, s, tr = self.scenario, self.inputs, self.smelters, self.traders
        m = sc.market
        start_price = np.clip(inp.primary[0] - m.primary_discount, m.price_floor, m.price_cap)
        self.price = np.full(self.n_regions, start_price)
        self.price0 = self.price.copy()
        s.margin0 = s.margins(inp.ingot[0], self.price)
        s.stock = s.cover * s.capacity * s.rate0
        gen0 = inp.generation[0]
        self.uncollected = gen0 * np.array([r.initial_uncollected_days for r in sc.regions])
        share = np.divide(tr.base, tr.base_total[tr.region], out=np.zeros(tr.n),
                          where=tr.base_total[tr.region] > 0)
        offer = np.clip(tr.offer_share[tr.region] * tr.temper, 1e-9, 1.0)
        tr.stock = share * gen0[tr.region] * (1.0 / offer - 1.0)
        self.volatility = np.full(self.n_regions, m.volatility_ref)
        self.trend = np.zeros(self.n_regions)
        self.pressure = np.zeros(self.n_regions)
        self.initial = Table({
            "region": np.array([r.name for r in sc.regions]),
            "uncollected": self.uncollected.copy(),
            "trader_stock": tr.sums(tr.stock),
            "smelter_stock": np.bincount(s.region, weights=s.stock, minlength=self.n_regions),
        })

    # ---- timeline -----------------------------------------------------------------------------
    def run(self) -> Result:
        t0 = time.perf_counter()
        env = simpy.Environment()
        Regulator(self).start(env)
        env.process(self._days(env))
        n_events = 0
        while env.peek() != float("inf"):
            env.step()
            n_events += 1
        sc = self.scenario
        names = [r.name for r in sc.regions]
        result = Result(
            scenario=sc, seed=self.seed,
            daily=self.recorder.table(self.inputs.dates, names),
            initial=self.initial,
            events=self.log.table(sc.start, names, [c.name for c in sc.campaigns]),
            windows=campaign_windows(sc), wall_time=time.perf_counter() - t0, n_events=n_events)
        return result

    def _days(self, env: simpy.Environment):
        yield env.timeout(0.5)
        for day in range(self.n_days):
            self.step(day)
            if day + 1 < self.n_days:
                yield env.timeout(1.0)

    def step(self, day: int) -> None:
        """One market day: deadlines, collection, shipping, clearing, smelting, the record."""
        self._deadlines(day)
        generated, collected = self._collect(day)
        inflow, outflow = self._ship()
        offered, demanded, traded, imports = self._clear(day)
        smelted, ingot, by_class = self._smelt()
        self._record(day, generated, collected, inflow, outflow, offered, demanded, traded,
                     imports, smelted, ingot, by_class)
        self._update_price(day)

    def _deadlines(self, day: int) -> None:
        s, tr = self.smelters, self.traders
        self.acc["seized_smelters"] += s.advance(day, self.streams.get("behaviour"), self.log)
        back = tr.reopen_due(day)
        self.log.add(float(day), tr.region[back], 0, back, -1, "reopen")
        self._relapse(day)

    def _relapse(self, day: int) -> None:
        s = self.smelters
        hazard = self.relapse_hazard
        if hazard <= 0 or s.n_closed == 0:
            return
        quiet = ~self.inputs.campaign_active[day]
        cand = np.flatnonzero((s.state == CLOSED) & quiet[s.region])
        ids = cand[self.streams.get("behaviour").random(cand.size) < hazard]
        s.relapse(ids, self.log, float(day))

    def _collect(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        inp = self.inputs
        generated = inp.generation[day]
        available = self.uncollected + generated
        collected = self.traders.collect(self.price, self.price0, inp.risk[day],
                                         inp.collection_season[day], available, market.collection)
        self.uncollected = available - collected
        return generated, collected

    def _ship(self) -> tuple[np.ndarray, np.ndarray]:
        tr, m = self.traders, self.scenario.market
        if self.n_regions < 2 or m.flow_rate <= 0:
            zero = np.zeros(self.n_regions)
            return zero, zero
        flows = market.interregional_flows(self.price, tr.sums(tr.stock), m.transport_cost,
                                           m.flow_rate)
        flows[:, tr.active_count <= 0] = 0.0
        outflow, inflow = flows.sum(axis=1), flows.sum(axis=0)
        stock = tr.sums(tr.stock)
        out_share = np.divide(outflow, stock, out=np.zeros(self.n_regions), where=stock > 0)
        tr.ship(out_share, inflow)
        return inflow, outflow

    def _clear(self, day: int) -> tuple[np.ndarray, ...]:
        inp, tr, s, m = self.inputs, self.traders, self.smelters, self.scenario.market
        imports = s.land_imports(inp.imports[day])
        s.plan(inp.ingot[day], self.price, inp.smelting_season[day], inp.output_cut[day])
        zero = np.zeros(self.n_regions)
        if day % m.clearing_days:
            return zero, zero, zero, imports
        factor = market.offer_factor(self.volatility, self.trend, tr.fast_out, tr.withhold,
                                     m.volatility_ref, m.trend_ref)
        offered = tr.offer(factor)
        demanded = np.bincount(s.region, weights=s.bid, minlength=self.n_regions)
        traded, sold, filled = market.clear(offered, demanded)
        tr.sell(sold)
        s.receive(filled)
        self.pressure = market.price_pressure(demanded, offered)
        return offered, demanded, traded, imports

    def _smelt(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = self.smelters
        smelted = s.smelt()
        n = self.n_regions
        by_region = np.bincount(s.region, weights=smelted, minlength=n)
        ingot = np.bincount(s.region, weights=smelted * s.metal_yield, minlength=n)
        by_class = np.bincount(s.group, weights=smelted, minlength=3 * n).reshape(n, 3)
        return by_region, np.minimum(ingot, by_region), by_class

    def _record(self, day: int, generated, collected, inflow, outflow, offered, demanded, traded,
                imports, smelted, ingot, by_class) -> None:
        s, tr, inp = self.smelters, self.traders, self.inputs
        states = s.state_counts()
        running = s.running_by_class
        self.recorder.put(
            day, generated=generated, uncollected=self.uncollected, collected=collected,
            inflow=inflow, outflow=outflow, trader_stock=tr.sums(tr.stock), offered=offered,
            demanded=demanded, traded=traded, imports=imports,
            smelter_stock=np.bincount(s.region, weights=s.stock, minlength=self.n_regions),
            smelted=smelted, ingot=ingot, running=states[:, 0], halted=states[:, 1],
            suspended=states[:, 2], rectifying=states[:, 3], closed=states[:, 4],
            scrap_price=self.price, ingot_price=inp.ingot[day], price_pressure=self.pressure,
            primary_price=inp.primary[day], risk=inp.risk[day], smelted_large=by_class[:, 0],
            smelted_small=by_class[:, 1], smelted_workshop=by_class[:, 2],
            running_large=running[:, 0], running_small=running[:, 1],
            running_workshop=running[:, 2], traders_active=tr.active_count,
            **self.acc)
        for v in self.acc.values():
            v[:] = 0.0

    def _update_price(self, day: int) -> None:
        """Tomorrow's scrap price, and the volatility and trend traders read from it."""
        m, inp = self.scenario.market, self.inputs
        if day + 1 >= self.n_days or (day % m.clearing_days):
            return
        nxt = day + 1
        anchor = max(inp.primary[nxt] - m.primary_discount, m.price_floor)
        new = market.price_step(self.price, self.pressure, anchor, m.price_speed, m.anchor_speed,
                                inp.price_noise[nxt], m.price_floor, m.price_cap)
        change = np.log(new / self.price)
        a_v, a_t = 1.0 / m.volatility_days, 1.0 / m.trend_days
        self.volatility += a_v * (np.abs(change) - self.volatility)
        primary_change = np.log(inp.primary[nxt] / inp.primary[day])
        self.trend += a_t * (0.5 * (change + primary_change) - self.trend)
        self.price = new


def _check_inputs(scenario: Scenario) -> None:
    """Cross-field checks pydantic cannot express per field."""
    for i, r in enumerate(scenario.regions):
        has_imports = (max(r.imports.values()) if isinstance(r.imports, dict) else r.imports) > 0
        if has_imports and r.smelters.large.count == 0:
            raise ScenarioError("imports need large plants to land at", path=f"regions.{i}.imports",
                                value=r.imports, expected="0, or smelters.large.count > 0")


def campaign_windows(scenario: Scenario) -> list[tuple[str, list[str], date, date]]:
    """(name, regions, start, end) of each campaign, clipped to the run; empty ones dropped."""
    out = []
    for c in scenario.campaigns:
        a, b = max(c.start, scenario.start), min(c.end, scenario.end)
        if a <= b:
            out.append((c.name, list(c.regions), a, b))
    return out


def run(scenario: Scenario, seed: int | None = None, baseline: bool = True,
        check: bool = True) -> Result:
    """Simulate ``scenario`` (with ``seed``, default the scenario's) and, when ``baseline``,
    its intensity-0 twin with the same seed, filling ``Result.summary``.

    ``check`` verifies MODEL.md's mass balance on every row (raises MassBalanceError).
    """
    from .summary import summarize

    seed = scenario.seed if seed is None else int(seed)
    result = Model(scenario, seed).run()
    if check:
        check_balance(result.daily, result.initial)
    if baseline:
        twin = scenario.with_overrides({"enforcement.intensity": 0.0})
        base = Model(twin, seed).run() if scenario.enforcement.intensity > 0 else result
        result.baseline = base
        result.summary = summarize(result, base)
    return result
