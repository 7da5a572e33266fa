"""scenarios/hebei.yaml reproduces the documented 2017 pulse, and both signs of the price effect
are reachable by choosing whom enforcement hits (issue 2, item 9; FACTS.md)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import matrix

from scrapsim.model.records import check_balance
from scrapsim.model.simulation import Result, run
from scrapsim.scenario import Scenario

WINDOW = (date(2017, 2, 15), date(2017, 3, 15))
SMELTERS_ONLY = {"campaigns.0.targets.traders": 0, "campaigns.0.perceived_risk": 0}
COLLECTION_ONLY = {"campaigns.0.targets.large": 0, "campaigns.0.targets.small": 0,
                   "campaigns.0.targets.workshop": 0, "campaigns.0.targets.traders": 1,
                   "campaigns.0.halt_share": 0, "campaigns.0.perceived_risk": 0.95}


def test_hebei_shuts_164_of_167(hebei_result: Result) -> None:
    s = hebei_result.summary
    assert hebei_result.seed == 2017
    assert s["smelters_start"] == 167
    assert 160 <= s["shut_count"] <= 168, s["shut_count"]
    assert s["shut_share"] == pytest.approx(s["shut_count"] / 167)
    start = (WINDOW[0] - date(2017, 1, 1)).days
    end = (WINDOW[1] - date(2017, 1, 1)).days
    assert start - 5 <= s["shut_day"] <= end + 1           # at the height of the pulse


def test_hebei_lowers_collection_and_smelting_in_the_window(hebei_result: Result) -> None:
    s = hebei_result.summary
    assert s["windows"] == [["2017-02-15", "2017-03-15"]]
    assert s["collection_change"] < -0.3, s["collection_change"]
    assert s["smelting_change"] < -0.3, s["smelting_change"]
    assert s["recovery_days"] is not None and s["recovery_days"] > 0
    week = np.ones(7) / 7.0          # recovery: 7-day mean of smelting back to >= 95% of baseline
    smelted = np.convolve(matrix(hebei_result.daily, "smelted", 1)[:, 0], week)[:365]
    base = np.convolve(matrix(hebei_result.baseline.daily, "smelted", 1)[:, 0], week)[:365]
    end = (WINDOW[1] - date(2017, 1, 1)).days
    after = end + s["recovery_days"]
    assert smelted[after] >= 0.95 * base[after]
    assert (smelted[end + 1:after] < 0.95 * base[end + 1:after]).all()


def test_hebei_inspections_stay_in_the_window(hebei_result: Result) -> None:
    ev = hebei_result.events
    ins = ev.where(ev["event"] == "inspection")
    assert ins["date"].min() >= np.datetime64(WINDOW[0])
    assert ins["date"].max() <= np.datetime64(WINDOW[1])
    assert set(ins["actor"]) == {"smelter", "trader"}
    check_balance(hebei_result.daily, hebei_result.initial)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_pulse_is_not_one_lucky_seed(hebei: Scenario, seed: int) -> None:
    s = run(hebei, seed=seed).summary
    assert 160 <= s["shut_count"] <= 168, (seed, s["shut_count"])
    assert s["collection_change"] < -0.3 and s["smelting_change"] < -0.3


def test_enforcement_on_smelters_lowers_the_scrap_price(hebei: Scenario) -> None:
    s = run(hebei.with_overrides(SMELTERS_ONLY)).summary
    assert s["price_change"] < 0, s["price_change"]
    assert s["mean_price_pressure"] < 0                      # demand fell more than supply
    assert s["smelting_change"] < -0.3
    assert s["shut_count"] >= 150


def test_enforcement_on_collection_raises_the_scrap_price(hebei: Scenario) -> None:
    s = run(hebei.with_overrides(COLLECTION_ONLY)).summary
    assert s["price_change"] > 0, s["price_change"]
    assert s["mean_price_pressure"] > 0                      # supply fell more than demand
    assert s["collection_change"] < -0.3
    assert s["shut_count"] == 0                              # no smelter was touched


@pytest.mark.parametrize("seed", [1, 2])
def test_both_price_signs_hold_on_other_seeds(hebei: Scenario, seed: int) -> None:
    down = run(hebei.with_overrides(SMELTERS_ONLY), seed=seed).summary["price_change"]
    up = run(hebei.with_overrides(COLLECTION_ONLY), seed=seed).summary["price_change"]
    assert down < 0 < up, (seed, down, up)
