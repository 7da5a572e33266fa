"""Writing scenarios (issue 15, item 3): ``extends:``, YAML merge keys, appending with ``--set``,
honest defaults, every schema property described, ``scrapsim new``, the generated field
reference, and ``Scenario.to_yaml`` keeping the source's comments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scrapsim.scenario import ScenarioError, load_scenario, scenario_schema
from scrapsim.scenario.authoring import field_reference, template

REPO = Path(__file__).resolve().parents[1]
HEBEI = REPO / "scenarios" / "hebei.yaml"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "scrapsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_extends_a_library_scenario_by_name_field_by_field(tmp_path: Path) -> None:
    path = write(tmp_path, "more.yaml", """\
extends: hebei
name: hebei-more-teams
regions:
  hebei:                      # the parent's region named hebei
    traders: {count: 1500}
campaigns:
  hebei-inspection-2017: {teams: 20}
""")
    sc, base = load_scenario(path), load_scenario(HEBEI)
    assert sc.name == "hebei-more-teams"
    assert sc.regions[0].traders.count == 1500 and sc.campaigns[0].teams == 20
    # everything not written is the parent's, field by field
    assert sc.regions[0].traders.capacity == base.regions[0].traders.capacity
    assert sc.campaigns[0].sanctions == base.campaigns[0].sanctions
    assert sc.with_overrides({"name": "hebei", "regions.0.traders.count": 2000,
                              "campaigns.0.teams": 14}) == base


def test_extends_a_file_relative_to_the_extending_file(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    write(tmp_path / "lib", "base.yaml", HEBEI.read_text(encoding="utf-8"))
    path = write(tmp_path / "lib", "child.yaml", "extends: base.yaml\nname: child\n"
                 "campaigns: []\n")
    sc = load_scenario(path)
    assert sc.campaigns == [] and sc.regions == load_scenario(HEBEI).regions


def test_extends_adds_a_named_item_and_a_list_replaces(tmp_path: Path) -> None:
    path = write(tmp_path, "two.yaml", """\
extends: hebei
name: two-campaigns
campaigns:
  autumn:
    regions: [hebei]
    start: 2017-10-01
    end: 2017-10-20
    teams: 5
sources: ["only this"]
""")
    sc = load_scenario(path)
    assert [c.name for c in sc.campaigns] == ["hebei-inspection-2017", "autumn"]
    assert sc.sources == ["only this"]


def test_extends_errors_name_the_extending_file(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", "extends: heebei\nname: x\n")
    with pytest.raises(ScenarioError, match=r"typo.yaml:1: extends: no such scenario "
                       r"\(did you mean 'hebei'\?\)"):
        load_scenario(path)
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError, match="extend each other in a loop"):
        load_scenario(tmp_path / "a.yaml")
    bad = write(tmp_path, "bad.yaml", "extends: hebei\nname: bad\nmarket: {price_nose: 1}\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml:3: market.price_nose: unknown key "
                       r"'price_nose' \(did you mean 'price_noise'\?\)"):
        load_scenario(bad)


def test_a_misspelt_item_name_under_extends_gets_a_did_you_mean(tmp_path: Path) -> None:
    """A name the parent lacks adds an item; when that item then fails to validate and its
    name is close to one of the parent's, the first of its problems says which was meant. A
    new item with a close name that validates is added, with no word."""
    typo = write(tmp_path, "typo.yaml", "extends: hebei\nname: t\ncampaigns:\n"
                 "  hebei-inspecton-2017:\n    teams: 20\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(typo)
    first, *rest = err.value.problems
    assert str(first).startswith(f"{typo}:4: campaigns.1.regions: this field is required")
    assert str(first).endswith("('hebei-inspecton-2017' adds an item, since the parent has "
                               "none of that name: did you mean 'hebei-inspection-2017'?)")
    assert rest and all("did you mean" not in str(p) for p in rest)
    assert str(err.value).count("did you mean") == 1
    new = write(tmp_path, "new.yaml", "extends: hebei\nname: n\ncampaigns:\n"
                "  hebei-inspection-2018:\n    regions: [hebei]\n    start: 2017-10-01\n"
                "    end: 2017-10-20\n    teams: 5\n")
    assert [c.name for c in load_scenario(new).campaigns] == [
        "hebei-inspection-2017", "hebei-inspection-2018"]
    far = write(tmp_path, "far.yaml", "extends: hebei\nname: f\ncampaigns:\n"
                "  autumn:\n    teams: 20\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(far)
    assert "did you mean" not in str(err.value)


def test_extends_errors_in_items_written_by_name_give_their_own_line(tmp_path: Path) -> None:
    """A campaign or region addressed by name: the error names the line of the bad value, not
    the line of ``campaigns:``."""
    camp = write(tmp_path, "camp.yaml", "extends: hebei\ncampaigns:\n"
                 "  hebei-inspection-2017:\n    rectify_days: 30\n    teams: -1\n")
    with pytest.raises(ScenarioError, match=r"camp.yaml:5: campaigns.0.teams: "):
        load_scenario(camp)
    reg = write(tmp_path, "reg.yaml", "extends: hebei\nregions:\n  hebei:\n    traders:\n"
                "      count: 1.5\n")
    with pytest.raises(ScenarioError, match=r"reg.yaml:5: regions.0.traders.count: "):
        load_scenario(reg)


def test_extends_replaces_sanction_shares_whole(tmp_path: Path) -> None:
    """Shares left out are 0 in an extending file too: ``{suspend: 1}`` is all suspended and
    ``{}`` an error, as the README says, not a merge with the parent's shares."""
    path = write(tmp_path, "susp.yaml", "extends: hebei\ncampaigns:\n"
                 "  hebei-inspection-2017:\n    sanctions: {suspend: 1}\n")
    shares = load_scenario(path).campaigns[0].sanctions
    assert (shares.close, shares.suspend, shares.upgrade, shares.fine) == (0, 1, 0, 0)
    empty = write(tmp_path, "none.yaml", "extends: hebei\ncampaigns:\n"
                  "  hebei-inspection-2017:\n    sanctions: {}\n")
    with pytest.raises(ScenarioError, match=r"none.yaml:4: campaigns.0.sanctions: sanction "
                       "shares must sum to 1"):
        load_scenario(empty)


def test_yaml_merge_keys_are_accepted_and_explicit_keys_win(tmp_path: Path) -> None:
    text = HEBEI.read_text(encoding="utf-8")
    text = text.replace("      large:\n        count: 8 ", "      large: &plant\n        count: 8 ")
    text = text.replace("      small:\n        count: 45 ", "      small:\n        <<: *plant\n"
                        "        count: 45 ")
    sc = load_scenario(write(tmp_path, "merge.yaml", text))
    small = sc.regions[0].smelters.small
    assert small.count == 45                                  # its own key wins
    assert small.violator_share == 0.98                       # its own key wins
    assert small.capacity == 50 and small.processing_cost == 800


def test_duplicate_keys_are_still_refused_next_to_a_merge_key(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "a: &x {p: 1}\nname: n\nname: m\n")
    with pytest.raises(ScenarioError, match="duplicate key 'name'"):
        load_scenario(path)


def test_set_appends_to_a_list(tmp_path: Path) -> None:
    extra = {"name": "autumn", "regions": ["hebei"], "start": "2017-10-01",
             "end": "2017-10-20", "teams": 5}
    sc = load_scenario(HEBEI, {"campaigns.+": extra})
    assert [c.name for c in sc.campaigns] == ["hebei-inspection-2017", "autumn"]
    assert load_scenario(HEBEI, {"campaigns.1": extra}).campaigns == sc.campaigns
    with pytest.raises(ScenarioError, match="no item '3'"):
        load_scenario(HEBEI, {"campaigns.3": extra})
    proc = cli(str(HEBEI), "--set", "campaigns.+={name: autumn, regions: [hebei], start: "
               "2017-10-01, end: 2017-10-20, teams: 5}", "--out", str(tmp_path / "run"),
               "--no-plot", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_defaults_are_honest(tmp_path: Path) -> None:
    base = yaml.safe_load(HEBEI.read_text(encoding="utf-8"))
    base["campaigns"][0]["sanctions"] = {"suspend": 1.0}          # the others are 0
    sc = load_scenario(write(tmp_path, "s.yaml", yaml.safe_dump(base)))
    assert (sc.campaigns[0].sanctions.suspend, sc.campaigns[0].sanctions.fine) == (1.0, 0.0)
    base["campaigns"][0]["sanctions"] = {}
    with pytest.raises(ScenarioError, match=r"campaigns.0.sanctions: sanction shares must sum "
                       r"to 1, got .* = 0"):
        load_scenario(write(tmp_path, "s.yaml", yaml.safe_dump(base)))
    base["campaigns"][0]["sanctions"] = {"suspend": 1.0}
    del base["regions"][0]["smelters"]["small"]["capacity"]
    with pytest.raises(ScenarioError, match=r"regions.0.smelters.small.capacity: required "
                       r"when count is above 0"):
        load_scenario(write(tmp_path, "s.yaml", yaml.safe_dump(base)))
    shipped = {load_scenario(p).regions[0].traders.cost
               for p in (REPO / "scenarios").glob("*.yaml")}
    from scrapsim.scenario import TraderPopulation

    assert TraderPopulation.model_fields["cost"].default in shipped


def _properties(schema: dict) -> list[tuple[str, dict]]:
    out = [(f"Scenario.{k}", v) for k, v in schema["properties"].items()]
    for name, block in schema["$defs"].items():
        out += [(f"{name}.{k}", v) for k, v in block["properties"].items()]
    return out


def test_every_schema_property_has_a_description_and_bounds_are_kept() -> None:
    props = _properties(scenario_schema())
    assert len(props) > 90
    assert [name for name, p in props if not p.get("description", "").strip()] == []
    by_name = dict(props)
    assert (by_name["Campaign.detection"]["minimum"], by_name["Campaign.detection"]["maximum"]) \
        == (0.0, 1.0)
    assert "CNY/t" in by_name["TraderPopulation.cost"]["description"]


def test_field_reference_is_current() -> None:
    """docs/SCENARIOS.md is what `scrapsim schema --markdown` prints (regenerate it with
    `python -m scrapsim schema --markdown > docs/SCENARIOS.md`)."""
    assert (REPO / "docs" / "SCENARIOS.md").read_text(encoding="utf-8") == field_reference() \
        + "\n"


def test_field_reference_lists_every_property_once() -> None:
    text = field_reference()
    for name, _ in _properties(scenario_schema()):
        section, field = name.split(".")
        assert f"| `{field}` |" in text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]


def test_new_writes_a_commented_template_that_runs(tmp_path: Path) -> None:
    proc = cli("new", "my_case", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "my_case.yaml"
    text = path.read_text(encoding="utf-8")
    assert text == template("my_case") and text.count("#") > 20
    assert cli("new", "my_case", cwd=tmp_path).returncode == 2        # never overwritten
    assert path.read_text(encoding="utf-8") == text
    run = cli(str(path), "--out", str(tmp_path / "run"), "--no-plot", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "smelters shut at peak" in run.stdout
    assert cli("new", "../escape", cwd=tmp_path).returncode == 2


def test_new_takes_a_file_name_and_keeps_whole_notes(tmp_path: Path) -> None:
    """``scrapsim new mine.yaml`` writes mine.yaml (not mine.yaml.yaml), named mine; a note
    is cut at the end of the first sentence, not at an abbreviation's full stop."""
    assert cli("new", "mine.yaml", cwd=tmp_path).returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["mine.yaml"]
    text = (tmp_path / "mine.yaml").read_text(encoding="utf-8")
    assert text == template("mine")
    assert "# Mean collection cost incl. purchase at source, CNY/t" in text


def test_to_yaml_keeps_comments_and_round_trips(tmp_path: Path) -> None:
    sc = load_scenario(HEBEI, {"campaigns.0.suspend_days": 23, "regions.hebei.traders.count": 1800,
                               "market.price_noise": 0.005})
    text = sc.to_yaml()
    source = HEBEI.read_text(encoding="utf-8")
    kept = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    assert all(line in text.splitlines() for line in kept)          # comment lines kept
    assert "      count: 1800           # [was 2000] ASSUMPTION (issue 2: about 2,000 traders)" \
        in text                                   # a comment written about the old value
    assert "    suspend_days: 23        # [was 15] calibrated" in text
    assert "    teams: 14               # ASSUMPTION: enough" in text    # unchanged: as it was
    assert load_scenario(write(tmp_path, "back.yaml", text)) == sc
    assert len(text.splitlines()) == len(source.splitlines()) + 1  # one key added (price_noise)


def test_to_yaml_without_a_source_is_loadable(tmp_path: Path) -> None:
    from scrapsim.scenario import Scenario

    sc = Scenario.model_validate(load_scenario(HEBEI).model_dump())
    text = sc.to_yaml(tmp_path / "plain.yaml")
    assert load_scenario(tmp_path / "plain.yaml") == sc and text.startswith("# scrapsim")
