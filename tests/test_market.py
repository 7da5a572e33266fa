"""The market's pure functions (scrapsim/model/market.py), checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapsim.model.inputs import ingot_paid
from scrapsim.model.market import (
    adjust_price,
    clear,
    collection,
    hold_factor,
    interregional_flows,
    lag_reference,
    offer_factor,
    price_pressure,
    smelter_margin,
    withhold_factor,
)
from scrapsim.model.trader_kernels import offered_at

A = np.array
volumes = st.lists(st.floats(0.0, 1e6, allow_subnormal=False), min_size=1, max_size=6)


# ---- clear ------------------------------------------------------------------------------------
def test_clear_trades_the_short_side_and_shares_the_long_side_pro_rata() -> None:
    traded, sold, filled = clear(A([100.0, 50.0, 80.0]), A([40.0, 200.0, 80.0]))
    np.testing.assert_array_equal(traded, [40.0, 50.0, 80.0])
    np.testing.assert_allclose(sold, [0.4, 1.0, 1.0])        # share of each offer sold
    np.testing.assert_allclose(filled, [1.0, 0.25, 1.0])     # share of each bid filled


def test_clear_with_an_empty_side_trades_nothing() -> None:
    traded, sold, filled = clear(A([0.0, 30.0, 0.0]), A([25.0, 0.0, 0.0]))
    np.testing.assert_array_equal(traded, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(sold, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(filled, [0.0, 0.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_clear_conserves_volume(data: st.DataObject) -> None:
    supply = A(data.draw(volumes))
    demand = A(data.draw(st.lists(st.floats(0.0, 1e6), min_size=len(supply),
                                  max_size=len(supply))))
    traded, sold, filled = clear(supply, demand)
    np.testing.assert_array_equal(traded, np.minimum(supply, demand))
    np.testing.assert_allclose(sold * supply, traded, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(filled * demand, traded, rtol=1e-12, atol=1e-9)
    assert ((sold >= 0) & (sold <= 1 + 1e-12)).all()
    assert ((filled >= 0) & (filled <= 1 + 1e-12)).all()


# ---- price pressure ---------------------------------------------------------------------------
def test_price_pressure_values_bounds_and_zero_case() -> None:
    got = price_pressure(A([300.0, 100.0, 0.0, 50.0, 0.0]), A([100.0, 300.0, 40.0, 0.0, 0.0]))
    np.testing.assert_allclose(got, [0.5, -0.5, -1.0, 1.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_price_pressure_stays_in_minus_one_one(data: st.DataObject) -> None:
    demand = A(data.draw(volumes))
    supply = A(data.draw(st.lists(st.floats(0.0, 1e6), min_size=len(demand),
                                  max_size=len(demand))))
    p = price_pressure(demand, supply)
    assert ((p >= -1.0) & (p <= 1.0)).all()
    assert (np.sign(p) == np.sign(demand - supply)).all()


# ---- price: partial adjustment, reference, holding ---------------------------------------------
def adjust(price: float, clearing: float, speed: float = 0.3, shock: float = 0.0,
           floor: float = 3000.0, cap: float = 30000.0) -> float:
    return float(adjust_price(A([price]), A([clearing]), speed, A([shock]), floor, cap)[0])


def test_the_price_moves_part_of_the_way_to_the_clearing_price() -> None:
    assert adjust(10000, 12000) == pytest.approx(10000 * 1.2 ** 0.3, rel=1e-12)
    assert adjust(10000, 8000) == pytest.approx(10000 * 0.8 ** 0.3, rel=1e-12)
    assert adjust(10000, 12000, speed=1.0) == pytest.approx(12000, rel=1e-12)
    assert adjust(10000, 12000, speed=0.0) == pytest.approx(10000, rel=1e-12)
    want = np.exp(np.log(11000) + 0.3 * np.log(11500 / 11000) + 0.005)
    assert adjust(11000, 11500, shock=0.005) == pytest.approx(want, rel=1e-12)


def test_the_price_keeps_floor_and_cap() -> None:
    assert adjust(3100, 1000, speed=1.0) == 3000.0
    assert adjust(29000, 40000, speed=1.0) == 30000.0


def test_the_reference_follows_the_primary_anchor_with_a_lag() -> None:
    ref = A([10000.0, 10000.0])
    lag_reference(ref, A([12000.0, 10000.0]), 0.04)
    np.testing.assert_allclose(ref, [10000 * 1.2 ** 0.04, 10000.0], rtol=1e-12)
    for _ in range(25 * 10):                              # ten lags of 1/0.04 days
        lag_reference(ref, A([12000.0, 10000.0]), 0.04)
    assert ref[0] == pytest.approx(12000.0, rel=1e-4)


def test_traders_hold_below_the_reference_and_sell_above() -> None:
    assert hold_factor(10000.0, 10000.0, 8.0) == 1.0
    assert hold_factor(9000.0, 10000.0, 8.0) == pytest.approx(0.9 ** 8, rel=1e-12)
    assert hold_factor(11000.0, 10000.0, 8.0) > 1.0
    assert hold_factor(9000.0, 10000.0, 0.0) == 1.0


# ---- margins ----------------------------------------------------------------------------------
def test_smelter_margin_is_ingot_times_yield_minus_scrap_minus_processing() -> None:
    got = smelter_margin(14900.0, A([0.9, 0.8]), A([11500.0, 11500.0]), A([950.0, 450.0]))
    np.testing.assert_allclose(got, [14900 * 0.9 - 11500 - 950, 14900 * 0.8 - 11500 - 450])
    assert got[0] == pytest.approx(960.0)
    assert got[1] == pytest.approx(-30.0)


# ---- collection (matching function) -----------------------------------------------------------
def test_collection_never_exceeds_either_side() -> None:
    available = A([100.0, 100.0, 100.0, 1e6, 0.0])
    wanted = A([10.0, 100.0, 1e4, 50.0, 30.0])
    got = collection(available, wanted)
    assert (got <= wanted).all() and (got <= available).all()
    want = available[:4] * (1.0 - np.exp(-wanted[:4] / available[:4]))
    np.testing.assert_allclose(got[:4], want, rtol=1e-9)
    assert got[1] == pytest.approx(100.0 * (1 - np.exp(-1.0)), rel=1e-12)
    assert got[4] == 0.0


def test_collection_approaches_wanted_when_scrap_is_plentiful() -> None:
    got = collection(A([1e3, 1e5, 1e8]), A([50.0, 50.0, 50.0]))
    assert got[0] < got[1] < got[2] <= 50.0
    assert got[2] == pytest.approx(50.0, rel=1e-6)
    assert got[0] == pytest.approx(1e3 * (1 - np.exp(-0.05)), rel=1e-12)


def test_collection_approaches_available_when_traders_are_many() -> None:
    got = collection(A([80.0]), A([1e5]))
    assert got[0] == pytest.approx(80.0, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_collection_bounds_hold_for_any_input(data: st.DataObject) -> None:
    available = A(data.draw(volumes))
    wanted = A(data.draw(st.lists(st.floats(0.0, 1e6), min_size=len(available),
                                  max_size=len(available))))
    got = collection(available, wanted)
    assert (got >= 0).all()
    assert (got <= wanted).all()
    assert (got <= available).all()


# ---- offer factor -----------------------------------------------------------------------------
def factor(vol: float, gap: float, fast_out: float = 1.0, withhold: float = 7.0) -> float:
    """The offer factor of one region (withhold 7: the target doubles at a 10% gap)."""
    return float(offer_factor(A([vol]), A([gap]), A([fast_out]), A([withhold]), 0.004)[0])


def test_offer_factor_is_one_in_a_calm_market() -> None:
    assert factor(0.004, 0.0) == pytest.approx(1.0, rel=1e-12)


def test_offer_factor_offers_more_when_prices_are_volatile() -> None:
    assert factor(0.006, 0.0) == pytest.approx(1.5)
    assert factor(0.008, 0.0) == pytest.approx(2.0)
    assert factor(0.04, 0.0) == 2.0                    # capped
    assert factor(0.0, 0.0) == pytest.approx(0.5)      # floor
    assert factor(0.006, 0.0, fast_out=0.0) == pytest.approx(1.0)


def test_offer_factor_withholds_in_proportion_to_the_rally_gap() -> None:
    assert factor(0.004, 0.05) == pytest.approx(np.exp(-0.35), rel=1e-12)
    assert factor(0.004, 0.08) < factor(0.004, 0.05) < factor(0.004, 0.02) < 1.0  # gradual
    assert factor(0.004, np.log(2) / 7) == pytest.approx(0.5)  # doubles at a 10% gap
    assert factor(0.004, 0.3) == 0.5                     # a target yard at most doubles
    assert factor(0.004, -0.05) == pytest.approx(1.0)    # primary below the reference: none
    assert factor(0.004, 0.05, withhold=0.0) == pytest.approx(1.0)
    assert withhold_factor(0.05, 7.0) == pytest.approx(np.exp(-0.35), rel=1e-12)


# ---- reservation price and the ingot price smelters are paid ------------------------------------
def test_a_holder_does_not_sell_below_what_it_paid_while_it_expects_more() -> None:
    cost = A([8000.0, 9000.0, 10000.0])                  # sorted, as each region's traders are
    offers = A([10.0, 20.0, 40.0])
    cum = np.concatenate([[0.0], np.cumsum(offers)])
    assert offered_at(0, 3, cost, cum, 9500.0, 11000.0) == pytest.approx(30.0)
    assert offered_at(0, 3, cost, cum, 7000.0, 11000.0) == 0.0
    assert offered_at(0, 3, cost, cum, 11000.0, 11000.0) == pytest.approx(70.0)
    assert offered_at(0, 3, cost, cum, 8500.0, 8500.0) == pytest.approx(70.0)  # expects no more
    assert offered_at(1, 3, cost, cum, 9500.0, 11000.0) == pytest.approx(20.0)  # one region


def test_smelters_are_paid_the_mean_ingot_price_of_the_last_days() -> None:
    spot = np.array([100.0, 100.0, 130.0, 130.0, 130.0])
    np.testing.assert_allclose(ingot_paid(spot, 1), spot)
    np.testing.assert_allclose(ingot_paid(spot, 3), [100.0, 100.0, 110.0, 120.0, 130.0])


# ---- inter-regional flows ---------------------------------------------------------------------
ALL3 = np.ones(3)
"""Active traders in each of three regions (every region can receive)."""


def test_flows_only_above_transport_cost_and_toward_the_dearer_region() -> None:
    flows = interregional_flows(A([10000.0, 10500.0, 10250.0]), A([1000.0, 1000.0, 1000.0]),
                                300.0, 0.05, ALL3)
    want = np.zeros((3, 3))
    want[0, 1] = 0.05 * (500 - 300) / 300 * 1000      # gap 500 > 300: north ships to south
    np.testing.assert_allclose(flows, want, rtol=1e-12)  # gaps of 250 and 250 stay below cost


def test_flows_at_exactly_the_transport_cost_are_zero() -> None:
    flows = interregional_flows(A([10000.0, 10300.0]), A([500.0, 500.0]), 300.0, 0.05,
                                A([1.0, 1.0]))
    np.testing.assert_array_equal(flows, np.zeros((2, 2)))


def test_flows_ship_at_most_half_a_regions_stock() -> None:
    flows = interregional_flows(A([5000.0, 20000.0, 25000.0]), A([800.0, 100.0, 0.0]), 300.0, 0.5,
                                ALL3)
    out = flows.sum(axis=1)
    assert out[0] == pytest.approx(400.0, rel=1e-12)   # capped at half of 800
    assert out[1] == pytest.approx(50.0, rel=1e-12)    # region 1 ships to 2, capped too
    assert out[2] == 0.0                               # dearest region ships nothing
    # the cap keeps the split between destinations in proportion to their gaps
    assert flows[0, 2] / flows[0, 1] == pytest.approx((20000 - 300) / (15000 - 300), rel=1e-12)


def test_a_region_without_buyers_gets_nothing_and_takes_no_share_of_the_half() -> None:
    price, stock = A([5000.0, 20000.0, 25000.0]), A([800.0, 100.0, 0.0])
    flows = interregional_flows(price, stock, 300.0, 0.5, A([1.0, 1.0, 0.0]))
    assert flows[0, 2] == 0.0 and flows[1, 2] == 0.0
    assert flows[0, 1] == pytest.approx(400.0, rel=1e-12)  # the whole half goes where it can
    assert flows[1].sum() == 0.0                           # region 1's only outlet has no buyer


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_flows_are_non_negative_bounded_and_consistent(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 5))
    price = A(data.draw(st.lists(st.floats(3000, 30000), min_size=n, max_size=n)))
    stock = A(data.draw(st.lists(st.floats(0, 1e5), min_size=n, max_size=n)))
    cost = data.draw(st.floats(0.0, 2000.0))
    rate = data.draw(st.floats(0.0, 1.0))
    flows = interregional_flows(price, stock, cost, rate, np.ones(n))
    assert flows.shape == (n, n)
    assert (flows >= 0).all()
    assert (np.diag(flows) == 0).all()
    assert (flows.sum(axis=1) <= 0.5 * stock * (1 + 1e-12) + 1e-12).all()
    gap = price[None, :] - price[:, None]
    assert (flows[gap <= cost] == 0).all()             # nothing moves below the transport cost
    assert flows.sum(axis=1).sum() == pytest.approx(flows.sum(axis=0).sum(), rel=1e-12, abs=1e-9)
