"""Replications batched: R seeds of one scenario advanced together, one compiled call for all.

Each replication keeps its own state, random streams, SimPy calendar and regulators
(:class:`~scrapsim.model.simulation.Model`); what they share is the market: the arrays of
the market day (inputs, market state, traders, smelters and the daily rows) are stacked into
``(R, ...)`` arrays, each model's attributes rebound to its row (views, so enforcement
changes them in place as in a single run), and the days until the next thing on any
replication's calendar run as one :func:`~scrapsim.model.kernels.batch_days` call for all R.

The replications step in lockstep over the union of their calendars: on a day that is on
replication r's calendar (a timeline event, a deadline, a trader's reopening or a relapse
falling due) r's events before midday run on its own SimPy environment and its deadlines
before the market, exactly as :meth:`Model.run` orders them; on any other day r's market day
is all that happens, as in its single run. Each replication's tables are therefore the
bytes of its single run (``tests/test_batch.py``), whatever the other seeds in the batch.

Replications whose arrays differ in shape (a scenario that draws its population's size) or
share memory between the day's arrays are run one by one.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import simpy

from scrapsim.model import loops, packing
from scrapsim.model.records import check_balance
from scrapsim.model.result import Result
from scrapsim.model.simulation import Model, baseline_key, baseline_of, compile_time
from scrapsim.model.summary import summarize
from scrapsim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["BATCH_BYTES", "run_batch", "simulate"]

BATCH_BYTES = 8 << 20
"""At most this many bytes of market-day arrays in one batch (a quarter of the reference
machine's 32 MiB L3 cache). Batching saves fixed costs per call, which matter only for small
populations: two national_2017 replications (15.5 MB each) batched ran 1.2 × slower than one
after the other, each one's state evicting the other's from the cache; a Hebei replication is
0.31 MB, so a batch holds up to 26 of them."""

_OWNERS = (
    # (tuple of the market day, the object holding each field's array: a name per field)
    (
        packing.INPUT_FIELDS,
        tuple("model" if f == "anchor" else "inputs" for f in packing.INPUT_FIELDS),
    ),
    (packing.MARKET_FIELDS, ("model",) * len(packing.MARKET_FIELDS)),
    (packing.TRADER_FIELDS, ("traders",) * len(packing.TRADER_FIELDS)),
    (packing.SMELTER_FIELDS, ("smelters",) * len(packing.SMELTER_FIELDS)),
)


def _owner(model: Model, name: str) -> object:
    return model if name == "model" else getattr(model, name)


def _stack(models: list[Model]) -> tuple | None:
    """Stack the models' market-day arrays into ``(R, ...)`` arrays and rebind each model's
    to its row; the stacked arguments of :func:`loops.batch_days`, or None (nothing changed)
    when their shapes or dtypes differ or a model's arrays share memory."""
    first = models[0]
    arrays = [a for t in first._day_args for a in t] + [first.recorder.values]
    for i, a in enumerate(arrays):
        if any(np.may_share_memory(a, b) for b in arrays[i + 1 :]):
            return None
    for m in models[1:]:
        mine = [a for t in m._day_args for a in t] + [m.recorder.values]
        if any(a.shape != b.shape or a.dtype != b.dtype for a, b in zip(arrays, mine, strict=True)):
            return None
    stacked = []
    inputs: list[dict[str, np.ndarray]] = [{} for _ in models]
    for k, (fields, owners) in enumerate(_OWNERS):
        group = []
        for j, (field, owner) in enumerate(zip(fields, owners, strict=True)):
            rows = np.stack([m._day_args[k][j] for m in models])
            for r, m in enumerate(models):
                if owner == "inputs":  # a frozen dataclass: replaced below
                    inputs[r][field] = rows[r]
                else:
                    setattr(_owner(m, owner), field, rows[r])
            group.append(rows)
        stacked.append(tuple(group))
    for m, rows_of in zip(models, inputs, strict=True):
        m.inputs = dataclasses.replace(m.inputs, **rows_of)
    values = np.stack([m.recorder.values for m in models])
    for r, m in enumerate(models):
        m.recorder.values = values[r]
        m._pack_day()
    args = (*stacked, values, first._cols)
    loops.check("batch_days", 0, 0, *args)
    return args


def _until(env: simpy.Environment, when: float) -> int:
    """Process the calendar's events before ``when``; how many."""
    n = 0
    while env.peek() < when:
        env.step()
        n += 1
    return n


def _day_bytes(model: Model) -> int:
    """The bytes of a replication's market-day arrays and daily rows."""
    return sum(a.nbytes for t in model._day_args for a in t) + model.recorder.values.nbytes


def simulate(scenario: Scenario, seeds: list[int]) -> list[Result]:
    """Run ``scenario`` once per seed, batched (see the module) in groups whose market-day
    arrays together fit :data:`BATCH_BYTES`; the Results in seed order, each the one
    :meth:`Model.run` gives for its seed (no baseline, no check)."""
    if not seeds:
        return []
    first = Model(scenario, seeds[0])
    size = max(1, BATCH_BYTES // max(1, _day_bytes(first)))
    out: list[Result] = []
    for start in range(0, len(seeds), size):
        group = seeds[start : start + size]
        models = [first] if start == 0 else [Model(scenario, group[0])]
        models += [Model(scenario, s) for s in group[1:]]
        out += _lockstep(models)
    return out


def _lockstep(models: list[Model]) -> list[Result]:
    """Run built models together (one by one when they cannot be stacked)."""
    t0 = time.perf_counter()
    args = _stack(models) if len(models) > 1 else None
    if args is None:
        return [m.run() for m in models]
    envs = [m.start() for m in models]
    n_days = models[0].n_days
    # each replication's events: its regulators' and those :meth:`Model.run`'s day process
    # makes (its start, its first half day, a timeout per day on its calendar after the
    # first, its end)
    events = [3] * len(models)
    due = [0] * len(models)
    day = 0
    while True:
        for r, m in enumerate(models):
            if due[r] == day:
                events[r] += _until(envs[r], day + 0.5) + (day > 0)
                m.before_market(day)
                due[r] = m.quiet_until(envs[r], day)
        until = min(due)
        loops.batch_days(day, until, *args)
        if until >= n_days:
            break
        day = until
    for r, env in enumerate(envs):
        events[r] += _until(env, float("inf"))
    wall = (time.perf_counter() - t0) / len(models)
    return [m.result(n, wall) for m, n in zip(models, events, strict=True)]


def run_batch(
    scenario: Scenario | str | Path,
    seeds: list[int],
    baseline: bool | list[Result] = True,
    check: bool = True,
) -> list[Result]:
    """:func:`scrapsim.run` for several seeds at once: ``scenario`` (and its intensity-0
    twin, when ``baseline`` is True) run for every seed of ``seeds`` (a list of whole numbers
    >= 0; empty: no runs, ``[]``) as one batch, each Result with the bytes and summary its own
    ``run(scenario, seed)`` gives, in the order of ``seeds``. ``baseline`` is True, False (no
    twins, no summaries) or the twins' Results, a list or tuple with one per seed in the same
    order (sweeps reuse them; checked before anything runs); ``check`` verifies the mass
    balance of every run. Bad input raises :class:`~scrapsim.errors.ScenarioError`."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    seeds = _seeds(seeds)
    bases = _twins(baseline, seeds, scenario) if isinstance(baseline, list | tuple) else None
    if bases is None and not isinstance(baseline, bool):
        raise ScenarioError("must be True, False or the twins' Results, one per seed",
                            file="baseline", value=baseline,
                            expected="True, False, or a list of Results")
    compile_time()
    results = simulate(scenario, seeds)
    if check:
        for result in results:
            check_balance(result.daily, result.initial)
    if baseline is False:
        return results
    if bases is None:
        bases = simulate(baseline_of(scenario), seeds) if scenario.enforcement.intensity > 0 \
            else results
    for result, base in zip(results, bases, strict=True):
        result.baseline = base
        result.summary = summarize(result, base)
    return results


def _seeds(seeds: object) -> list[int]:
    if isinstance(seeds, str | bytes) or not hasattr(seeds, "__iter__"):
        raise ScenarioError("must be a list of seeds", file="seeds", value=seeds,
                            expected="a list of whole numbers >= 0, e.g. [1, 2, 3]")
    out = list(seeds)
    for seed in out:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ScenarioError("is not a whole number >= 0", file="seeds", value=seed,
                                expected="whole numbers >= 0")
    return [int(s) for s in out]


def _twins(baseline: list | tuple, seeds: list[int], scenario: Scenario) -> list[Result]:
    """The given twins, checked: one per seed, each an intensity-0 run of this market."""
    if len(baseline) != len(seeds):
        raise ScenarioError(f"{len(baseline)} given for {len(seeds)} "
                            f"seed{'s' if len(seeds) != 1 else ''}: one intensity-0 twin per "
                            "seed, in the order of the seeds", file="baseline")
    key = baseline_key(scenario)
    for i, (b, s) in enumerate(zip(baseline, seeds, strict=True)):
        if not isinstance(b, Result):
            problem = "is not a Result"
        elif b.seed != s:
            problem = f"is the twin of seed {b.seed}, not of seed {s}"
        elif b.scenario.enforcement.intensity != 0:
            problem = f"is a run at intensity {b.scenario.enforcement.intensity:g}, not 0"
        elif baseline_key(b.scenario) != key:
            problem = "is a run of another market (a field a run without enforcement reads " \
                      "differs)"
        else:
            continue
        raise ScenarioError(f"{problem}: not this scenario's intensity-0 twin",
                            file="baseline", path=str(i),
                            expected="the intensity-0 twins of the same seeds, in their order")
    return list(baseline)
