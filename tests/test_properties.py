"""Hypothesis properties of whole runs: MODEL.md's mass balance, bounds and consistency.

Random small scenarios (two regions, 40-80 days) over intensity, seed, trader and smelter counts
(zero included), clearing schedule and inter-regional flows. Each example is one short run.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from conftest import make_tiny, matrix
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrapsim.model.actors.smelters import STATES
from scrapsim.model.records import check_balance
from scrapsim.model.simulation import Model, Result, run
from scrapsim.scenario import Scenario

NON_NEGATIVE = (
    "generated", "uncollected", "collected", "inflow", "outflow", "trader_stock", "offered",
    "demanded", "traded", "imports", "smelter_stock", "smelted", "ingot", "seized_traders",
    "seized_smelters", "running", "halted", "suspended", "rectifying", "closed", "inspections",
    "violations", "fines", "smelted_large", "smelted_small", "smelted_workshop",
)
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
START = date(2017, 1, 1)

# Trader counts are 0 or at least 20: closing *every* trader of a region trips a known bug
# (tests/test_model.py::test_mass_balance_holds_when_a_region_loses_all_its_traders).
trader_counts = st.one_of(st.just(0), st.integers(20, 150))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    days = draw(st.integers(40, 80))
    start = START + timedelta(days=draw(st.integers(0, 200)))
    c_start = start + timedelta(days=draw(st.integers(0, days - 10)))
    c_end = c_start + timedelta(days=draw(st.integers(0, 30)))
    flows = draw(st.booleans())
    over: dict[str, Any] = {
        "start": start.isoformat(),
        "end": (start + timedelta(days=days - 1)).isoformat(),
        "enforcement.intensity": draw(st.sampled_from([0.0, 0.3, 1.0, 2.5])),
        "market.clearing_days": draw(st.integers(1, 5)),
        "market.flow_rate": draw(st.floats(0.02, 0.5)) if flows else 0.0,
        "market.transport_cost": draw(st.floats(20.0, 600.0)),
        "market.price_noise": draw(st.floats(0.0, 0.05)),
        "regions.0.traders.count": draw(trader_counts),
        "regions.1.traders.count": draw(trader_counts),
        "regions.0.smelters.large.count": draw(st.integers(1, 3)),
        "regions.0.smelters.small.count": draw(st.integers(0, 10)),
        "regions.0.smelters.workshop.count": draw(st.integers(0, 25)),
        "regions.1.smelters.small.count": draw(st.integers(0, 8)),
        "regions.1.smelters.workshop.count": draw(st.integers(0, 15)),
        "campaigns.0.start": c_start.isoformat(),
        "campaigns.0.end": c_end.isoformat(),
        "campaigns.0.regions": draw(st.sampled_from([["north"], ["south"],
                                                      ["north", "south"]])),
        "campaigns.0.teams": draw(st.integers(0, 10)),
        "campaigns.0.suspend_days": draw(st.integers(0, 15)),
        "campaigns.0.rectify_days": draw(st.integers(0, 10)),
        "campaigns.0.deadline": (c_end + timedelta(days=draw(st.integers(-5, 20)))).isoformat(),
        "behaviour.relapse_share": draw(st.sampled_from([0.0, 0.05, 0.9])),
    }
    return make_tiny(over)


def run_model(sc: Scenario, seed: int) -> tuple[Model, Result]:
    m = Model(sc, seed)
    return m, m.run()


def recompute_balance(r: Result) -> None:
    """MODEL.md's three stock equations, recomputed from the daily table alone."""
    n = 2
    d = {c: matrix(r.daily, c, n) for c in r.daily.columns if c not in ("date", "region")}
    for stock, plus, minus in (
        ("uncollected", ("generated",), ("collected",)),
        ("trader_stock", ("collected", "inflow"), ("outflow", "traded", "seized_traders")),
        ("smelter_stock", ("traded", "imports"), ("smelted", "seized_smelters")),
    ):
        prev = np.vstack([np.asarray(r.initial[stock], float)[None, :], d[stock][:-1]])
        want = prev + sum(d[c] for c in plus) - sum(d[c] for c in minus)
        scale = np.maximum(prev + sum(d[c] for c in plus), 1.0)
        assert (np.abs(d[stock] - want) <= 1e-9 * scale).all(), stock


@SETTINGS
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_mass_balance_bounds_and_consistency(sc: Scenario, seed: int) -> None:
    m, r = run_model(sc, seed)
    check_balance(r.daily, r.initial)
    recompute_balance(r)
    d = {c: matrix(r.daily, c, 2) for c in r.daily.columns if c not in ("date", "region")}
    for col in NON_NEGATIVE:
        assert (d[col] >= 0).all(), col
    # clearing: traded ≤ min(offered, demanded); nothing trades between clearings
    clearing = (np.arange(sc.days) % sc.market.clearing_days) == 0
    tiny = 1e-9 * np.maximum(d["offered"], 1.0)
    assert (d["traded"] <= np.minimum(d["offered"], d["demanded"]) + tiny).all()
    assert (d["traded"][~clearing] == 0).all() and (d["offered"][~clearing] == 0).all()
    both = clearing[:, None] & (d["offered"] + d["demanded"] > 0)
    want = (d["demanded"] - d["offered"]) / np.where(both, d["demanded"] + d["offered"], 1.0)
    np.testing.assert_allclose(d["price_pressure"][both], want[both], rtol=1e-12, atol=1e-12)
    assert (np.abs(d["price_pressure"]) <= 1.0).all()
    # capacity, yield, prices
    s = m.smelters
    for k, name in enumerate(("large", "small", "workshop")):
        cap = np.bincount(s.region, weights=s.capacity * (s.klass == k), minlength=2)
        assert (d[f"smelted_{name}"] <= cap * (1 + 1e-12)).all(), name
    np.testing.assert_allclose(d["smelted"], d["smelted_large"] + d["smelted_small"]
                               + d["smelted_workshop"], rtol=1e-12, atol=1e-9)
    assert (d["ingot"] <= d["smelted"] * (1 + 1e-12)).all()
    assert (d["ingot"] >= 0.8 * d["smelted"] * (1 - 1e-12)).all()    # lowest yield: 0.8
    price = d["scrap_price"]
    assert ((price >= sc.market.price_floor) & (price <= sc.market.price_cap)).all()
    # inter-regional flows
    np.testing.assert_allclose(d["inflow"].sum(axis=1), d["outflow"].sum(axis=1),
                               rtol=1e-12, atol=1e-9)
    if sc.market.flow_rate == 0:
        assert (d["inflow"] == 0).all() and (d["outflow"] == 0).all()
    # states: every smelter is in exactly one state; running by class adds up
    total = sum(d[name] for name in STATES)
    np.testing.assert_array_equal(total, np.broadcast_to(np.bincount(s.region, minlength=2),
                                                         total.shape))
    np.testing.assert_array_equal(d["running"], d["running_large"] + d["running_small"]
                                  + d["running_workshop"])
    counts = [sc.regions[i].traders.count for i in (0, 1)]
    assert (d["traders_active"] <= counts).all()
    for i in (0, 1):
        if counts[i] == 0:
            assert (d["collected"][:, i] == 0).all() and (d["traded"][:, i] == 0).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_run_and_baseline_share_everything_before_enforcement_starts(sc: Scenario,
                                                                     seed: int) -> None:
    r = run(sc, seed=seed)
    assert r.baseline is not None and r.summary is not None
    c = sc.campaigns[0]
    first = (c.start - sc.start).days - int(round(c.announcement_days))
    rows = 2 * max(min(first, sc.days), 0)
    for col in r.daily.columns:
        np.testing.assert_array_equal(r.daily[col][:rows], r.baseline.daily[col][:rows],
                                      err_msg=col)
    for col in ("generated", "ingot_price", "primary_price"):
        np.testing.assert_array_equal(r.daily[col], r.baseline.daily[col], err_msg=col)
    # imports land only where a large plant is still open: never more than without enforcement
    assert (r.daily["imports"] <= r.baseline.daily["imports"]).all()
    check_balance(r.baseline.daily, r.baseline.initial)
    assert 0 <= r.summary["shut_count"] <= r.summary["smelters_start"]
    if sc.enforcement.intensity == 0:
        assert r.events.n_rows == 0 and r.summary["collection_change"] in (0.0, None)

