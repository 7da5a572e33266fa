"""The notebook API (issue 15, item 5): short reprs and HTML views, ``Result.save`` writing
what ``scrapsim run`` writes, ``Scenario.to_yaml`` round-tripping, the flat summary, and
MODEL.md documenting every daily column and event kind a run produces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_user_errors import REPO
from test_user_errors import scrapsim as cli

import scrapsim


@pytest.fixture(scope="module")
def result() -> scrapsim.Result:
    return scrapsim.run(scrapsim.load_scenario("hebei"))


def test_reprs_are_short_and_say_what_ran(result: scrapsim.Result) -> None:
    text = repr(result)
    assert len(text) < 200 and "\n" not in text
    assert text.startswith("Result('hebei', seed 2017, 2017-01-01..2017-12-31")
    s = result.summary
    assert f"shut {s['shut_count']} of {s['smelters_start']}" in text
    assert f"collection {100 * s['collection_change']:+.1f}%" in text
    sc_text = repr(result.scenario)
    assert len(sc_text) < 200 and sc_text.startswith("Scenario('hebei', 2017-01-01..2017-12-31")


def test_html_views_hold_the_headline_and_a_figure(result: scrapsim.Result) -> None:
    html = result._repr_html_()
    assert "<table>" in html and "data:image/png;base64," in html
    assert f"{100 * result.summary['smelting_change']:+.1f}%" in html
    assert "smelters shut at peak" in html
    sc_html = result.scenario._repr_html_()
    assert "hebei-inspection-2017" in sc_html and "2017-02-15..2017-03-15" in sc_html
    table = result.daily._repr_html_()
    assert f"{result.daily.n_rows:,} rows" in table and table.count("<tr>") == 1 + 11


def test_no_enforcement_repr_says_so() -> None:
    res = scrapsim.run(scrapsim.load_scenario("no_enforcement"))
    assert "no enforcement: enforcement.intensity is 0" in repr(res)
    assert "smelters shut at peak" not in res._repr_html_()


def test_save_writes_what_the_command_writes(result: scrapsim.Result, tmp_path: Path) -> None:
    folder = result.save(tmp_path / "saved")
    proc = cli("hebei", "--out", str(tmp_path / "cli"), "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    saved = sorted(p.name for p in folder.iterdir())
    assert saved == sorted(p.name for p in (tmp_path / "cli").iterdir())
    for name in saved:
        if name != "manifest.json":
            assert (folder / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    a, b = (json.loads((f / "manifest.json").read_text()) for f in (folder, tmp_path / "cli"))
    assert a["scenario_hash"] == b["scenario_hash"] and a["files"] == b["files"]
    with pytest.raises(scrapsim.OutputFolderError, match="not a scrapsim run") as refused:
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "notes.txt").write_text("keep me")
        result.save(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    # an input error (exit 2 from the commands), and what code that caught these still catches
    assert isinstance(refused.value, scrapsim.ScenarioError)
    assert isinstance(refused.value, scrapsim.SweepSpecError)


def test_flat_summary_is_flat_and_complete(result: scrapsim.Result) -> None:
    flat = result.flat_summary()
    assert all(not isinstance(v, dict) for v in flat.values())
    nested = result.summary
    for key, value in nested.items():
        if key not in ("regions", "campaigns"):
            assert flat[key] == value
    for name, by_region in nested.get("campaigns", {}).items():
        for region, block in by_region.items():
            for key, value in block.items():
                assert flat[f"campaigns.{name}.{region}.{key}"] == value
    for region, block in nested["regions"].items():
        for key, value in block.items():
            assert flat[f"{region}.{key}"] == value


def test_to_yaml_round_trips_a_library_scenario(tmp_path: Path) -> None:
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        sc = scrapsim.load_scenario(path)
        assert sc.to_yaml() == path.read_text(encoding="utf-8")         # unchanged: same text
        changed = sc.with_overrides({"seed": 99, "enforcement.intensity": 0.5})
        back = tmp_path / path.name
        changed.to_yaml(back)
        assert scrapsim.load_scenario(back) == changed


MODEL = (REPO / "docs" / "MODEL.md").read_text(encoding="utf-8")


def test_model_md_documents_every_daily_column(result: scrapsim.Result) -> None:
    missing = [c for c in result.daily.columns if f"`{c}`" not in MODEL
               and not re.search(rf"[`,]\s*{c}\s*[,`]", MODEL)]
    assert missing == []


def test_model_md_documents_every_event_kind_the_library_produces() -> None:
    kinds: set[str] = set()
    for name in ("hebei", "shandong", "national_2017"):
        res = scrapsim.run(scrapsim.load_scenario(name), baseline=False)
        kinds |= set(res.events.to_pandas()["event"])
    table = MODEL.split("The kinds of `event`", 1)[1]
    assert [k for k in sorted(kinds) if f"| `{k}` |" not in table] == []


def test_model_md_documents_every_summary_key(result: scrapsim.Result) -> None:
    keys = {k.split(".")[-1] for k in result.flat_summary()}
    section = MODEL.split("## Every recorded column and event", 1)[1]
    assert [k for k in sorted(keys) if f"`{k}`" not in section and f"`{k}`" not in MODEL] == []
