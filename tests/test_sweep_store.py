"""The run journal, the runs and curves tables, and failures — with a stand-in run function.

The stand-in (``stand_in``) is a cheap, deterministic function of the scenario and seed, so the
bookkeeping is tested on its own; tests/test_sweep.py runs the real model.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from test_sweep_design import TINY

from scrapsim.errors import OutputFolderError, ScenarioError
from scrapsim.experiments.design import SweepSpecError, build_design
from scrapsim.experiments.engine import flatten_summary
from scrapsim.experiments.sweep import curves_table, sweep
from scrapsim.experiments.tables import runs_table
from scrapsim.results import folders
from scrapsim.results.journal import Journal
from scrapsim.scenario import Scenario

STAND_IN = "test_sweep_store:stand_in"


def stand_in(scenario: Scenario, seed: int) -> dict[str, Any]:
    """Summary-shaped output; raises for 13 traders (a run that fails)."""
    x = scenario.enforcement.intensity
    if scenario.regions[0].traders.count == 13:
        raise RuntimeError("stand-in failure")
    u = (seed % 997) / 997.0
    return {"collection_change": -x * (0.3 + 0.1 * u), "smelting_change": -0.2 * x,
            "price_change": 0.05 * x, "mean_price_pressure": 0.01 * x, "shut_share": 0.4 * x,
            "shut_count": int(10 * x), "recovery_days": None if x > 1 else 3,
            "windows": [["2017-04-10", "2017-04-20"]], "seed": seed,
            "regions": {"hebei": {"collection_change": -x, "shut_count": 2}}}


@pytest.fixture
def base() -> Scenario:
    return Scenario.model_validate(TINY)


def test_journal_appends_whole_lines_and_cuts_a_torn_tail(tmp_path: Path) -> None:
    with Journal(tmp_path) as j:
        j.append({"key": "a", "x": 0.1 + 0.2})
        j.append({"key": "b", "x": float("nan")})
    with open(tmp_path / "runs.jsonl", "ab") as f:
        f.write(b'{"key": "c", "x"')  # a write cut short
    with Journal(tmp_path) as j:
        recs = list(j.records())
        assert [r["key"] for r in recs] == ["a", "b"]
        assert recs[0]["x"] == 0.30000000000000004 and math.isnan(recs[1]["x"])
        j.append({"key": "c"})
        assert [r["key"] for r in j.records()] == ["a", "b", "c"]


def test_journal_of_only_a_torn_line_starts_empty(tmp_path: Path) -> None:
    (tmp_path / "runs.jsonl").write_bytes(b'{"key": "a", "pad": "' + b"x" * 70000)
    with Journal(tmp_path) as j:
        assert list(j.records()) == []
        j.append({"key": "b"})
    assert (tmp_path / "runs.jsonl").read_bytes().startswith(b'{"key":"b","check":"')
    assert b'pad' in (tmp_path / "rejected.jsonl").read_bytes()  # set aside, not lost


def test_journal_has_one_writer(tmp_path: Path) -> None:
    with Journal(tmp_path), pytest.raises(ScenarioError, match="another command is writing"):
        Journal(tmp_path)


def test_flatten_summary() -> None:
    flat = flatten_summary({"a": np.float64(0.5), "n": np.int64(3), "windows": [["x", "y"]],
                            "regions": {"north": {"a": 1.0, "windows": []}}})
    assert flat == {"a": 0.5, "n": 3, "windows": "x/y", "region.north.a": 1.0,
                    "region.north.windows": ""}
    assert type(flat["n"]) is int


def test_runs_table_columns_types_and_order(base: Scenario) -> None:
    design = build_design(base, ["enforcement.intensity=0,1"])
    ok = {"status": "ok", "error": "", "wall_s": 0.1, "worker": "w"}
    records = [
        {"key": "k3", "point": 1, "rep": 1, "seed": 9, **ok,
         "summary": {"c": -0.5, "n": 2, "d": None, "seed": 9, "region.r.c": -0.4}},
        {"key": "k0", "point": 0, "rep": 0, "seed": 8, **ok, "summary": {"c": 0.0, "n": 0}},
        {"key": "k2", "point": 1, "rep": 0, "seed": 8, "status": "error", "error": "E: x",
         "wall_s": 0.0, "worker": "w", "summary": {}},
    ]
    runs, timings = runs_table(records, design)
    assert list(runs.columns) == ["point", "enforcement.intensity", "rep", "seed", "c", "n",
                                  "d", "region.r.c", "status", "error"]
    assert runs["point"].tolist() == [0, 1, 1] and runs["rep"].tolist() == [0, 0, 1]
    assert str(runs["n"].dtype) == "Int64" and runs["c"].dtype == float
    assert runs.to_csv(index=False).splitlines()[2] == "1,1,0,8,,,,,error,E: x"
    assert list(timings.columns) == ["point", "rep", "seed", "wall_s", "worker"]


def test_curves_are_t_intervals(base: Scenario) -> None:
    import pandas as pd

    x = np.array([-0.31, -0.35, -0.28, -0.33])
    runs = pd.DataFrame({"point": [0] * 5, "k.v": [1.0] * 5, "rep": range(5),
                         "collection_change": [*x, np.nan],
                         "status": ["ok"] * 4 + ["error"]})
    curves = curves_table(runs, ["k.v"])
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    row = curves.iloc[0]
    assert row["n_ok"] == 4 and row["n_failed"] == 1
    assert row["collection_change_mean"] == pytest.approx(x.mean(), abs=1e-15)
    assert row["collection_change_lo"] == pytest.approx(x.mean() - half, abs=1e-12)
    assert row["collection_change_hi"] == pytest.approx(x.mean() + half, abs=1e-12)
    assert "smelting_change_mean" not in curves.columns


def _groupby_curves(runs: Any, keys: list[str]) -> Any:
    """curves.csv as it was first written: a ``groupby`` and a t quantile per point and
    metric (the reference of the faster column form)."""
    import pandas as pd

    from scrapsim.experiments.tables import CURVE_METRICS

    rows = []
    for point, group in runs.groupby("point", sort=True):
        ok = group[group["status"] == "ok"]
        row = {"point": point, **{k: group[k].iloc[0] for k in keys},
               "n_ok": len(ok), "n_failed": len(group) - len(ok)}
        for m in [m for m in CURVE_METRICS if m in runs.columns]:
            v = ok[m].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            mean = float(v.mean()) if len(v) else float("nan")
            half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))) \
                if len(v) > 1 else float("nan")
            row |= {f"{m}_mean": mean, f"{m}_lo": mean - half, f"{m}_hi": mean + half}
        rows.append(row)
    return pd.DataFrame(rows)


def test_curves_are_the_groupbys_bytes() -> None:
    """Points out of order and of uneven sizes, failed runs, missing and None metrics, a
    point of one run, a text key: the same curves.csv as the groupby form."""
    import pandas as pd

    rng = np.random.default_rng(1)
    n = 400
    runs = pd.DataFrame({"point": rng.integers(0, 60, n), "rep": np.arange(n),
                         "k.v": rng.choice(["a", "b"], n), "k.n": rng.integers(0, 9, n),
                         "status": rng.choice(["ok", "ok", "ok", "error"], n)})
    for m in ("collection_change", "smelting_change", "price_change"):
        x = rng.normal(size=n)
        x[rng.random(n) < 0.1] = np.nan
        runs[m] = x
    runs["shut_share"] = pd.Series([None if u < 0.2 else v for u, v in
                                    zip(rng.random(n), rng.random(n), strict=True)], dtype=object)
    runs = pd.concat([runs, runs.iloc[:1].assign(point=99)], ignore_index=True)
    for keys in (["k.v"], ["k.v", "k.n"]):
        want, got = _groupby_curves(runs, keys), curves_table(runs, keys)
        assert got.to_csv(index=False) == want.to_csv(index=False)
        assert list(got.dtypes) == list(want.dtypes)
    assert curves_table(runs.iloc[:0], ["k.v"]).empty


def test_failures_are_recorded_and_the_sweep_goes_on(base: Scenario, tmp_path: Path) -> None:
    res = sweep(base, ["regions.hebei.traders.count=13,20", "enforcement.intensity=0,1"],
                reps=3, workers=1, out=tmp_path / "s", quiet=True, run_fn=STAND_IN,
                figures=False)
    assert res.failed == 6 and res.manifest["ok"] == 6 and len(res.manifest["failures"]) == 6
    bad = res.runs[res.runs["regions.hebei.traders.count"] == 13]
    assert set(bad["status"]) == {"error"}
    assert set(bad["error"]) == {"RuntimeError: stand-in failure"}
    assert res.curves["n_failed"].tolist() == [3, 3, 0, 0]
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["failed"] == 6 and manifest["runs"] == 12


def test_resume_skips_stored_runs_and_repeats_none(base: Scenario, tmp_path: Path) -> None:
    vary = ["enforcement.intensity=0:2:5"]
    sweep(base, vary, reps=4, workers=1, out=tmp_path / "whole", quiet=True, run_fn=STAND_IN,
          figures=False)
    out = tmp_path / "cut"
    journal = (out.parent / "cut.partial" / "runs.jsonl")
    journal.parent.mkdir()
    kept = (tmp_path / "whole" / "runs.jsonl").read_text().splitlines(keepends=True)[:7]
    journal.write_text("".join(kept))  # as if killed after 7 runs
    resumed = sweep(base, vary, reps=4, workers=1, out=out, quiet=True, run_fn=STAND_IN,
                    figures=False)
    assert resumed.manifest["session"]["resumed"] == 7
    assert resumed.manifest["session"]["ran"] == 13
    keys = [json.loads(line)["key"] for line in (out / "runs.jsonl").read_text().splitlines()]
    assert len(keys) == 20 == len(set(keys))
    for name in ("runs.csv", "curves.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    again = sweep(base, vary, reps=4, workers=1, out=out, quiet=True, run_fn=STAND_IN)
    assert again.manifest["session"]["ran"] == 0
    assert again.runs.equals(resumed.runs) and again.curves.equals(resumed.curves)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_working_folder_is_taken_only_by_the_experiment_it_names(base: Scenario,
                                                                    tmp_path: Path) -> None:
    """Another experiment's unfinished runs stay for the command that started it, a folder of
    the user's bearing the ``.partial`` name is never taken over, and the mark goes once the
    manifest names the experiment (a user's report: a 6-run sweep published 164 runs of an
    interrupted sweep with the same --out, and moved a user's thesis into its folder)."""
    vary = ["enforcement.intensity=0:2:5"]
    whole = sweep(base, vary, reps=4, workers=1, out=tmp_path / "whole", quiet=True,
                  run_fn=STAND_IN, figures=False)
    assert "experiment.json" not in whole.manifest["files"]
    assert not (whole.folder / "experiment.json").exists()
    partial = tmp_path / "cut.partial"           # as a kill after 7 runs leaves it
    partial.mkdir()
    lines = (whole.folder / "runs.jsonl").read_text().splitlines(keepends=True)
    (partial / "runs.jsonl").write_text("".join(lines[:7]))
    folders.mark_partial(partial, "sweep", whole.manifest["id"])
    before = _tree(partial)
    with pytest.raises(OutputFolderError, match=r"cut.partial: holds the unfinished runs of "
                       rf"another sweep \(id {whole.manifest['id']}; this sweep is \w+\)"):
        sweep(base, ["enforcement.intensity=0,1"], reps=2, workers=1, out=tmp_path / "cut",
              quiet=True, run_fn=STAND_IN, figures=False)
    assert _tree(partial) == before and not (tmp_path / "cut").exists()
    resumed = sweep(base, vary, reps=4, workers=1, out=tmp_path / "cut", quiet=True,
                    run_fn=STAND_IN, figures=False)
    assert resumed.manifest["session"]["resumed"] == 7
    assert sorted(p.name for p in resumed.folder.iterdir()) == sorted(resumed.manifest["files"])

    mine = tmp_path / "mine.partial"
    mine.mkdir()
    (mine / "thesis.docx").write_text("chapter 1")
    (mine / "runs.jsonl").write_text("junk\n")
    before = _tree(mine)
    with pytest.raises(OutputFolderError, match=r"holds files scrapsim did not write "
                       r"\(thesis.docx\)"):
        sweep(base, vary, reps=4, workers=1, out=tmp_path / "mine", quiet=True,
              run_fn=STAND_IN, figures=False)
    assert _tree(mine) == before and not (tmp_path / "mine").exists()


def test_killed_while_writing_tables_finishes_without_running(base: Scenario,
                                                             tmp_path: Path) -> None:
    vary = ["enforcement.intensity=0,1"]
    whole = sweep(base, vary, reps=2, workers=2, out=tmp_path / "whole", quiet=True,
                  run_fn=STAND_IN, figures=False)
    (tmp_path / "cut.partial").mkdir()
    journal = (whole.folder / "runs.jsonl").read_bytes()
    (tmp_path / "cut.partial" / "runs.jsonl").write_bytes(journal)
    res = sweep(base, vary, reps=2, workers=2, out=tmp_path / "cut", quiet=True,
                run_fn=STAND_IN, figures=False)
    assert res.manifest["session"]["ran"] == 0 and res.manifest["session"]["resumed"] == 4
    assert res.manifest["engine"]["engine"].startswith("none")
    assert (res.folder / "runs.csv").read_bytes() == (whole.folder / "runs.csv").read_bytes()


def test_out_holding_something_else_is_refused(base: Scenario, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(SweepSpecError, match="not empty"):
        sweep(base, ["enforcement.intensity=0,1"], reps=1, workers=1, out=tmp_path / "busy",
              quiet=True, run_fn=STAND_IN)
    first = sweep(base, ["enforcement.intensity=0,1"], reps=1, workers=1, out=tmp_path / "a",
                  quiet=True, run_fn=STAND_IN, figures=False)
    with pytest.raises(SweepSpecError, match=r"holds another sweep \(id \w+, this one is "
                       r"\w+; --out another folder keeps both\)"):
        sweep(base, ["enforcement.intensity=0,2"], reps=1, workers=1, out=first.folder,
              quiet=True, run_fn=STAND_IN)
    assert sorted(os.listdir(tmp_path)) == ["a", "busy"]
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text('{"kind": "run", "run_id": "x"}')
    with pytest.raises(SweepSpecError, match=r"run: holds a run folder, not a sweep"):
        sweep(base, ["enforcement.intensity=0,1"], reps=1, workers=1, out=run, quiet=True,
              run_fn=STAND_IN)
