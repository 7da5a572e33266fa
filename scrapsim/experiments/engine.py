"""Running a sweep's runs: in this process, on a local process pool, or on a Dask cluster.

Every engine cuts the runs into the same chunks (seed blocks, whole points:
:mod:`scrapsim.experiments.batching`), calls the same :func:`run_chunk` on the same payload (the
points' scenarios as JSON, the seeds, the run function's ``module:name``; each point's seeds
run as one batch) and hands each result to ``on_done`` as its chunk arrives, so the tables do
not depend on the engine or the worker count. At most a few chunks per worker are in flight at
once: a 20,000-run sweep holds a few dozen futures, not 20,000.

Workers run single-threaded numerics: the local pool starts its processes with ``spawn`` while
``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` are 1 in the environment they
inherit (set before numpy loads in them), and threadpoolctl, when installed, caps BLAS pools too.
Dask's nanny sets the same variables on its workers.
"""

from __future__ import annotations

import importlib
import itertools
import json
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any

from scrapsim.errors import SweepError
from scrapsim.experiments.batching import (
    BASELINE_RUNS,
    BASELINES_KEPT,
    baseline_for,
    chunk_scope,
    chunks,
    model_run,
)
from scrapsim.experiments.dask_engine import RETRIES, connect_dask, drive_dask
from scrapsim.experiments.pool import (
    BLAS_VARS,
    bounded_drive,
    init_worker,
    single_threaded_env,
    stop_pool,
    stop_resource_tracker_at_exit,
)

__all__ = ["BASELINES_KEPT", "BASELINE_RUNS", "DEFAULT_RUN", "Engine", "RunFn", "SweepError",
           "Task", "baseline_for", "chunks", "execute", "flatten_summary",
           "model_run", "model_summary", "probe", "run_chunk"]

DEFAULT_RUN = "scrapsim.experiments.engine:model_summary"
RunFn = str | tuple[str, dict[str, Any]]
"""``"module:function"``, or ``("module:function", {keyword: value})`` for a run function
that needs settings (calibration's moment definitions); both pickle to any worker."""
IN_FLIGHT_PER_WORKER = 2
CHUNK_RUNS = 32
"""Runs of one seed block sent to a worker together (:mod:`scrapsim.experiments.batching`): one
message, each point's seeds one batch, each seed's baseline run once."""


@dataclass(frozen=True)
class Task:
    """One run to do: which point and replication, and what the worker needs for it."""

    point: int
    rep: int
    seed: int
    key: str
    scenario_json: str


OnDone = Callable[[Task, dict[str, Any]], None]


def model_summary(scenario: Any, seed: int) -> dict[str, Any]:
    """Run the model with its intensity-0 baseline (same seed) and return the summary
    (batched with the chunk's other seeds of the point, :func:`model_run`)."""
    return model_run(scenario, seed).summary or {}


def flatten_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Flat, JSON-ready summary: ``regions`` become ``region.<name>.<key>``, windows a string,
    any other nested block (``campaigns``) its JSON text."""
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
    from scrapsim.results.identity import jsonable

    try:        # a nested block (``campaigns``) as JSON, which a table's reader can parse
        return json.dumps(jsonable(value), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _resolve(run_fn: RunFn) -> Callable[[Any, int], dict[str, Any]]:
    name, kwargs = (run_fn, None) if isinstance(run_fn, str) else run_fn
    module, _, attr = name.partition(":")
    fn = getattr(importlib.import_module(module), attr)
    return partial(fn, **kwargs) if kwargs else fn


def _failed(exc: BaseException) -> dict[str, Any]:
    return {"status": "error", "error": f"{type(exc).__name__}: {exc}", "summary": {}}


def _run_one(scenario: Any, scenario_json: str, seed: int, fn: Any) -> dict[str, Any]:
    from scrapsim.scenario import Scenario

    start = time.perf_counter()
    try:
        if scenario is None:     # not parsed: parse again for the error
            scenario = Scenario.model_validate_json(scenario_json)
        summary = fn(scenario, seed)
        result: dict[str, Any] = {"status": "ok", "error": "",
                                  "summary": flatten_summary(summary or {})}
    except Exception as exc:  # a failing run is recorded and the sweep goes on
        result = _failed(exc)
    result["wall_s"] = time.perf_counter() - start
    result["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return result


def run_chunk(items: list[tuple[str, int]], run_fn: RunFn) -> list[dict[str, Any]]:
    """Run several replications (scenario JSON, seed) in a worker, one result each; each
    point's seeds run as one batch when the run function asks for :func:`model_run`."""
    return list(iter_chunk(items, run_fn))


def iter_chunk(items: list[tuple[str, int]], run_fn: RunFn) -> Iterator[dict[str, Any]]:
    """:func:`run_chunk`'s results, each point's as soon as its last run of the chunk is done
    (a batch's time shared out over its runs). Interrupted, it gives what finished first, so
    a serial run stores every finished run."""
    try:
        fn = _resolve(run_fn)
    except Exception as exc:
        for _ in items:
            yield {**_failed(exc), "wall_s": 0.0,
                   "worker": f"{socket.gethostname()}:{os.getpid()}"}
        return
    last = {text: i for i, (text, _) in enumerate(items)}
    done: list[dict[str, Any]] = []
    given = 0
    with chunk_scope(items) as parsed:
        try:
            for i, ((sc, seed), (text, _)) in enumerate(zip(parsed, items, strict=True)):
                done.append(_run_one(sc, text, seed, fn))
                if last[text] == i:
                    _share_time([r for r, (t, _) in zip(done, items, strict=False) if t == text])
                while given <= i and last[items[given][0]] <= i:
                    yield done[given]
                    given += 1
        except GeneratorExit:
            raise
        except BaseException:
            while given < len(done):         # what finished, then the interruption
                yield done[given]
                given += 1
            raise


def _share_time(group: list[dict[str, Any]]) -> None:
    """A batch's time falls on its point's first run: share it out over the point's runs."""
    mean = sum(r["wall_s"] for r in group) / len(group)
    for r in group:
        r["wall_s"] = mean


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
        most ``chunk`` runs of one seed block go to a worker in one message (each point's
        seeds of it one batch); the workers start with the first task."""
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
            for batch in chunks(tasks, chunk):
                for task, result in zip(batch, iter_chunk(_items(batch), run_fn), strict=True):
                    on_done(task, result)

    def _submit(self, batch: list[Task], run_fn: RunFn) -> Future:
        assert self._pool is not None
        return self._pool.submit(run_chunk, _items(batch), run_fn)
