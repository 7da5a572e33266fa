"""Smelters: the operating state machine as exact event traces, and the daily economics.

The population is built from a small scenario; smelter ids are contiguous by region then class:
north has large 0-1, small 2-3, workshops 4-5; south has workshops 6-7.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from scrapsim.model import kernels
from scrapsim.model.actors.smelters import (
    CLOSED,
    HALTED,
    RECTIFYING,
    RUNNING,
    STATES,
    SUSPENDED,
    Smelters,
)
from scrapsim.model.records import EventLog
from scrapsim.scenario import Scenario

START = date(2017, 1, 1)
REGIONS = ["north", "south"]
CAMPAIGNS = ["pulse"]
STOCK = np.array([100.0, 110.0, 20.0, 30.0, 4.0, 5.0, 6.0, 7.0])


def scenario() -> Scenario:
    return Scenario.model_validate({
        "name": "machine", "start": "2017-01-01", "end": "2017-03-31",
        "regions": [
            {"name": "north", "generation": 100, "traders": {"count": 0, "capacity": 1},
             "smelters": {"large": {"count": 2, "capacity": 100, "capacity_cv": 0,
                                    "metal_yield": 0.9, "violator_share": 1.0},
                          "small": {"count": 2, "capacity": 20, "capacity_cv": 0,
                                    "metal_yield": 0.85, "violator_share": 1.0},
                          "workshop": {"count": 2, "capacity": 5, "capacity_cv": 0,
                                       "metal_yield": 0.8, "violator_share": 1.0}}},
            {"name": "south", "generation": 50, "traders": {"count": 0, "capacity": 1},
             "smelters": {"workshop": {"count": 2, "capacity": 5, "capacity_cv": 0,
                                       "metal_yield": 0.8, "violator_share": 1.0}}},
        ],
    })


@pytest.fixture
def smelters() -> Smelters:
    s = Smelters(scenario(), np.random.default_rng(0))
    s.stock[:] = STOCK
    return s


def trace(log: EventLog) -> list[tuple]:
    """(time, region, actor_id, campaign, event, value) rows of the event table."""
    t = log.table(START, REGIONS, CAMPAIGNS)
    return [(float(a), str(r), int(i), str(c), str(e), float(v)) for a, r, i, c, e, v in
            zip(t["time"], t["region"], t["actor_id"], t["campaign"], t["event"], t["value"], strict=False)]


def states(s: Smelters) -> list[str]:
    return [STATES[k] for k in s.state]


def ids(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


def test_population_layout(smelters: Smelters) -> None:
    s = smelters
    assert s.n == 8
    np.testing.assert_array_equal(s.region, [0, 0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(s.klass, [0, 0, 1, 1, 2, 2, 2, 2])
    np.testing.assert_allclose(s.capacity, [100, 100, 20, 20, 5, 5, 5, 5], rtol=1e-12)
    np.testing.assert_array_equal(s.metal_yield, [0.9, 0.9, 0.85, 0.85, 0.8, 0.8, 0.8, 0.8])
    assert states(s) == ["running"] * 8
    np.testing.assert_array_equal(s.state_counts(), [[6, 0, 0, 0, 0], [2, 0, 0, 0, 0]])


def test_halt_then_restart(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.halt(ids(4, 5), log, 3.25, 0)
    assert states(s)[4:6] == ["halted", "halted"]
    np.testing.assert_array_equal(s.state_counts()[0], [4, 2, 0, 0, 0])
    np.testing.assert_array_equal(s.running_by_class[0], [2, 2, 0])
    s.restart(ids(4), log, 9.0, 0)
    assert trace(log) == [
        (3.25, "north", 4, "pulse", "halt", 0.0),
        (3.25, "north", 5, "pulse", "halt", 0.0),
        (9.0, "north", 4, "pulse", "restart", 0.0),
    ]
    assert states(s)[4:6] == ["running", "halted"] and s.state[5] == HALTED
    np.testing.assert_array_equal(s.state_counts()[0], [5, 1, 0, 0, 0])
    np.testing.assert_array_equal(s.stock, STOCK)          # halting moves no scrap


def test_suspend_rectify_reopen_clears_the_violator(smelters: Smelters) -> None:
    s, log, rng = smelters, EventLog(), np.random.default_rng(1)
    s.suspend(ids(2), log, 10.3, 0, days=5, rectify_days=4, fail=0.0)
    assert s.state[2] == SUSPENDED and s.until[2] == 15.0
    for day in range(11, 15):                              # nothing falls due before the deadline
        np.testing.assert_array_equal(s.advance(day, rng, log), [0.0, 0.0])
        assert s.state[2] == SUSPENDED
    s.advance(15, rng, log)
    assert s.state[2] == RECTIFYING and s.until[2] == 19.0
    assert s.violator[2]
    s.advance(18, rng, log)
    assert s.state[2] == RECTIFYING
    s.advance(19, rng, log)
    assert s.state[2] == RUNNING
    assert not s.violator[2] and s.violator[3]
    assert trace(log) == [
        (10.3, "north", 2, "pulse", "suspend", 0.0),
        (15.0, "north", 2, "", "rectify", 0.0),
        (19.0, "north", 2, "", "reopen", 0.0),
    ]
    np.testing.assert_array_equal(s.stock, STOCK)
    s.refresh()
    assert s.next_due == np.inf


def test_state_counts_follow_each_step_of_a_suspension(smelters: Smelters) -> None:
    s, log, rng = smelters, EventLog(), np.random.default_rng(1)
    s.suspend(ids(0, 6), log, 1.0, 0, days=2, rectify_days=3, fail=0.0)
    np.testing.assert_array_equal(s.state_counts(), [[5, 0, 1, 0, 0], [1, 0, 1, 0, 0]])
    assert s.running[0] == 0.0 and s.running[6] == 0.0
    s.advance(3, rng, log)
    np.testing.assert_array_equal(s.state_counts(), [[5, 0, 0, 1, 0], [1, 0, 0, 1, 0]])
    s.advance(6, rng, log)
    np.testing.assert_array_equal(s.state_counts(), [[6, 0, 0, 0, 0], [2, 0, 0, 0, 0]])
    assert s.running[0] == 1.0 and s.running[6] == 1.0


def test_failed_rectification_closes_and_seizes_the_stock(smelters: Smelters) -> None:
    s, log, rng = smelters, EventLog(), np.random.default_rng(1)
    s.suspend(ids(3), log, 2.0, 0, days=3, rectify_days=4, fail=1.0)
    seized = s.advance(5, rng, log)
    np.testing.assert_array_equal(seized, [30.0, 0.0])
    assert s.state[3] == CLOSED and s.stock[3] == 0.0
    assert trace(log) == [
        (2.0, "north", 3, "pulse", "suspend", 0.0),
        (5.0, "north", 3, "", "rectify_fail_close", 0.0),
        (5.0, "north", 3, "", "seize", 30.0),
    ]
    np.testing.assert_array_equal(s.state_counts()[0], [5, 0, 0, 0, 1])
    assert s.n_closed == 1
    s.advance(9, rng, log)                                  # a closed plant has no deadline left
    assert len(trace(log)) == 3


def test_deadlines_due_the_same_day_are_all_handled(smelters: Smelters) -> None:
    s, log, rng = smelters, EventLog(), np.random.default_rng(1)
    s.upgrade(ids(1), log, 0.5, 0, days=4)                 # rectifying until day 4
    s.suspend(ids(4), log, 1.0, 0, days=3, rectify_days=2, fail=1.0)
    s.suspend(ids(5), log, 1.0, 0, days=3, rectify_days=2, fail=0.0)
    seized = s.advance(4, rng, log)
    np.testing.assert_array_equal(seized, [4.0, 0.0])
    assert states(s)[1] == "running" and states(s)[4:6] == ["closed", "rectifying"]
    assert [(t, i, e) for t, _, i, _, e, _ in trace(log)] == [
        (0.5, 1, "upgrade"), (1.0, 4, "suspend"), (1.0, 5, "suspend"),
        (4.0, 1, "reopen"), (4.0, 4, "rectify_fail_close"), (4.0, 4, "seize"),
        (4.0, 5, "rectify"),
    ]
    assert s.until[5] == 6.0


def test_close_then_relapse(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    seized = s.close(ids(6, 7), log, 4.5, 0)
    np.testing.assert_array_equal(seized, [0.0, 13.0])
    np.testing.assert_array_equal(s.stock[6:], [0.0, 0.0])
    s.violator[6] = False
    s.relapse(ids(6), log, 30.0)
    assert states(s)[6:] == ["running", "closed"]
    assert s.violator[6] and s.relapsed[6] and not s.relapsed[7]
    assert trace(log) == [
        (4.5, "south", 6, "pulse", "close", 0.0),
        (4.5, "south", 7, "pulse", "close", 0.0),
        (4.5, "south", 6, "pulse", "seize", 6.0),
        (4.5, "south", 7, "pulse", "seize", 7.0),
        (30.0, "south", 6, "", "relapse", 0.0),
    ]
    np.testing.assert_array_equal(s.state_counts()[1], [1, 0, 0, 0, 1])
    s.close(ids(6), log, 40.0, 0, "audit_close")            # found again by an audit
    assert s.state[6] == CLOSED and not s.relapsed[6]
    assert trace(log)[-2:] == [(40.0, "south", 6, "pulse", "audit_close", 0.0),
                               (40.0, "south", 6, "pulse", "seize", 0.0)]


def test_close_with_per_smelter_times_keeps_them_aligned(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.close(ids(2), log, 1.0, 0)
    s.close(ids(2, 3), log, np.array([5.1, 5.2]), 0)        # 2 is already closed: dropped
    assert [(t, i, e, v) for t, _, i, _, e, v in trace(log)] == [
        (1.0, 2, "close", 0.0), (1.0, 2, "seize", 20.0),
        (5.2, 3, "close", 0.0), (5.2, 3, "seize", 30.0),
    ]


def test_illegal_transitions_are_ignored(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.restart(ids(0, 1), log, 1.0, 0)                       # running plants cannot restart
    assert trace(log) == []
    s.close(ids(7), log, 2.0, 0)
    before = trace(log)
    seized = s.close(ids(7), log, 3.0, 0)                   # closing a closed plant
    np.testing.assert_array_equal(seized, [0.0, 0.0])
    assert trace(log) == before
    s.halt(ids(7), log, 4.0, 0)                             # a closed plant cannot halt
    s.restart(ids(7), log, 4.0, 0)                          # nor restart
    s.suspend(ids(2), log, 5.0, 0, days=10, rectify_days=5, fail=0.0)
    s.halt(ids(2), log, 6.0, 0)                             # a suspended plant cannot halt
    s.restart(ids(2), log, 6.0, 0)                          # nor restart
    assert [e for *_, e, _ in trace(log)] == ["close", "seize", "suspend"]
    assert states(s) == ["running", "running", "suspended", "running", "running", "running",
                         "running", "closed"]


def test_suspending_a_closed_plant_is_ignored(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.close(ids(7), log, 1.0, 0)
    s.suspend(ids(7), log, 2.0, 0, days=3, rectify_days=2, fail=0.0)
    assert s.state[7] == CLOSED
    assert [e for *_, e, _ in trace(log)] == ["close", "seize"]


def test_upgrading_a_closed_or_suspended_plant_is_ignored(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.close(ids(7), log, 1.0, 0)
    s.suspend(ids(6), log, 1.0, 0, days=3, rectify_days=2, fail=0.0)
    s.upgrade(ids(6, 7, 5), log, 2.0, 0, days=4)
    assert states(s)[5:] == ["rectifying", "suspended", "closed"]
    assert [(i, e) for _, _, i, _, e, _ in trace(log)] == [
        (7, "close"), (7, "seize"), (6, "suspend"), (5, "upgrade")]
    assert s.until[6] == 4.0 and s.until[5] == 6.0


def test_only_closed_plants_relapse(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.relapse(ids(0), log, 2.0)
    assert not s.relapsed[0]
    assert trace(log) == []


# ---- daily economics (the kernels the model's market day runs) ---------------------------------
def plan(s: Smelters, ingot: float, price: np.ndarray, season: float, cut: np.ndarray) -> None:
    kernels.plan(s.region, s.capacity, s.metal_yield, s.cost, s.cover, s.rate0, s.response,
                 s.margin0, s.running, s.stock, price, ingot, season, cut, s.use, s.bid,
                 np.zeros(2))


def land_imports(s: Smelters, imports: np.ndarray) -> np.ndarray:
    s.refresh()
    landed = np.zeros(2)
    kernels.land(s.region, s.import_share, s.import_regions, imports, s.stock, landed)
    return landed


def test_plan_sets_use_and_bid_from_the_margin(smelters: Smelters) -> None:
    s = smelters
    s.cost[:] = [950, 950, 800, 800, 400, 400, 400, 400]
    price = np.array([11500.0, 11500.0])
    s.margin0 = s.margins(14900.0, price)
    np.testing.assert_allclose(s.margin0[[0, 2, 4]], [960.0, 365.0, 20.0])
    plan(s, 14900.0, price, 1.0, np.zeros(2))
    np.testing.assert_allclose(s.use, s.capacity * 0.65)   # reference margin: operating rate
    target = s.cover * s.capacity * 0.65
    np.testing.assert_allclose(s.bid, s.use + (target - STOCK) / 5.0)
    assert s.bid.min() > 0


def test_plan_margin_response_season_and_output_cut(smelters: Smelters) -> None:
    s = smelters
    s.cost[:] = 800.0
    s.margin0 = s.margins(14900.0, np.array([11500.0, 11500.0]))
    plan(s, 14900.0, np.array([11000.0, 11500.0]), 0.8, np.array([0.0, 0.5]))
    rate_north = 0.65 * 0.8 + 4.0 * 500.0 / 14900.0          # scrap 500 CNY/t cheaper in north
    np.testing.assert_allclose(s.use[:6], s.capacity[:6] * rate_north)
    np.testing.assert_allclose(s.use[6:], s.capacity[6:] * 0.65 * 0.8 * 0.5)


def test_plan_no_bid_at_a_negative_margin_and_nothing_when_not_running(
        smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.cost[:] = [950, 950, 800, 800, 400, 400, 400, 400]
    s.margin0[:] = 0.0
    s.halt(ids(4), log, 0.0, 0)
    s.close(ids(6), log, 0.0, 0)
    price = np.array([13000.0, 11500.0])                    # north: every margin < 0
    plan(s, 14900.0, price, 1.0, np.zeros(2))
    np.testing.assert_array_equal(s.bid[:6], np.zeros(6))
    assert s.use[4] == 0.0 and s.bid[4] == 0.0
    assert s.use[6] == 0.0 and s.bid[6] == 0.0
    assert s.bid[7] > 0.0
    assert (s.use <= s.capacity).all()


def test_imports_land_at_running_large_plants_pro_rata(smelters: Smelters) -> None:
    s, log = smelters, EventLog()
    s.capacity[:2] = [100.0, 300.0]
    s._dirty = True
    landed = land_imports(s, np.array([80.0, 50.0]))
    np.testing.assert_array_equal(landed, [80.0, 0.0])       # south has no large plant
    np.testing.assert_allclose(s.stock[:2], STOCK[:2] + [20.0, 60.0])
    np.testing.assert_array_equal(s.stock[2:], STOCK[2:])
    s.close(ids(1), log, 1.0, 0)
    before = s.stock.copy()
    land_imports(s, np.array([80.0, 0.0]))
    assert s.stock[0] - before[0] == pytest.approx(80.0, rel=1e-5)   # the closed one: ~0


def test_receive_and_smelt(smelters: Smelters) -> None:
    s = smelters
    s.bid[:] = 10.0
    kernels.receive(s.region, s.bid, np.array([0.5, 1.0]), s.stock)
    np.testing.assert_allclose(s.stock, STOCK + [5, 5, 5, 5, 5, 5, 10, 10])
    s.use[:] = [200, 0, 25, 1, 9, 9, 100, 0]
    r, violating = np.zeros(2), np.zeros(2)
    kernels.smelt(s.region, s.group, s.metal_yield, s.use, s.stock, s.smelted, r, r.copy(),
                  np.zeros(6), r.copy(), s.violator, violating)
    smelted = s.smelted
    np.testing.assert_allclose(violating, [s.smelted[(s.region == k) & s.violator].sum()
                                           for k in (0, 1)])
    np.testing.assert_allclose(smelted, [105, 0, 25, 1, 9, 9, 16, 0])
    np.testing.assert_allclose(s.stock, [0, 115, 0, 34, 0, 1, 0, 17])
