"""Whole runs: output contract, regulators, determinism, common random numbers, limit cases.

Every test runs the real model (SimPy timeline, array populations) on the small scenario of
conftest.py, so the whole file takes a few seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest
from conftest import matrix

from scrapsim.model.actors.smelters import STATES
from scrapsim.model.records import MassBalanceError, check_balance
from scrapsim.model.simulation import Model, Result, run
from scrapsim.model.table import Table
from scrapsim.scenario import Scenario

Factory = Callable[..., Scenario]

CONTRACT = [
    "generated", "uncollected", "collected", "inflow", "outflow", "trader_stock", "offered",
    "demanded", "traded", "imports", "smelter_stock", "smelted", "ingot", "seized_traders",
    "seized_smelters", "running", "halted", "suspended", "rectifying", "closed", "inspections",
    "violations", "fines", "scrap_price", "ingot_price", "price_pressure",
]
FLOW_KEYS = ("collection_change", "smelting_change", "price_change", "mean_price_pressure",
             "offered_change", "demanded_change", "traded_change")
NEW_STATE = {"halt": "halted", "restart": "running", "suspend": "suspended",
             "upgrade": "rectifying", "rectify": "rectifying", "reopen": "running",
             "close": "closed", "deadline_close": "closed", "audit_close": "closed",
             "rectify_fail_close": "closed", "relapse": "running", "verify_close": "closed",
             "false_close": "running"}
QUIET = {"campaigns.0.perceived_risk": 0.0, "campaigns.0.halt_share": 0.0}


def events_of(result: Result, event: str, actor: str = "smelter") -> Table:
    ev = result.events
    return ev.where((ev["event"] == event) & (ev["actor"] == actor))


def day_of(sc: Scenario, when: date) -> int:
    return (when - sc.start).days


# ---- output contract --------------------------------------------------------------------------
def test_daily_table_follows_the_output_contract(tiny_scenario: Factory) -> None:
    sc = tiny_scenario()
    r = run(sc, baseline=False)
    assert r.daily.columns[:2] == ["date", "region"]
    assert r.daily.columns[2:2 + len(CONTRACT)] == CONTRACT
    assert r.daily.n_rows == 90 * 2
    np.testing.assert_array_equal(r.daily["region"][:4], ["north", "south", "north", "south"])
    assert r.daily["date"][0] == np.datetime64("2017-01-01")
    assert r.daily["date"][-1] == np.datetime64("2017-03-31")
    assert r.initial.columns == ["region", "uncollected", "trader_stock", "smelter_stock"]
    assert r.events.columns == ["time", "date", "region", "actor", "actor_id", "campaign",
                                "event", "value"]
    assert r.summary is None and r.baseline is None
    assert r.seed == 11 and 0 < r.n_events < 90  # quiet days are not timeline events
    assert r.windows == [("pulse", ["north"], date(2017, 2, 10), date(2017, 3, 5))]


def test_initial_state_is_recorded(tiny_scenario: Factory) -> None:
    sc = tiny_scenario()
    m = Model(sc, 3)
    r = m.run()
    np.testing.assert_allclose(r.initial["smelter_stock"],
                               [np.sum(m.smelters.cover[:30] * m.smelters.capacity[:30] * 0.65),
                                np.sum(m.smelters.cover[30:] * m.smelters.capacity[30:] * 0.65)],
                               rtol=1e-12)
    assert (r.initial["trader_stock"] > 0).all()
    np.testing.assert_allclose(r.initial["uncollected"], 1.5 * matrix(r.daily, "generated", 2)[0],
                               rtol=1e-12)


# ---- regulators -------------------------------------------------------------------------------
def test_inspections_only_in_campaign_regions_and_window(tiny_scenario: Factory) -> None:
    # halted workshops are never found here, so some are left to restart when inspectors leave
    # (the lists' rounds return to them until they are caught otherwise)
    sc = tiny_scenario(campaigns__0__halted_detection=0.0)
    r = run(sc, baseline=False)
    ins = r.events.where(r.events["event"] == "inspection")
    assert ins.n_rows > 100
    assert set(ins["region"]) == {"north"}
    assert set(ins["campaign"]) == {"pulse"}
    assert ins["date"].min() >= np.datetime64("2017-02-10")
    assert ins["date"].max() <= np.datetime64("2017-03-05")
    assert ((ins["time"] % 1.0) < 0.5).all()             # during the working hours before noon
    assert set(ins["actor"]) == {"smelter", "trader"}
    halts = events_of(r, "halt")
    assert set(halts["date"]) == {np.datetime64("2017-02-05")}   # announced 5 days ahead
    assert set(halts["region"]) == {"north"}
    restarts = events_of(r, "restart")
    assert set(restarts["date"]) == {np.datetime64("2017-03-06")}  # the day inspectors leave
    assert set(restarts["actor_id"]) <= set(halts["actor_id"])
    south = r.events.where(r.events["region"] == "south")
    assert south.n_rows == 0


def test_inspection_effort_scales_with_intensity(tiny_scenario: Factory) -> None:
    counts = {}
    for intensity in (0.5, 1.0, 2.0):
        r = run(tiny_scenario(enforcement__intensity=intensity), baseline=False)
        # visits: inspections and verifications share the teams' effort
        counts[intensity] = int(np.isin(r.events["event"], ["inspection", "verification"]).sum())
    for intensity, n in counts.items():
        mean = 4 * 2 * 24 * intensity                      # teams · per team-day · days
        assert abs(n - mean) < 5 * np.sqrt(mean), (intensity, n, mean)
    assert counts[0.5] < counts[1.0] < counts[2.0]


def test_intensity_zero_makes_no_events(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(enforcement__intensity=0.0))
    assert r.events.n_rows == 0
    for col in ("halted", "suspended", "rectifying", "closed", "inspections", "violations",
                "fines", "seized_traders", "seized_smelters"):
        assert (r.daily[col] == 0).all(), col
    np.testing.assert_array_equal(matrix(r.daily, "running", 2), [[30, 18]] * 90)


def test_targets_without_traders_inspect_no_trader(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(campaigns__0__targets__traders=0.0), baseline=False)
    assert (r.events["actor"] == "trader").sum() == 0
    assert len(events_of(r, "inspection")["time"]) > 100
    assert (matrix(r.daily, "traders_active", 2) == [[180, 120]]).all()


def test_targets_on_traders_only_inspect_no_smelter(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(dotted={"campaigns.0.targets": {"large": 0, "small": 0, "workshop": 0,
                                                          "traders": 1}}), baseline=False)
    smelter_events = set(r.events.where(r.events["actor"] == "smelter")["event"])
    assert smelter_events <= {"halt", "restart"}          # announcement only
    assert len(events_of(r, "inspection", "trader")["time"]) > 100
    assert len(events_of(r, "violation", "trader")["time"]) > 10


def test_no_detection_means_no_violation_and_no_sanction(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(campaigns__0__detection=0.0, campaigns__0__drones=0.0),
            baseline=False)
    assert Counter(r.events["event"]).keys() <= {"inspection", "halt", "restart"}
    assert (r.daily["violations"] == 0).all() and (r.daily["fines"] == 0).all()


def test_deadline_closes_every_violating_workshop_in_its_regions_only(
        tiny_scenario: Factory) -> None:
    sc = tiny_scenario(dotted={**QUIET, "campaigns.0.teams": 0,
                               "campaigns.0.deadline": "2017-02-20",
                               "campaigns.0.deadline_share": 1.0,
                               "campaigns.0.deadline_pace": "at_deadline",
                               "regions.0.smelters.workshop.violator_share": 0.5,
                               "regions.0.smelters.small.violator_share": 1.0,
                               "behaviour.relapse_share": 0.0})
    s = Model(sc, sc.seed).smelters                        # same seed: the same population
    want = np.flatnonzero(s.violator & (s.klass == 2) & (s.region == 0))
    assert 3 < want.size < 17
    r = run(sc, baseline=False)
    closed = events_of(r, "deadline_close")
    np.testing.assert_array_equal(np.sort(closed["actor_id"]), want)
    assert set(closed["date"]) == {np.datetime64("2017-02-20")}
    assert set(closed["region"]) == {"north"} and set(closed["campaign"]) == {"pulse"}
    shut = matrix(r.daily, "closed", 2)
    d = day_of(sc, date(2017, 2, 20))
    np.testing.assert_array_equal(shut[:d, 0], 0)
    np.testing.assert_array_equal(shut[d:, 0], want.size)
    np.testing.assert_array_equal(shut[:, 1], 0)           # south workshops violate too: spared
    assert Counter(r.events["event"]) == {"deadline_close": want.size, "seize": want.size}


def even_deadline(tiny_scenario: Factory, **dotted: object) -> Scenario:
    """North's 20 workshops (all violating) listed, a deadline 59 days after the campaign's
    start (eight weekly steps and the deadline), no inspections."""
    return tiny_scenario(dotted={**QUIET, "campaigns.0.teams": 0,
                                 "campaigns.0.start": "2017-01-10",
                                 "campaigns.0.end": "2017-03-20",
                                 "campaigns.0.deadline": "2017-03-10",
                                 "behaviour.relapse_share": 0.0, **dotted})


def test_an_even_deadline_shuts_the_list_week_by_week_and_completes_it_on_the_day(
        tiny_scenario: Factory) -> None:
    sc = even_deadline(tiny_scenario)
    r = run(sc, baseline=False)
    closed = events_of(r, "deadline_close")
    steps = [np.datetime64(date(2017, 1, 10)) + np.timedelta64(7 * (j + 1), "D")
             for j in range(8)] + [np.datetime64("2017-03-10")]
    assert set(closed["date"]) <= set(steps)
    pop = Model(sc, sc.seed).smelters
    np.testing.assert_array_equal(np.sort(closed["actor_id"]),
                                  np.flatnonzero((pop.klass == 2) & (pop.region == 0)))
    assert len(set(closed["actor_id"])) == 20              # each shut once, all by the day
    assert len(set(closed["date"])) >= 4 and closed["date"].min() < np.datetime64("2017-02-01")
    shut = matrix(r.daily, "closed", 2)[:, 0]
    assert np.all(np.diff(shut) >= 0) and shut[day_of(sc, date(2017, 3, 10))] == 20
    at_once = run(even_deadline(tiny_scenario, **{"campaigns.0.deadline_pace": "at_deadline"}),
                  baseline=False)
    assert set(events_of(at_once, "deadline_close")["date"]) == {np.datetime64("2017-03-10")}


def test_an_even_deadline_shuts_the_same_share_each_week(tiny_scenario: Factory) -> None:
    """Step j of K shuts d / (K - d j) of what is left: d / K of the list each week and d of it
    by the deadline, for any share d (and at most 1 a step)."""
    from scrapsim.model.actors.regulators import Regulator
    for share in (1.0, 0.6, 0.05):
        sc = even_deadline(tiny_scenario, **{"campaigns.0.deadline_share": share})
        reg = Regulator(Model(sc, sc.seed).world())
        steps = reg._deadline_steps(sc.campaigns[0])
        assert [w for w, _ in steps] == [date(2017, 1, 10) + timedelta(days=7 * j)
                                         for j in range(1, 9)] + [date(2017, 3, 10)]
        left, each = 1.0, []
        for _, p in steps:
            assert p is not None and 0 < p <= 1
            each.append(left * p)
            left *= 1 - p
        np.testing.assert_allclose(each, share / 9, rtol=1e-12)
        np.testing.assert_allclose(1 - left, share, rtol=1e-12)
    assert reg._deadline_steps(sc.campaigns[0].model_copy(
        update={"deadline_pace": "at_deadline"})) == [(date(2017, 3, 10), None)]
    late = sc.campaigns[0].model_copy(update={"deadline": date(2017, 1, 5)})
    assert [w for w, _ in reg._deadline_steps(late)] == [date(2017, 1, 5)]   # before the start


def test_a_site_reported_shut_is_off_an_even_programme_but_not_off_the_deadline_day(
        tiny_scenario: Factory) -> None:
    """With every report of closure false, each listed workshop is reported shut once under
    the even pace (a later step leaves a site reported shut alone: it is the audit's and the
    inspectors' to find) and goes on producing; all on the deadline's day, once too."""
    for pace in ("even", "at_deadline"):
        r = run(even_deadline(tiny_scenario, **{"behaviour.false_report": 1.0,
                                                "campaigns.0.deadline_pace": pace}),
                baseline=False)
        for kind in ("deadline_close", "false_close"):
            ids = events_of(r, kind)["actor_id"]
            assert ids.size == 20 and len(set(ids)) == 20, (pace, kind)
        assert matrix(r.daily, "closed", 2)[-1, 0] == 0


def test_deadline_at_intensity_zero_does_nothing(tiny_scenario: Factory) -> None:
    sc = tiny_scenario(dotted={**QUIET, "campaigns.0.deadline": "2017-02-20",
                               "enforcement.intensity": 0.0})
    assert run(sc, baseline=False).events.n_rows == 0


def test_audit_closes_the_relapsed_sites(tiny_scenario: Factory) -> None:
    sc = tiny_scenario(dotted={
        "campaigns.0.start": "2017-01-10", "campaigns.0.end": "2017-01-20",
        "campaigns.0.announcement_days": 0, "campaigns.0.halt_share": 0.0,
        "campaigns.0.teams": 30, "campaigns.0.detection": 1.0,
        "campaigns.0.targets": {"large": 0, "small": 0, "workshop": 1, "traders": 0},
        "campaigns.0.sanctions": {"close": 1.0, "suspend": 0, "upgrade": 0, "fine": 0},
        "campaigns.0.audits": ["2017-03-15"], "campaigns.0.audit_detection": 1.0,
        "behaviour.relapse_share": 0.95})
    r = run(sc, baseline=False)
    closed = events_of(r, "close")
    assert closed.n_rows == 20                              # every north workshop, in the window
    assert closed["date"].max() <= np.datetime64("2017-01-20")
    audit = np.datetime64("2017-03-15")
    relapsed = events_of(r, "relapse")
    before = np.sort(relapsed["actor_id"][relapsed["date"] < audit])
    assert before.size >= 3
    assert relapsed["date"].min() > np.datetime64("2017-01-20")   # not while inspectors stay
    found = events_of(r, "audit_close")
    assert set(found["date"]) == {audit}
    np.testing.assert_array_equal(np.sort(found["actor_id"]), before)
    audited = events_of(r, "audit")                          # every site reported closed
    assert set(audited["date"]) == {audit}
    np.testing.assert_array_equal(np.sort(audited["actor_id"]), np.sort(closed["actor_id"]))
    np.testing.assert_array_equal(np.sort(audited["actor_id"][audited["value"] == 1]), before)
    d = day_of(sc, date(2017, 3, 15))
    assert matrix(r.daily, "closed", 2)[d, 0] == 20 - relapsed.where(
        relapsed["date"] == audit)["actor_id"].size


def busy(tiny_scenario: Factory) -> Scenario:
    """Every mechanism at once: two campaigns, a deadline, an audit, relapse, upgrades."""
    second = {"name": "sweep", "regions": ["north", "south"], "start": "2017-03-20",
              "end": "2017-04-10", "teams": 3, "targets": {"traders": 1},
              "sanctions": {"close": 0.2, "suspend": 0.4, "upgrade": 0.3, "fine": 0.1},
              "rectify_failure": 0.5, "suspend_days": 6, "rectify_days": 5,
              "deadline": "2017-04-05", "deadline_share": 0.7, "audits": ["2017-04-25"]}
    sc = tiny_scenario(end="2017-04-30", behaviour__relapse_share=0.9,
                       campaigns__0__rectify_failure=0.5)
    return sc.with_overrides({"campaigns": [sc.campaigns[0].model_dump(), second]})


def test_daily_accounts_match_the_event_table(tiny_scenario: Factory) -> None:
    sc = busy(tiny_scenario)
    r = run(sc, baseline=False)
    ev, names = r.events, ["north", "south"]
    assert set(ev["event"]) >= {"deadline_close", "rectify_fail_close", "relapse", "upgrade",
                                "fine", "seize", "reopen"}
    dates = r.daily["date"].reshape(-1, 2)[:, 0]

    def per_day(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros((len(dates), 2))
        idx = (ev["date"][mask] - dates[0]).astype(int)
        reg = np.array([names.index(x) for x in ev["region"][mask]], dtype=int)
        np.add.at(out, (idx, reg), 1.0 if weights is None else weights[mask])
        return out

    smelter, trader = ev["actor"] == "smelter", ev["actor"] == "trader"
    np.testing.assert_array_equal(matrix(r.daily, "inspections", 2),
                                  per_day(ev["event"] == "inspection"))
    np.testing.assert_array_equal(matrix(r.daily, "violations", 2),
                                  per_day(ev["event"] == "violation"))
    np.testing.assert_allclose(matrix(r.daily, "fines", 2),
                               per_day(ev["event"] == "fine", ev["value"]))
    np.testing.assert_allclose(matrix(r.daily, "seized_smelters", 2),
                               per_day((ev["event"] == "seize") & smelter, ev["value"]),
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(matrix(r.daily, "seized_traders", 2),
                               per_day((ev["event"] == "seize") & trader, ev["value"]),
                               rtol=1e-12, atol=1e-9)


def test_replaying_smelter_events_gives_the_daily_state_counts(tiny_scenario: Factory) -> None:
    sc = busy(tiny_scenario)
    m = Model(sc, sc.seed)
    r = m.run()
    state = np.array(["running"] * m.smelters.n, dtype=object)
    ev = r.events.where(r.events["actor"] == "smelter")
    dates = r.daily["date"].reshape(-1, 2)[:, 0]
    k = 0
    for d, today in enumerate(dates):
        while k < ev.n_rows and ev["date"][k] <= today:
            if ev["event"][k] in NEW_STATE:
                state[ev["actor_id"][k]] = NEW_STATE[ev["event"][k]]
            k += 1
        for reg in (0, 1):
            mine = state[m.smelters.region == reg]
            for name in STATES:
                assert r.daily[name][2 * d + reg] == (mine == name).sum(), (str(today), reg, name)
    np.testing.assert_array_equal(state, np.array(STATES, dtype=object)[m.smelters.state])


def tampered(r: Result, column: str, row: int, delta: float) -> Table:
    cols = {k: v.copy() for k, v in r.daily.items()}
    cols[column][row] += delta
    return Table(cols)


def test_check_balance_catches_a_broken_row(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(), baseline=False)
    check_balance(r.daily, r.initial)
    with pytest.raises(MassBalanceError, match=r"trader_stock off by 0\.001 t on day 20 in south"):
        check_balance(tampered(r, "trader_stock", 41, 1e-3), r.initial)
    with pytest.raises(MassBalanceError, match=r"uncollected .* day 0 in north"):
        check_balance(tampered(r, "collected", 0, 1e-3), r.initial)
    with pytest.raises(MassBalanceError, match=r"smelter_stock .* day 89 in north"):
        check_balance(tampered(r, "smelted", 178, 1e-3), r.initial)
    with pytest.raises(MassBalanceError, match="ingot exceeds smelted"):
        row = int(np.argmax(r.daily["smelted"]))
        check_balance(tampered(r, "ingot", row, r.daily["smelted"][row]), r.initial)
    cols = {k: v.copy() for k, v in r.daily.items()}
    cols["inflow"][10] += 5.0                              # day 5, north: 5 t from nowhere
    cols["trader_stock"][10::2] += 5.0                     # the north's yards balance with it
    with pytest.raises(MassBalanceError, match="inflows and outflows differ"):
        check_balance(Table(cols), r.initial)


# ---- determinism and common random numbers ----------------------------------------------------
def test_same_seed_same_bytes(tiny_scenario: Factory) -> None:
    sc = busy(tiny_scenario)
    a, b = run(sc, seed=5), run(sc, seed=5)
    assert a.daily.to_csv() == b.daily.to_csv()
    assert a.events.to_csv() == b.events.to_csv()
    assert a.initial.to_csv() == b.initial.to_csv()
    assert a.events.n_rows > 100


def test_running_a_model_twice_gives_the_same_tables(tiny_scenario: Factory) -> None:
    model = Model(busy(tiny_scenario), 5)
    first = model.run()
    daily, events, n_events = first.daily.to_csv(), first.events.to_csv(), first.log.count
    second = model.run()
    assert second.daily.to_csv() == daily
    assert second.events.to_csv() == events
    assert second.initial.to_csv() == first.initial.to_csv()
    assert first.log.count == n_events == second.log.count > 100  # the first log is untouched
    assert first.events.to_csv() == events


def test_different_seed_different_run(tiny_scenario: Factory) -> None:
    sc = busy(tiny_scenario)
    a, b = run(sc, seed=5, baseline=False), run(sc, seed=6, baseline=False)
    assert a.daily.to_csv() != b.daily.to_csv()
    assert a.events.to_csv() != b.events.to_csv()
    assert not np.array_equal(a.daily["generated"], b.daily["generated"])


def test_the_scenario_seed_is_the_default(tiny_scenario: Factory) -> None:
    sc = tiny_scenario()
    assert run(sc, baseline=False).daily.to_csv() == \
        run(sc, seed=11, baseline=False).daily.to_csv()


def test_baseline_is_the_intensity_zero_run_with_the_same_seed(tiny_scenario: Factory) -> None:
    sc = tiny_scenario()
    r = run(sc, seed=9)
    direct = run(sc.with_overrides({"enforcement.intensity": 0.0}), seed=9, baseline=False)
    assert r.baseline is not None
    assert r.baseline.daily.to_csv() == direct.daily.to_csv()
    assert r.baseline.events.n_rows == 0


def test_run_and_baseline_agree_until_the_announcement(tiny_scenario: Factory) -> None:
    sc = tiny_scenario()
    r = run(sc, seed=9)
    announce = day_of(sc, date(2017, 2, 5))
    rows = 2 * announce
    for col in r.daily.columns:
        np.testing.assert_array_equal(r.daily[col][:rows], r.baseline.daily[col][:rows],
                                      err_msg=col)
    assert not np.array_equal(r.daily["halted"][:rows + 2], r.baseline.daily["halted"][:rows + 2])
    # exogenous inputs stay common throughout (common random numbers)
    for col in ("generated", "imports", "ingot_price", "primary_price"):
        np.testing.assert_array_equal(r.daily[col], r.baseline.daily[col], err_msg=col)


# ---- limit cases ------------------------------------------------------------------------------
def assert_no_policy_effect(r: Result) -> None:
    assert r.summary is not None
    for key in FLOW_KEYS:
        assert r.summary[key] == 0.0, key
    assert r.summary["shut_count"] == 0 and r.summary["shut_share"] == 0.0
    assert r.summary["closed_share"] == 0.0
    for col in ("halted", "suspended", "rectifying", "closed"):
        assert (r.daily[col] == 0).all(), col


def test_intensity_zero_shuts_nobody_and_changes_nothing(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(enforcement__intensity=0.0))
    assert_no_policy_effect(r)
    assert r.summary["smelters_start"] == 48


def test_a_campaign_without_effort_matches_its_baseline_exactly(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(dotted={**QUIET, "campaigns.0.teams": 0}))
    assert r.baseline is not r
    assert r.daily.to_csv() == r.baseline.daily.to_csv()
    assert r.events.n_rows == 0
    assert_no_policy_effect(r)


def test_no_campaigns_matches_its_baseline_exactly(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(campaigns=[]))
    assert r.windows == [] and r.summary["windows"] == []
    assert r.daily.to_csv() == r.baseline.daily.to_csv()
    assert_no_policy_effect(r)
    assert r.summary["recovery_days"] is None


def test_no_traders_means_no_trade(tiny_scenario: Factory) -> None:
    sc = tiny_scenario(regions__0__traders__count=0, regions__1__traders__count=0)
    r = run(sc)
    for col in ("collected", "offered", "traded", "inflow", "outflow", "trader_stock",
                "seized_traders"):
        assert (r.daily[col] == 0).all(), col
    gen = matrix(r.daily, "generated", 2)
    np.testing.assert_allclose(matrix(r.daily, "uncollected", 2),
                               r.initial["uncollected"] + np.cumsum(gen, axis=0), rtol=1e-12)
    stock = matrix(r.daily, "smelter_stock", 2)
    flows = matrix(r.daily, "imports", 2) - matrix(r.daily, "smelted", 2) \
        - matrix(r.daily, "seized_smelters", 2)
    np.testing.assert_allclose(stock, r.initial["smelter_stock"] + np.cumsum(flows, axis=0),
                               rtol=1e-9, atol=1e-9)
    assert matrix(r.daily, "smelted", 2)[-1, 1] == 0.0      # the south runs dry: no imports
    assert (matrix(r.daily, "price_pressure", 2)[matrix(r.daily, "demanded", 2) > 0] == 1.0).all()


def test_uncollected_scrap_waits_and_is_collected_after_new_year(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(enforcement__intensity=0.0), baseline=False)
    unc = matrix(r.daily, "uncollected", 2).sum(axis=1)
    col = matrix(r.daily, "collected", 2).sum(axis=1)
    gen = matrix(r.daily, "generated", 2).sum(axis=1)
    cny = day_of(r.scenario, date(2017, 1, 28))
    before = unc[cny - 20:cny - 12].mean()
    peak = unc[cny - 5:cny + 15].max()
    assert peak > 5 * before                                  # the backlog builds up at CNY
    assert unc[cny + 25] < 0.2 * peak                         # and is worked off
    assert (col[cny + 12:cny + 20] > gen[cny + 12:cny + 20]).all()
    assert unc[-10:].mean() < 1.5 * before                    # nothing is lost
    assert col.sum() == pytest.approx(gen.sum() + r.initial["uncollected"].sum() - unc[-1],
                                      rel=1e-12)


def test_enforcement_cuts_collection_and_smelting_in_the_window(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario())
    s = r.summary
    assert s["collection_change"] < -0.1
    assert s["smelting_change"] < -0.1
    assert s["shut_count"] > 10 and s["smelters_start"] == 48
    assert s["regions"]["north"]["shut_count"] == s["shut_count"]
    assert s["regions"]["south"]["shut_count"] == 0
    assert s["regions"]["north"]["smelting_change"] < s["regions"]["south"]["smelting_change"]
    check_balance(r.daily, r.initial)


def test_the_first_price_respects_the_cap(tiny_scenario: Factory) -> None:
    r = run(tiny_scenario(market__primary_price=35000), baseline=False)
    assert r.daily["scrap_price"].max() <= 30000.0


def test_mass_balance_holds_when_a_region_loses_all_its_traders(tiny_scenario: Factory) -> None:
    sc = tiny_scenario(dotted={
        "regions.0.traders.count": 15, "regions.0.traders.violator_share": 1.0,
        "campaigns.0.trader_sanctions": {"close": 1.0, "suspend": 0, "fine": 0},
        "campaigns.0.targets": {"large": 0, "small": 0, "workshop": 0, "traders": 1},
        "campaigns.0.detection": 1.0, "campaigns.0.teams": 20,
        "campaigns.0.perceived_risk": 0.0, "market.transport_cost": 100})
    r = run(sc, seed=0, baseline=False, check=False)
    assert (matrix(r.daily, "traders_active", 2)[-1] == [0, 120]).all()
    assert matrix(r.daily, "inflow", 2)[:, 0].sum() > 0
    check_balance(r.daily, r.initial)


@pytest.mark.parametrize("name", ["hebei", "shandong", "national_2017"])
def test_quiet_days_in_one_call_give_the_bytes_of_day_by_day(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The days between two things on the calendar run in one compiled call; stepping every
    day from Python (as before) gives the same tables, with suspensions, rectifications,
    trader reopenings and relapses falling due in between."""
    import scrapsim
    from scrapsim.model import loops

    sc = scrapsim.load_scenario(f"scenarios/{name}.yaml")
    if name == "national_2017":  # its year in a quarter: the deadlines and audits of spring
        sc = sc.model_copy(update={"end": date(2017, 4, 30)})
    calls: list[int] = []
    original = loops.market_days

    def counted(first: int, last: int, *args: object) -> None:
        calls.append(last - first)
        original(first, last, *args)

    monkeypatch.setattr(loops, "market_days", counted)
    batched = Model(sc, 5).run()
    monkeypatch.setattr(Model, "quiet_until", lambda self, env, day: day + 1)
    stepped = Model(sc, 5).run()
    assert batched.daily.to_csv() == stepped.daily.to_csv()
    assert batched.events.to_csv() == stepped.events.to_csv()
    assert batched.n_events < stepped.n_events
    kinds = set(batched.events["event"])
    assert {"reopen", "suspend"} <= kinds  # deadlines fell due on the way
    assert sum(calls) > 40 and sum(calls) > 2 * len(calls)  # many days, in few calls


def test_recovery_held_days_are_the_first_day_inside_for_the_whole_hold() -> None:
    """``_back_within`` (a cumulative count of the days outside the band) gives the day a
    day-by-day search gives: the first day after the window from which the 7-day mean stays
    within the band for ``RECOVERY_HOLD`` days; None when no such day is left in the run."""
    from scrapsim.model.summary import RECOVERY_HOLD, _back_within

    def by_day(x: np.ndarray, base: np.ndarray, band: float, last_end: int) -> int | None:
        kernel = np.ones(7) / 7.0
        xm, bm = np.convolve(x, kernel)[:len(x)], np.convolve(base, kernel)[:len(base)]
        inside = np.abs(xm - bm) <= band * np.abs(bm)
        for day in range(last_end + 1, len(x) - RECOVERY_HOLD + 1):
            if inside[day:day + RECOVERY_HOLD].all():
                return day - last_end
        return None

    rng = np.random.default_rng(5)
    found = 0
    for _ in range(400):
        n = int(rng.integers(20, 120))
        base = rng.uniform(50, 150, n)
        x = base * (1 + rng.normal(0, rng.uniform(0.01, 0.3), n))
        last_end = int(rng.integers(0, n + 2))
        band = float(rng.uniform(0.02, 0.3))
        want = by_day(x, base, band, last_end)
        assert _back_within(x, base, band, last_end) == want
        found += want is not None
    assert 50 < found < 350                      # both outcomes are exercised
    assert _back_within(np.ones(30), np.ones(30), 0.05, None) is None


@pytest.mark.parametrize("owner", ["smelters", "traders"])
def test_an_array_rebound_during_a_run_is_refused(tiny_scenario: Factory, owner: str) -> None:
    """Enforcement's compiled calls take the populations' arrays packed once a run; an array
    rebound after that (the kernels would go on changing the old one) fails the run's result
    instead of giving tables that silently disagree."""
    sc = tiny_scenario()
    model = Model(sc, sc.seed)
    actors = getattr(model, owner)
    actors.stock = actors.stock.copy()
    with pytest.raises(RuntimeError, match="rebound"):
        model.run()
    assert Model(sc, sc.seed).run().daily is not None     # untouched, it runs
