"""Baselines are computed once per (seed, what a no-enforcement run depends on).

The memo rests on one property of the model: at intensity 0 a campaign schedules nothing and
draws nothing, so the twin's tables do not depend on any campaign field. These tests check
that property on every shipped scenario, and count the baselines a sweep over campaign fields
and a sweep over a market field actually run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import scrapsim
from scrapsim.experiments import engine
from scrapsim.model.simulation import Model, baseline_key, baseline_of, run

SCENARIOS = sorted(p.stem for p in Path("scenarios").glob("*.yaml"))


def _tables(scenario, seed=11) -> str:
    r = Model(scenario, seed).run()
    return hashlib.sha256((r.daily.to_csv() + r.events.to_csv()).encode()).hexdigest()


@pytest.mark.parametrize("name", SCENARIOS)
def test_campaigns_change_no_byte_of_the_twin(name):
    twin = baseline_of(scrapsim.load_scenario(f"scenarios/{name}.yaml"))
    if not twin.campaigns:  # no_enforcement: give it Hebei's pulse on its own region
        pulse = scrapsim.load_scenario("scenarios/hebei.yaml").campaigns[0]
        twin = twin.model_copy(update={"campaigns": [
            pulse.model_copy(update={"regions": [twin.regions[0].name]})]})
    c0 = twin.campaigns[0]
    changed = twin.model_copy(update={"campaigns": [
        c0.model_copy(update={"teams": c0.teams * 3 + 1, "halt_share": 0.5,
                              "suspend_days": 7}), *twin.campaigns[1:]]})
    none = twin.model_copy(update={"campaigns": []})
    assert baseline_key(changed) == baseline_key(twin) == baseline_key(none)
    assert _tables(changed) == _tables(twin) == _tables(none)


def test_the_key_tells_market_fields_apart():
    sc = scrapsim.load_scenario("scenarios/hebei.yaml")
    other = sc.with_overrides({"market.price_speed": sc.market.price_speed * 0.5})
    assert baseline_key(other) != baseline_key(sc)
    assert baseline_key(sc.with_overrides({"enforcement.intensity": 0.3})) == baseline_key(sc)


def test_run_refuses_a_baseline_of_another_market():
    sc = scrapsim.load_scenario("scenarios/hebei.yaml")
    slow = sc.with_overrides({"market.price_speed": sc.market.price_speed * 0.5})
    wrong = Model(baseline_of(slow), 3).run()
    with pytest.raises(ValueError, match="intensity-0 twin"):
        run(sc, seed=3, baseline=wrong)
    # the twin of a scenario that differs only in its campaigns is accepted, with the same summary
    teams = sc.with_overrides({"campaigns.0.teams": sc.campaigns[0].teams + 5})
    shared = Model(baseline_of(teams), 3).run()
    assert run(sc, seed=3, baseline=shared).summary == run(sc, seed=3).summary


def _baselines_of_sweep(tmp_path, vary, name):
    engine._BASELINES.clear()
    before = engine.BASELINE_RUNS[0]
    result = scrapsim.sweep("scenarios/hebei.yaml", vary, reps=2, workers=1, quiet=True,
                            out=tmp_path / name, figures=False)
    assert (result.runs["status"] == "ok").all()
    return engine.BASELINE_RUNS[0] - before


def test_a_sweep_over_campaign_fields_runs_one_baseline_per_seed(tmp_path):
    # 3 x 2 points x 2 replications: 12 runs, 2 seeds, so 2 baselines (keyed on the whole
    # twin, campaigns included, it was one per teams value and seed: 6)
    vary = ["campaigns.0.teams=2,4,8", "enforcement.intensity=0.5,1"]
    assert _baselines_of_sweep(tmp_path, vary, "campaigns") == 2


def test_a_sweep_over_a_market_field_runs_one_baseline_per_point_and_seed(tmp_path):
    assert _baselines_of_sweep(tmp_path, ["market.price_speed=0.1,0.2,0.3"], "market") == 6
