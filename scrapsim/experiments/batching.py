"""Runs of an experiment batched: several seeds of one point advanced together.

An experiment lists its runs in its own order (a sweep: replication by replication). The
engine sends them to the workers in **seed blocks** (:func:`in_blocks`): up to
:data:`BLOCK_SEEDS` seeds at a time, and within a block each point's runs of those seeds
together, so that a chunk (:func:`chunks`) holds whole points of a block. A worker running a
chunk (:func:`chunk_scope`) parses each point's scenario once and registers its seeds; the
first :func:`model_run` of a point then runs all of the chunk's seeds of it as one batch
(:func:`scrapsim.model.batch.run_batch`), with the seeds' intensity-0 baselines from this
process's memo (those missing run as one batch too), and hands back the stashed Results to the
point's later tasks. Each replication of a batch has the bytes of its single run, so the
tables are the same whatever the blocks, chunks, engine or workers.

Run functions that call :func:`model_run` (the sweep's, sensitivity's, validation's and
calibration's) are batched; any other run function runs each task on its own, as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = ["BASELINES_KEPT", "BASELINE_RUNS", "BATCHES", "BLOCK_SEEDS", "baseline_for",
           "chunk_scope", "chunks", "in_blocks", "model_run"]

BLOCK_SEEDS = 16
"""Seeds per block: at most this many replications of a point in one batch (and baselines
kept per block). Hebei's market-day arrays are 0.31 MB a replication, so a block of 16 is about
5 MB, within :data:`scrapsim.model.batch.BATCH_BYTES`; larger populations are cut into smaller
batches there."""


class _Task(Protocol):
    @property
    def seed(self) -> int: ...
    @property
    def scenario_json(self) -> str: ...


# ---------------------------------------------------------------- the order of the runs

def in_blocks(tasks: Iterable[Any], block: int | None = None) -> Iterator[list[Any]]:
    """``tasks`` regrouped into seed blocks: the seeds, numbered in order of first appearance,
    cut into groups of ``block`` (default :data:`BLOCK_SEEDS`); in each block the tasks by
    point (scenario text, in order of first appearance), each point's tasks in seed order.

    A block is given when a task of a later block arrives, so only one block is held at a
    time: tasks listed replication by replication (as the experiments list them) give whole
    blocks; a task of a block already given starts a new, smaller one."""
    size = max(1, BLOCK_SEEDS if block is None else block)
    order: dict[int, int] = {}
    current: int | None = None
    points: dict[str, list[Any]] = {}

    def flush() -> list[Any]:
        return [t for runs in points.values() for t in sorted(runs, key=lambda t: order[t.seed])]

    for task in tasks:
        b = order.setdefault(task.seed, len(order)) // size
        if b != current and points:
            yield flush()
            points = {}
        current = b
        points.setdefault(task.scenario_json, []).append(task)
    if points:
        yield flush()


def chunks(tasks: Iterable[Any], size: int, block: int | None = None) -> Iterator[list[Any]]:
    """The tasks, in seed blocks (:func:`in_blocks`), as chunks of at most ``size`` runs of one
    block, cut between points where a point's runs fit in one chunk."""
    size = max(1, size)
    for runs in in_blocks(tasks, block):
        chunk: list[Any] = []
        i = 0
        while i < len(runs):
            j = i
            while j < len(runs) and runs[j].scenario_json == runs[i].scenario_json:
                j += 1
            point = runs[i:j]                      # one point's runs of this block
            if chunk and len(chunk) + len(point) > size:
                yield chunk
                chunk = []
            while len(point) > size:
                yield point[:size]
                point = point[size:]
            chunk += point
            i = j
        if chunk:
            yield chunk


# ---------------------------------------------------------------- baselines

_BASELINES: OrderedDict[tuple[str, int], Any] = OrderedDict()
"""Per-process memo of intensity-0 runs keyed on (:func:`~scrapsim.model.simulation.baseline_key`,
seed): every point of a replication shares its baseline when the varied fields leave what a
no-enforcement run depends on unchanged (campaign fields, intensity). A result is a pure
function of scenario and seed, so reuse changes no byte of the tables."""
BASELINE_RUNS = [0]
"""How many baselines this process has run (not read from the memo): benchmarks and tests
count them."""
BASELINES_KEPT = 64


def baselines_for(scenario: Any, seeds: list[int]) -> list[Any]:
    """The intensity-0 runs of ``scenario`` at ``seeds``, from this process's memo where
    there, the others run as one batch (and kept)."""
    from scrapsim.model.batch import simulate
    from scrapsim.model.simulation import baseline_key, baseline_of

    key = baseline_key(scenario)
    missing = [s for s in dict.fromkeys(seeds) if (key, s) not in _BASELINES]
    if missing:
        for seed, base in zip(missing, simulate(baseline_of(scenario), missing), strict=True):
            _BASELINES[(key, seed)] = base
        BASELINE_RUNS[0] += len(missing)
    out = []
    for seed in seeds:
        _BASELINES.move_to_end((key, seed))
        out.append(_BASELINES[(key, seed)])
    while len(_BASELINES) > max(BASELINES_KEPT, len(set(seeds))):
        _BASELINES.popitem(last=False)
    return out


def baseline_for(scenario: Any, seed: int) -> Any:
    """The intensity-0 run of ``scenario`` at ``seed``, from this process's memo when a recent
    task already ran it (a result is a pure function of scenario and seed)."""
    return baselines_for(scenario, [int(seed)])[0]


# ---------------------------------------------------------------- a chunk's batches

_POINTS: dict[int, tuple[Any, list[int]]] = {}
"""During a chunk: id of each point's parsed scenario -> (the scenario, the chunk's seeds of
it not yet run)."""
_STASH: dict[tuple[int, int, bool], Any] = {}
"""During a chunk: Results run in a batch, waiting for their task."""
BATCHES = [0, 0]
"""How many batches this process has run, and how many runs they held (tests count them)."""


@contextmanager
def chunk_scope(items: list[tuple[str, int]]) -> Iterator[list[tuple[Any, int]]]:
    """A chunk's (scenario, seed) items with each scenario text parsed once; while open,
    :func:`model_run` batches the seeds of each point."""
    from scrapsim.scenario import Scenario

    parsed: dict[str, Any] = {}
    out = []
    for text, seed in items:
        if text not in parsed:
            try:
                parsed[text] = Scenario.model_validate_json(text)
            except Exception:                # the task itself reports it
                parsed[text] = None
        out.append((parsed[text], seed))
    _POINTS.clear()
    for scenario in parsed.values():
        if scenario is not None:
            seeds = list(dict.fromkeys(s for sc, s in out if sc is scenario))
            _POINTS[id(scenario)] = (scenario, seeds)
    try:
        yield out
    finally:
        _POINTS.clear()
        _STASH.clear()


def model_run(scenario: Any, seed: int, baseline: bool = True) -> Any:
    """``scrapsim.run(scenario, seed)`` with its baseline from the memo (``baseline`` False:
    none); inside a chunk, the first call for a point runs its remaining seeds as one batch."""
    key = (id(scenario), int(seed), bool(baseline))
    if key in _STASH:
        return _STASH.pop(key)
    point = _POINTS.get(id(scenario))
    if point is not None and point[0] is scenario and seed in point[1]:
        seeds = point[1][point[1].index(seed):]
        point[1][:] = [s for s in point[1] if s not in seeds]
        if len(seeds) > 1:
            results = _batch(scenario, seeds, baseline)
            if results is not None:
                for s, r in zip(seeds[1:], results[1:], strict=True):
                    _STASH[(id(scenario), s, bool(baseline))] = r
                return results[0]
    from scrapsim.model.simulation import run

    return run(scenario, seed=seed, baseline=baseline_for(scenario, seed) if baseline else False)


def _batch(scenario: Any, seeds: list[int], baseline: bool) -> list[Any] | None:
    """The runs of ``seeds`` as one batch, or None when it fails (each task then runs on its
    own and reports its own error)."""
    from scrapsim.model.batch import run_batch

    try:
        bases: Any = baselines_for(scenario, seeds) if baseline else False
        results = run_batch(scenario, seeds, baseline=bases)
    except Exception:
        return None
    BATCHES[0] += 1
    BATCHES[1] += len(seeds)
    return results
