"""The environmental outcome: scrap smelted by violating (non-compliant) smelters, per day and
region (``smelted_violating``), and its change against the baseline in the summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import scrapsim

HEBEI = Path(__file__).resolve().parents[1] / "scenarios" / "hebei.yaml"
CLASSES = ("large", "small", "workshop")


def _share(share: float) -> dict[str, float]:
    return {f"regions.hebei.smelters.{c}.violator_share": share for c in CLASSES}


def test_violating_smelting_is_part_of_smelting_and_falls_under_enforcement() -> None:
    sc = scrapsim.load_scenario(HEBEI, {"end": "2017-03-31"})
    result = scrapsim.run(sc, seed=3)
    d = result.daily.to_pandas()
    assert (d["smelted_violating"] >= 0).all()
    assert (d["smelted_violating"] <= d["smelted"] + 1e-9 * d["smelted"].max()).all()
    assert 0 < d["smelted_violating"].sum() < d["smelted"].sum()
    s = result.summary
    assert s["violating_smelting_change"] < s["smelting_change"] < 0   # the cut falls on them
    assert s["regions"]["hebei"]["violating_smelting_change"] == s["violating_smelting_change"]


def test_all_or_no_violators() -> None:
    quiet = {"enforcement.intensity": 0.0, "end": "2017-02-28"}
    every = scrapsim.run(scrapsim.load_scenario(HEBEI, {**quiet, **_share(1.0)}), seed=1)
    d = every.daily.to_pandas()
    assert np.array_equal(d["smelted_violating"].to_numpy(), d["smelted"].to_numpy())
    none = scrapsim.run(scrapsim.load_scenario(HEBEI, {"end": "2017-03-31", **_share(0.0)}),
                        seed=1)
    assert (none.daily.to_pandas()["smelted_violating"] == 0).all()
    assert none.summary["violating_smelting_change"] is None      # nothing to compare with
