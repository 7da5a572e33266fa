"""The local process pool's lifecycle: workers that run single-threaded numerics, end with their
parent (even after ``kill -9``) and are stopped and waited for on every exit of the command
(normal, error, Ctrl-C, SIGTERM), with multiprocessing's resource tracker stopped last; and the
bounded loop that keeps a few batches per worker in flight and resends those a dead worker
held."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

__all__ = ["BLAS_VARS", "bounded_drive", "init_worker", "single_threaded_env", "stop_pool",
           "stop_resource_tracker_at_exit"]

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
PARENT_POLL_S = 0.5


def _die_with_parent() -> None:
    """End this worker when its parent dies, whatever kills it (even SIGKILL): the kernel's
    parent-death signal where there is one (Linux ``prctl``), and a thread that watches the
    parent's pid everywhere."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError, TypeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent or parent == 1:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="scrapsim-parent-watch", daemon=True).start()


def init_worker() -> None:
    """Local pool worker: end with the parent, leave Ctrl-C to it, keep numerics
    single-threaded."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in BLAS_VARS:
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


@contextmanager
def single_threaded_env() -> Iterator[None]:
    """BLAS variables at 1 while the pool spawns its workers; restored afterwards."""
    saved = {var: os.environ.get(var) for var in BLAS_VARS}
    os.environ.update(dict.fromkeys(BLAS_VARS, "1"))
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


STOP_WAIT_S = 5.0
"""How long a worker asked to stop (SIGTERM) has before it is killed."""


def stop_pool(pool: ProcessPoolExecutor, graceful: bool) -> None:
    """End the pool's worker processes and wait for each (so none outlives the command, not
    even as a zombie): after its work on a normal exit; at once on an error or an interrupt
    (SIGTERM, then SIGKILL after :data:`STOP_WAIT_S`), the runs they held being lost, never
    recorded, and run again on resume."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    if graceful:
        pool.shutdown(wait=True)
        return
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(OSError, ValueError):
            proc.terminate()
    deadline = time.monotonic() + STOP_WAIT_S
    for proc in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(STOP_WAIT_S)


_TRACKER_STOP: list[Any] = []


def stop_resource_tracker_at_exit() -> None:
    """End multiprocessing's resource tracker (which ``spawn`` starts) as this process exits,
    and wait for it. Otherwise it ends only after this process has, a process of the command's
    group outliving it (and a zombie where nothing reaps orphans). It runs as the last of
    multiprocessing's exit finalizers, after the pool's semaphores are unlinked, so the tracker
    has nothing left to clean up."""
    if _TRACKER_STOP:
        return
    from multiprocessing import resource_tracker, util

    def stop() -> None:
        tracker = getattr(resource_tracker, "_resource_tracker", None)
        with contextlib.suppress(Exception):
            tracker._stop()  # type: ignore[union-attr]  # closes its pipe, then waitpid

    _TRACKER_STOP.append(util.Finalize(None, stop, exitpriority=-100))


def bounded_drive(batches: Iterable[list[Any]], on_done: Callable[[Any, dict[str, Any]], None],
                   submit: Callable[[list[Any]], Future], limit: int,
                   recover: Callable[[BaseException], None] | None = None) -> None:
    """Keep at most ``limit`` batches in flight; hand each run's result over as its batch
    completes. When the pool breaks (a worker died), ``recover`` restarts it and every batch
    in flight is sent again: a lost run is retried, never recorded."""
    source = iter(batches)
    again: deque[list[Any]] = deque()
    pending: dict[Future, list[Any]] = {}
    while True:
        while len(pending) < limit:
            batch = again.popleft() if again else next(source, None)
            if batch is None:
                break
            pending[submit(batch)] = batch
        if not pending:
            return
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            try:
                results = future.result()
            except BrokenProcessPool as exc:
                if recover is None:
                    raise
                again.extend(pending.values())
                pending.clear()
                recover(exc)
                break
            for task, result in zip(pending.pop(future), results, strict=True):
                on_done(task, result)
