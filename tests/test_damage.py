"""Damage and bad input that must end cleanly: damaged journals (set aside, reported, the run
repeated), short and failing writes, folders scrapsim may not replace, twin points, bounds
before work, non-finite results, and report inputs that do not match their manifests.

Sweeps here use the stand-in run function of ``test_sweep_store`` (cheap and deterministic);
commands run through ``scrapsim.cli.main.main`` so each case checks the exit status and the one
line on stderr.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import TINY as TINY_RUN
from test_sweep_design import TINY
from test_sweep_store import STAND_IN

from scrapsim.cli.main import main
from scrapsim.errors import MassBalanceError, ScenarioError, SweepSpecError
from scrapsim.experiments import bounds
from scrapsim.experiments.design import build_design
from scrapsim.experiments.sweep import sweep
from scrapsim.results import folders
from scrapsim.results import journal as journal_module
from scrapsim.results.journal import Journal
from scrapsim.scenario import Scenario

VARY = ["enforcement.intensity=0:2:4"]


@pytest.fixture
def base() -> Scenario:
    return Scenario.model_validate(TINY)


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(TINY_RUN), sort_keys=False))
    return path


def _sweep(base: Scenario, out: Path):
    return sweep(base, VARY, reps=2, workers=1, out=out, quiet=True, run_fn=STAND_IN,
                 figures=False)


def _torn(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[1][: len(lines[1]) // 2] + b"\n", *lines[2:]]


def _truncated_middle(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[1][: len(lines[1]) // 2] + lines[2], *lines[3:]]


def _not_json(lines: list[bytes]) -> list[bytes]:
    return [lines[0], b"{not json}\n", *lines[2:]]


def _nul(lines: list[bytes]) -> list[bytes]:
    return [lines[0], b"\0" * 40 + lines[1][40:], *lines[2:]]


def _edited(lines: list[bytes]) -> list[bytes]:
    record = lines[1].replace(b'"collection_change":-', b'"collection_change":-9')
    assert record != lines[1] and json.loads(record)  # still valid JSON
    return [lines[0], record, *lines[2:]]


@pytest.mark.parametrize("damage", [_torn, _truncated_middle, _not_json, _nul, _edited],
                         ids=["torn line", "truncated middle line", "not json", "NUL bytes",
                              "valid-JSON edit"])
def test_a_damaged_record_is_set_aside_and_its_run_repeated(base: Scenario, tmp_path: Path,
                                                            capsys, damage) -> None:
    whole = _sweep(base, tmp_path / "whole")
    lines = (whole.folder / "runs.jsonl").read_bytes().splitlines(keepends=True)
    partial = tmp_path / "cut.partial"
    partial.mkdir()
    (partial / "runs.jsonl").write_bytes(b"".join(damage(lines)))
    capsys.readouterr()
    res = _sweep(base, tmp_path / "cut")
    err = capsys.readouterr().err
    report = [line for line in err.splitlines() if "damaged record" in line]
    assert len(report) == 1 and "rejected.jsonl" in report[0] and "repeated" in report[0]
    rejected = (res.folder / "rejected.jsonl").read_text().splitlines()
    assert len(rejected) == 1 and json.loads(rejected[0])["line"] == 2
    lost = 2 if damage is _truncated_middle else 1  # a cut line swallows the next one
    assert res.manifest["session"]["ran"] == lost
    assert res.manifest["session"]["resumed"] == len(lines) - lost
    assert "rejected.jsonl" in res.manifest["files"]
    for name in ("runs.csv", "curves.csv"):
        assert (res.folder / name).read_bytes() == (whole.folder / name).read_bytes()


def test_short_writes_are_completed(tmp_path: Path, monkeypatch) -> None:
    real = os.write
    monkeypatch.setattr(journal_module.os, "write", lambda fd, data: real(fd, bytes(data[:7])))
    with Journal(tmp_path) as j:
        j.append({"key": "a", "x": 1.5})
        j.append({"key": "b", "x": [1, 2, 3]})
    monkeypatch.undo()
    with Journal(tmp_path) as j:
        assert [r["key"] for r in j.records()] == ["a", "b"] and j.rejected == 0


def test_a_failing_write_leaves_no_fragment(tmp_path: Path, monkeypatch) -> None:
    with Journal(tmp_path) as j:
        j.append({"key": "a"})
    size = (tmp_path / "runs.jsonl").stat().st_size
    real = os.write

    def full_disk(fd: int, data: bytes) -> int:
        if len(data) > 20:
            return real(fd, bytes(data[:20]))  # part of the line, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    with Journal(tmp_path) as j:
        monkeypatch.setattr(journal_module.os, "write", full_disk)
        with pytest.raises(OSError, match="No space"):
            j.append({"key": "b", "pad": "x" * 100})
        monkeypatch.undo()
    assert (tmp_path / "runs.jsonl").stat().st_size == size
    with Journal(tmp_path) as j:
        assert [r["key"] for r in j.records()] == ["a"] and j.rejected == 0


# ------------------------------------------------------------------ folders a user owns

def _cli(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err


def test_run_out_replaces_only_its_own_run(tiny_file: Path, tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "o")
    assert _cli(capsys, str(tiny_file), "--out", out, "--no-plot", "-q")[0] == 0
    notes = tmp_path / "o" / "notes.txt"
    notes.write_text("mine")
    status, err = _cli(capsys, str(tiny_file), "--out", out, "--no-plot", "-q")
    assert status == 2 and "notes.txt" in err and out in err and notes.read_text() == "mine"
    notes.unlink()
    status, err = _cli(capsys, str(tiny_file), "--seed", "3", "--out", out, "--no-plot", "-q")
    assert status == 2 and "another run" in err and (tmp_path / "o" / "daily.csv").is_file()
    assert _cli(capsys, str(tiny_file), "--out", out, "--no-plot", "-q")[0] == 0  # same run
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text('{"kind": "mine", "files": []}')
    status, err = _cli(capsys, str(tiny_file), "--out", str(other), "--no-plot", "-q")
    assert status == 2 and (other / "manifest.json").read_text().startswith('{"kind": "mine"')


def test_sweep_out_never_takes_a_finished_sweep_of_another_id(base: Scenario,
                                                              tmp_path: Path) -> None:
    whole = _sweep(base, tmp_path / "s")
    before = sorted(p.name for p in whole.folder.iterdir())
    with pytest.raises(SweepSpecError, match="another sweep"):
        sweep(base, ["enforcement.intensity=0,1"], reps=2, workers=1, out=whole.folder,
              quiet=True, run_fn=STAND_IN, figures=False)
    assert sorted(p.name for p in whole.folder.iterdir()) == before


def test_report_out_never_deletes_a_users_folder(tiny_file: Path, tmp_path: Path,
                                                 capsys) -> None:
    run = str(tmp_path / "run")
    assert _cli(capsys, str(tiny_file), "--out", run, "--no-plot", "-q")[0] == 0
    site = tmp_path / "site"
    (site / "img").mkdir(parents=True)
    (site / "index.html").write_text("my site")
    (site / "report.html").write_text("an old page")
    status, err = _cli(capsys, "report", run, "--out", str(site), "--format", "html")
    assert status == 2 and str(site) in err
    assert sorted(p.name for p in site.iterdir()) == ["img", "index.html", "report.html"]
    rep = tmp_path / "rep"  # a report folder as build_report writes it
    rep.mkdir()
    (rep / "report.html").write_text("<html></html>")
    (rep / "report.json").write_text(json.dumps({"kind": "report", "id": "abc123",
                                                 "files": ["report.html"]}))
    assert folders.check_replace(rep, "report", "abc123", manifest_name="report.json")
    with pytest.raises(SweepSpecError, match="another report"):
        folders.check_replace(rep, "report", "0" * 12, manifest_name="report.json")
    (rep / "img").mkdir()
    (rep / "img" / "logo.png").write_bytes(b"png")
    with pytest.raises(SweepSpecError, match="did not write .img/"):
        folders.check_replace(rep, "report", "abc123", manifest_name="report.json")


# ------------------------------------------------------------------ twins and bounds

@pytest.mark.parametrize("vary, design, samples, match", [
    (["enforcement.intensity=0,0.5,0.5"], "grid", None, "point 2 repeats point 1"),
    (["enforcement.intensity=0,0.0"], "grid", None, "same scenario as point 0"),
    (["campaigns.0.teams=10..12"], "lhs", 10, "repeat an earlier point"),
    (["campaigns.0.teams=1,2", "campaigns.inspection.teams=3"], "grid", None, "varied twice"),
])
def test_twin_points_are_refused_before_anything_runs(base: Scenario, tmp_path: Path, vary,
                                                      design, samples, match) -> None:
    with pytest.raises(SweepSpecError, match=match):
        sweep(base, vary, reps=2, workers=1, design=design, samples=samples,
              out=tmp_path / "s", quiet=True, run_fn=STAND_IN)
    assert not list(tmp_path.iterdir())


def test_distinct_points_are_all_in_the_tables(base: Scenario, tmp_path: Path) -> None:
    res = sweep(base, ["campaigns.0.teams=10..40"], reps=2, workers=1, design="lhs", samples=6,
                out=tmp_path / "s", quiet=True, run_fn=STAND_IN, figures=False)
    assert res.manifest["runs"] == len(res.runs) == 12
    assert res.manifest["ok"] + res.manifest["failed"] == 12


@pytest.mark.parametrize("argv, expected", [
    (["--set", "enforcement.intensity=1e5"], "at most 100"),
    (["--set", "enforcement.intensity=1e308"], "at most 100"),
    (["--set", "campaigns.0.teams=99999999999999999999999"], "at most 100,000"),
    (["--set", "regions.0.generation=1e308"], "finite number"),
    (["--set", "end=9999-12-31"], "1900-2200"),
    (["--set", "start=0001-01-01"], "1900-2200"),
])
def test_out_of_range_runs_exit_2(tiny_file: Path, tmp_path: Path, capsys, argv,
                                  expected) -> None:
    status, err = _cli(capsys, str(tiny_file), *argv, "--out", str(tmp_path / "o"), "-q")
    assert status == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, expected", [
    (["--vary", "enforcement.intensity=0:1:1000000000000"], "more than 100,000"),
    (["--vary", "enforcement.intensity=0,1", "--reps", "100000000"], "1 to 1,000,000"),
    (["--vary", "enforcement.intensity=0:2:1000", "--vary", "campaigns.0.teams=1:1000:1000"],
     "--force"),
    (["--design", "lhs", "--vary", "enforcement.intensity=0..1", "--samples", "10000000"],
     "1 to 1,000,000"),
    (["--vary", "enforcement.intensity=0,1e5"], "at most 100"),
    (["--vary", "enforcement.intensity=0,1", "--scheduler", "tcp://127.0.0.1"], "PORT"),
    (["--vary", "enforcement.intensity=0,1", "--scheduler", "http://127.0.0.1:8786"], "PORT"),
])
def test_out_of_range_sweeps_exit_2(tiny_file: Path, tmp_path: Path, capsys, argv,
                                    expected) -> None:
    status, err = _cli(capsys, "sweep", str(tiny_file), *argv, "--out", str(tmp_path / "s"),
                       "-q")
    assert status == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "s").exists() and not (tmp_path / "s.partial").exists()


def test_force_lifts_the_soft_limits_only(base: Scenario, monkeypatch) -> None:
    with pytest.raises(SweepSpecError, match="--force"):
        bounds.check_runs(bounds.MAX_RUNS + 1)
    with bounds.forced():
        bounds.check_runs(bounds.MAX_RUNS + 1)
    monkeypatch.setattr(bounds, "available_bytes", lambda: bounds.run_bytes(base) // 2)
    with pytest.raises(ScenarioError, match="GiB of memory"):
        bounds.check_run(base)
    bounds.check_run(base, force=True)
    with bounds.forced(), pytest.raises(ScenarioError, match="at most 100"):
        bounds.check_run(base.with_overrides({"enforcement.intensity": 1e5}))


def test_memory_estimate_grows_with_agents_and_inspections(base: Scenario) -> None:
    more = base.with_overrides({"regions.0.traders.count": 10 * base.regions[0].traders.count})
    harder = base.with_overrides({"enforcement.intensity": 50.0})
    assert bounds.run_bytes(more) > bounds.run_bytes(base)
    assert bounds.run_bytes(harder) > bounds.run_bytes(base)


def test_two_names_of_one_field_are_one_key(base: Scenario) -> None:
    by_index = build_design(base, ["campaigns.0.teams=1,2"])
    by_name = build_design(base, ["campaigns.inspection.teams=1,2"])
    assert by_index.keys == by_name.keys and by_index.points == by_name.points


# ------------------------------------------------------------------ non-finite results

def test_the_balance_check_fails_on_nan_and_names_column_and_day(tiny_scenario) -> None:
    from scrapsim.model.records import check_balance
    from scrapsim.model.simulation import run
    from scrapsim.model.table import Table

    result = run(tiny_scenario(), baseline=False)
    check_balance(result.daily, result.initial)
    for bad in (np.nan, np.inf):
        cols = {k: np.array(result.daily[k]) for k in result.daily}
        cols["smelted"] = cols["smelted"].astype(float)
        cols["smelted"][2 * 5 + 1] = bad  # day 5, the second region
        with pytest.raises(MassBalanceError, match=r"smelted is (nan|inf) on day 5 in south"):
            check_balance(Table(cols), result.initial)


# ------------------------------------------------------------------ report inputs

def _damage_run(folder: Path, case: str) -> None:
    daily = folder / "daily.csv"
    text = daily.read_text()
    if case == "cut":
        daily.write_text(text[: len(text) // 2])
    if case == "abc":
        lines = text.splitlines(keepends=True)
        cells = lines[5].split(",")
        cells[4] = "abc"
        lines[5] = ",".join(cells)
        daily.write_text("".join(lines))
    manifest = json.loads((folder / "manifest.json").read_text())
    if case == "date":
        manifest["resolved_scenario"]["start"] = "2017-02-30"
    if case == "no regions":
        del manifest["resolved_scenario"]["campaigns"][0]["regions"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_report_checks_its_inputs_against_their_manifests(tiny_file: Path, tmp_path: Path,
                                                          capsys) -> None:
    whole = tmp_path / "run"
    assert _cli(capsys, str(tiny_file), "--out", str(whole), "--no-plot", "-q")[0] == 0
    edited = "is a damaged run folder (daily.csv changed since it was written)"
    expected = {"cut": edited, "abc": edited, "date": "damaged run folder",
                "no regions": "damaged run folder"}
    unrecorded = {"cut": "rows; its manifest records", "abc": "column 'collected'"}
    for case, words in [*expected.items(), *((f"{k} unrecorded", v)
                                             for k, v in unrecorded.items())]:
        folder = tmp_path / case.replace(" ", "_")
        shutil.copytree(whole, folder)
        if case.endswith("unrecorded"):          # a folder from before digests were kept:
            manifest = json.loads((folder / "manifest.json").read_text())  # its own checks
            del manifest["digests"]
            (folder / "manifest.json").write_text(json.dumps(manifest))
        _damage_run(folder, case.removesuffix(" unrecorded"))
        status, err = _cli(capsys, "report", str(folder), "--out", str(tmp_path / "rep"),
                           "--format", "html")
        assert status == 2 and words in err, (case, err)
        assert not (tmp_path / "rep").exists()


def test_a_corrupt_manifest_of_a_finished_sweep_is_exit_2(base: Scenario, tmp_path: Path,
                                                          tiny_file: Path, capsys) -> None:
    argv = ["sweep", str(tiny_file), "--vary", "enforcement.intensity=0,1", "--reps", "1",
            "--workers", "1", "--no-plot", "-q", "--out", str(tmp_path / "s")]
    assert _cli(capsys, *argv)[0] == 0
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    for broken in ("{not json", json.dumps({k: manifest[k] for k in ("kind", "id")})):
        (tmp_path / "s" / "manifest.json").write_text(broken)
        status, err = _cli(capsys, *argv)
        assert status == 2 and ("manifest.json" in err or "damaged sweep" in err), err


def test_a_finished_sweep_read_back_is_checked_against_its_digests(tiny_file: Path,
                                                                   tmp_path: Path,
                                                                   capsys) -> None:
    """The same command again reads the finished folder back; a table edited since it was
    written, or a file of the user's put in the folder, is exit 2 naming it, nothing changed."""
    out = tmp_path / "s"
    argv = ["sweep", str(tiny_file), "--vary", "enforcement.intensity=0,1", "--reps", "1",
            "--workers", "1", "--no-plot", "-q", "--out", str(out)]
    assert _cli(capsys, *argv)[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["digests"]) == set(manifest["files"]) - {"manifest.json", "runs.jsonl"}
    assert _cli(capsys, *argv)[0] == 0                      # read back as it was
    (out / "notes.txt").write_text("mine")
    status, err = _cli(capsys, *argv)
    assert status == 2 and "files scrapsim did not write (notes.txt)" in err, err
    assert (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    runs = (out / "runs.csv").read_bytes()
    (out / "runs.csv").write_bytes(runs + b"junk\n")
    status, err = _cli(capsys, *argv)
    assert status == 2 and "runs.csv changed since it was written" in err, err
    assert (out / "runs.csv").read_bytes() == runs + b"junk\n"


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
def test_an_out_that_cannot_be_written_names_it_not_the_working_folder(tiny_file: Path,
                                                                       capsys) -> None:
    """An OS error on the way to --out names the folder meant, the reason and what would do (a
    new user's read-only parent printed ``[Errno 1] ... 'imm/.x.tmp-12121-ba70a1'``). /proc
    takes no new folder: the working folder's mkdir fails as on a read-only parent."""
    for argv, out in ((["run", str(tiny_file), "--no-plot"], "/proc/scrapsim-x"),
                      (["sweep", str(tiny_file), "--vary", "enforcement.intensity=0,1",
                        "--reps", "1", "--workers", "1", "-q"], "/proc/scrapsim-s")):
        status, err = _cli(capsys, *argv, "--out", out)
        assert status == 2 and len(err.strip().splitlines()) == 1, err
        assert err.strip().endswith(f": error: {out}: cannot be written (No such file or "
                                    "directory) (expected a folder you may write to, or "
                                    "another --out)"), err
