"""Every process a command starts ends with it: on a normal exit, an error, Ctrl-C and SIGTERM.

Each command runs in a session of its own (``start_new_session``), so every process it starts,
however deep (pool workers, multiprocessing's resource tracker, Chromium's helpers), carries the
command's session id; once the command has exited, /proc must hold no process of that session,
not even a zombie (a zombie is a child nobody waited for).
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import HEBEI, REPO, TINY, _subprocess_env, interruptible

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _session(sid: int) -> list[str]:
    """``pid state command`` of every process in session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[3]) == sid:  # state ppid pgrp session
            found.append(f"{entry.name} {fields[0]} {cmd}")
    return found


def _left_after(proc: subprocess.Popen, settle: float = 3.0) -> list[str]:
    """The processes of ``proc``'s session still there ``settle`` s after it exited."""
    deadline = time.monotonic() + settle
    while (left := _session(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _start(cmd: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=cwd, env=_subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=interruptible)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(TINY), sort_keys=False))
    return path


def _sweep(scenario: Path, out: Path, points: str = "0:2:16", reps: str = "4") -> list[str]:
    return [sys.executable, "-m", "scrapsim", "sweep", str(scenario), "--vary",
            f"enforcement.intensity={points}", "--reps", reps, "--workers", "2", "-q",
            "--no-plot", "--out", str(out)]


def _wait_journal(proc: subprocess.Popen, out: Path, timeout: float = 90) -> None:
    journal = out.with_name(out.name + ".partial") / "runs.jsonl"
    deadline = time.monotonic() + timeout
    while not (journal.exists() and journal.read_bytes().count(b"\n") >= 2):
        assert proc.poll() is None, f"ended before the signal: {proc.communicate()}"
        assert time.monotonic() < deadline, "nothing journalled in time"
        time.sleep(0.05)


def test_a_finished_sweep_leaves_no_process(tiny: Path, tmp_path: Path) -> None:
    proc = _start(_sweep(tiny, tmp_path / "s", "0,1", "2"), tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert _left_after(proc) == []


def _interrupt(proc: subprocess.Popen, sig: int) -> None:
    """Ctrl-C to the whole foreground group, as a terminal sends it, or SIGTERM to the
    command; it must exit 130 without a traceback and leave no process."""
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert _left_after(proc) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_an_interrupted_sweep_leaves_no_process(tiny: Path, tmp_path: Path, sig) -> None:
    out = tmp_path / "s"
    proc = _start(_sweep(tiny, out, "0:2:40"), tmp_path)
    _wait_journal(proc, out)
    _interrupt(proc, sig)


def test_a_sweep_that_fails_leaves_no_process(tmp_path: Path) -> None:
    """Workers that die on every run: the pool is restarted until the command gives up (exit
    1, a message); no worker of any of those pools is left."""
    (tmp_path / "dying.py").write_text(
        "import os\n\ndef run(scenario, seed):\n    os._exit(3)\n")
    code = ("import sys, scrapsim\n"
            "try:\n"
            f"    scrapsim.sweep({str(HEBEI)!r}, ['enforcement.intensity=0,1'], reps=2,\n"
            "                   workers=2, quiet=True, out='s', run_fn='dying:run',\n"
            "                   figures=False)\n"
            "except scrapsim.ScrapsimError as exc:\n"
            "    print(exc, file=sys.stderr); sys.exit(1)\n")
    env = {**_subprocess_env()}
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1 and "worker processes died" in err, err
    assert _left_after(proc) == []


def test_sensitivity_with_two_workers_leaves_no_process(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "scrapsim", "sensitivity", str(HEBEI), "--params",
           str(REPO / "params" / "hebei.yaml"), "--samples", "2", "--reps", "1",
           "--set", "end=2017-04-30", "--workers", "2", "-q", "--no-plot",
           "--out", str(tmp_path / "m")]
    proc = _start(cmd, tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert _left_after(proc) == []


@pytest.mark.skipif(not any(Path(d, "chromium").exists() for d in ("/usr/bin", "/bin")),
                    reason="needs Chromium")
def test_a_pdf_report_leaves_no_browser_process(tiny: Path, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "scrapsim", str(tiny), "--out", "r", "-q"],
                         cwd=tmp_path, env=_subprocess_env(), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    proc = _start([sys.executable, "-m", "scrapsim", "report", "r", "--format", "pdf",
                   "--out", "rep"], tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert _left_after(proc, settle=5.0) == []


# ---------------------------------------------------------------- a run and its figure helper

def _run(*args: str, out: str = "r") -> list[str]:
    return [sys.executable, "-m", "scrapsim", *args, "--out", out, "-q"]


def _wait_helper(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Until the run has forked its figure helper (two processes in the session)."""
    deadline = time.monotonic() + timeout
    while len(_session(proc.pid)) < 2:
        assert proc.poll() is None, f"ended before the signal: {proc.communicate()}"
        assert time.monotonic() < deadline, "no figure helper started"
        time.sleep(0.01)


def test_a_run_and_its_figure_helper_leave_no_process(tmp_path: Path) -> None:
    proc = _start(_run(str(HEBEI)), tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert (tmp_path / "r" / "timeseries.png").stat().st_size > 10_000
    assert _left_after(proc) == []


def test_a_run_with_bad_input_stops_its_figure_helper(tmp_path: Path) -> None:
    """The helper forks before the scenario is read; the error (exit 2) ends it too."""
    proc = _start(_run(str(HEBEI), "--set", "enforcement.intensity=-1"), tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "enforcement.intensity" in err, err
    assert _left_after(proc) == []
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_an_interrupted_run_stops_its_figure_helper(tmp_path: Path, sig) -> None:
    """national_2017 takes seconds: the signal lands while it runs and the helper waits."""
    proc = _start(_run(str(REPO / "scenarios" / "national_2017.yaml")), tmp_path)
    _wait_helper(proc)
    time.sleep(0.5)
    _interrupt(proc, sig)
    assert not (tmp_path / "r").exists()
