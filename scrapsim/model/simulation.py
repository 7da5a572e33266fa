"""The model's lifecycle: build (populations, inputs) → run the SimPy timeline → results.

The SimPy environment carries what is discrete in time: one market day per day (at midday:
deadlines falling due, collection, inter-regional shipping, clearing, smelting, the day's row),
and the regulators' campaigns, deadlines and audits. Populations are numpy arrays advanced by
one compiled call per market day (:func:`scrapsim.model.kernels.market_day`), or one for all
the days until the next thing on the calendar (:func:`scrapsim.model.kernels.market_days`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Generator
from pathlib import Path

import numpy as np
import simpy

from scrapsim.model import loops, packing
from scrapsim.model.actors.regulators import Regulator
from scrapsim.model.actors.smelters import Smelters
from scrapsim.model.actors.traders import Traders
from scrapsim.model.inputs import Inputs, build_inputs
from scrapsim.model.records import DailyRecorder, EventLog, check_balance
from scrapsim.model.result import Result, Window
from scrapsim.model.rng import Streams
from scrapsim.model.summary import summarize
from scrapsim.model.table import Table
from scrapsim.model.world import World
from scrapsim.scenario import Enforcement, Scenario, ScenarioError, load_scenario

__all__ = ["Model", "Result", "baseline_key", "baseline_of", "campaign_windows", "compile_time",
           "run"]

KERNEL_COLUMNS = ("uncollected", "collected", "inflow", "outflow", "trader_stock", "offered",
                  "demanded", "traded", "smelter_stock", "smelted", "ingot", "scrap_price",
                  "price_pressure", "smelted_large", "smelted_small", "smelted_workshop",
                  "imports", "traders_active", "running", "halted", "suspended", "rectifying",
                  "closed", "running_large", "running_small", "running_workshop",
                  "smelted_violating", "to_outside", "from_outside")
"""Columns :func:`kernels.market_day` writes, in its order."""
NEVER = 1e18
"""Relapse day of a closed site whose clock runs past the end of the run."""


class Model:
    """One simulation of a scenario with one seed: build (here) -> :meth:`run` -> Result.

    Every :meth:`run` starts from a freshly built state (populations drawn again from the same
    seed), so running a model twice gives the same tables twice.
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        _check_inputs(scenario)
        if int(seed) < 0:       # numpy's SeedSequence takes none
            raise ScenarioError("must not be negative", file="--seed", value=seed,
                                expected="a whole number >= 0")
        self.scenario, self.seed = scenario, seed
        self._used = False
        self._build()

    def _build(self) -> None:
        """Draw the populations and inputs from the seed and set the initial state."""
        scenario = self.scenario
        self.streams = Streams(self.seed)
        self.n_days, self.n_regions = scenario.days, len(scenario.regions)
        self.inputs: Inputs = build_inputs(scenario, self.streams.get("inputs"))
        self.traders = Traders(scenario, self.streams.get("traders"))
        self.smelters = Smelters(scenario, self.streams.get("smelters"))
        self.log = EventLog()
        self.recorder = DailyRecorder(self.n_days, self.n_regions)
        self._cols = np.array([self.recorder.index[c] for c in KERNEL_COLUMNS], dtype=np.int64)
        self.relapse_hazard = -np.log1p(-scenario.behaviour.relapse_share) / 365.0
        self._quiet_cum = np.cumsum(~self.inputs.campaign_active, axis=0)
        self._clock_version, self._next_relapse = -1, np.inf
        self._seized_col, self._calendar_checked = self.recorder.index["seized_smelters"], False
        self._initial_state()

    # ---- build --------------------------------------------------------------------------------
    def _initial_state(self) -> None:
        """Start near the no-enforcement steady state: stocks at their targets, price at anchor."""
        sc, inp, s, tr = self.scenario, self.inputs, self.smelters, self.traders
        m = sc.market
        start_price = np.clip(inp.primary[0] - m.primary_discount, m.price_floor, m.price_cap)
        anchor = np.maximum(inp.primary - m.primary_discount, m.price_floor)
        self.anchor = np.repeat(anchor[:, None], self.n_regions, axis=1)
        self.price = np.full(self.n_regions, start_price)
        self.price0 = self.price.copy()
        s.margin0 = s.margins(inp.ingot[0], self.price)
        s.stock = s.cover * s.capacity * s.rate0
        gen0 = inp.generation[0]
        self.uncollected = gen0 * np.array([r.initial_uncollected_days for r in sc.regions])
        share = np.divide(tr.base, tr.base_total[tr.region], out=np.zeros(tr.n),
                          where=tr.base_total[tr.region] > 0)
        tr.stock = share * gen0[tr.region] * tr.cover[tr.region] * tr.temper
        self.volatility = np.full(self.n_regions, m.volatility_ref)
        self.pressure = np.zeros(self.n_regions)
        self.reference = self.price.copy()
        self.discount = np.zeros(self.n_regions)
        self.constants = np.array([m.price_speed, m.anchor_speed, m.price_floor, m.price_cap,
                                   m.volatility_ref, m.transport_cost, m.flow_rate,
                                   1.0 / m.volatility_days, float(m.clearing_days),
                                   1.0 / m.discount_days, float(m.outside)])
        self.initial = Table({
            "region": np.array([r.name for r in sc.regions]),
            "uncollected": self.uncollected.copy(),
            "trader_stock": tr.sums(tr.stock),
            "smelter_stock": np.bincount(s.region, weights=s.stock, minlength=self.n_regions),
        })
        self._pack_day()
        loops.check("market_day", 0, *self._day_args, self.recorder.values, self._cols)

    def _pack_day(self) -> None:
        """The market day's four tuples of arrays (the arrays themselves, changed in place),
        and the populations' for enforcement's compiled calls (``kernel_arrays``: packed once,
        not on each of a run's ~90 calls; :meth:`result` checks no array was rebound)."""
        s, tr = self.smelters, self.traders
        self._day_args = (packing.pack(_DayInputs(self.inputs, self.anchor),
                                       packing.INPUT_FIELDS),
                          packing.pack(self, packing.MARKET_FIELDS),
                          packing.pack(tr, packing.TRADER_FIELDS),
                          packing.pack(s, packing.SMELTER_FIELDS))
        s.kernel_arrays = packing.pack(s, packing.CAMPAIGN_SMELTER_FIELDS)
        tr.kernel_arrays = packing.pack(tr, packing.CAMPAIGN_TRADER_FIELDS)

    # ---- timeline -----------------------------------------------------------------------------
    def world(self) -> World:
        """What enforcement may see and change of this run."""
        return World(scenario=self.scenario, inputs=self.inputs, smelters=self.smelters,
                     traders=self.traders, streams=self.streams, n_days=self.n_days,
                     log=self.log, recorder=self.recorder)

    def run(self) -> Result:
        """Run the timeline from the built state; a second call rebuilds first."""
        t0 = time.perf_counter()
        env = self.start()
        env.process(self._days(env))
        n_events = 0
        while env.peek() != float("inf"):
            env.step()
            n_events += 1
        return self.result(n_events, time.perf_counter() - t0)

    def start(self) -> simpy.Environment:
        """The run's calendar with the regulators' processes on it (a used model rebuilt)."""
        if self._used:
            self._build()
        self._used = True
        env = simpy.Environment()
        Regulator(self.world()).start(env)
        return env

    def result(self, n_events: int, wall_time: float) -> Result:
        """The finished run's Result (its tables built from the recorder when first read)."""
        for obj, fields in ((self.smelters, packing.CAMPAIGN_SMELTER_FIELDS),
                            (self.traders, packing.CAMPAIGN_TRADER_FIELDS)):
            if not packing.still_packed(obj, fields, obj.kernel_arrays):
                raise RuntimeError(f"{type(obj).__name__}: an array was rebound during the run")
        inp = self.inputs
        self.recorder.put_inputs(generated=inp.generation, ingot_price=inp.ingot,
                                 primary_price=inp.primary, risk=inp.risk)
        sc = self.scenario
        names = [r.name for r in sc.regions]
        result = Result(
            scenario=sc, seed=self.seed,
            daily=self.recorder.table(self.inputs.dates, names),
            initial=self.initial,
            log=self.log,
            windows=campaign_windows(sc), wall_time=wall_time, n_events=n_events)
        return result

    def _days(self, env: simpy.Environment) -> Generator:
        """Market days at midday; the days up to the next thing on the calendar (an event of
        the timeline, a deadline or relapse falling due) run in one compiled call, since on
        them nothing but the market day happens."""
        yield env.timeout(0.5)
        day = 0
        while True:
            self.step(day)
            until = self.quiet_until(env, day)
            if until > day + 1:
                loops.market_days(day + 1, until, *self._day_args, self.recorder.values,
                                  self._cols)
            if until >= self.n_days:
                return
            yield env.timeout(until - day)
            day = until

    def quiet_until(self, env: simpy.Environment, day: int) -> int:
        """The first day after ``day`` that needs more than its market day (at most the run's
        length): the day of the next timeline event (it comes before that day's market at
        midday), of the next suspension, rectification or trader suspension ending, or of the
        next relapse."""
        s, tr = self.smelters, self.traders
        due = [env.peek() - 0.5, s.next_due, tr.next_due]
        if self.relapse_hazard > 0:
            due.append(self._next_relapse if s.closed_version == self._clock_version
                       else day + 1)
        first = min(due)
        return max(day + 1, min(self.n_days, math.ceil(first))) if first < self.n_days \
            else self.n_days

    def step(self, day: int) -> None:
        """One market day: deadlines, then imports, collection, shipping, clearing, smelting,
        the day's row and tomorrow's price in one compiled pass (:func:`kernels.market_day`)."""
        self.before_market(day)
        loops.market_day(day, *self._day_args, self.recorder.values, self._cols)

    def before_market(self, day: int) -> None:
        """What comes before a day's market when that day is on the calendar: deadlines,
        trader reopenings and relapses falling due, and the smelters' state-derived caches."""
        self._deadlines(day)
        self.smelters.refresh()

    def _deadlines(self, day: int) -> None:
        """Suspensions and rectifications ending today, traders' suspensions ending, relapses:
        one compiled call on a day any of them falls due
        (:func:`~scrapsim.model.sanction_kernels.calendar_day`, drawing on the behaviour
        stream as the numpy code of :meth:`Smelters.advance`, :meth:`Traders.reopen_due`
        and the relapse clocks did).

        Relapses: closed sites restart illegally at a daily hazard on days no campaign covers
        them. Each closure starts a clock: an exponential number of quiet days (no campaign in
        the region), drawn when the closure is first seen; the site relapses on the quiet day
        the clock runs out unless it was reopened or closed again meanwhile.
        """
        s, tr = self.smelters, self.traders
        s.refresh()
        smelters_due, traders_due = bool(day >= s.next_due), bool(day >= tr.next_due)
        stale = s.closed_version != self._clock_version
        if not (smelters_due or traders_due or (self.relapse_hazard > 0 and (
                stale or day >= self._next_relapse))):
            return
        behaviour = self.streams.get("behaviour")
        args = (day, s.kernel_arrays, s.rectifiable, behaviour,
                *(() if s.reports is None else (s.reports[0], float(s.reports[1]))),
                smelters_due, tr.kernel_arrays, traders_due, s.relapse_day,
                self._quiet_cum, float(self.relapse_hazard), NEVER, stale,
                float(self._next_relapse), self.recorder.values, self._seized_col)
        name, loop = ("calendar_day_one_stream", loops.calendar_day_one_stream) \
            if s.reports is None else ("calendar_day", loops.calendar_day)
        if not self._calendar_checked:   # the same arrays (and types) every time
            loops.check(name, *args)
            self._calendar_checked = True
        floats, ints, changed = loop(*args)
        self.log.add_rows(floats, ints, packing.EVENTS)
        if changed[packing.CH_SMELTERS]:
            s.changed(closed=bool(changed[packing.CH_SMELTERS_CLOSED]))
        if traders_due:
            if changed[packing.CH_TRADERS]:
                tr.version += 1
            tr.next_due = float(changed[packing.CH_TRADER_NEXT])
        if changed[packing.CH_CLOCKS]:
            self._clock_version = s.closed_version
        self._next_relapse = float(changed[packing.CH_NEXT_RELAPSE])

    def count(self, day: int, column: str, per_region: np.ndarray) -> None:
        """Add to a daily enforcement total (inspections, violations, fines, seized t)."""
        self.recorder.values[day, :, self.recorder.index[column]] += per_region


class _DayInputs:
    """The inputs the market day reads, under the names of :data:`packing.INPUT_FIELDS`."""

    def __init__(self, inp: Inputs, anchor: np.ndarray) -> None:
        self.collection_season, self.smelting_season = inp.collection_season, inp.smelting_season
        self.ingot_paid, self.risk, self.generation = inp.ingot_paid, inp.risk, inp.generation
        self.output_cut, self.price_noise, self.imports = inp.output_cut, inp.price_noise, \
            inp.imports
        self.anchor = anchor


def _check_inputs(scenario: Scenario) -> None:
    """Cross-field checks pydantic cannot express per field."""
    for i, r in enumerate(scenario.regions):
        has_imports = (max(r.imports.values()) if isinstance(r.imports, dict) else r.imports) > 0
        if has_imports and r.smelters.large.count == 0:
            raise ScenarioError("imports need large plants to land at", path=f"regions.{i}.imports",
                                value=r.imports, expected="0, or smelters.large.count > 0")


def campaign_windows(scenario: Scenario) -> list[Window]:
    """(name, regions, start, end) of each campaign, clipped to the run; empty ones dropped."""
    out = []
    for c in scenario.campaigns:
        a, b = max(c.start, scenario.start), min(c.end, scenario.end)
        if a <= b:
            out.append((c.name, list(c.regions), a, b))
    return out


@functools.cache
def compile_time() -> float:
    """Compile (or load from the disk cache) the model's loops once per process by running a
    two-day model with a campaign; returns the seconds it took, so run wall times exclude it
    (about 50 s the first time on a machine, about 1 s from numba's cache, a few ms with the
    loops built ahead of time, :mod:`scrapsim.model.loops`)."""
    start = time.perf_counter()
    tiny = Scenario.model_validate({
        "name": "warm-up", "start": "2017-01-01", "end": "2017-01-02",
        "regions": [{"name": "a", "generation": 10.0, "imports": 1.0,
                     "traders": {"count": 2, "capacity": 10.0},
                     "smelters": {"large": {"count": 1, "capacity": 20.0}}},
                    {"name": "b", "generation": 10.0, "traders": {"count": 2, "capacity": 10.0},
                     "smelters": {"small": {"count": 1, "capacity": 20.0}}}],
        "campaigns": [{"name": "warm-up", "regions": ["a"], "start": "2017-01-01",
                       "end": "2017-01-02", "teams": 4}]})   # a campaign's day compiles too
    Model(tiny, 0).run()
    return time.perf_counter() - start


def baseline_of(scenario: Scenario) -> Scenario:
    """The same scenario with no enforcement (intensity 0): the twin summaries compare with."""
    return scenario.model_copy(update={"enforcement": Enforcement(intensity=0.0)})


BASELINE_IGNORES = ("name", "description", "sources", "assumptions", "seed", "enforcement",
                    "campaigns", "behaviour")
"""Scenario fields a run at intensity 0 does not depend on: words, the default seed (a run is
given its seed), and enforcement itself. At intensity 0 a campaign schedules nothing and draws
nothing (each role's random stream is spawned by a fixed key), so its fields change no byte of
the twin's tables. ``behaviour`` is about sanctioned sites (relapses of closed ones, false
reports, what a rectification fixes) and the perceived risk's memory: at intensity 0 no site
is sanctioned and the risk is 0 on every day, which smoothing keeps 0. See also
:data:`TRADER_IGNORES`; ``tests/test_baseline_key.py`` checks each on every shipped
scenario."""

TRADER_IGNORES = ("violator_share",)
"""Traders' fields the twin does not depend on: which traders violate matters only to
inspections (the draw takes the same numbers whatever the share). ``risk_tolerance`` is left
out of the key too, at or above :data:`TOLERANCE_FLOOR`: a trader collects while its
tolerance is above the perceived risk, which is 0 at intensity 0, and a tolerance drawn
around such a mean is never 0, while the draw takes the same numbers whatever the mean."""

TOLERANCE_FLOOR = 1e-200
"""A lognormal tolerance of this mean would need a normal draw below about −40 to round to 0
(``exp`` underflows near 1e-308); below it the level stays in the key."""


def baseline_key(scenario: Scenario) -> str:
    """What the intensity-0 twin of ``scenario`` depends on, as canonical JSON: scenarios with
    the same key have byte-identical baselines at the same seed, so a sweep over campaign
    fields (or sensitivity to them, or to traders' risk tolerance, or a calibration of the
    false-report share) runs one baseline per seed, not one per point."""
    import json

    data = scenario.model_dump(mode="json", exclude=set(BASELINE_IGNORES))
    for region in data["regions"]:
        traders = region["traders"]
        for name in TRADER_IGNORES:
            traders.pop(name)
        if traders["risk_tolerance"] >= TOLERANCE_FLOOR:
            traders["risk_tolerance"] = None
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def run(scenario: Scenario | str | Path, seed: int | None = None,
        baseline: bool | Result = True, check: bool = True) -> Result:
    """Simulate ``scenario`` (with ``seed``, default the scenario's) and, when ``baseline``,
    its intensity-0 twin with the same seed, filling ``Result.summary``. ``scenario`` is a
    :class:`Scenario`, or a file or library name that :func:`~scrapsim.scenario.load_scenario`
    reads (``run("hebei")``).

    ``baseline`` may also be that twin's Result, already run (sweeps reuse one per seed); it
    must be a run at intensity 0 with the same seed and the same :func:`baseline_key` (the
    twin of any scenario that differs from this one only in its campaigns). ``check``
    verifies MODEL.md's mass balance on every row (raises MassBalanceError).
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise ScenarioError("is not a whole number", file="seed", value=seed,
                            expected="a whole number >= 0")
    seed = scenario.seed if seed is None else int(seed)
    if not isinstance(baseline, bool | Result):
        raise ScenarioError("must be True, False or the twin's Result", file="baseline",
                            value=baseline, expected="True, False, or a Result")
    compile_time()
    result = Model(scenario, seed).run()
    if check:
        check_balance(result.daily, result.initial)
    if baseline is False:
        return result
    if isinstance(baseline, Result):
        if (baseline.seed != seed or baseline.scenario.enforcement.intensity != 0
                or baseline_key(baseline.scenario) != baseline_key(scenario)):
            raise ValueError("the baseline given is not this scenario's intensity-0 twin "
                             "with the same seed")
        base = baseline
    elif scenario.enforcement.intensity > 0:
        base = Model(baseline_of(scenario), seed).run()
    else:
        base = result
    result.baseline = base
    result.summary = summarize(result, base)
    return result
