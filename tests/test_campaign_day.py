"""A campaign's day compiled (scrapsim.model.campaign_kernels) gives the events of the numpy
code it replaced, draw for draw, on every kind of campaign; and its multinomial is numpy's.

``tests/data/campaign_events.json`` holds a digest of the event table of each case below as
the numpy implementation wrote it (commit 2985318, before the day was compiled), recorded
with ``PYTHONPATH=<that checkout> python tests/test_campaign_day.py > tests/data/...``. The
digest covers every event's time, actor, id, campaign, kind and value, except the tonnes of
``seize`` events: those come from the market's arithmetic (the C library's ``exp`` and
``pow``), the rest only from the random streams and the state machine, so it holds on any
machine; ``benchmarks/table_hashes.py`` compares whole tables on one machine.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import scrapsim
from scrapsim.model.simulation import Model
from scrapsim.scenario import Scenario

DATA = Path(__file__).parent / "data" / "campaign_events.json"
SHORT = {"hebei": "2017-08-31", "shandong": "2017-10-31"}
"""Each case runs to the end of its campaigns' busiest months (the runs are short)."""


def _campaigns(d: dict, **fields: object) -> dict:
    d = json.loads(json.dumps(d))
    for c in d["campaigns"]:
        c.update(fields)
    return d


CASES = {
    "as shipped": lambda d: d,
    "no lists": lambda d: _campaigns(d, lists=False),
    "no verification": lambda d: _campaigns(d, verify=False),
    "list order": lambda d: _campaigns(d, list_order=["workshop", "small", "large"]),
    "unlicensed": lambda d: _campaigns(d, unlicensed_classes=["workshop"]),
    "per site, size bias": lambda d: _campaigns(d, per_site=True, size_bias=0.7),
    "ban and drones": lambda d: _campaigns(d, ban_classes=["workshop", "small"], drones=0.5),
    "traders": lambda d: _campaigns(
        d, targets={"large": 0.1, "small": 0.1, "workshop": 0.1, "traders": 2.0},
        trader_sanctions={"close": 0.4, "suspend": 0.3, "upgrade": 0.1, "fine": 0.2}),
    "traders, no lists": lambda d: _campaigns(
        d, lists=False, targets={"large": 0.2, "small": 0.2, "workshop": 0.2, "traders": 1.0}),
    "heavy": lambda d: {**_campaigns(d, teams=80, sanctions={"close": 0.2, "suspend": 0.4,
                                                              "upgrade": 0.2, "fine": 0.2}),
                        "enforcement": {"intensity": 2.5}},
    "false reports": lambda d: {**d, "behaviour": {**d["behaviour"], "false_report": 0.3,
                                                   "relapse_share": 0.2}},
}


def digest(scenario: str, case: str, seed: int) -> str:
    data = scrapsim.load_scenario(scenario).model_dump(mode="json")
    data["end"] = SHORT[scenario]
    data = _campaigns(data, deadline_pace="at_deadline")   # the numpy code's deadline: one day
    events = Model(Scenario.model_validate(CASES[case](data)), seed).run().events
    value = np.where(np.asarray(events["event"]) == "seize", 0.0, events["value"])
    text = "\n".join(f"{t!r},{a},{i},{c},{e},{v!r}" for t, a, i, c, e, v in zip(
        np.asarray(events["time"]).tolist(), events["actor"], np.asarray(events["actor_id"]),
        events["campaign"], events["event"], value.tolist(), strict=True))
    return f"{len(value)} {hashlib.sha256(text.encode()).hexdigest()[:16]}"


KEYS = [(s, c, seed) for s in SHORT for c in CASES for seed in (0, 1)]


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(DATA.read_text())


@pytest.mark.parametrize(("scenario", "case", "seed"), KEYS)
def test_the_events_are_those_of_the_numpy_code(recorded: dict, scenario: str, case: str,
                                                seed: int) -> None:
    assert digest(scenario, case, seed) == recorded[f"{scenario} / {case} / {seed}"]


def test_every_case_makes_events_and_the_cases_differ(recorded: dict) -> None:
    """Each case ran campaigns (not an empty table) and changes what happens."""
    counts = {k: int(v.split()[0]) for k, v in recorded.items()}
    assert min(counts.values()) > 100
    for scenario in SHORT:
        mine = {v for k, v in recorded.items() if k.startswith(f"{scenario} / ")
                and k.endswith(" / 0")}
        assert len(mine) == len(CASES)


@pytest.mark.parametrize("seed", range(8))
def test_multinomial_is_numpys(seed: int) -> None:
    """Counts and the generator's state after them, including zero weights and a last weight
    of zero (the next-to-last share of what is left can exceed 1 by a rounding step)."""
    from scrapsim.model import campaign_kernels

    src = np.random.default_rng(1000 + seed)
    for _ in range(400):
        w = src.random(4) * src.choice([0.0, 1.0, 1.0, 1.0], 4)
        if src.random() < 0.3:
            w[3] = 0.0
        if w.sum() == 0:
            continue
        n = int(src.choice([1, 2, 3, 5, 10, 40, 200, 5000]))
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        want = a.multinomial(n, w / w.sum())
        got = campaign_kernels.multinomial(b, n, w / w.sum())
        assert np.array_equal(got, want)
        assert a.bit_generator.state == b.bit_generator.state


if __name__ == "__main__":       # record the digests (on the code the cases must match)
    json.dump({f"{s} / {c} / {seed}": digest(s, c, seed) for s, c, seed in KEYS}, sys.stdout,
              indent=1)
    sys.stdout.write("\n")
