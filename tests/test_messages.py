"""Honest messages (issue 15, item 4): no-enforcement runs say so instead of reporting a
recovery, a warning when no campaign falls inside the run, a
note when runs.parquet cannot be written, and benchmarks that stop at once when what they
need is missing. ("compiling" only when numba compiled is checked in ``test_packaging.py``,
whose comparison of the two builds shares that test's compile.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_user_errors import REPO, _without, scrapsim

HEBEI = REPO / "scenarios" / "hebei.yaml"


def test_no_enforcement_says_so_instead_of_a_recovery(tmp_path: Path) -> None:
    proc = scrapsim("no_enforcement", "--out", str(tmp_path / "run"), "--no-plot",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "no enforcement in this run (enforcement.intensity is 0)" in proc.stdout
    assert "recovery" not in proc.stdout and "smelting not back" not in proc.stdout
    assert "warning" not in proc.stderr                    # intensity 0 is meant, not a slip


@pytest.mark.parametrize("override", ["enforcement.intensity=0", "start=2017-06-01"])
def test_a_run_that_enforces_nothing_reports_no_recovery(tmp_path: Path, override: str) -> None:
    """Its own baseline, with its campaigns' windows still in the summary: no recovery days
    (they were 1, the day after the window), as the no_enforcement scenario gives."""
    proc = scrapsim(str(HEBEI), "--set", override, "--out", str(tmp_path / "run"),
                    "--no-plot", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for key in ("recovery_days", "trader_stock_recovery_days", "price_recovery_days"):
        assert summary[key] is None and summary["regions"]["hebei"][key] is None, key


def test_a_run_with_no_campaign_inside_warns(tmp_path: Path) -> None:
    proc = scrapsim(str(HEBEI), "--set", "start=2017-06-01", "--out", str(tmp_path / "run"),
                    "--no-plot", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("scrapsim: warning: no campaign falls inside the run "
                                  "2017-06-01..2017-12-31 (hebei-inspection-2017 "
                                  "2017-02-15..2017-03-15)")
    assert "no enforcement in this run" in proc.stdout
    assert "smelting not back" not in proc.stdout


def test_a_campaign_outside_the_run_is_named_when_others_enforce(tmp_path: Path) -> None:
    """A mistyped year drops a campaign from the run: said, though another enforces."""
    late = "campaigns.+={name: late, regions: [hebei], start: 2019-10-09, end: 2019-10-27, " \
           "teams: 6}"
    proc = scrapsim(str(HEBEI), "--set", late, "--out", str(tmp_path / "run"), "--no-plot",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ("scrapsim: warning: campaign late (2019-10-09..2019-10-27) falls "
                           "outside the run 2017-01-01..2017-12-31: it schedules nothing\n")
    assert "recovery   " in proc.stdout


def test_an_enforced_run_has_neither_warning_nor_note(tmp_path: Path) -> None:
    proc = scrapsim(str(HEBEI), "--out", str(tmp_path / "run"), "--no-plot", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "recovery   " in proc.stdout and "no enforcement in this run" not in proc.stdout


def test_sweep_says_when_runs_parquet_is_skipped(tmp_path: Path) -> None:
    args = ("sweep", str(HEBEI), "--vary", "enforcement.intensity=0,1", "--reps", "1",
            "--workers", "1", "--no-plot", "--set", "end=2017-04-30", "--out")
    hidden = _without("pyarrow", tmp_path)
    proc = scrapsim(*args, str(tmp_path / "s"), cwd=tmp_path, path=hidden)
    assert proc.returncode == 0, proc.stderr
    assert "runs.parquet is not written: pyarrow is not installed (pip install " \
           "'scrapsim[parquet]')" in proc.stderr
    assert not (tmp_path / "s" / "runs.parquet").exists()
    assert (tmp_path / "s" / "runs.csv").is_file()
    proc = scrapsim(*args, str(tmp_path / "t"), cwd=tmp_path)
    assert proc.returncode == 0 and "parquet" not in proc.stderr
    assert (tmp_path / "t" / "runs.parquet").is_file()
    refused = scrapsim(*args[:6], "--reps", "0", cwd=tmp_path, path=hidden)  # no note
    assert refused.returncode == 2 and "parquet" not in refused.stderr, refused.stderr


def test_bench_sweep_stops_at_once_without_its_extra(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": _without("distributed", tmp_path)}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_sweep.py"),
                           "--skip-speed", "--skip-memory"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0 and time.monotonic() - start < 60
    assert "distributed not installed: pip install 'scrapsim[bench]' (or run with " \
           "--skip-dask)" in proc.stderr


def test_the_bench_extra_declares_what_bench_sweep_imports() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    bench = " ".join(project["optional-dependencies"]["bench"])
    text = (REPO / "benchmarks" / "bench_sweep.py").read_text()
    for module, package in (("psutil", "psutil"), ("distributed", "dask[distributed]")):
        assert f"import {module}" in text or f"from {module}" in text
        assert package in bench


@pytest.mark.parametrize("end, said", [
    ("2017-03-31", "recovery   none to measure: the last window ends on the run's last day"),
    ("2017-04-10", "recovery   smelting not back within 5% of the baseline by the end of the "
                   "run (10 days after it)"),
], ids=["window-at-the-end", "ten-days-after"])
def test_recovery_says_when_the_run_left_no_time_to_recover(tmp_path: Path, end: str,
                                                            said: str) -> None:
    """national_2017's last window ends on its last day: it said smelting was "not back ... by
    the end of the run", as if there had been days to come back in."""
    proc = scrapsim(str(HEBEI), "--set", f"end={end}", "--set",
                    "campaigns.0.end=2017-03-31", "--out", str(tmp_path / "run"), "--no-plot",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert said in proc.stdout, proc.stdout
