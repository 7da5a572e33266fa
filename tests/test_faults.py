"""Faults that must not lose results, leave processes running or end in a traceback: workers
and schedulers killed mid-sweep (real signals, a real Dask cluster on 127.0.0.1), the parent
killed with SIGKILL, two identical sweeps at once, and folders left by killed commands.

Every command runs as a subprocess (``python -m scrapsim``) on the tiny two-region scenario of
``conftest.py``; each sweep is a few dozen runs of about 0.05 s, so a fault lands mid-sweep.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import REPO, TINY, _subprocess_env, start_dask, stop_dask

VARY = "enforcement.intensity=0:2:16"
REPS = "4"


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(TINY), sort_keys=False))
    return path


def _sweep_cmd(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scrapsim", "sweep", str(scenario), "--vary", VARY, "--reps",
            REPS, "--no-plot", "-q", "--out", str(out), *extra]


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=_subprocess_env(), capture_output=True, text=True,
                          timeout=timeout)


def _start(cmd: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=cwd, env=_subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(check: Callable[[], bool], proc: subprocess.Popen, timeout: float = 90) -> None:
    """Until ``check()`` (the sweep has journalled runs), while ``proc`` still runs."""
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, f"ended before the fault: {proc.communicate()}"
        assert time.monotonic() < deadline, "the sweep journalled nothing in time"
        time.sleep(0.05)


def _journalled(out: Path, at_least: int = 1) -> Callable[[], bool]:
    journal = out.with_name(out.name + ".partial") / "runs.jsonl"

    def check() -> bool:
        try:
            return journal.read_bytes().count(b"\n") >= at_least
        except OSError:
            return False
    return check


def _records(out: Path) -> list[dict]:
    folder = out if out.exists() else out.with_name(out.name + ".partial")
    return [json.loads(line) for line in (folder / "runs.jsonl").read_text().splitlines()]


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same sweep, uninterrupted, in this process's own subprocess (workers=1)."""
    folder = tmp_path_factory.mktemp("reference")
    scenario = folder / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(copy.deepcopy(TINY), sort_keys=False))
    done = _run(_sweep_cmd(scenario, folder / "whole", "--workers", "1"), folder)
    assert done.returncode == 0, done.stderr
    return folder / "whole"


MANY = ("--reps", "16")
"""The Dask fault test's sweep: 256 tiny runs, so that the scheduler is killed while many are
left (with 64, the last 39 could finish within one 50 ms poll and the sweep end first)."""


@pytest.fixture(scope="module")
def reference_many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Dask fault test's sweep (:data:`MANY`), uninterrupted, on one worker."""
    folder = tmp_path_factory.mktemp("reference_many")
    scenario = folder / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(copy.deepcopy(TINY), sort_keys=False))
    done = _run(_sweep_cmd(scenario, folder / "whole", *MANY, "--workers", "1"), folder)
    assert done.returncode == 0, done.stderr
    return folder / "whole"


def _same_tables(out: Path, reference: Path) -> None:
    for name in ("runs.csv", "curves.csv"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def test_a_killed_pool_worker_is_retried_not_recorded(tiny_file: Path, tmp_path: Path,
                                                      reference: Path) -> None:
    out = tmp_path / "s"
    proc = _start(_sweep_cmd(tiny_file, out, "--workers", "2"), tmp_path)
    _wait_for(_journalled(out), proc)
    workers = [p for p in _children(proc.pid)
               if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert workers, "no pool worker found"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failed"] == 0 and manifest["engine"].get("restarts") == 1
    assert all(r["status"] == "ok" for r in _records(out))
    _same_tables(out, reference)


def test_sigkill_of_the_parent_takes_its_workers_down(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    proc = _start(_sweep_cmd(tiny_file, out, "--workers", "2"), tmp_path)
    _wait_for(_journalled(out), proc)
    children = _children(proc.pid)
    assert len(children) >= 2, children  # two pool workers (and the resource tracker)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 15
    while any(_running(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in children if _running(p)], "processes outlived their parent"


def test_two_identical_sweeps_at_once_never_break_the_folder(tiny_file: Path,
                                                            tmp_path: Path) -> None:
    for trial in range(2):  # small sweeps: both reach the finish together
        out = tmp_path / f"s{trial}"
        cmd = [sys.executable, "-m", "scrapsim", "sweep", str(tiny_file), "--vary",
               "enforcement.intensity=0,1", "--reps", "2", "--workers", "1", "-q", "--no-plot",
               "--out", str(out)]
        procs = [_start(cmd, tmp_path) for _ in range(2)]
        results = [(p.wait(120), p.communicate()[1]) for p in procs]
        assert [s for s, _ in results].count(0) >= 1, results
        for status, err in results:
            assert "Traceback" not in err and "No such file" not in err, err
            assert status == 0 or "another command is writing" in err, err
        manifest = json.loads((out / "manifest.json").read_text())
        assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir())
        assert not out.with_name(out.name + ".partial").exists()


def test_a_killed_runs_work_folder_is_removed_by_the_next_run(tiny_file: Path,
                                                               tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f".o.tmp-{gone.pid}-abcdef"
    stale.mkdir()
    (stale / "daily.csv").write_text("half a table")
    alive = tmp_path / f".o.tmp-{os.getpid()}-fedcba"  # a live command's: left alone
    alive.mkdir()
    done = _run([sys.executable, "-m", "scrapsim", str(tiny_file), "--out", "o", "--no-plot",
                 "-q"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not stale.exists() and alive.exists() and (tmp_path / "o" / "daily.csv").is_file()


# ------------------------------------------------------------------ Dask, killed mid-sweep

@pytest.fixture
def cluster_dir(tmp_path: Path) -> Path:
    pytest.importorskip("distributed")
    folder = tmp_path / "dask"
    folder.mkdir()
    return folder


def _kill_dask_workers(nanny_group: int) -> int:
    """SIGKILL the worker processes under the ``dask worker`` process (their nannies restart
    them); how many were killed."""
    killed = 0
    for parent in [nanny_group, *_children(nanny_group)]:
        for pid in _children(parent):
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def test_dask_workers_then_scheduler_killed_mid_sweep(tiny_file: Path, tmp_path: Path,
                                                      cluster_dir: Path,
                                                      reference_many: Path) -> None:
    """Killed workers are retried (never a failed run); a dead scheduler is exit 1 with a
    message; the same command on a new cluster resumes to the uninterrupted tables."""
    out = tmp_path / "s"
    address, procs = start_dask(cluster_dir)
    try:
        proc = _start(_sweep_cmd(tiny_file, out, *MANY, "--scheduler", address), tmp_path)
        _wait_for(_journalled(out), proc)
        assert _kill_dask_workers(procs[1].pid) >= 1
        _wait_for(_journalled(out, 25), proc)  # runs go on once the nannies restart them
        os.killpg(procs[0].pid, signal.SIGKILL)  # the scheduler
        _, err = proc.communicate(timeout=90)
    finally:
        stop_dask(procs)
    assert proc.returncode == 1, err
    assert "lost the Dask scheduler" in err and "Traceback" not in err, err
    stored = _records(out)
    assert len(stored) >= 25 and all(r["status"] == "ok" for r in stored)
    address, procs = start_dask(cluster_dir)
    try:
        again = _run(_sweep_cmd(tiny_file, out, *MANY, "--scheduler", address), tmp_path)
    finally:
        stop_dask(procs)
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failed"] == 0 and manifest["session"]["resumed"] == len(stored)
    _same_tables(out, reference_many)


def test_the_checkout_is_what_runs() -> None:
    """The subprocesses above import this checkout's scrapsim, not another copy."""
    done = subprocess.run([sys.executable, "-c", "import scrapsim; print(scrapsim.__file__)"],
                          env=_subprocess_env(), capture_output=True, text=True, cwd="/")
    assert Path(done.stdout.strip()).resolve().is_relative_to(REPO)
