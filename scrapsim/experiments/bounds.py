"""Bounds before work: magnitudes a scenario or a design may not exceed, and an estimate of the
memory and runs a job needs, checked before anything runs or is written.

Two kinds of limit:

- **hard** (exit 2 whatever the options): numbers the model cannot mean — a non-finite or
  astronomically large value anywhere in a scenario, an enforcement intensity, team count or
  population beyond :data:`LIMITS`, a date outside the years 1900–2200 (those of
  :mod:`scrapsim.scenario.bounds`, which every scenario's validation applies), a grid axis,
  LHS sample size or replication count beyond what a table can hold;
- **soft** (exit 2 unless ``--force``): a job bigger than :data:`MAX_RUNS` runs, or whose
  estimated memory per worker times the workers exceeds the memory available
  (``/proc/meminfo``'s ``MemAvailable``).

The memory estimate is an upper bound built from the scenario alone (no run): the daily table
(days × regions × :data:`DAILY_COLUMNS` float64), the agents (:data:`AGENT_BYTES` each) and the
inspection events (teams × inspections per team-day × intensity × campaign days,
:data:`EVENT_BYTES` each), twice (a run and its no-enforcement baseline).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from scrapsim.errors import ScenarioError, SweepSpecError
from scrapsim.scenario.bounds import LIMITS, MAX_NUMBER, YEARS

__all__ = ["FORCE", "LIMITS", "MAX_AXIS", "MAX_NUMBER", "MAX_POINTS", "MAX_REPS", "MAX_RUNS",
           "MAX_SAMPLES", "YEARS", "available_bytes", "check_count", "check_experiment",
           "check_run", "check_runs", "forced", "run_bytes"]

MAX_AXIS = 100_000
"""Most values on one grid axis (``START:STOP:N``)."""
MAX_SAMPLES = 1_000_000
MAX_REPS = 1_000_000
MAX_POINTS = 10_000_000
MAX_RUNS = 200_000
"""Most runs of one experiment without ``--force``."""
FORCE: ContextVar[bool] = ContextVar("scrapsim_force", default=False)
"""Whether the soft limits are lifted (``--force``; :func:`forced`)."""
DAILY_COLUMNS = 64
AGENT_BYTES = 256
EVENT_BYTES = 256


@contextmanager
def forced(on: bool = True) -> Iterator[None]:
    """Lift the soft limits (memory, runs) inside this block: ``--force``."""
    token = FORCE.set(on)
    try:
        yield
    finally:
        FORCE.reset(token)


def check_count(value: Any, limit: int, where: str, what: str) -> int:
    """A whole number between 1 and ``limit`` (no booleans), or an input error."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise SweepSpecError(f"{what} out of range", file=where, value=value,
                             expected=f"a whole number from 1 to {limit:,}")
    return value


def run_bytes(scenario: Any) -> int:
    """An upper estimate of the memory one run and its baseline take, in bytes."""
    days = max(1, int(scenario.days))
    regions = scenario.regions
    agents = sum(int(r.traders.count) + sum(int(getattr(r.smelters, k).count)
                                            for k in ("large", "small", "workshop"))
                 for r in regions)
    intensity = float(scenario.enforcement.intensity)
    events = 0.0
    for c in scenario.campaigns:
        window = max(0, min(days, (c.end - c.start).days + 1))
        events += float(c.teams) * float(c.inspections_per_team_day) * intensity * window
    total = days * len(regions) * DAILY_COLUMNS * 8 + agents * AGENT_BYTES + \
        events * EVENT_BYTES
    return int(2 * total)


def available_bytes() -> int | None:
    """The memory available to new work (Linux ``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_experiment(exp: Any, workers: int, *, force: bool = False) -> None:
    """Refuse, before anything runs, an experiment bigger than the soft limits (unless
    ``force``); its scenario's bounds, and each point's, were checked when they were built
    (:mod:`scrapsim.scenario.bounds`)."""
    force = force or FORCE.get()
    check_runs(exp.total, force=force)
    base = getattr(exp, "base", None)
    if base is None:  # several shipped scenarios (validation): nothing a user set
        return
    need = max(run_bytes(base), getattr(exp, "peak_bytes", 0)) * max(1, workers)
    have = available_bytes()
    if have is not None and need > 0.8 * have and not force:
        raise SweepSpecError(f"needs about {need / 2**30:.1f} GiB of memory ({workers} "
                             f"worker(s)); {have / 2**30:.1f} GiB available", file="--workers",
                             value=workers, expected="fewer --workers or a smaller scenario "
                             f"({base.name}), or --force for a deliberate big job")


def check_runs(total: int | None, *, force: bool = False) -> None:
    """Refuse more than :data:`MAX_RUNS` runs unless ``force`` (or ``--force``)."""
    if total is not None and total > MAX_RUNS and not (force or FORCE.get()):
        raise SweepSpecError(f"{total:,} runs is more than {MAX_RUNS:,}", file="--reps",
                             value=total, expected="a smaller design or fewer replications, "
                             "or --force for a deliberate big job")


def check_run(scenario: Any, where: str | None = None, *, force: bool = False) -> None:
    """A single run's memory check, unless ``force`` (its bounds were checked when the scenario
    was built)."""
    force = force or FORCE.get()
    need, have = run_bytes(scenario), available_bytes()
    if have is not None and need > 0.8 * have and not force:
        raise ScenarioError(f"needs about {need / 2**30:.1f} GiB of memory; "
                            f"{have / 2**30:.1f} GiB available", file=where,
                            expected="a smaller scenario, or --force for a deliberate big run")
