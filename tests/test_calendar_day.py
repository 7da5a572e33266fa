"""The compiled calendar day (sanction_kernels.calendar_day) against the numpy code it replaces:
smelters' deadlines, traders' suspensions ending and relapse clocks, written below as the model
ran them before (Smelters.advance, Traders.reopen_due, the clocks on the behaviour stream).
Runs with that code swapped in must give the same daily and event bytes, on variants where
each part does a lot (many relapses, trader suspensions, false reports, audits, short
suspensions, no relapses at all)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from scrapsim.model import simulation
from scrapsim.model.actors.smelters import CLOSED
from scrapsim.model.simulation import NEVER, Model
from scrapsim.scenario import load_scenario


def _numpy_deadlines(self, day: int) -> None:
    s, tr = self.smelters, self.traders
    s.refresh()
    if day >= s.next_due:
        self.count(day, "seized_smelters", s.advance(day, self.streams.get("behaviour"), self.log))
    if day >= tr.next_due:
        back = tr.reopen_due(day)
        self.log.add(float(day), tr.region[back], 0, back, -1, "reopen")
    if self.relapse_hazard > 0 and (s.closed_version != self._clock_version
                                    or day >= self._next_relapse):
        if s.closed_version != self._clock_version:
            new = np.flatnonzero((s.state == CLOSED) & np.isinf(s.relapse_day))
            wait = self.streams.get("behaviour").exponential(1.0 / self.relapse_hazard,
                                                             new.size)
            if new.size:
                regions = s.region[new]
                for r in np.unique(regions).tolist():
                    mine = regions == r
                    col = self._quiet_cum[:, r]
                    at = np.searchsorted(col, col[day] + np.maximum(wait[mine], 1e-9))
                    s.relapse_day[new[mine]] = np.where(at < self.n_days, at, NEVER)
            s.relapse_day[s.state != CLOSED] = np.inf
            self._clock_version = s.closed_version
            self._next_relapse = float(s.relapse_day.min()) if s.n else np.inf
        if day < self._next_relapse:
            return
        due = np.flatnonzero((s.relapse_day <= day) & (s.state == CLOSED))
        s.relapse_day[due] = np.inf
        s.relapse(due, self.log, float(day))
        self._clock_version = s.closed_version
        self._next_relapse = float(s.relapse_day.min()) if s.n else np.inf


def _bytes(r) -> str:
    return hashlib.sha256((r.daily.to_csv() + r.events.to_csv()).encode()).hexdigest()


VARIANTS = [
    ("hebei", {}),
    ("hebei", {"behaviour.relapse_share": 0.9, "behaviour.false_report": 0.3,
               "campaigns.0.audits": ["2017-06-01", "2017-09-01"],
               "campaigns.0.suspend_days": 3, "campaigns.0.rectify_days": 4}),
    ("hebei", {"behaviour.relapse_share": 0.0}),
    ("hebei", {"campaigns.0.targets.traders": 3.0,
               "campaigns.0.trader_sanctions": {"close": 0.1, "suspend": 0.8, "upgrade": 0.0,
                                                "fine": 0.1},
               "campaigns.0.suspend_days": 2}),
    ("shandong", {"behaviour.relapse_share": 0.7}),
    ("guangdong", {}),
    ("national_2017", {"behaviour.relapse_share": 0.5}),
]


@pytest.mark.parametrize(("name", "overrides"), VARIANTS)
def test_compiled_calendar_day_gives_the_numpy_bytes(name, overrides, monkeypatch):
    sc = load_scenario(f"scenarios/{name}.yaml")
    if overrides:
        sc = sc.with_overrides(overrides)
    seeds = [0, 1] if name != "national_2017" else [3]
    compiled = [Model(sc, seed).run() for seed in seeds]
    monkeypatch.setattr(simulation.Model, "_deadlines", _numpy_deadlines)
    reference = [Model(sc, seed).run() for seed in seeds]
    events = {e for r in reference for e in set(r.events["event"].tolist())}
    for a, b in zip(compiled, reference, strict=True):
        assert _bytes(a) == _bytes(b)
        assert a.n_events == b.n_events
    if overrides.get("behaviour.relapse_share", 0) > 0.5:
        assert "relapse" in events       # the variant exercises what it is meant to
    if "campaigns.0.trader_sanctions" in overrides:
        assert "reopen" in events and "reopen" in set(
            reference[0].events["event"][reference[0].events["actor"] == "trader"].tolist())


def test_one_pass_reopenings_are_numpys() -> None:
    """The reopenings' single pass (``_reopen_traders``) against the numpy masks it replaced:
    the same ids reopened, the same states and capacities after, and the same next end of a
    suspension, NaN when a suspended trader has no end (numpy's ``min`` propagates it) and
    inf when none is left suspended."""
    from scrapsim.model import packing as pk
    from scrapsim.model import sanction_kernels as sk

    rng = np.random.default_rng(5)
    for case in range(40):
        n = int(rng.integers(0, 300))
        state = rng.choice(np.array([0, 1, 2], dtype=np.int8), n, p=[0.6, 0.3, 0.1])
        until = np.where(rng.random(n) < 0.5, rng.integers(0, 20, n).astype(float), np.inf)
        until[rng.random(n) < (0.05 if case % 2 else 0.0)] = np.nan
        region = np.sort(rng.integers(0, 3, n))
        capacity = rng.random(n) + 0.5
        base = np.where(state == 0, capacity, 0.0)
        fields = {"region": region, "state": state, "violator": np.zeros(n, bool),
                  "stock": rng.random(n), "capacity": capacity, "base": base,
                  "temper": np.ones(n), "temper_eff": (state == 0) * 1.0, "until": until,
                  "base_total": np.bincount(region, base, 3),
                  "active_count": np.bincount(region, state == 0, 3).astype(float)}
        tr = tuple(fields[f].copy() for f in pk.CAMPAIGN_TRADER_FIELDS)
        day = float(rng.integers(0, 20))
        want_back = np.flatnonzero((state == 1) & (until <= day))
        after = state.copy()
        after[want_back] = 0
        rest = until[after == 1]
        want_due = rest.min() if rest.size else np.inf
        changes = np.zeros(pk.CH_NEXT_RELAPSE + 1)
        back, due = sk._reopen_traders(day, tr, changes)
        assert np.array_equal(back, want_back), case
        assert np.array_equal(tr[pk.CT_STATE], after), case
        assert np.array_equal(tr[pk.CT_BASE][want_back], capacity[want_back]), case
        assert (np.isnan(due) and np.isnan(want_due)) or due == want_due, case
