"""The notebook API: names, no disk writes, baseline switch, pandas on request, README example."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import scrapsim

ROOT = Path(__file__).resolve().parents[1]


def test_public_names_resolve_to_callables_every_time() -> None:
    for name in ("load_scenario", "run", "sweep"):
        first = getattr(scrapsim, name)
        assert callable(first) and getattr(scrapsim, name) is first
    assert sorted(scrapsim.__all__) == sorted(dir(scrapsim))


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


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    namespace: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["result"].summary["smelting_change"] < -0.5
    assert namespace["quick"].summary is None
