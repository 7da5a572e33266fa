"""``scrapsim check``: every shipped scenario's market is in balance without enforcement, and a
scenario whose scrap arises faster than its smelters can use it is not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scrapsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_is_balanced(path: Path, capsys: pytest.CaptureFixture) -> None:
    status = main(["check", str(path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.rstrip().endswith("verdict: balanced")
    rows = [line for line in out.splitlines() if line.endswith("balanced")]
    assert len(rows) >= 1 and all("OUT OF BALANCE" not in line for line in rows)


def test_a_glut_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = (ROOT / "scenarios" / "hebei.yaml").read_text(encoding="utf-8")
    glut = re.sub(r"generation: 2950", "generation: 4500", text)   # 1.4x what smelters use
    assert glut != text
    path = tmp_path / "glut.yaml"
    path.write_text(glut, encoding="utf-8")
    status = main(["check", str(path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "OUT OF BALANCE" in out and "verdict: OUT OF BALANCE" in out
    assert re.search(r"hebei: (uncollected|trader_stock|smelter_stock) trends", out) or \
        "mean price pressure" in out


def test_a_bad_scenario_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nstart: 2017-01-01\nend: 2016-01-01\nregions: []\n")
    assert main(["check", str(path)]) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_set_overrides_what_is_checked(capsys: pytest.CaptureFixture) -> None:
    """``--set`` as in ``run``: the same glut, given as an override of the shipped file."""
    hebei = str(ROOT / "scenarios" / "hebei.yaml")
    assert main(["check", hebei, "--set", "regions.hebei.generation=4500"]) == 1
    out = capsys.readouterr().out
    assert "verdict: OUT OF BALANCE" in out
    assert main(["check", hebei, "--set", "regions.hebei.generatio=4500"]) == 2
    assert "did you mean 'generation'?" in capsys.readouterr().err


def test_set_of_an_enforcement_field_is_noted(capsys: pytest.CaptureFixture) -> None:
    """The twin runs without enforcement: such an override cannot matter, and says so."""
    hebei = str(ROOT / "scenarios" / "hebei.yaml")
    assert main(["check", hebei, "--set", "enforcement.intensity=2"]) == 0
    err = capsys.readouterr().err
    assert "note: the check runs the scenario without enforcement, so --set " \
        "enforcement.intensity changes nothing it checks" in err
    assert main(["check", hebei, "--set", "regions.hebei.generation=3000"]) == 0
    assert "note:" not in capsys.readouterr().err
