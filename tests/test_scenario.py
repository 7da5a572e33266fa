"""The scenario loader at the boundary: every bad input becomes a ScenarioError that names the
file, the dotted path, the value and what was expected (issue 2, item 8)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scrapsim.scenario import ScenarioError, load_scenario, parse_override, safe_name

MINIMAL = """\
name: tiny
start: 2017-01-01
end: 2017-01-31
regions:
  - name: hebei
    generation: 100          # t/day
    traders: {count: 10, capacity: 12}
    smelters:
      large: {count: 2, capacity: 40}
  - name: tianjin
    generation: 50
    traders: {count: 5, capacity: 12}
    smelters:
      small: {count: 3, capacity: 10}
campaigns:
  - name: pulse
    regions: [hebei]
    start: 2017-01-10
    end: 2017-01-20
    teams: 2
"""


def write(tmp_path: Path, text: str, name: str = "scn.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in MINIMAL, old
    return write(tmp_path, MINIMAL.replace(old, new, 1))


def error_of(path: Path, overrides: dict | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def test_minimal_scenario_loads_with_documented_defaults(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, MINIMAL))
    assert sc.name == "tiny"
    assert sc.days == 31
    assert sc.enforcement.intensity == 1.0
    assert [r.name for r in sc.regions] == ["hebei", "tianjin"]
    assert sc.regions[0].smelters.large.count == 2
    assert sc.regions[0].smelters.workshop.count == 0
    assert sc.campaigns[0].end == date(2017, 1, 20)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = variant(tmp_path, "generation: 100 ", "generation: 100: 3 ")
    err = error_of(path)
    assert err.line == 6
    assert str(err).startswith(f"{path}:6: YAML error")
    assert "mapping values are not allowed" in str(err)


def test_tab_indentation_is_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "\tseed: 3\n")
    err = error_of(path)
    assert err.line == MINIMAL.count("\n") + 1
    assert f"{path}:{err.line}:" in str(err)


def test_unknown_key_suggests_the_close_name(tmp_path: Path) -> None:
    path = variant(tmp_path, "campaigns:\n", "enforcement: {intesity: 0.5}\ncampaigns:\n")
    err = error_of(path)
    assert err.path == "enforcement.intesity"
    assert err.line == MINIMAL.splitlines().index("campaigns:") + 1
    msg = str(err)
    assert str(path) in msg
    assert "enforcement.intesity" in msg
    assert "unknown key 'intesity'" in msg
    assert "did you mean 'intensity'?" in msg


def test_unknown_key_in_a_list_item_has_its_index(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "    teams: 2\n", "    teams: 2\n    detecton: 0.9\n"))
    assert err.path == "campaigns.0.detecton"
    assert "did you mean 'detection'?" in str(err)
    assert "detection" in err.expected


def test_wrong_type_names_path_value_and_expectation(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "count: 10,", "count: ten,"))
    assert err.path == "regions.0.traders.count"
    assert err.value == "ten"
    msg = str(err)
    assert "regions.0.traders.count" in msg
    assert "'ten'" in msg
    assert "integer" in msg


def test_fractional_count_is_refused(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "count: 3,", "count: 3.5,"))
    assert err.path == "regions.1.smelters.small.count"
    assert err.value == 3.5
    assert "integer" in str(err)


def test_wrong_type_in_a_series_field(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "generation: 50", "generation: lots"))
    assert "regions.1.generation" in str(err)
    assert "'lots'" in str(err)
    assert "number" in str(err)
    assert err.line == 11


def test_nan_is_refused(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "capacity: 40", "capacity: .nan"))
    assert err.path == "regions.0.smelters.large.capacity"
    assert "finite" in str(err)
    assert "nan" in str(err)


def test_nan_in_a_series_is_refused(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "generation: 100 ", "generation: .nan "))
    assert "regions.0.generation" in str(err)
    assert "finite" in str(err)


def test_negative_capacity_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "capacity: 40", "capacity: -40")
    err = error_of(path)
    assert err.path == "regions.0.smelters.large.capacity"
    assert err.value == -40
    assert err.expected == "a number >= 0.0"
    assert str(err).startswith(f"{path}:9: regions.0.smelters.large.capacity:")
    assert "-40" in str(err)


def test_probability_above_one_is_refused(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "    teams: 2\n", "    teams: 2\n    detection: 1.5\n"))
    assert err.path == "campaigns.0.detection"
    assert err.value == 1.5
    assert "<= 1" in err.expected
    assert "1.5" in str(err)


def test_sanction_shares_must_sum_to_one(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "    teams: 2\n",
                           "    teams: 2\n    sanctions: {close: 0.5, fine: 0.6}\n"))
    assert "campaigns.0.sanctions" in str(err)
    assert "sum to 1" in str(err)


def test_scenario_end_before_start(tmp_path: Path) -> None:
    path = variant(tmp_path, "end: 2017-01-31", "end: 2016-12-31")
    msg = str(error_of(path))
    assert msg.startswith(str(path))
    assert "2016-12-31" in msg
    assert "before start 2017-01-01" in msg


def test_campaign_end_before_start(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "end: 2017-01-20", "end: 2017-01-05"))
    assert err.path == "campaigns.0.end"
    assert err.line == MINIMAL.splitlines().index("    end: 2017-01-20") + 1
    msg = str(err)
    assert "campaigns.0" in msg
    assert "2017-01-05" in msg
    assert "before start 2017-01-10" in msg


def test_campaign_in_unknown_region(tmp_path: Path) -> None:
    path = variant(tmp_path, "regions: [hebei]", "regions: [hebie]")
    err = error_of(path)
    assert err.path == "campaigns.0.regions"
    msg = str(err)
    assert msg.startswith(str(path))
    assert "campaigns.0.regions" in msg
    assert "unknown region 'hebie'" in msg
    assert "did you mean 'hebei'?" in msg
    assert "tianjin" in msg


def test_duplicate_region_names_are_refused(tmp_path: Path) -> None:
    msg = str(error_of(variant(tmp_path, "name: tianjin", "name: hebei")))
    assert "unique" in msg
    assert "hebei" in msg


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    err = error_of(path)
    assert str(err) == f"{path}: the file is empty (expected {err.expected})"
    assert "mapping" in err.expected


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("hello\n", "str"),
                                            ("42\n", "int")])
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = write(tmp_path, text)
    err = error_of(path)
    assert str(err).startswith(f"{path}: the document is a {kind}, not a mapping (got ")
    assert "mapping" in err.expected


def test_object_constructing_tags_are_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(tmp_path, f'!!python/object/apply:os.system ["touch {marker}"]\n')
    err = error_of(path)
    assert err.line == 1
    assert "python/object/apply:os.system" in str(err)
    assert "safe" in err.expected or "refused" in err.expected
    assert not marker.exists()


def test_python_object_tag_inside_a_field_is_refused(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "generation: 100 ",
                           "generation: !!python/object:builtins.object {} "))
    assert err.line == 6
    assert "python/object:builtins.object" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    err = error_of(path)
    assert str(err) == f"{path}: no such file (expected {err.expected})"   # what would do
    assert "YAML file" in err.expected and "hebei" in err.expected


def test_directory_given_as_file(tmp_path: Path) -> None:
    err = error_of(tmp_path)
    assert str(err) == f"{tmp_path}: is a directory (expected a scenario YAML file)"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    msg = str(error_of(path))
    assert msg.startswith(f"{path}: cannot read")
    assert "utf-8" in msg


@pytest.mark.parametrize("name", ["../evil", "a/b", "/abs", ".hidden", ""])
def test_names_that_could_leave_results_are_refused(tmp_path: Path, name: str) -> None:
    err = error_of(variant(tmp_path, "name: tiny", f"name: '{name}'"))
    assert err.path == "name"
    assert err.value == name
    assert not safe_name(name)


def test_safe_name() -> None:
    assert safe_name("hebei_2017.v2")
    assert not safe_name("a..b")


def test_override_by_region_name_and_by_index(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    sc = load_scenario(path, {"regions.tianjin.traders.count": 7,
                              "regions.0.smelters.large.capacity": 55.5,
                              "campaigns.pulse.teams": 9,
                              "enforcement.intensity": 0.25})
    assert sc.regions[1].traders.count == 7
    assert sc.regions[0].smelters.large.capacity == 55.5
    assert sc.campaigns[0].teams == 9
    assert sc.get("enforcement.intensity") == 0.25
    assert sc.get("regions.hebei.traders.count") == 10


def test_override_of_a_whole_list(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, MINIMAL), {"campaigns.0.regions": ["hebei", "tianjin"]})
    assert sc.campaigns[0].regions == ["hebei", "tianjin"]


def test_unknown_override_key_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    err = error_of(path, {"regions.hebei.traders.cuont": 5})
    assert err.path == "regions.hebei.traders.cuont"
    assert str(err).startswith(f"{path}: regions.hebei.traders.cuont: unknown key 'cuont'")
    assert "did you mean 'count'?" in str(err)


def test_override_of_unknown_list_item(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, MINIMAL), {"regions.shanxi.generation": 5})
    assert err.path == "regions.shanxi"
    assert "no item 'shanxi'" in str(err)
    assert "hebei" in err.expected and "tianjin" in err.expected
    assert "did you mean" not in str(err)                 # nothing close to shanxi
    err = error_of(write(tmp_path, MINIMAL), {"regions.hebai.generation": 5})
    assert "no item 'hebai' (did you mean 'hebei'?)" in str(err)
    err = error_of(write(tmp_path, MINIMAL), {"regions.2.generation": 5})
    assert "an index below 2" in err.expected


def test_override_value_is_validated(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    err = error_of(path, {"enforcement.intensity": -1})
    assert err.path == "enforcement.intensity"
    assert err.value == -1
    assert str(path) in str(err)
    err = error_of(path, {"campaigns.0.end": date(2017, 1, 1)})
    assert "before start" in str(err)


def test_override_into_a_value_is_refused(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, MINIMAL), {"seed.x": 1})
    assert err.path == "seed.x"


@pytest.mark.parametrize(("text", "key", "value"), [
    ("enforcement.intensity=0.5", "enforcement.intensity", 0.5),
    ("regions.hebei.traders.count=1500", "regions.hebei.traders.count", 1500),
    ("campaigns.0.end=2017-03-01", "campaigns.0.end", date(2017, 3, 1)),
    ("campaigns.0.regions=[hebei, tianjin]", "campaigns.0.regions", ["hebei", "tianjin"]),
    ("description=a = b", "description", "a = b"),
    (" name = x ", "name", "x"),
])
def test_parse_override_reads_yaml_values(text: str, key: str, value: object) -> None:
    assert parse_override(text) == (key, value)


@pytest.mark.parametrize("text", ["enforcement.intensity", "=3", ""])
def test_parse_override_needs_key_and_equals(text: str) -> None:
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        parse_override(text)


def test_parse_override_refuses_bad_yaml_value() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_override("campaigns.0.regions=[hebei")
    assert info.value.path == "campaigns.0.regions"


# Message quality: model-level checks name their own field, a Series' union member tag stays
# out of the path, duplicate keys are refused (these were strict xfails until scenario.py did).

def test_scenario_end_before_start_has_path_and_clean_message(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "end: 2017-01-31", "end: 2016-12-31"))
    assert err.path == "end"
    assert "{...}" not in str(err)
    assert "Value error" not in str(err)


def test_series_error_path_has_no_union_tag(tmp_path: Path) -> None:
    err = error_of(variant(tmp_path, "generation: 50", "generation: lots"))
    assert err.path == "regions.1.generation"


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "generation: 100 ", "generation: 100\n    generation: 200 ")
    err = error_of(path)
    assert "generation" in str(err)
