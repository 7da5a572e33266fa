"""Sweep designs: --vary parsing, grids, Latin hypercubes, validation and CRN seeds."""

from __future__ import annotations

import numpy as np
import pytest

from scrapsim.experiments.design import (
    SweepSpecError,
    build_design,
    parse_vary,
    rep_seeds,
    validate_points,
)
from scrapsim.scenario import Scenario

TINY = {
    "name": "tiny", "start": "2017-04-01", "end": "2017-04-30",
    "regions": [{"name": "hebei", "generation": 1000,
                 "traders": {"count": 20, "capacity": 60},
                 "smelters": {"large": {"count": 2, "capacity": 200},
                              "workshop": {"count": 10, "capacity": 20, "metal_yield": 0.7}}}],
    "campaigns": [{"name": "inspection", "regions": ["hebei"], "start": "2017-04-10",
                   "end": "2017-04-20", "teams": 4}],
}


@pytest.fixture
def base() -> Scenario:
    return Scenario.model_validate(TINY)


def test_range_is_inclusive_and_rounded(base: Scenario) -> None:
    axis = parse_vary("enforcement.intensity=0:2:21", base)
    assert len(axis.values) == 21
    assert axis.values[0] == 0.0 and axis.values[-1] == 2.0
    assert axis.values[3] == 0.3  # not 0.30000000000000004
    assert parse_vary("enforcement.intensity=2:0:3", base).values == (2.0, 1.0, 0.0)


def test_list_values_are_yaml(base: Scenario) -> None:
    assert parse_vary("enforcement.intensity=0, 0.5,1", base).values == (0, 0.5, 1)
    dates = parse_vary("campaigns.0.end=2017-04-15,2017-04-25", base).values
    assert [d.isoformat() for d in dates] == ["2017-04-15", "2017-04-25"]


def test_integer_field_gets_integers(base: Scenario) -> None:
    axis = parse_vary("regions.hebei.traders.count=10:30:3", base)
    assert axis.values == (10, 20, 30) and all(type(v) is int for v in axis.values)


def test_several_vary_give_full_grid_first_key_slowest(base: Scenario) -> None:
    design = build_design(base, ["enforcement.intensity=0,1", "regions.0.traders.count=5,6,7"])
    # one spelling per field: a list item by its name (regions.0 is the region "hebei")
    assert design.keys == ["enforcement.intensity", "regions.hebei.traders.count"]
    assert [tuple(p.values()) for p in design.points] == [
        (0, 5), (0, 6), (0, 7), (1, 5), (1, 6), (1, 7)]


def test_mapping_from_python_api(base: Scenario) -> None:
    design = build_design(base, {"enforcement.intensity": np.array([0.0, 0.5])})
    assert design.points == ({"enforcement.intensity": 0.0}, {"enforcement.intensity": 0.5})


def test_lhs_one_sample_per_stratum_and_seeded(base: Scenario) -> None:
    specs = ["enforcement.intensity=0..2", "regions.hebei.traders.count=10..30"]
    design = build_design(base, specs, "lhs", samples=8, root_seed=5)
    x = np.array([p["enforcement.intensity"] for p in design.points])
    assert len(design.points) == 8 and design.kind == "lhs"
    assert sorted(np.floor(x / 2 * 8).astype(int)) == list(range(8))  # Latin: one per stratum
    assert all(type(p["regions.hebei.traders.count"]) is int for p in design.points)
    assert build_design(base, specs, "lhs", samples=8, root_seed=5).points == design.points
    assert build_design(base, specs, "lhs", samples=8, root_seed=6).points != design.points


def test_seeds_are_common_and_prefix_stable() -> None:
    seeds = rep_seeds(2017, 5)
    assert len(set(seeds)) == 5
    assert rep_seeds(2017, 3) == seeds[:3]  # more replications extend, never reshuffle
    assert rep_seeds(2018, 3) != seeds[:3]
    assert all(0 <= s < 2**32 for s in seeds)


@pytest.mark.parametrize("spec, words", [
    ("enforcement.intensty=0:2:3", ["unknown key 'intensty'", "did you mean 'intensity'"]),
    ("regions.beijing.traders.count=1,2", ["no item 'beijing'"]),
    ("enforcement.intensity=0:2:0", ["empty range"]),
    ("enforcement.intensity=1:1:3", ["empty range"]),
    ("enforcement.intensity=0:2:2.5", ["N must be a whole number"]),
    ("enforcement.intensity=0,,1", ["empty value"]),
    ("enforcement.intensity=0..2", ["need --design lhs"]),
    ("enforcement.intensity=0:2", ["three parts, START:STOP:N"]),
    ("enforcement.intensity=a:b:3", ["START and STOP must be finite numbers"]),
    ("enforcement.intensity=0:inf:3", ["START and STOP must be finite numbers"]),
    ("enforcement.intensity", ["expected KEY=START:STOP:N"]),
    ("seed=1,2", ["use --seed"]),
])
def test_bad_spec_is_refused_when_parsed(base: Scenario, spec: str, words: list[str]) -> None:
    with pytest.raises(SweepSpecError) as err:
        build_design(base, [spec])
    text = str(err.value)
    assert text.startswith(f"--vary {spec}")
    for w in words:
        assert w in text


@pytest.mark.parametrize("spec, words", [
    ("enforcement.intensity=a,b", ["point 0", "enforcement.intensity", "valid number"]),
    ("enforcement.intensity=1,-1", ["point 1", "greater than or equal to 0"]),
    ("regions.hebei.traders.count=0.5,1", ["valid integer"]),
    ("campaigns.0.end=2017-04-01", ["before start"]),
])
def test_bad_point_is_refused_before_any_run(base: Scenario, spec: str, words: list[str]) -> None:
    design = build_design(base, [spec])
    with pytest.raises(SweepSpecError) as err:
        validate_points(base, design)
    for w in words:
        assert w in str(err.value)


def test_bad_design_options(base: Scenario) -> None:
    with pytest.raises(SweepSpecError, match="empty range"):
        build_design(base, ["enforcement.intensity=2..1"], "lhs", samples=4)
    with pytest.raises(SweepSpecError, match="--samples N >= 1"):
        build_design(base, ["enforcement.intensity=0..1"], "lhs")
    with pytest.raises(SweepSpecError, match="needs --design lhs"):
        build_design(base, ["enforcement.intensity=0,1"], samples=3)
    with pytest.raises(SweepSpecError, match="varied twice"):
        build_design(base, ["enforcement.intensity=0,1", "enforcement.intensity=2,3"])
    with pytest.raises(SweepSpecError, match="unknown design"):
        build_design(base, [], "sobol")  # type: ignore[arg-type]


def test_points_design_pairs_columns_in_order(base: Scenario) -> None:
    design = build_design(base, {"enforcement.intensity": np.array([0.5, 1.5, 1.0]),
                                 "campaigns.0.teams": [3, 4, 5]}, "points")
    assert design.kind == "points"
    teams = "campaigns.inspection.teams"  # campaigns.0, by its name: one spelling per field
    assert design.points == ({"enforcement.intensity": 0.5, teams: 3},
                             {"enforcement.intensity": 1.5, teams: 4},
                             {"enforcement.intensity": 1.0, teams: 5})
    assert type(design.points[0]["enforcement.intensity"]) is float   # numpy scalars unwrapped
    axes = design.describe()["axes"]
    assert (axes[0]["low"], axes[0]["high"]) == (0.5, 1.5)


def test_points_design_refuses_ragged_columns_and_unknown_keys(base: Scenario) -> None:
    with pytest.raises(SweepSpecError, match="one length"):
        build_design(base, {"enforcement.intensity": [0.5, 1.0], "campaigns.0.teams": [3]},
                     "points")
    with pytest.raises(SweepSpecError, match="no_such"):
        build_design(base, {"market.no_such": [1.0]}, "points")
    with pytest.raises(SweepSpecError, match="point 2 repeats point 0"):
        build_design(base, {"enforcement.intensity": [0.5, 1.0, 0.5]}, "points")
