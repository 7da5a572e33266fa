"""Traders: the array population's collection, offers, sales, shipping and seizures."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from scrapsim.model import kernels
from scrapsim.model.actors.traders import ACTIVE, CLOSED, SUSPENDED, Traders
from scrapsim.model.market import collection
from scrapsim.model.records import EventLog
from scrapsim.scenario import Scenario

N = (50, 30)


def scenario(counts: tuple[int, int] = N) -> Scenario:
    def region(name: str, n: int) -> dict:
        return {"name": name, "generation": 100,
                "traders": {"count": n, "capacity": 3.0, "cost": 10000, "cost_sd": 800,
                            "elasticity": 0.2, "cover_days": 5.0, "risk_tolerance": 0.6},
                "smelters": {"small": {"count": 1, "capacity": 10}}}
    return Scenario.model_validate({"name": "traders", "start": "2017-01-01",
                                    "end": "2017-01-31",
                                    "regions": [region("north", counts[0]),
                                                region("south", counts[1])]})


@pytest.fixture
def traders() -> Traders:
    return Traders(scenario(), np.random.default_rng(3))


PLENTY = np.full(2, 1e15)
"""Scrap waiting at the sources: so much that collection is what traders want (to 1e-13)."""


def collect(t: Traders, price: np.ndarray, price0: np.ndarray, risk: np.ndarray,
            season: float, available: np.ndarray) -> np.ndarray:
    """The model's collection kernel on a population; t collected per region (and the yards
    after it, summed by the same pass, checked against the population's own sums)."""
    held = np.zeros(len(price))
    got = kernels.collect(t.bounds, t.cost, t.base, t.tolerance, price, price0, t.elasticity,
                          risk, float(season), available, t.stock, t.collected, t.temper_eff,
                          t.cover, np.zeros(t.n), held)
    np.testing.assert_array_equal(held, t.sums(t.stock))
    return got


def test_population_is_grouped_by_region_and_sorted_by_cost(traders: Traders) -> None:
    t = traders
    assert t.n == 80
    np.testing.assert_array_equal(t.bounds, [0, 50, 80])
    np.testing.assert_array_equal(t.region, [0] * 50 + [1] * 30)
    for a, b in ((0, 50), (50, 80)):
        assert (np.diff(t.cost[a:b]) >= 0).all()
    assert (t.capacity > 0).all() and (t.cost >= 0).all()
    assert (t.state == ACTIVE).all()
    np.testing.assert_allclose(t.base_total, [t.capacity[:50].sum(), t.capacity[50:].sum()])
    np.testing.assert_array_equal(t.active_count, [50.0, 30.0])


def test_only_traders_below_the_price_collect(traders: Traders) -> None:
    t = traders
    price = np.array([10000.0, 10400.0])
    got = collect(t, price, price, np.zeros(2), 1.0, PLENTY)
    below = t.cost < price[t.region]
    assert 0 < below[:50].sum() < 50 and 0 < below[50:].sum() < 30
    np.testing.assert_allclose(got, [t.capacity[:50][below[:50]].sum(),
                                     t.capacity[50:][below[50:]].sum()], rtol=1e-12)
    np.testing.assert_array_equal(t.stock[~below], 0.0)
    np.testing.assert_allclose(t.stock[below], t.capacity[below], rtol=1e-12)


def test_collection_rises_with_the_price_by_the_elasticity(traders: Traders) -> None:
    t = traders
    price0 = np.array([20000.0, 20000.0])                    # above every cost: all collect
    base = collect(t, price0, price0, np.zeros(2), 1.0, PLENTY)
    t.stock[:] = 0.0
    up = collect(t, price0 * 1.1, price0, np.zeros(2), 1.0, PLENTY)
    np.testing.assert_allclose(up / base, 1.1 ** 0.2, rtol=1e-12)
    t.stock[:] = 0.0
    winter = collect(t, price0, price0, np.zeros(2), 0.4, PLENTY)
    np.testing.assert_allclose(winter, 0.4 * base, rtol=1e-12)


def test_perceived_risk_stops_the_traders_it_exceeds(traders: Traders) -> None:
    t = traders
    price = np.array([20000.0, 20000.0])
    risk = np.array([0.5, 0.0])
    got = collect(t, price, price, risk, 1.0, PLENTY)
    bold = t.tolerance[:50] > 0.5
    assert 0 < bold.sum() < 50
    np.testing.assert_allclose(t.stock[:50], np.where(bold, t.capacity[:50], 0.0), rtol=1e-12)
    np.testing.assert_allclose(got, [t.capacity[:50][bold].sum(), t.capacity[50:].sum()],
                               rtol=1e-12)
    t.stock[:] = 0.0
    more = collect(t, price, price, np.array([0.8, 0.0]), 1.0, PLENTY)
    assert more[0] < got[0]                              # more risk, fewer collectors
    stop = collect(t, price, price, np.array([5.0, 5.0]), 1.0, PLENTY)
    np.testing.assert_array_equal(stop, [0.0, 0.0])


def test_collection_is_limited_by_scrap_at_the_sources_and_adds_to_yards(
        traders: Traders) -> None:
    t = traders
    price = np.array([20000.0, 20000.0])
    available = np.array([30.0, 1e9])
    got = collect(t, price, price, np.zeros(2), 1.0, available)
    wanted = np.array([t.capacity[:50].sum(), t.capacity[50:].sum()])
    np.testing.assert_allclose(got, collection(available, wanted), rtol=1e-12)
    assert got[0] < 30.0
    np.testing.assert_allclose(t.sums(t.stock), got, rtol=1e-12)
    # shares follow capacity: the same fraction of each trader's capacity was filled
    np.testing.assert_allclose(t.stock[:50] / t.capacity[:50], got[0] / wanted[0], rtol=1e-12)


def test_shipping_conserves_scrap(traders: Traders) -> None:
    t = traders
    t.stock[:] = np.linspace(1.0, 80.0, 80)
    before = t.sums(t.stock)
    t.set_state(np.array([50]), CLOSED)
    spread = np.array([0.0, 0.25 * before[0]]) / t.base_total
    kernels.ship(t.bounds, np.array([0.75, 1.0]), spread, t.base, t.stock)
    after = t.sums(t.stock)
    np.testing.assert_allclose(after, [0.75 * before[0], before[1] + 0.25 * before[0]],
                               rtol=1e-12)
    assert after.sum() == pytest.approx(before.sum(), rel=1e-12)
    assert t.stock[50] == pytest.approx(51.0)             # a closed yard receives nothing


def test_close_seizes_the_yards_and_logs_it(traders: Traders) -> None:
    t = traders
    t.stock[:] = 2.0
    log = EventLog()
    seized = t.close(np.array([3, 4, 60]), log, 5.5, 0)
    np.testing.assert_array_equal(seized, [4.0, 2.0])     # ids 3, 4 in region 0; 60 in 1
    np.testing.assert_array_equal(t.stock[[3, 4, 60]], [0.0, 0.0, 0.0])
    assert t.sums(t.stock).sum() == pytest.approx(154.0)
    assert (t.state[[3, 4, 60]] == CLOSED).all()
    events = log.table(date(2017, 1, 1), ["a", "b"], ["c"])
    assert events["event"].tolist() == ["close"] * 3 + ["seize"] * 3
    assert events["value"].tolist()[3:] == [2.0, 2.0, 2.0]


def test_a_region_without_traders_collects_and_offers_nothing() -> None:
    t = Traders(scenario((0, 5)), np.random.default_rng(0))
    np.testing.assert_array_equal(t.bounds, [0, 0, 5])
    price = np.array([20000.0, 20000.0])
    got = collect(t, price, price, np.zeros(2), 1.0, np.full(2, 1e6))
    assert got[0] == 0.0 and got[1] > 0.0
    empty = Traders(scenario((0, 0)), np.random.default_rng(0))
    assert empty.n == 0
    np.testing.assert_array_equal(collect(empty, price, price, np.zeros(2), 1.0,
                                          np.full(2, 1e6)), [0.0, 0.0])


def caches(t: Traders) -> dict[str, np.ndarray]:
    return {"base": t.base.copy(), "temper_eff": t.temper_eff.copy(),
            "base_total": t.base_total.copy(), "active_count": t.active_count.copy()}


def test_incremental_state_changes_match_a_full_refresh(traders: Traders) -> None:
    t = traders
    t.set_state(np.array([3, 7, 55]), SUSPENDED, np.array([10.0, 4.0, 6.0]))
    t.set_state(np.array([8, 60]), CLOSED)
    t.set_state(np.array([7]), CLOSED)                    # suspended, then closed
    assert t.next_due == 4.0
    got = caches(t)
    t.refresh()
    for key, want in caches(t).items():
        np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-9, err_msg=key)
    np.testing.assert_array_equal(t.active_count, [47.0, 28.0])
    np.testing.assert_array_equal(t.base[[3, 7, 8, 55, 60]], 0.0)


def test_suspended_traders_reopen_when_due(traders: Traders) -> None:
    t = traders
    t.set_state(np.array([3, 7, 55]), SUSPENDED, np.array([10.0, 4.0, 6.0]))
    assert t.reopen_due(3).size == 0
    np.testing.assert_array_equal(t.reopen_due(6), [7, 55])
    assert t.next_due == 10.0
    np.testing.assert_array_equal(t.state[[3, 7, 55]], [SUSPENDED, ACTIVE, ACTIVE])
    np.testing.assert_array_equal(t.reopen_due(12), [3])
    assert t.next_due == np.inf
    assert (t.state == ACTIVE).all()
    np.testing.assert_allclose(t.base, t.capacity, rtol=0)


def test_closing_every_trader_of_a_region_leaves_no_capacity(traders: Traders) -> None:
    t = traders
    for chunk in np.array_split(np.random.default_rng(1).permutation(50), 7):
        t.set_state(chunk, CLOSED)
    np.testing.assert_array_equal(t.active_count, [0.0, 30.0])
    assert t.base_total[0] == 0.0
