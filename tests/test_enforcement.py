"""Enforcement as the campaigns ran it: lists in rounds, verification visits, false reports,
shut-and-ban, and the outputs that count them (MODEL.md, issue 11)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scrapsim.model.actors.lists import Rounds, draw_weighted
from scrapsim.model.simulation import run
from scrapsim.scenario import Scenario


def one_site(klass: str = "workshop", **campaign: Any) -> Scenario:
    """One region, one smelter of ``klass`` (a violator), two traders that never violate, and
    one campaign on the smelters from 10 January (overrides in ``campaign``; ``false_report``
    and ``rectifiable`` go to behaviour)."""
    behaviour = {k: campaign.pop(k) for k in ("false_report", "rectifiable") if k in campaign}
    c = {"name": "c", "regions": ["r"], "start": "2017-01-10", "end": "2017-01-10", "teams": 5,
         "inspections_per_team_day": 1, "detection": 1.0, "halt_share": 0.0,
         "targets": {"large": 1, "small": 1, "workshop": 1, "traders": 0},
         "sanctions": {"close": 1.0, "fine": 0.0}, "announcement_days": 0, **campaign}
    return Scenario.model_validate({
        "name": "one-site", "start": "2017-01-01", "end": "2017-02-28", "behaviour": behaviour,
        "regions": [{"name": "r", "generation": 8.0,
                     "traders": {"count": 2, "capacity": 10.0, "violator_share": 0.0},
                     "smelters": {klass: {"count": 1, "capacity": 10.0,
                                          "violator_share": 1.0}}}],
        "campaigns": [c]})


def trace(scenario: Scenario) -> list[tuple[int, str, str, float]]:
    """(day, campaign, event, value) of every smelter event of a run, in time order."""
    ev = run(scenario, seed=1, baseline=False).events
    keep = np.asarray(ev["actor"]) == "smelter"
    return [(int(t), c, e, float(v)) for t, c, e, v in
            zip(np.asarray(ev["time"])[keep], np.asarray(ev["campaign"])[keep],
                np.asarray(ev["event"])[keep], np.asarray(ev["value"])[keep], strict=True)
            if e != "seize"]


def test_trace_list_inspection_sanction_false_closure_audit() -> None:
    sc = one_site(false_report=1.0, audits=["2017-02-01"], audit_detection=1.0)
    assert trace(sc) == [(9, "c", "inspection", 1.0), (9, "c", "violation", 0.0),
                         (9, "c", "close", 0.0), (9, "c", "false_close", 0.0),
                         (31, "c", "audit", 1.0), (31, "c", "audit_close", 0.0)]


def test_trace_true_closure_is_audited_and_not_found() -> None:
    sc = one_site(audits=["2017-02-01"], audit_detection=1.0)
    assert trace(sc) == [(9, "c", "inspection", 1.0), (9, "c", "violation", 0.0),
                         (9, "c", "close", 0.0), (31, "c", "audit", 0.0)]


def test_trace_rectification_not_done_is_found_by_verification() -> None:
    sc = one_site("small", false_report=1.0, end="2017-01-31",
                  sanctions={"suspend": 1.0, "fine": 0.0}, suspend_days=3, rectify_days=4,
                  rectify_failure=0.0)
    assert trace(sc) == [(9, "c", "inspection", 1.0), (9, "c", "violation", 0.0),
                         (9, "c", "suspend", 0.0), (12, "", "rectify", 0.0),
                         (16, "", "reopen", 0.0), (16, "", "false_rectify", 0.0),
                         (17, "c", "verification", 1.0), (17, "c", "verify_close", 0.0)]


def test_trace_verified_rectification_then_next_round() -> None:
    """Inspections come in the morning, deadlines at midday: a plant rectified on day 16 is
    verified on day 17 (value 0), then is back on the list: the next round's inspection (day
    18) is not a first visit (value 0) and finds nothing."""
    sc = one_site("small", end="2017-01-20", sanctions={"suspend": 1.0, "fine": 0.0},
                  suspend_days=3, rectify_days=4, rectify_failure=0.0)
    got = trace(sc)
    assert got[:7] == [(9, "c", "inspection", 1.0), (9, "c", "violation", 0.0),
                       (9, "c", "suspend", 0.0), (12, "", "rectify", 0.0),
                       (16, "", "reopen", 0.0), (17, "c", "verification", 0.0),
                       (18, "c", "inspection", 0.0)]
    assert {e for _, _, e, _ in got[6:]} == {"inspection"}


def test_workshop_not_rectifiable_reopens_violating() -> None:
    sc = one_site("workshop", rectifiable=["large", "small"], end="2017-01-31",
                  sanctions={"upgrade": 1.0, "fine": 0.0}, rectify_days=4)
    events = [e for _, _, e, _ in trace(sc)]
    assert events[:5] == ["inspection", "violation", "upgrade", "reopen", "verification"]
    assert events[5] == "verify_close"          # still violating: found and closed


def test_ban_closes_whatever_the_draw() -> None:
    sc = one_site("workshop", sanctions={"suspend": 1.0, "fine": 0.0}, ban_classes=["workshop"])
    assert [e for _, _, e, _ in trace(sc)] == ["inspection", "violation", "close"]


def test_rounds_visit_every_site_once_before_repeating() -> None:
    rng = np.random.default_rng(0)
    rounds = Rounds(20)
    pool = np.arange(3, 15)
    seen = np.concatenate([rounds.pick(pool, 5, rng, np.linspace(1, 4, pool.size), day)
                           for day in range(2)] + [rounds.pick(pool, 2, rng, day=2)])
    assert sorted(seen.tolist()) == pool.tolist()           # 5 + 5 + 2: one round exactly
    nxt = rounds.pick(pool, 13, rng, day=3)
    assert sorted(nxt.tolist()) == pool.tolist()            # a day never visits a site twice
    rounds.pick(pool, 3, rng, day=4)                        # a new round: 9 left unvisited
    assert (~rounds.seen[pool]).sum() == 9
    first = rounds.first_visits(np.array([3, 16]))
    assert first.tolist() == [True, True] and rounds.first_visits(np.array([3])).tolist() == [False]


def test_weighted_draw_follows_weights() -> None:
    rng = np.random.default_rng(5)
    ids, w = np.arange(3), np.array([1.0, 1.0, 8.0])
    firsts = np.array([draw_weighted(ids, w, 1, rng)[0] for _ in range(4000)])
    assert abs((firsts == 2).mean() - 0.8) < 0.03


def test_daily_columns_and_summary_count_visits(tiny_scenario: Any) -> None:
    r = run(tiny_scenario(), seed=3)
    d = r.daily
    done, found = np.asarray(d["inspections"]), np.asarray(d["violations"])
    rate = np.asarray(d["violation_rate"])
    assert done.sum() > 0 and np.isnan(rate[done == 0]).all()
    assert np.allclose(rate[done > 0], found[done > 0] / done[done > 0])
    s = r.summary
    assert s["violation_rate"] == pytest.approx(found.sum() / done.sum())
    ev = r.events
    name = r.scenario.campaigns[0].name
    block = s["campaigns"][name]["all"]
    assert block["inspections"] == int(((ev["event"] == "inspection")
                                        & (ev["campaign"] == name)).sum())
    assert block["first_visits"] <= block["inspections"]
    assert np.asarray(d["first_visits"]).sum() == sum(
        c["all"]["first_visits"] for c in s["campaigns"].values())
    for c in r.scenario.campaigns:                  # each region's counts sum to the campaign's
        entry = s["campaigns"][c.name]
        for key in ("inspections", "first_visits", "verifications", "violations"):
            assert sum(entry[g][key] for g in c.regions) == entry["all"][key], (c.name, key)
        for g in c.regions:
            b = entry[g]
            assert b["violation_rate"] == (b["violations"] / b["inspections"]
                                           if b["inspections"] else None)
    flat = r.flat_summary()
    assert flat[f"campaigns.{name}.all.inspections"] == block["inspections"]


def _two_lists(**campaign: Any) -> Scenario:
    """One region: six workshops and four small plants, all violating; a campaign that finds
    nothing (detection 0), so the lists never change, for twelve days."""
    c = {"name": "c", "regions": ["r"], "start": "2017-01-10", "end": "2017-01-21", "teams": 2,
         "inspections_per_team_day": 1, "detection": 0.0, "halt_share": 0.0,
         "targets": {"large": 1, "small": 1, "workshop": 1, "traders": 0}, "per_site": True,
         "announcement_days": 0, **campaign}
    return Scenario.model_validate({
        "name": "two-lists", "start": "2017-01-01", "end": "2017-01-31",
        "regions": [{"name": "r", "generation": 40.0,
                     "traders": {"count": 2, "capacity": 30.0, "violator_share": 0.0},
                     "smelters": {k: {"count": n, "capacity": 5.0, "violator_share": 1.0}
                                  for k, n in (("small", 4), ("workshop", 6))}}],
        "campaigns": [c]})


def _visits_by_day(scenario: Scenario) -> list[tuple[int, str, int]]:
    from scrapsim.model.simulation import Model
    from scrapsim.scenario import SMELTER_CLASSES

    klass = Model(scenario, 1).world().smelters.klass
    ev = run(scenario, seed=1, baseline=False).events
    keep = np.asarray(ev["event"]) == "inspection"
    return [(int(t), SMELTER_CLASSES[klass[int(i)]], int(i)) for t, i in
            zip(np.asarray(ev["time"])[keep], np.asarray(ev["actor_id"])[keep], strict=True)]


def test_list_order_works_the_first_list_through_before_the_next() -> None:
    """With ``list_order: [workshop, small]`` no small plant is visited on a day that ends with
    a workshop not yet visited in the round; once both lists are through, the new round starts
    from the workshops. Without it, small plants are visited from the first days."""
    visits = _visits_by_day(_two_lists(list_order=["workshop", "small"]))
    assert len(visits) > 12
    days = sorted({d for d, _, _ in visits})
    done: set[int] = set()
    for d in days:
        done |= {i for day, k, i in visits if day == d and k == "workshop"}
        if any(day == d and k == "small" for day, k, _ in visits):
            assert len(done) == 6, (d, visits)
    first_ten = [k for _, k, _ in sorted(visits)[:10]]
    assert sorted(first_ten[:6]) == ["workshop"] * 6 and "small" in first_ten[6:]
    after = [k for _, k, _ in sorted(visits)[10:]]
    assert after and after[0] == "workshop"
    mixed = _visits_by_day(_two_lists())
    assert "small" in [k for _, k, _ in sorted(mixed)[:6]]


def test_trace_without_verify_the_revisit_is_an_inspection() -> None:
    """``verify: false``: the same re-visit, recorded as an inspection (not a first visit) and
    its finding as a violation, before the closure."""
    sc = one_site("small", false_report=1.0, end="2017-01-31", verify=False,
                  sanctions={"suspend": 1.0, "fine": 0.0}, suspend_days=3, rectify_days=4,
                  rectify_failure=0.0)
    assert trace(sc) == [(9, "c", "inspection", 1.0), (9, "c", "violation", 0.0),
                         (9, "c", "suspend", 0.0), (12, "", "rectify", 0.0),
                         (16, "", "reopen", 0.0), (16, "", "false_rectify", 0.0),
                         (17, "c", "inspection", 0.0), (17, "c", "violation", 0.0),
                         (17, "c", "verify_close", 0.0)]


def test_unlicensed_halted_workshop_is_found_on_a_list_visit() -> None:
    """A workshop halted at the announcement hides from a visit (``halted_detection`` 0) unless
    the campaign's lists hold its class as unlicensed; a campaign without lists does not."""
    halted = {"halt_share": 1.0, "halted_detection": 0.0, "announcement_days": 2}

    def found(**kw: Any) -> bool:
        return "violation" in [e for _, _, e, _ in trace(one_site("workshop", **halted, **kw))]

    assert not found()
    assert found(unlicensed_classes=["workshop"])
    assert not found(unlicensed_classes=["small"])
    assert not found(unlicensed_classes=["workshop"], lists=False)


def _counts_from_table(events: Any, campaign: str, region: str | None) -> dict[str, int]:
    """The counts of a campaign (and region) read from the event table's strings."""
    sel = np.asarray(events["campaign"]) == campaign
    if region is not None:
        sel &= np.asarray(events["region"]) == region
    event, value = np.asarray(events["event"])[sel], np.asarray(events["value"], float)[sel]
    kinds = {"inspections": ["inspection"], "verifications": ["verification"],
             "violations": ["violation"], "reported_closures": ["close", "deadline_close"],
             "false_closures": ["false_close"], "audited": ["audit"]}
    out = {k: int(np.isin(event, v).sum()) for k, v in kinds.items()}
    out["first_visits"] = int(((event == "inspection") & (value > 0)).sum())
    out["unrectified"] = int(((event == "verification") & (value > 0)).sum())
    out["audit_found"] = int(((event == "audit") & (value > 0)).sum())
    return out


@pytest.mark.parametrize("name", ["hebei", "shandong"])
def test_campaign_counts_from_the_log_are_those_of_the_event_table(name: str) -> None:
    """``by_campaign`` counts from the log's codes without building the table: per campaign
    and region, every count equals the one read from the event table (false reports, audits
    and verifications included)."""
    from scrapsim.model.enforcement import by_campaign
    from scrapsim.scenario import load_scenario

    sc = load_scenario(name, {"behaviour.false_report": 0.3})
    r = run(sc, seed=1, baseline=False)
    counts = by_campaign(r.log, sc)
    assert set(counts) == {c.name for c in sc.campaigns}
    seen = set()
    for c in sc.campaigns:
        for region in [None, *c.regions]:
            got = counts[c.name]["all" if region is None else region]
            want = _counts_from_table(r.events, c.name, region)
            assert {k: got[k] for k in want} == want, (c.name, region)
            seen |= {k for k, v in want.items() if v}
    assert {"inspections", "first_visits", "verifications", "violations", "reported_closures",
            "false_closures"} | ({"audited", "audit_found"} if name == "shandong" else set()) \
        <= seen
