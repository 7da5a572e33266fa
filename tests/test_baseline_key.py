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
from scrapsim.experiments import batching, engine
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


def _enforcement_only_changed(twin):
    """``twin`` with every non-campaign field the key leaves out changed: behaviour, traders'
    risk tolerance and violator share in every region."""
    b = twin.behaviour
    behaviour = b.model_copy(update={"relapse_share": 0.5, "false_report": 0.3,
                                      "rectifiable": ["large"],
                                      "risk_memory_days": b.risk_memory_days * 3 + 1})
    regions = [r.model_copy(update={"traders": r.traders.model_copy(update={
        "risk_tolerance": r.traders.risk_tolerance * 0.3 + 1e-6,
        "violator_share": 1.0 - r.traders.violator_share})}) for r in twin.regions]
    return twin.model_copy(update={"behaviour": behaviour, "regions": regions})


@pytest.mark.parametrize("name", SCENARIOS)
def test_behaviour_and_traders_tolerance_change_no_byte_of_the_twin(name):
    twin = baseline_of(scrapsim.load_scenario(f"scenarios/{name}.yaml"))
    changed = _enforcement_only_changed(twin)
    assert baseline_key(changed) == baseline_key(twin)
    assert _tables(changed) == _tables(twin)
    # ... and they do change the run with enforcement (the key is not ignoring what matters)
    if twin.campaigns and name != "no_enforcement":
        live = scrapsim.load_scenario(f"scenarios/{name}.yaml")
        live_changed = _enforcement_only_changed(live).model_copy(
            update={"enforcement": live.enforcement})
        assert _tables(live_changed) != _tables(live)


def test_a_tolerance_that_could_round_to_zero_stays_in_the_key():
    sc = scrapsim.load_scenario("scenarios/hebei.yaml")
    tiny = sc.with_overrides({"regions.hebei.traders.risk_tolerance": 1e-300})
    assert baseline_key(tiny) != baseline_key(sc)
    assert baseline_key(sc.with_overrides({"regions.hebei.traders.risk_tolerance": 0.9})) \
        == baseline_key(sc)


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
    batching._BASELINES.clear()
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


def test_a_sweep_over_traders_tolerance_runs_one_baseline_per_seed(tmp_path):
    vary = ["regions.hebei.traders.risk_tolerance=0.4,0.6,0.9"]
    assert _baselines_of_sweep(tmp_path, vary, "tolerance") == 2


def test_a_sweep_over_a_market_field_runs_one_baseline_per_point_and_seed(tmp_path):
    assert _baselines_of_sweep(tmp_path, ["market.price_speed=0.1,0.2,0.3"], "market") == 6
