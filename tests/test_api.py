"""The notebook API: names, no disk writes, baseline switch, pandas on request, README example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import scrapsim

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_imports_and_is_what_it_says() -> None:
    """Every name of ``scrapsim.__all__`` resolves (the same object each time), functions are
    callable, result types are classes, and every error is a ScrapsimError."""
    assert sorted(scrapsim.__all__) == sorted(dir(scrapsim))
    wanted = {"run", "sweep", "validate", "calibrate", "sensitivity", "build_report",
              "load_scenario", "Scenario", "Result", "SweepResult", "ValidationResult",
              "Calibration", "SensitivityResult", "ScrapsimError", "__version__"}
    assert wanted <= set(scrapsim.__all__)
    for name in scrapsim.__all__:
        first = getattr(scrapsim, name)
        assert getattr(scrapsim, name) is first, name
        if name.endswith("Error"):
            assert issubclass(first, scrapsim.ScrapsimError), name
        elif name[0].isupper():
            assert isinstance(first, type), name
        elif name != "__version__":
            assert callable(first), name
            assert first.__module__.startswith("scrapsim."), name
    with pytest.raises(AttributeError):
        scrapsim.no_such_name  # noqa: B018


def test_importing_the_package_loads_nothing_heavy() -> None:
    """``import scrapsim`` is cheap: the names load on first use."""
    code = ("import sys, scrapsim; heavy = {'numpy', 'pandas', 'matplotlib', 'numba', 'simpy'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_run_touches_no_disk_and_baseline_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    sc = scrapsim.load_scenario(ROOT / "scenarios" / "hebei.yaml")
    sc = sc.with_overrides({"end": "2017-04-30"})
    full = scrapsim.run(sc, seed=3)
    quick = scrapsim.run(sc, seed=3, baseline=False)
    assert os.listdir(tmp_path) == []
    assert full.summary is not None and full.baseline is not None
    assert quick.summary is None and quick.baseline is None
    assert full.daily.to_csv() == quick.daily.to_csv()
    frames = full.frames()
    assert list(frames["daily"].columns) == full.daily.columns
    assert len(frames["events"]) == full.events.n_rows > 0


def test_run_takes_a_file_or_a_library_name(tmp_path: Path) -> None:
    """``scrapsim.run("hebei")`` as ``scrapsim hebei`` does: the library's scenario, or a file;
    a name that is neither is a ScenarioError naming it."""
    by_name = scrapsim.run("hebei", baseline=False)
    by_file = scrapsim.run(ROOT / "scenarios" / "hebei.yaml", baseline=False)
    assert by_name.daily.to_csv() == by_file.daily.to_csv()
    with pytest.raises(scrapsim.ScenarioError, match="heebei"):
        scrapsim.run(str(tmp_path / "heebei"))


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    namespace: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["result"].summary["smelting_change"] < -0.5
    assert namespace["quick"].summary is None


@pytest.mark.parametrize("seed", ["abc", 1.5, True])
def test_a_seed_that_is_not_a_whole_number_is_a_scenario_error(seed: object) -> None:
    """Not a bare ValueError from int(), nor 1.5 rounded down or True taken as 1."""
    with pytest.raises(scrapsim.ScenarioError, match="seed: is not a whole number"):
        scrapsim.run("hebei", seed=seed, baseline=False)  # type: ignore[arg-type]
