"""Running batches of runs on a Dask distributed cluster, through infrastructure faults.

Only an exception the model raises is a failed run (the workers' ``run_chunk`` turns it into an
``error`` result). Anything else a batch's future raises is the infrastructure's — a worker
killed, a future cancelled — and the batch is sent again (at most :data:`RETRIES` times), never
journalled. A lost scheduler, or a cluster left without any worker for :data:`NO_WORKER_S`,
stops the experiment with :class:`SweepError` (exit 1); the finished runs stay stored and the
same command resumes.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from scrapsim.errors import SweepError

__all__ = ["NO_WORKER_S", "RETRIES", "WAIT_S", "close_client", "connect_dask", "drive_dask"]

RETRIES = 3
"""How often a batch of runs lost to the infrastructure (a dead worker process, a Dask
worker killed) is sent again before the experiment stops with exit 1; such a loss is never
journalled as the runs' outcome (only an exception the model raises is a failed run)."""
WAIT_S = 2.0
"""How often an experiment waiting for results checks that workers and scheduler remain."""
NO_WORKER_S = 60.0
"""How long a Dask cluster may stay without any worker before the experiment stops."""

Batch = list[Any]
OnDone = Callable[[Any, dict[str, Any]], None]


def connect_dask(scheduler: str, probe: Callable[[], dict[str, Any]]
                 ) -> tuple[Any, list[dict[str, Any]]]:
    """A client of an existing Dask cluster with at least one worker, and the workers' probes
    (``pip install scrapsim[dask]``)."""
    from scrapsim.errors import require_extra

    require_extra("dask", "--scheduler (a Dask cluster)")
    from distributed import Client

    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=60)
        return client, list(client.run(probe).values())
    except TimeoutError:
        client.close()
        raise SweepError(f"no Dask worker joined the scheduler at {scheduler} "
                         "within 60 s") from None
    except ImportError as exc:
        client.close()
        raise SweepError(f"the Dask workers cannot import scrapsim ({exc}): install "
                         "scrapsim on every worker") from None


def close_client(client: Any) -> None:
    """Close a Dask client; after a lost scheduler, without the reconnection's traceback in
    the log (the experiment's own message says what happened)."""
    import logging

    lost = _lost_scheduler(client)
    if lost:
        logging.disable(logging.CRITICAL)
    try:
        with contextlib.suppress(Exception):
            client.close(timeout=5)
    finally:
        if lost:
            logging.disable(logging.NOTSET)


def _lost_scheduler(client: Any, exc: BaseException | None = None) -> bool:
    """Whether the client has lost its scheduler (not merely a worker)."""
    if exc is not None and "scheduler-connection-lost" in str(exc):
        return True
    return getattr(client, "status", "running") not in ("running", "newly-created")


def _scheduler_error(scheduler: str, exc: BaseException) -> SweepError:
    return SweepError(f"lost the Dask scheduler at {scheduler} ({type(exc).__name__}); the "
                      "finished runs are stored: start the scheduler again and run the same "
                      "command to resume")


def drive_dask(client: Any, scheduler: str, batches: Iterator[Batch], on_done: OnDone,
               payload: Callable[[Batch], tuple[Any, ...]], per_thread: int) -> None:
    """Run the batches on Dask; a batch lost to a dead worker is sent again (at most
    :data:`RETRIES` times), a lost scheduler, or no worker for :data:`NO_WORKER_S`, stops
    with :class:`SweepError`."""
    from distributed import wait as dask_wait

    source = batches
    again: deque[tuple[Batch, int]] = deque()
    pending: dict[Any, tuple[Batch, int]] = {}
    watch = _Workers(client, scheduler)

    def fill() -> None:
        limit = max(1, sum(client.nthreads().values())) * per_thread
        while len(pending) < limit:
            batch, tries = again.popleft() if again else (next(source, None), 0)
            if batch is None:
                return
            fn, *args = payload(batch)
            pending[client.submit(fn, *args, pure=False)] = (batch, tries)

    try:
        fill()
        while pending:
            try:
                with client.as_current():
                    done = dask_wait(list(pending), timeout=WAIT_S,
                                     return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            if not done:
                watch.check()
                continue
            for future in done:
                _take(client, scheduler, future, *pending.pop(future), again, on_done)
            fill()
    except (SweepError, KeyboardInterrupt):
        _cancel(client, list(pending))
        raise
    except Exception as exc:  # the connection itself failed
        _cancel(client, list(pending))
        if _lost_scheduler(client, exc) or isinstance(exc, (OSError, TimeoutError)):
            raise _scheduler_error(scheduler, exc) from None
        raise
    except BaseException:
        _cancel(client, list(pending))
        raise


def _take(client: Any, scheduler: str, future: Any, batch: Batch, tries: int,
          again: deque[tuple[Batch, int]], on_done: OnDone) -> None:
    """Hand a finished batch's results over, or queue it again when it was lost."""
    try:
        results = future.result()
    except Exception as exc:  # the infrastructure's, not the model's (run_chunk)
        future.release()
        _retry(client, scheduler, exc, batch, tries, again)
        return
    future.release()
    for task, result in zip(batch, results, strict=True):
        on_done(task, result)


class _Workers:
    """Notices a cluster left without workers (tasks then wait forever) or scheduler."""

    def __init__(self, client: Any, scheduler: str) -> None:
        self.client, self.scheduler, self.seen = client, scheduler, time.monotonic()

    def check(self) -> None:
        if _lost_scheduler(self.client):
            raise _scheduler_error(self.scheduler, ConnectionError("connection closed"))
        if self.client.nthreads():
            self.seen = time.monotonic()
        elif time.monotonic() - self.seen > NO_WORKER_S:
            raise SweepError(f"no Dask worker is left at {self.scheduler} (none for "
                             f"{NO_WORKER_S:.0f} s); the finished runs are stored: run the "
                             "same command again to resume")


def _retry(client: Any, scheduler: str, exc: BaseException, batch: Batch, tries: int,
           again: deque[tuple[Batch, int]]) -> None:
    """Queue a lost batch again, or stop: the scheduler is gone, no worker is left, or the
    batch was lost :data:`RETRIES` times."""
    if _lost_scheduler(client, exc):
        raise _scheduler_error(scheduler, exc)
    if tries >= RETRIES:
        raise SweepError(f"{len(batch)} runs were lost {tries + 1} times on the Dask workers "
                         f"({type(exc).__name__}: {exc}); the finished runs are stored: run "
                         "the same command again to resume")
    again.append((batch, tries + 1))


def _cancel(client: Any, pending: list[Any]) -> None:
    """Cancel what is in flight, when the scheduler can still hear it."""
    if pending and not _lost_scheduler(client):
        with contextlib.suppress(Exception):
            client.cancel(pending)
