"""The run figure drawn by a forked helper that imports matplotlib while the command runs.

A warm ``scrapsim hebei`` spends about as long importing matplotlib (0.3-0.5 s) as loading the
scenario, running it and its baseline and writing the tables. :meth:`FigureProcess.start` forks
the command before any of that, on POSIX systems with two or more cores: the helper imports
numpy, matplotlib and :mod:`scrapsim.plots.timeseries` on the other core, then waits on a pipe.
:meth:`FigureProcess.draw` sends it the run's daily tables, campaign windows and title (plain
arrays, pickled), and it draws ``timeseries.png`` into the run's temporary folder with the same
code, so the file has the same bytes as one drawn in-process.

The helper never outlives the command: it reads EOF and exits when the command closes the pipe
or dies (an error, Ctrl-C, SIGTERM), :meth:`FigureProcess.close` kills and reaps it, and on Linux
the kernel sends it SIGKILL when the command's process ends (``PR_SET_PDEATHSIG``). It ignores
SIGINT (the terminal sends Ctrl-C to the whole process group: the command handles it and closes
the helper). Only a single-threaded command forks: one called from a threaded program draws
in-process. If the helper fails or dies, the figure is drawn in-process instead; its error, if
any, is then raised there. ``SCRAPSIM_FIGURE_PROCESS=0`` turns the helper off.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

__all__ = ["ENV", "FigureProcess"]

ENV = "SCRAPSIM_FIGURE_PROCESS"
_OK = b"ok"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


def _single_threaded() -> bool:
    """True when this process runs one thread (Python's and, on Linux, the kernel's count):
    forking a process with other threads can copy a lock one of them holds."""
    import threading

    if threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return True


def _payload(result: Any, folder: Path) -> bytes:
    """What :func:`~scrapsim.plots.timeseries.plot_run` reads of ``result``, as plain data."""
    def table(t: Any) -> dict[str, Any] | None:
        return None if t is None else {k: t[k] for k in t}

    scenario = result.scenario
    base = getattr(result, "baseline", None)
    lite = SimpleNamespace(
        daily=table(result.daily),
        baseline=None if base is None else SimpleNamespace(daily=table(base.daily)),
        windows=list(result.windows or []), seed=result.seed,
        scenario=SimpleNamespace(name=scenario.name, enforcement=SimpleNamespace(
            intensity=scenario.enforcement.intensity)))
    return pickle.dumps((lite, str(folder)), protocol=pickle.HIGHEST_PROTOCOL)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the one that forked it ends."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _helper(data_fd: int, status_fd: int, parent: int) -> int:
    """The forked side: import, wait for the run, draw, report. Returns the exit status."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    if os.getppid() != parent:      # the command ended before the line above
        return 1
    from scrapsim.plots.timeseries import plot_run

    with os.fdopen(data_fd, "rb") as pipe:
        data = pipe.read()
    if not data:                    # the command closed the pipe: nothing to draw
        return 0
    lite, folder = pickle.loads(data)
    plot_run(lite, Path(folder) / "timeseries.png")
    os.write(status_fd, _OK)
    return 0


class FigureProcess:
    """A forked helper that draws one run figure (see the module doc)."""

    def __init__(self, pid: int, data_fd: int, status_fd: int) -> None:
        self.pid = pid
        self._data: int | None = data_fd
        self._status: int | None = status_fd

    @classmethod
    def start(cls) -> FigureProcess | None:
        """Fork the helper, or None where it would not help or is not safe: no ``fork``, one
        core, turned off, or other threads running (a command called from a threaded program,
        a test runner's worker)."""
        if os.environ.get(ENV, "1") == "0" or not hasattr(os, "fork") or _cores() < 2 \
                or not _single_threaded():
            return None
        data_r, data_w = os.pipe()
        status_r, status_w = os.pipe()
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:                # the helper: never returns into the command
            code = 1
            try:
                if hasattr(signal, "pthread_sigmask"):  # the command holds them over the fork
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
                os.close(data_w)
                os.close(status_r)
                code = _helper(data_r, status_w, parent)
            except BaseException:   # the command draws in-process and reports any error
                code = 1
            finally:
                os._exit(code)
        os.close(data_r)
        os.close(status_w)
        return cls(pid, data_w, status_r)

    def draw(self, result: Any, folder: Path) -> None:
        """Have the helper draw ``result``'s figure into ``folder``; in-process if it cannot."""
        ok = False
        if self._data is not None and self._status is not None:
            try:
                payload = _payload(result, folder)
                with os.fdopen(self._data, "wb") as pipe:
                    self._data = None
                    pipe.write(payload)
                with os.fdopen(self._status, "rb") as pipe:
                    self._status = None
                    ok = pipe.read() == _OK
            except OSError:         # the helper died (EPIPE): draw here
                ok = False
        self.close()
        if not ok:
            from scrapsim.results import run_folder

            run_folder.draw_figure(result, folder)

    def close(self) -> None:
        """Stop the helper if it is still running and reap it."""
        for name in ("_data", "_status"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self.pid:
            pid, self.pid = self.pid, 0
            try:
                if os.waitpid(pid, os.WNOHANG) == (0, 0):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass
