"""The run figure drawn by the command's forked helper (:mod:`scrapsim.cli.figure`): the same
bytes as in-process, and in-process when the helper dies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HEBEI, _subprocess_env

from scrapsim.cli import figure

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "fork") or figure._cores() < 2,
                                reason="the helper forks, and only with two cores")

_RUN = ("import sys\n"
        "import scrapsim.cli.figure as f\n"
        "{patch}\n"
        "from scrapsim.cli.main import main\n"
        f"sys.exit(main([{str(HEBEI)!r}, '--out', sys.argv[1], '-q']))\n")


def _run(tmp_path: Path, out: str, patch: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _RUN.format(patch=patch), out], cwd=tmp_path,
                          env={**_subprocess_env(), **env}, capture_output=True, text=True,
                          timeout=120)


def _in_process_fails() -> str:
    return ("def boom(result, folder):\n"
            "    raise SystemExit('drawn in-process')\n"
            "import scrapsim.results.run_folder as rf\n"
            "rf.draw_figure = boom")


def test_the_helper_draws_the_bytes_drawn_in_process(tmp_path: Path) -> None:
    helper = _run(tmp_path, "helper", _in_process_fails())   # only the helper can draw it
    assert helper.returncode == 0, helper.stderr
    alone = _run(tmp_path, "alone", "", **{figure.ENV: "0"})
    assert alone.returncode == 0, alone.stderr
    png = (tmp_path / "helper" / "timeseries.png").read_bytes()
    assert len(png) > 10_000
    assert png == (tmp_path / "alone" / "timeseries.png").read_bytes()
    for name in ("daily.csv", "events.csv", "summary.json"):
        assert (tmp_path / "helper" / name).read_bytes() == \
            (tmp_path / "alone" / name).read_bytes()


def test_turned_off_the_figure_is_drawn_in_process(tmp_path: Path) -> None:
    run = _run(tmp_path, "r", _in_process_fails(), **{figure.ENV: "0"})
    assert run.returncode != 0 and "drawn in-process" in run.stderr
    assert not (tmp_path / "r").exists()


def test_a_helper_that_dies_leaves_the_figure_to_the_command(tmp_path: Path) -> None:
    """The helper exits before drawing: the command draws the figure itself, same bytes."""
    run = _run(tmp_path, "r", "import os\nf._helper = lambda *a: os._exit(9)")
    assert run.returncode == 0, run.stderr
    assert _run(tmp_path, "alone", "", **{figure.ENV: "0"}).returncode == 0
    assert (tmp_path / "r" / "timeseries.png").read_bytes() == \
        (tmp_path / "alone" / "timeseries.png").read_bytes()


def test_a_threaded_program_does_not_fork(tmp_path: Path) -> None:
    code = ("import threading, time\n"
            "threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n"
            "from scrapsim.cli.figure import FigureProcess\n"
            "print(FigureProcess.start())\n")
    run = subprocess.run([sys.executable, "-c", code], env=_subprocess_env(),
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "None", run.stderr


def test_sigterm_just_after_the_fork_is_an_interrupt(tmp_path: Path) -> None:
    """SIGTERM landing the moment the helper exists, before the command has started: the
    handler is in place before the fork, so the command exits 130 ("interrupted") with
    nothing written and its helper reaped, instead of dying and leaving the helper waiting."""
    patch = ("import os, signal\n"
             "start = f.FigureProcess.start.__func__\n"
             "def start_then_term(cls):\n"
             "    helper = start(cls)\n"
             "    assert helper is not None\n"
             "    print('helper', helper.pid, flush=True)\n"
             "    os.kill(os.getpid(), signal.SIGTERM)\n"
             "    return helper\n"
             "f.FigureProcess.start = classmethod(start_then_term)")
    done = _run(tmp_path, "r", patch)
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "r").exists()
    pid = int(done.stdout.split()[1])
    assert not Path(f"/proc/{pid}").exists(), Path(f"/proc/{pid}/stat").read_text()
