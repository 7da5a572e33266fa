"""Experiments batch their replications (scrapsim.experiments.batching): the engine sends seed
blocks of whole points, each point's seeds of a chunk run as one batch, and the tables are the
bytes they are unbatched (BLOCK_SEEDS = 1: every batch a single run), for sweeps, validation,
calibration and sensitivity."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

import scrapsim
from scrapsim.experiments import batching, engine
from scrapsim.model import batch

ROOT = Path(__file__).resolve().parents[1]
HEBEI = ROOT / "scenarios" / "hebei.yaml"
HALF_YEAR = {"end": "2017-06-30", "campaigns.0.lists": False, "campaigns.0.verify": False}
T = namedtuple("T", "name seed scenario_json")


def _sweep_order(points: int, seeds: int) -> list[T]:
    # as a sweep lists them: replication by replication
    return [T(f"{p}/{s}", s, f"point{p}") for s in range(seeds) for p in range(points)]


def test_blocks_hold_whole_points_of_their_seeds():
    blocks = batching.in_blocks(_sweep_order(3, 5), block=2)
    assert [[t.name for t in b] for b in blocks] == [
        ["0/0", "0/1", "1/0", "1/1", "2/0", "2/1"],
        ["0/2", "0/3", "1/2", "1/3", "2/2", "2/3"],
        ["0/4", "1/4", "2/4"]]


def test_blocks_are_given_as_the_tasks_arrive():
    # one block held at a time: the first block is out before the tasks of the third are read
    read = []

    def listed():
        for t in _sweep_order(2, 6):
            read.append(t.seed)
            yield t

    blocks = batching.in_blocks(listed(), block=2)
    first = next(blocks)
    assert [t.name for t in first] == ["0/0", "0/1", "1/0", "1/1"] and max(read) == 2
    # a seed of a block already given starts a new, smaller block: every task once, in order
    late = _sweep_order(2, 4) + [T("late", 0, "point9")]
    again = list(batching.in_blocks(late, block=2))
    assert [[t.name for t in b] for b in again] == [
        ["0/0", "0/1", "1/0", "1/1"], ["0/2", "0/3", "1/2", "1/3"], ["late"]]


def test_chunks_cut_between_points_and_blocks():
    tasks = _sweep_order(3, 5)
    sizes = [[t.name for t in c] for c in batching.chunks(tasks, size=5, block=4)]
    # a block of 4 seeds: each point's 4 runs stay together; a point never straddles blocks
    assert sizes == [["0/0", "0/1", "0/2", "0/3"], ["1/0", "1/1", "1/2", "1/3"],
                     ["2/0", "2/1", "2/2", "2/3"], ["0/4", "1/4", "2/4"]]
    # a point larger than a chunk is cut into chunk-sized pieces
    assert [len(c) for c in batching.chunks(tasks, size=3, block=5)] == [3, 2, 3, 2, 3, 2]
    every = [t for c in batching.chunks(tasks, size=7) for t in c]
    assert sorted(every) == sorted(tasks)


def _table(frame):
    return frame.drop(columns=[c for c in ("wall_s", "worker") if c in frame]).to_csv()


def _counted(monkeypatch):
    monkeypatch.setattr(batching, "BATCHES", [0, 0])
    return batching.BATCHES


def test_a_sweep_batches_each_point_and_keeps_its_tables(tmp_path, monkeypatch):
    vary = ["enforcement.intensity=0.4,1", "campaigns.0.teams=3,6"]
    count = _counted(monkeypatch)
    batching._BASELINES.clear()
    before = engine.BASELINE_RUNS[0]
    batched = scrapsim.sweep(HEBEI, vary, reps=3, workers=1, quiet=True, out=tmp_path / "b",
                             figures=False)
    assert count == [4, 12]                  # 4 points, each its 3 seeds as one batch
    assert engine.BASELINE_RUNS[0] - before == 3   # one baseline per seed, batched too
    monkeypatch.setattr(batching, "BLOCK_SEEDS", 1)
    batching._BASELINES.clear()
    single = scrapsim.sweep(HEBEI, vary, reps=3, workers=1, quiet=True, out=tmp_path / "s",
                            figures=False)
    assert count == [4, 12]                  # no batch of one
    assert (batched.runs["status"] == "ok").all()
    assert _table(batched.runs) == _table(single.runs)
    assert batched.curves.to_csv() == single.curves.to_csv()


def test_a_sweep_on_two_workers_has_the_bytes_of_one(tmp_path):
    vary = ["enforcement.intensity=0.5,1"]
    one = scrapsim.sweep(HEBEI, vary, reps=3, workers=1, quiet=True, out=tmp_path / "one",
                         figures=False)
    two = scrapsim.sweep(HEBEI, vary, reps=3, workers=2, quiet=True, out=tmp_path / "two",
                         figures=False)
    assert _table(one.runs) == _table(two.runs)
    assert two.manifest["engine"]["engine"] == "processes"


def test_validation_batches_each_check(tmp_path, monkeypatch):
    count = _counted(monkeypatch)
    batched = scrapsim.validate(["hebei_pulse"], reps=3, out=tmp_path / "b")
    assert count == [1, 3]
    monkeypatch.setattr(batching, "BLOCK_SEEDS", 1)
    single = scrapsim.validate(["hebei_pulse"], reps=3, out=tmp_path / "s")
    assert batched.to_pandas().to_csv() == single.to_pandas().to_csv()


def test_calibration_batches_each_point(tmp_path, monkeypatch):
    count = _counted(monkeypatch)
    kw = {"reps": 2, "popsize": 2, "maxiter": 1, "seed": 5,
          "workers": 1, "quiet": True}
    batched = scrapsim.calibrate(HEBEI, ROOT / "targets" / "hebei.yaml", out=tmp_path / "b",
                                 **kw)
    assert count[0] > 0 and count[1] == 2 * count[0]
    monkeypatch.setattr(batching, "BLOCK_SEEDS", 1)
    single = scrapsim.calibrate(HEBEI, ROOT / "targets" / "hebei.yaml", out=tmp_path / "s",
                                **kw)
    assert batched.history.to_csv() == single.history.to_csv()
    assert batched.parameters.to_csv() == single.parameters.to_csv()
    assert batched.fit.to_csv() == single.fit.to_csv()


def test_sensitivity_batches_each_sample(tmp_path, monkeypatch):
    count = _counted(monkeypatch)
    kw = {"method": "morris", "samples": 2, "reps": 2, "workers": 1, "quiet": True,
          "overrides": {"end": "2017-06-30"}, "figures": False}
    batched = scrapsim.sensitivity(HEBEI, ROOT / "params" / "hebei.yaml", out=tmp_path / "b",
                                   **kw)
    assert count[0] > 0 and count[1] == 2 * count[0]
    monkeypatch.setattr(batching, "BLOCK_SEEDS", 1)
    single = scrapsim.sensitivity(HEBEI, ROOT / "params" / "hebei.yaml", out=tmp_path / "s",
                                  **kw)
    assert batched.indices.to_csv() == single.indices.to_csv()
    assert batched.samples.to_csv() == single.samples.to_csv()


def test_a_chunk_reports_a_bad_point_and_runs_the_others():
    good = scrapsim.load_scenario(HEBEI).with_overrides(HALF_YEAR).model_dump_json()
    items = [("{not json", 1), (good, 1), (good, 2)]
    results = engine.run_chunk(items, engine.DEFAULT_RUN)
    assert results[0]["status"] == "error" and "ValidationError" in results[0]["error"]
    assert [r["status"] for r in results[1:]] == ["ok", "ok"]
    assert results[1]["summary"] == engine.flatten_summary(
        scrapsim.run(scrapsim.Scenario.model_validate_json(good), seed=1).summary)


def test_a_batch_that_fails_falls_back_to_single_runs(monkeypatch):
    good = scrapsim.load_scenario(HEBEI).with_overrides(HALF_YEAR).model_dump_json()

    def broken(*args, **kwargs):
        raise RuntimeError("batch broke")

    monkeypatch.setattr(batch, "run_batch", broken)
    results = engine.run_chunk([(good, 1), (good, 2)], engine.DEFAULT_RUN)
    assert [r["status"] for r in results] == ["ok", "ok"]
    monkeypatch.undo()
    again = engine.run_chunk([(good, 1), (good, 2)], engine.DEFAULT_RUN)
    assert [r["summary"] for r in results] == [r["summary"] for r in again]


@pytest.mark.parametrize("fn", ["scrapsim.experiments.sensitivity.analysis:ishigami"])
def test_a_run_function_without_model_run_runs_each_task(fn, monkeypatch):
    count = _counted(monkeypatch)
    good = scrapsim.load_scenario(HEBEI).model_dump_json()
    results = engine.run_chunk([(good, 1), (good, 2)], fn)
    assert [r["status"] for r in results] == ["ok", "ok"] and count == [0, 0]
