"""Batched replications (scrapsim.model.batch): each replication of a batch has the bytes of
its own single run, whatever the other seeds in the batch, on every shipped scenario and on
variants exercising what happens between market days (false reports, relapses, deadlines,
audits); batches are cut by BATCH_BYTES; what cannot be stacked runs one by one."""

from __future__ import annotations

import hashlib

import pytest

import scrapsim
from scrapsim.model import batch, loops
from scrapsim.model.batch import run_batch, simulate
from scrapsim.model.simulation import Model, baseline_of, run
from scrapsim.scenario import ScenarioError, load_scenario


def _bytes(r) -> str:
    return hashlib.sha256((r.daily.to_csv() + r.events.to_csv() + r.initial.to_csv())
                          .encode()).hexdigest()


def _same_as_single(sc, seeds):
    batched = simulate(sc, seeds)
    assert [r.seed for r in batched] == seeds
    for seed, r in zip(seeds, batched):
        one = Model(sc, seed).run()
        assert _bytes(r) == _bytes(one), seed
        assert r.n_events == one.n_events, seed


@pytest.mark.parametrize("name", ["hebei", "shandong", "guangdong", "no_enforcement"])
def test_each_replication_of_a_batch_is_its_single_run(name):
    _same_as_single(load_scenario(f"scenarios/{name}.yaml"), [3, 1, 4])


def test_false_reports_relapses_and_audits_batched():
    sc = load_scenario("scenarios/hebei.yaml").with_overrides({
        "behaviour.false_report": 0.3, "behaviour.relapse_share": 0.6,
        "campaigns.0.audits": ["2017-07-01", "2017-09-01"]})
    _same_as_single(sc, [5, 6, 7, 8])


def test_a_deadline_on_the_day_batched():
    sc = load_scenario("scenarios/shandong.yaml").with_overrides({
        "campaigns.0.deadline_pace": "at_deadline", "behaviour.relapse_share": 0.5})
    _same_as_single(sc, [2, 9])


def test_a_replication_is_the_same_whatever_its_neighbours():
    sc = load_scenario("scenarios/hebei.yaml")
    alone = simulate(sc, [7])[0]
    among = simulate(sc, [1, 7, 2])[1]
    assert _bytes(alone) == _bytes(among)


def test_run_batch_gives_what_run_gives():
    sc = load_scenario("scenarios/hebei.yaml")
    results = run_batch(sc, [11, 12])
    for seed, r in zip([11, 12], results):
        one = run(sc, seed=seed)
        assert r.summary == one.summary
        assert _bytes(r.baseline) == _bytes(one.baseline)
    # the twins given back: the same summaries, no twin run again
    again = run_batch(sc, [11, 12], baseline=[r.baseline for r in results])
    assert [r.summary for r in again] == [r.summary for r in results]
    assert all(r.baseline is b.baseline for r, b in zip(again, results))


def test_run_batch_refuses_twins_of_another_seed_or_market(monkeypatch):
    sc = load_scenario("scenarios/hebei.yaml")
    twins = simulate(baseline_of(sc), [1, 2])
    other = sc.with_overrides({"market.price_speed": 0.05})
    ran = []
    monkeypatch.setattr(batch, "simulate", lambda *a: ran.append(a) or [])
    cases = [
        (sc, [2, 1], twins, "baseline: 0: is the twin of seed 1, not of seed 2"),
        (sc, [1], twins, "baseline: 2 given for 1 seed: one"),
        (sc, [1, 2], [twins[0], None], "baseline: 1: is not a Result"),
        (other, [1, 2], twins, "baseline: 0: is a run of another market"),
        (sc, [1, 2], (twins[0], Model(sc, 2).run()), "baseline: 1: is a run at intensity 1"),
    ]
    for scenario, seeds, given, message in cases:
        with pytest.raises(ScenarioError, match="intensity-0 twin") as err:
            run_batch(scenario, seeds, baseline=given)
        assert str(err.value).startswith(message), str(err.value)
    assert ran == []                          # refused before anything runs
    monkeypatch.undo()
    # a tuple of the right twins is used as they are
    again = run_batch(sc, [1, 2], baseline=tuple(twins))
    assert [r.baseline for r in again] == twins


@pytest.mark.parametrize("baseline", [None, 0, "yes", 1.0])
def test_run_batch_refuses_a_baseline_that_is_not_one(baseline):
    with pytest.raises(ScenarioError, match="must be True, False or the twins"):
        run_batch("scenarios/hebei.yaml", [1], baseline=baseline)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_run_batch_refuses_a_seed_that_is_not_a_whole_number(seed):
    with pytest.raises(ScenarioError, match="whole number"):
        run_batch("scenarios/hebei.yaml", [1, seed], baseline=False)


@pytest.mark.parametrize("seeds", [3, None, "123"])
def test_run_batch_wants_a_list_of_seeds(seeds):
    with pytest.raises(ScenarioError, match="seeds: must be a list of seeds"):
        run_batch("scenarios/hebei.yaml", seeds)


def test_no_seeds_no_runs():
    assert run_batch("scenarios/hebei.yaml", []) == []


def test_batches_are_cut_by_their_bytes(monkeypatch):
    sc = load_scenario("scenarios/hebei.yaml")
    calls = []
    real = batch._lockstep

    def counted(models):
        calls.append(len(models))
        return real(models)

    monkeypatch.setattr(batch, "_lockstep", counted)
    one = batch._day_bytes(Model(sc, 1))
    monkeypatch.setattr(batch, "BATCH_BYTES", 2 * one)
    results = simulate(sc, [1, 2, 3, 4, 5])
    assert calls == [2, 2, 1]
    assert [r.seed for r in results] == [1, 2, 3, 4, 5]
    calls.clear()
    monkeypatch.setattr(batch, "BATCH_BYTES", 1)   # less than one replication: one by one
    simulate(sc, [1, 2])
    assert calls == [1, 1]


def test_models_that_cannot_be_stacked_run_one_by_one(monkeypatch):
    # different populations: no (R, ...) arrays, each run as Model.run runs it
    hebei, shandong = (load_scenario(f"scenarios/{n}.yaml") for n in ("hebei", "shandong"))
    days = []
    monkeypatch.setattr(loops, "batch_days", lambda *a: days.append(a[:2]))
    results = batch._lockstep([Model(hebei, 1), Model(shandong, 1)])
    assert days == []
    monkeypatch.undo()
    assert _bytes(results[0]) == _bytes(Model(hebei, 1).run())
    assert _bytes(results[1]) == _bytes(Model(shandong, 1).run())


def test_a_batch_makes_few_compiled_calls(monkeypatch):
    # the quiet stretches of all replications run in one call each, not one call per run
    sc = load_scenario("scenarios/hebei.yaml")
    calls = []
    real = loops.batch_days
    monkeypatch.setattr(loops, "batch_days", lambda *a: (calls.append(a[:2]), real(*a))[1])
    results = simulate(sc, list(range(8)))
    single = sum(r.n_events for r in results)
    assert calls[0][0] == 0 and calls[-1][1] == Model(sc, 0).n_days
    assert len(calls) < single / 2


def test_the_api_exposes_run_batch():
    assert scrapsim.run_batch is run_batch


@pytest.mark.parametrize("baseline", [None, 0, "yes"])
def test_run_refuses_a_baseline_that_is_not_one(baseline):
    with pytest.raises(ScenarioError, match="baseline: must be True, False or the twin's"):
        run("scenarios/hebei.yaml", seed=1, baseline=baseline)
