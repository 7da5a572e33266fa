"""Daily inputs: Chinese New Year, seasonal profiles, dated series, campaign windows and risk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pytest

from scrapsim.model.inputs import (
    build_inputs,
    cny_date,
    day_numbers,
    seasonal_profiles,
    series_values,
    window_profile,
)
from scrapsim.model.loops import smooth
from scrapsim.scenario import Scenario

CNY_2017 = 27          # day index of 28 January 2017 from 1 January


def year_profiles(tiny_scenario: Callable[..., Scenario], **kw: object) -> tuple[np.ndarray, ...]:
    sc = tiny_scenario(end="2017-12-31", **kw)
    return seasonal_profiles(sc, day_numbers(sc.start, sc.days))


def day(month: int, dom: int) -> int:
    return (date(2017, month, dom) - date(2017, 1, 1)).days


def test_cny_dates() -> None:
    assert cny_date(2017) == date(2017, 1, 28)
    assert cny_date(2018) == date(2018, 2, 16)
    assert cny_date(1999) == date(1999, 2, 5)           # outside the table: the mean date


def test_series_values_constant_and_dated() -> None:
    np.testing.assert_array_equal(series_values(14900.0, date(2017, 1, 1), 3), [14900.0] * 3)
    got = series_values({date(2017, 1, 3): 100.0, date(2017, 1, 7): 200.0},
                        date(2017, 1, 1), 10)
    np.testing.assert_allclose(got, [100, 100, 100, 125, 150, 175, 200, 200, 200, 200])


def test_window_profile_is_a_raised_cosine() -> None:
    got = window_profile(np.array([-20.0, -12, -6, 0, 10, 20, 30]), 12, 20)
    np.testing.assert_allclose(got, [0, 0, 0.5, 1, 0.5, 0, 0], atol=1e-15)


def test_cny_dips_collection_deeper_and_earlier_than_smelting(
        tiny_scenario: Callable[..., Scenario]) -> None:
    gen, coll, smelt = year_profiles(tiny_scenario)
    assert coll[CNY_2017] == pytest.approx(1 - 0.6)     # cny_collection_dip default
    assert smelt[CNY_2017] == pytest.approx(1 - 0.35)   # cny_smelting_dip default: smaller
    assert coll.argmin() == CNY_2017
    first_coll = np.flatnonzero(coll < 1.0)[0]
    first_smelt = np.flatnonzero(smelt[:60] < 1.0)[0]
    assert first_coll == CNY_2017 - 11                  # traders stop 12 days before
    assert first_smelt == CNY_2017 - 3                  # smelters only 4 days before: later
    assert coll[CNY_2017 - 8] < 1.0 and smelt[CNY_2017 - 8] == 1.0
    assert coll[CNY_2017 + 20] == 1.0 and smelt[CNY_2017 + 20] == 1.0
    assert coll[CNY_2017 + 10] == pytest.approx(1 - 0.6 * 0.5)
    assert gen[CNY_2017] == 1.0                          # scrap still arises: it waits


def test_summer_trough_and_autumn_peak(tiny_scenario: Callable[..., Scenario]) -> None:
    gen, coll, smelt = year_profiles(tiny_scenario)
    assert smelt[day(7, 25)] == pytest.approx(1 - 0.29)        # the default, calibrated depth
    assert smelt[day(7, 25)] == smelt[day(5, 1):day(9, 1)].min()
    assert smelt[day(10, 20)] == pytest.approx(1.08)
    assert gen[day(10, 20)] == pytest.approx(1.08) and gen.argmax() == day(10, 20)
    # the summer off-season slows scrap arising as much as smelting (issue 10)
    np.testing.assert_allclose(gen[day(5, 1):day(9, 1)], smelt[day(5, 1):day(9, 1)])
    assert coll[day(7, 25)] == 1.0
    assert (coll[day(3, 1):] == 1.0).all()


def test_seasonality_can_be_switched_off(tiny_scenario: Callable[..., Scenario]) -> None:
    gen, coll, smelt = year_profiles(tiny_scenario, seasonality={
        "cny_collection_dip": 0, "cny_smelting_dip": 0, "summer_trough": 0, "autumn_peak": 0})
    for profile in (gen, coll, smelt):
        np.testing.assert_array_equal(profile, np.ones(365))


def test_generation_carries_season_and_mean_one_noise(
        tiny_scenario: Callable[..., Scenario]) -> None:
    sc = tiny_scenario(end="2017-12-31", regions__0__generation_noise=0.0,
                       regions__1__generation_noise=0.2)
    inp = build_inputs(sc, np.random.default_rng(5))
    gen, _, _ = seasonal_profiles(sc, inp.dates)
    np.testing.assert_allclose(inp.generation[:, 0], 250.0 * gen, rtol=1e-12)
    ratio = inp.generation[:, 1] / (150.0 * gen)
    assert ratio.std() == pytest.approx(0.2, rel=0.15)
    assert ratio.mean() == pytest.approx(1.0, abs=0.04)
    np.testing.assert_array_equal(inp.imports, np.column_stack([np.full(365, 40.0),
                                                                np.zeros(365)]))


def test_campaign_window_risk_and_active_mask(tiny_scenario: Callable[..., Scenario]) -> None:
    sc = tiny_scenario(campaigns__0__output_cut=0.3)
    inp = build_inputs(sc, np.random.default_rng(0))
    first, last = day(2, 10), day(3, 5)
    announce = first - 5
    active = np.zeros(sc.days, dtype=bool)
    active[announce:last + 1] = True
    np.testing.assert_array_equal(inp.campaign_active[:, 0], active)
    assert not inp.campaign_active[:, 1].any()          # the south has no campaign
    np.testing.assert_allclose(inp.output_cut[:, 0], np.where(active, 0.3, 0.0), rtol=1e-12)
    risk = inp.risk[:, 0]
    np.testing.assert_array_equal(risk[:announce], 0.0)
    np.testing.assert_array_equal(inp.risk[:, 1], 0.0)
    alpha = 1 - np.exp(-1 / 10)                         # risk_memory_days = 10
    assert risk[announce] == pytest.approx(alpha * 0.8)
    assert (np.diff(risk[announce:last + 1]) > 0).all()  # builds up while inspectors stay
    assert (np.diff(risk[last + 1:]) < 0).all()          # and fades after they leave
    assert risk.max() < 0.8


def test_intensity_scales_risk_and_zero_switches_it_off(
        tiny_scenario: Callable[..., Scenario]) -> None:
    half = build_inputs(tiny_scenario(enforcement__intensity=0.5), np.random.default_rng(0))
    full = build_inputs(tiny_scenario(), np.random.default_rng(0))
    none = build_inputs(tiny_scenario(enforcement__intensity=0.0), np.random.default_rng(0))
    target_half = 1 - (1 - 0.8) ** 0.5
    np.testing.assert_allclose(half.risk[:, 0], full.risk[:, 0] * target_half / 0.8, rtol=1e-12)
    np.testing.assert_array_equal(none.risk, 0.0)
    assert not none.campaign_active.any()
    np.testing.assert_array_equal(none.generation, full.generation)   # same noise draws
    np.testing.assert_array_equal(none.price_noise, full.price_noise)


def test_smooth_is_exponential_smoothing() -> None:
    x = np.array([[1.0], [1.0], [0.0]])
    np.testing.assert_allclose(smooth(x, 0.5), [[0.5], [0.75], [0.375]])


def test_compiled_smoothing_has_the_bytes_of_the_numpy_loop() -> None:
    """The compiled smoothing does the numpy loop's operations in its order: same bits."""
    x = np.random.default_rng(3).random((400, 5)) * (np.arange(400) % 90 < 40)[:, None]
    for alpha in (1e-3, 0.1, 1.0 - np.exp(-1.0 / 7.0), 1.0):
        expected, prev = np.empty_like(x), np.zeros(5)
        for t in range(len(x)):
            prev = prev + alpha * (x[t] - prev)
            expected[t] = prev
        assert smooth(x, float(alpha)).tobytes() == expected.tobytes()
