"""Running a sweep's runs: in this process, on a local process pool, or on a Dask cluster.

Every engine calls the same :func:`run_task` on the same payload (the point's scenario as JSON,
the seed, the run function's ``module:name``) and hands each result to ``on_done`` as it
arrives, so the tables do not depend on the engine or the worker count. At most a few tasks per
worker are in flight at once: a 20,000-run sweep holds a few dozen futures, not 20,000.

Workers run single-threaded numerics: the local pool starts its processes with ``spawn`` while
``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` are 1 in the environment they
inherit (set before numpy loads in them), and threadpoolctl, when installed, caps BLAS pools too.
Dask's nanny sets the same variables on its workers.
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing
import os
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any

from scrapsim.errors import SweepError
from scrapsim.experiments.dask_engine import RETRIES, connect_dask, drive_dask
from scrapsim.experiments.pool import (
    BLAS_VARS,
    bounded_drive,
    init_worker,
    single_threaded_env,
    stop_pool,
    stop_resource_tracker_at_exit,
)

__all__ = ["DEFAULT_RUN", "Engine", "RunFn", "SweepError", "Task", "baseline_for", "execute",
           "flatten_summary", "model_summary", "probe", "run_task"]

DEFAULT_RUN = "scrapsim.experiments.engine:model_summary"
RunFn = str | tuple[str, dict[str, Any]]
"""``"module:function"``, or ``("module:function", {keyword: value})`` for a run function
that needs settings (calibration's moment definitions); both pickle to any worker."""
IN_FLIGHT_PER_WORKER = 2
CHUNK_RUNS = 32
"""Runs of one replication sent to a worker together: one message, one baseline run."""


@dataclass(frozen=True)
class Task:
    """One run to do: which point and replication, and what the worker needs for it."""

    point: int
    rep: int
    seed: int
    key: str
    scenario_json: str


OnDone = Callable[[Task, dict[str, Any]], None]


_BASELINES: OrderedDict[tuple[str, int], Any] = OrderedDict()
"""Per-process memo of intensity-0 runs keyed on (:func:`~scrapsim.model.simulation.baseline_key`,
seed): every point of a replication shares its baseline when the varied fields leave what a
no-enforcement run depends on unchanged (campaign fields, intensity). A result is a pure
function of scenario and seed, so reuse changes no byte of the tables."""
BASELINE_RUNS = [0]
"""How many baselines this process has run (not read from the memo): benchmarks and tests
count them."""
BASELINES_KEPT = 64


def baseline_for(scenario: Any, seed: int) -> Any:
    """The intensity-0 run of ``scenario`` at ``seed``, from this process's memo when a recent
    task already ran it (a result is a pure function of scenario and seed)."""
    from scrapsim.model.simulation import Model, baseline_key, baseline_of

    key = (baseline_key(scenario), int(seed))
    base = _BASELINES.get(key)
    if base is None:
        base = Model(baseline_of(scenario), int(seed)).run()
        BASELINE_RUNS[0] += 1
        _BASELINES[key] = base
        while len(_BASELINES) > BASELINES_KEPT:
            _BASELINES.popitem(last=False)
    else:
        _BASELINES.move_to_end(key)
    return base


def model_summary(scenario: Any, seed: int) -> dict[str, Any]:
    """Run the model with its intensity-0 baseline (same seed) and return the summary."""
    from scrapsim.model.simulation import run

    return run(scenario, seed=seed, baseline=baseline_for(scenario, seed)).summary or {}


def flatten_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Flat, JSON-ready summary: ``regions`` become ``region.<name>.<key>``, windows a string."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if key == "regions" and isinstance(value, dict):
            for name, sub in value.items():
                for k, v in flatten_summary(sub).items():
                    flat[f"region.{name}.{k}"] = v
        else:
            flat[key] = _scalar(key, value)
    return flat


def _scalar(key: str, value: Any) -> Any:
    if key == "windows" and isinstance(value, (list, tuple)):
        return ";".join(f"{w[0]}/{w[1]}" for w in value)
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def _resolve(run_fn: RunFn) -> Callable[[Any, int], dict[str, Any]]:
    name, kwargs = (run_fn, None) if isinstance(run_fn, str) else run_fn
    module, _, attr = name.partition(":")
    fn = getattr(importlib.import_module(module), attr)
    return partial(fn, **kwargs) if kwargs else fn


def run_task(scenario_json: str, seed: int, run_fn: RunFn) -> dict[str, Any]:
    """Run one replication in a worker; an exception becomes an ``error`` result."""
    from scrapsim.scenario import Scenario

    start = time.perf_counter()
    try:
        scenario = Scenario.model_validate_json(scenario_json)
        summary = _resolve(run_fn)(scenario, seed)
        result: dict[str, Any] = {"status": "ok", "error": "",
                                  "summary": flatten_summary(summary or {})}
    except Exception as exc:  # a failing run is recorded and the sweep goes on
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}", "summary": {}}
    result["wall_s"] = time.perf_counter() - start
    result["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return result


def run_chunk(items: list[tuple[str, int]], run_fn: RunFn) -> list[dict[str, Any]]:
    """Run several replications (scenario JSON, seed) in a worker, one result each."""
    return [run_task(text, seed, run_fn) for text, seed in items]


def chunks(tasks: Iterable[Task], size: int = CHUNK_RUNS) -> Iterator[list[Task]]:
    """Consecutive tasks with the same seed, at most ``size`` at a time."""
    batch: list[Task] = []
    for task in tasks:
        if batch and (len(batch) == size or task.seed != batch[0].seed):
            yield batch
            batch = []
        batch.append(task)
    if batch:
        yield batch


def _items(batch: list[Task]) -> list[tuple[str, int]]:
    return [(t.scenario_json, t.seed) for t in batch]


def probe() -> dict[str, Any]:
    """What a worker runs with: its BLAS thread settings and scrapsim version."""
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, Any] = {var: os.environ.get(var) for var in BLAS_VARS}
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{"api": p.get("internal_api"), "threads": p.get("num_threads")}
                               for p in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    try:
        info["scrapsim"] = version("scrapsim")
    except PackageNotFoundError:
        info["scrapsim"] = "not installed (source tree)"
    info["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return info


def warm_probe() -> dict[str, Any]:
    """:func:`probe`, after compiling the model's loops (or loading them from the disk cache;
    nothing to do when they were built ahead of time, ``loops``)."""
    from scrapsim.model.loops import BACKEND
    from scrapsim.model.simulation import compile_time

    info = probe()
    info["compile_s"] = round(compile_time(), 3)
    info["loops"] = BACKEND
    return info


def execute(tasks: Iterable[Task], on_done: OnDone, *, run_fn: RunFn = DEFAULT_RUN,
            workers: int = 1, scheduler: str | None = None) -> dict[str, Any]:
    """Run every task, calling ``on_done(task, result)`` as each finishes; engine info back."""
    with Engine(workers, scheduler) as engine:
        engine.run(tasks, on_done, run_fn)
    return engine.info


class Engine:
    """Workers kept between batches: ``with Engine(2) as e: e.run(tasks, on_done, run_fn)``.

    An optimizer that asks for one generation at a time runs every generation on the same
    processes (or Dask client), so worker start-up and their baseline memos are paid once.
    ``workers=1`` runs in this process; ``scheduler`` (``tcp://HOST:PORT``) uses Dask.
    """

    def __init__(self, workers: int = 1, scheduler: str | None = None) -> None:
        self.workers, self.scheduler = workers, scheduler
        self.info: dict[str, Any] = {"engine": "none: every run was stored"}
        self._started = False
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None

    def __enter__(self) -> Engine:
        return self

    def start(self) -> None:
        """Start the workers (or connect to Dask) once, when the first run needs them, so an
        experiment whose runs are all stored starts none."""
        if self._started:
            return
        self._started = True
        if self.scheduler:
            self._client, workers = connect_dask(self.scheduler, probe)
            self.info = {"engine": "dask", "scheduler": self.scheduler,
                         "workers": len(workers), "worker_info": workers}
        elif self.workers > 1:
            info = self._new_pool()
            self.info = {"engine": "processes", "workers": self.workers, "worker_info": [info]}
        else:
            self.info = {"engine": "serial", "workers": 1, "worker_info": [probe()]}

    def _new_pool(self) -> dict[str, Any]:
        """(Re)start the local worker processes; a worker's probe back."""
        ctx = multiprocessing.get_context("spawn")
        stop_resource_tracker_at_exit()
        with single_threaded_env():
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx,
                                             initializer=init_worker)
            # with numba's JIT build (no loops built ahead of time), one worker compiles (or
            # loads) the kernels and writes numba's disk cache before any run is sent, so on
            # a cold machine the others load it instead of each compiling for itself
            info: dict[str, Any] = self._pool.submit(warm_probe).result()
        return info

    def _restart_pool(self, exc: BaseException) -> None:
        """A worker process died: start new ones (at most :data:`RETRIES` times)."""
        self.restarts = getattr(self, "restarts", 0) + 1
        if self._pool is not None:
            stop_pool(self._pool, graceful=False)
        if self.restarts > RETRIES:
            raise SweepError(f"worker processes died {self.restarts} times ({exc}); the "
                             "finished runs are stored: run the same command again to "
                             "resume") from None
        try:
            self._new_pool()
        except BrokenProcessPool as again:
            self._restart_pool(again)
        self.info["restarts"] = self.restarts

    def __exit__(self, kind: type | None, *rest: object) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            stop_pool(pool, graceful=kind is None)
        if self._client is not None:
            from scrapsim.experiments.dask_engine import close_client

            close_client(self._client)

    @property
    def slots(self) -> int:
        """How many runs go at once: the workers (Dask: their threads)."""
        self.start()
        if self._client is not None:
            return max(1, sum(self._client.nthreads().values()))
        return self.workers if self._pool is not None else 1

    def run(self, tasks: Iterable[Task], on_done: OnDone, run_fn: RunFn = DEFAULT_RUN,
            chunk: int = CHUNK_RUNS) -> None:
        """Run the tasks on this engine's workers, handing each result to ``on_done``; at
        most ``chunk`` runs of one seed go to a worker in one message; the workers start
        with the first task."""
        source = iter(tasks)
        first = next(source, None)
        if first is None:
            return
        tasks = itertools.chain([first], source)
        self.start()
        if self._client is not None:
            drive_dask(self._client, self.scheduler or "", chunks(tasks, chunk), on_done,
                       lambda batch: (run_chunk, _items(batch), run_fn),
                       IN_FLIGHT_PER_WORKER)
        elif self._pool is not None:
            bounded_drive(chunks(tasks, chunk), on_done, lambda b: self._submit(b, run_fn),
                           self.workers * IN_FLIGHT_PER_WORKER, self._restart_pool)
        else:
            for task in tasks:
                on_done(task, run_task(task.scenario_json, task.seed, run_fn))


    def _submit(self, batch: list[Task], run_fn: RunFn) -> Future:
        assert self._pool is not None
        return self._pool.submit(run_chunk, _items(batch), run_fn)
