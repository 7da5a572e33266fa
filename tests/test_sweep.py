"""Sweeps of the real Hebei model: engines agree byte for byte, kill and resume, the curves.

Hebei is cut to January-March 2017 (``end=2017-03-31``), which keeps the February-March
inspection pulse and makes a run (with its baseline) a few hundredths of a second.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import interruptible

from scrapsim.experiments.sweep import SweepResult, sweep
from scrapsim.plots.curves import price_pressure_curve, smelting_demand_curve, supply_curve

ROOT = Path(__file__).resolve().parents[1]
HEBEI = ROOT / "scenarios" / "hebei.yaml"
SHORT = {"end": "2017-03-31"}
VARY = ["enforcement.intensity=0:1:5"]
REPS = 12
TABLES = ("runs.csv", "curves.csv")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                os.environ.get("PYTHONPATH")]))}
CLI = [sys.executable, "-m", "scrapsim", "sweep", str(HEBEI), "--set", "end=2017-03-31",
       "--vary", VARY[0], "--reps", str(REPS)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    """The uninterrupted sweep, in this process (one worker)."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    return sweep(HEBEI, VARY, reps=REPS, workers=1, out=out, overrides=SHORT, quiet=True)


def _same_tables(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_reference_tables_and_files(reference: SweepResult) -> None:
    runs, curves = reference.runs, reference.curves
    assert len(runs) == 5 * REPS and set(runs["status"]) == {"ok"}
    assert runs["enforcement.intensity"].unique().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert runs.groupby("rep")["seed"].nunique().eq(1).all()  # same seed at every point
    assert runs["seed"].nunique() == REPS
    for m in ("collection_change", "smelting_change", "price_change", "mean_price_pressure",
              "shut_share"):
        assert {f"{m}_mean", f"{m}_lo", f"{m}_hi"} <= set(curves.columns)
        assert (curves[f"{m}_lo"] <= curves[f"{m}_mean"] + 1e-15).all()
    files = set(reference.manifest["files"])
    for name in ("supply_curve", "smelting_demand_curve", "price_pressure_curve"):
        assert {f"figures/{name}.png", f"figures/{name}.svg"} <= files
    assert {"runs.csv", "runs.parquet", "curves.csv", "runs.jsonl"} <= files
    assert all((reference.folder / f).is_file() for f in files)
    assert not reference.folder.with_name("sweep.partial").exists()
    # the per-campaign counts parse as JSON (they were a Python repr: 'None', single quotes)
    blocks = [json.loads(text) for text in runs["campaigns"]]
    name = "hebei-inspection-2017"
    assert all(set(b) == {name} for b in blocks)
    busy = runs["enforcement.intensity"] > 0
    assert all(b[name]["all"]["inspections"] > 0 for b, on in zip(blocks, busy) if on)


def test_collection_and_smelting_fall_with_intensity(reference: SweepResult) -> None:
    runs, curves = reference.runs, reference.curves
    at_zero = runs[runs["enforcement.intensity"] == 0.0]
    for m in ("collection_change", "smelting_change"):
        assert (at_zero[m] == 0.0).all()  # the intensity-0 run is its own baseline
        mean = curves[f"{m}_mean"].to_numpy()
        assert (np.diff(mean) < 0).all(), (m, mean)
        assert mean[-1] < -0.3
    assert (curves["shut_share_mean"].diff().dropna() > 0).all()


def test_two_workers_give_the_same_bytes(reference: SweepResult, tmp_path: Path) -> None:
    res = sweep(HEBEI, VARY, reps=REPS, workers=2, out=tmp_path / "w2", overrides=SHORT,
                quiet=True, figures=False)
    assert res.manifest["engine"]["engine"] == "processes"
    assert res.manifest["engine"]["worker_info"][0]["OPENBLAS_NUM_THREADS"] == "1"
    _same_tables(reference.folder, res.folder)


def test_dask_cluster_gives_the_same_bytes(reference: SweepResult, dask_cluster: str,
                                           tmp_path: Path) -> None:
    res = sweep(HEBEI, VARY, reps=REPS, scheduler=dask_cluster, out=tmp_path / "dask",
                overrides=SHORT, quiet=True, figures=False)
    engine = res.manifest["engine"]
    assert engine["engine"] == "dask" and engine["scheduler"] == dask_cluster
    assert {info["OMP_NUM_THREADS"] for info in engine["worker_info"]} == {"1"}
    _same_tables(reference.folder, res.folder)


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_killed_sweep_resumes_to_the_same_tables(reference: SweepResult, tmp_path: Path,
                                                 sig: signal.Signals) -> None:
    out = tmp_path / "cut"
    journal = tmp_path / "cut.partial" / "runs.jsonl"
    cmd = [*CLI, "--workers", "2", "--out", str(out), "--no-plot"]
    proc = subprocess.Popen([*cmd, "--quiet"], env=ENV, cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=interruptible)
    deadline = time.monotonic() + 120
    while _lines(journal) < 8 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, sig)  # the whole group, as a terminal's Ctrl-C or a kill -9 would
    _, err = proc.communicate(timeout=60)
    stored = _lines(journal)
    assert 8 <= stored < 5 * REPS, "the sweep was not stopped mid-way"
    assert not out.exists()
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and b"run the same command again" in err
    again = subprocess.run(cmd, env=ENV, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # no progress bar when stderr is not a terminal
    assert f"{stored} resumed" in again.stdout and str(out) in again.stdout
    session = json.loads((out / "manifest.json").read_text())["session"]
    assert session["resumed"] == stored and session["ran"] == 5 * REPS - stored
    keys = [json.loads(x)["key"] for x in (out / "runs.jsonl").read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 5 * REPS
    _same_tables(reference.folder, out)


@pytest.mark.parametrize("spec, words", [
    ("enforcement.intensty=0:2:3", "unknown key 'intensty'"),
    ("enforcement.intensity=0:2:0", "empty range"),
    ("enforcement.intensity=low,high", "valid number"),
    ("regions.hebei.traders.count=1.5,2", "valid integer"),
])
def test_bad_vary_exits_2_before_any_run(tmp_path: Path, spec: str, words: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "scrapsim", "sweep", str(HEBEI), "--vary",
                           spec, "--out", str(tmp_path / "out")], env=ENV, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert words in proc.stderr and f"--vary {spec}" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert os.listdir(tmp_path) == []


def test_lhs_design(tmp_path: Path) -> None:
    res = sweep(HEBEI, ["enforcement.intensity=0..1", "regions.hebei.traders.count=1500..2500"],
                design="lhs", samples=3, reps=2, seed=7, workers=1, out=tmp_path / "lhs",
                overrides=SHORT, quiet=True)
    x = res.curves["enforcement.intensity"].to_numpy()
    assert len(res.curves) == 3 and ((x >= 0) & (x <= 1)).all()
    assert sorted(np.floor(x * 3).astype(int)) == [0, 1, 2]
    assert res.manifest["design"]["kind"] == "lhs" and res.manifest["root_seed"] == 7
    assert (res.folder / "figures" / "supply_curve.svg").is_file()


def test_curve_figures_show_the_curves(reference: SweepResult) -> None:
    curves = reference.curves
    ax = supply_curve(curves)
    assert ax.get_xlabel() == "enforcement intensity (× the scenario's campaigns)"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), curves["collection_change_mean"])
    ax = smelting_demand_curve(curves)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), curves["smelting_change_mean"])
    ax = price_pressure_curve(curves)
    labels = ax.get_legend().get_texts()
    assert [t.get_text() for t in labels] == ["price pressure", "scrap price (right)"]
