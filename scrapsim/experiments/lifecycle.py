"""One lifecycle for every experiment of many runs: plan → tasks → on each result → finish.

An experiment (sweep, calibration, sensitivity, validation) is a subclass of
:class:`Experiment` that plans itself when constructed (its ``kind``, ``id``, final folder,
scenario, seeds and run function are fixed before anything runs) and fills in the hooks:

- :meth:`Experiment.tasks`: the runs it needs (or :meth:`Experiment.execute`, for an experiment
  that decides its next runs from the last ones, as calibration's search does);
- :meth:`Experiment.on_result`: each finished run, as it arrives (optional);
- :meth:`Experiment.finish`: its tables and figures, written into the working folder;
- :meth:`Experiment.outcome`: what the caller gets back, from the folder.

:func:`drive` does the rest, the same way for every kind: it checks the folder (a finished
folder of the same kind and id is read back, anything else refused), opens the journal in
``<folder>.partial`` (locked), runs what the journal lacks on the engine (processes or Dask),
writes the manifest with the common header (:func:`scrapsim.results.manifest.header`) and
publishes the folder atomically, still holding the lock. A new kind of experiment is one
subclass plus its command-line entry.
"""

from __future__ import annotations

import os
import re
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ClassVar

from scrapsim.errors import SweepSpecError
from scrapsim.experiments.engine import DEFAULT_RUN, Engine, RunFn, Task
from scrapsim.results import folders, manifest
from scrapsim.results.journal import JOURNAL, REJECTED, Journal

__all__ = ["Experiment", "Runs", "check_engine", "drive"]

_SCHEDULER = re.compile(r"^(?:tcp|tls|ws|wss|ucx)://(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+)"
                        r":(?P<port>\d{1,5})/?$")


class Runs:
    """The runs of one experiment: those its journal holds, and those it runs now on the
    engine (each journalled as it finishes). Without a journal, runs are kept in memory only.
    """

    def __init__(self, experiment: Experiment, engine: Engine, journal: Journal | None = None,
                 bar: Any = None) -> None:
        self.experiment, self.engine, self.journal, self.bar = experiment, engine, journal, bar
        self.stored: dict[str, dict[str, Any]] = \
            {r["key"]: r for r in journal.records()} if journal is not None else {}
        self._before = set(self.stored)
        self.needed: dict[str, None] = {}
        """Every run asked for, in the order asked (stored before or run now)."""
        self.ran = self.failed = 0

    def run(self, tasks: Iterable[Task], *, chunk: int | None = None,
            run_fn: RunFn | None = None) -> None:
        """Run every task whose key is not stored yet (each key once)."""
        fn = self.experiment.run_fn if run_fn is None else run_fn
        todo = self._todo(tasks)
        if chunk is None:
            self.engine.run(todo, self._done, fn)
        else:
            self.engine.run(todo, self._done, fn, chunk)

    def _todo(self, tasks: Iterable[Task]) -> Iterator[Task]:
        for task in tasks:
            if task.key in self.needed:
                continue
            self.needed[task.key] = None
            if task.key not in self.stored:
                yield task

    def _done(self, task: Task, result: dict[str, Any]) -> None:
        record = {"key": task.key, "point": task.point, "rep": task.rep, "seed": task.seed,
                  **result}
        if self.journal is not None:
            self.journal.append(record)
        self.stored[task.key] = record
        self.ran += 1
        self.failed += result["status"] != "ok"
        self.experiment.on_result(task, record)
        if self.bar is not None:
            self.bar.update(1)
            if self.failed:
                self.bar.set_postfix(failed=self.failed, refresh=False)

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self.stored[key]

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records of every run asked for, in the order asked."""
        return [self.stored[k] for k in self.needed]

    @property
    def resumed(self) -> int:
        """How many of the runs asked for came from the journal."""
        return len(self._before.intersection(self.needed))


class Experiment(ABC):
    """Many runs of one scenario with a folder of results (see the module's docstring).

    Constructing one plans it: a bad specification raises before anything runs or is written.
    Subclasses set ``kind`` and, in ``__init__``, ``id``, ``final``, ``base``, ``source``,
    ``seeds`` and ``root_seed``.
    """

    kind: ClassVar[str]
    run_fn: RunFn = DEFAULT_RUN
    id: str
    final: Path
    base: Any
    source: str
    seeds: list[int]
    root_seed: int | None = None
    manifest_fields: ClassVar[tuple[str, ...]] = ()
    """Fields of its own part of the manifest a finished folder must have to be read back."""

    @property
    def total(self) -> int | None:
        """How many runs the experiment will ask for, when known in advance (progress bar)."""
        return None

    def tasks(self) -> Iterable[Task]:
        """The runs the experiment needs; stored ones are skipped by :class:`Runs`."""
        raise NotImplementedError(f"{type(self).__name__} defines neither tasks nor execute")

    def execute(self, runs: Runs) -> None:
        """Run what the experiment needs (default: every task, on the engine)."""
        runs.run(self.tasks())

    def on_result(self, task: Task, record: dict[str, Any]) -> None:  # noqa: B027 (optional)
        """One run finished (stored in the journal already); default: nothing."""

    @abstractmethod
    def finish(self, folder: Path, runs: Runs) -> tuple[list[str], dict[str, Any]]:
        """Write the tables and figures into ``folder``; return their names and the
        manifest's own part (merged after the common header)."""

    @abstractmethod
    def outcome(self, folder: Path, manifest: dict[str, Any]) -> Any:
        """What the caller gets back, from the finished folder and its manifest."""

    @property
    def work_id(self) -> str:
        """The id its working folder (``<folder>.partial``) is marked with: whose unfinished runs
        it holds (:func:`scrapsim.results.folders.check_partial`). The experiment's ``id`` by
        default; one that may resume another's runs on purpose (a calibration given a new
        budget) leaves out of it what does not change them."""
        return self.id

    def scenario_info(self) -> dict[str, Any]:
        """The scenario as the manifest header names it."""
        from scrapsim.results.identity import scenario_hash

        return {"name": self.base.name, "file": self.source, "hash": scenario_hash(self.base)}

    def load(self, folder: Path) -> Any:
        """A finished folder of this experiment read back (the same command run again)."""
        found = folders.read_manifest(folder)
        found["session"] = {**found.get("session", {}), "ran": 0, "resumed": None,
                            "note": "already complete: read from the folder"}
        return self.outcome(folder, found)


def check_engine(workers: int | None, scheduler: str | None) -> int:
    """The worker count to use (default: the cores this process may use); bad values raise."""
    found = _SCHEDULER.match(scheduler) if isinstance(scheduler, str) else None
    if scheduler is not None and (found is None or not 0 < int(found["port"]) < 65536):
        raise SweepSpecError("not a Dask scheduler address", file="--scheduler", value=scheduler,
                             expected="tcp://HOST:PORT (or tls://, ws://, wss://, ucx://), "
                             "with a port from 1 to 65535")
    if scheduler is not None:       # before any folder is made
        from scrapsim.errors import require_extra

        require_extra("dask", "--scheduler (a Dask cluster)")
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise SweepSpecError("needs at least one worker", file="--workers", value=workers,
                             expected="a whole number >= 1")
    return workers


def drive(experiment: Experiment, *, workers: int | None = None, scheduler: str | None = None,
          quiet: bool = True, command: Sequence[str] | None = None,
          force: bool = False) -> Any:
    """Run (or resume, or read back) ``experiment`` and publish its folder; its outcome back.

    ``force``: run even when the bounds of :mod:`scrapsim.experiments.bounds` (memory, runs)
    would refuse it."""
    from scrapsim.experiments import bounds

    exp = experiment
    workers = check_engine(workers, scheduler)
    if folders.check_out(exp.final, exp.kind, exp.id):
        return _read_back(exp)
    bounds.check_experiment(exp, workers, force=force)
    partial = folders.partial_path(exp.final)
    folders.check_partial(partial, exp.kind, exp.work_id, exp.id)
    created = folders.make_parents(exp.final.parent)
    started, clock = manifest.utc_now(), time.perf_counter()
    try:
        journal = Journal(partial)
    except BaseException:
        folders.remove_empty(created)
        raise
    with journal:
        if folders.check_out(exp.final, exp.kind, exp.id):  # published meanwhile by another
            _drop_unused(journal, partial)
            return _read_back(exp)
        folders.check_partial(partial, exp.kind, exp.work_id, exp.id)    # (under the lock)
        folders.mark_partial(partial, exp.kind, exp.work_id)
        runs = None
        try:
            with Engine(workers, scheduler) as engine, _progress(exp, quiet) as bar:
                runs = Runs(exp, engine, journal, bar)
                if bar is not None:
                    bar.update(len(set(runs.stored)))
                exp.execute(runs)
        except BaseException as exc:  # a scheduler not reached, Ctrl-C before any run: no folder
            if isinstance(exc, KeyboardInterrupt):   # what the message can say was kept
                exc.stored = 0 if runs is None else len(runs.stored)  # type: ignore[attr-defined]
            if not journal.closed:
                _drop_unused(journal, partial)
            folders.remove_empty(created)
            raise
        engine.info["execute_s"] = time.perf_counter() - clock
        session = {"ran": runs.ran, "resumed": runs.resumed, "failed": runs.failed,
                   "wall_s": time.perf_counter() - clock}
        files, body = exp.finish(partial, runs)
        head = manifest.header(exp.kind, exp.id, scenario=exp.scenario_info(), seeds=exp.seeds,
                               root_seed=exp.root_seed, engine=engine.info, started=started,
                               command=command)
        kept = {folders.MANIFEST, JOURNAL} | ({REJECTED} if (partial / REJECTED).exists()
                                              else set())
        listed = sorted({*files, *kept})
        found = {**head, **body, "session": {**session, **body.get("session", {})},
                 "files": listed, "digests": folders.digests(partial, listed)}
        folders.write_json(partial / folders.MANIFEST, found)
        (partial / folders.PARTIAL_MARK).unlink(missing_ok=True)  # the manifest names it now
        folders.publish(partial, exp.final)  # still locked: no other command enters finish
    return exp.outcome(exp.final, found)


def _read_back(exp: Experiment) -> Any:
    """The finished folder read back; a damaged one (a manifest without the header or the
    fields the kind needs, a listed file missing, or changed since its digest was recorded)
    is an input error naming it."""
    found = folders.read_manifest(exp.final)
    need = ("kind", "id", "files", "session", *exp.manifest_fields)
    missing = [k for k in need if k not in found]
    files = found.get("files")
    if not missing and isinstance(files, list):
        missing = [str(f) for f in files if not (exp.final / str(f)).exists()]
    if missing or not isinstance(files, list):
        raise SweepSpecError(f"is a damaged {exp.kind} folder (missing: "
                             f"{', '.join(missing[:5]) or 'files'})", file=str(exp.final),
                             expected=f"a complete {exp.kind} folder, or a new --out")
    why = folders.damage(exp.final, found)   # none recorded before digests were kept
    if why:
        raise SweepSpecError(f"is a damaged {exp.kind} folder ({why})", file=str(exp.final),
                             expected=f"a complete {exp.kind} folder, or a new --out")
    try:
        return exp.load(exp.final)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise SweepSpecError(f"is a damaged {exp.kind} folder ({type(exc).__name__}: {exc})",
                             file=str(exp.final), expected=f"a complete {exp.kind} folder, "
                             "or a new --out") from None


def _drop_unused(journal: Journal, partial: Path) -> None:
    """Remove a working folder that holds nothing but an empty journal and its mark (one a late
    command created after the folder was published, or one no run reached before an error)."""
    entries = {e.name: e for e in partial.iterdir()}
    if set(entries) <= {JOURNAL, folders.PARTIAL_MARK} and JOURNAL in entries \
            and entries[JOURNAL].stat().st_size == 0:
        for entry in entries.values():
            entry.unlink()
        partial.rmdir()
    journal.close()


def _progress(exp: Experiment, quiet: bool) -> Any:
    """A progress bar on a terminal when the total is known; otherwise nothing."""
    total = exp.total
    if quiet or total is None or not sys.stderr.isatty():
        return nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, unit="run", dynamic_ncols=True, smoothing=0.1, file=sys.stderr,
                desc=exp.kind)
