"""The kernels' numba cache is named by their sources (scrapsim.model.jit): numba checks a
cached function against its own file only, so a caller cached with a callee of another file
compiled into it (``market_day`` with the trader passes) would run the old callee after that
file was edited, in the just-in-time build and in the extension built from that cache."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scrapsim.model import jit

REPO = Path(__file__).resolve().parents[1]


def test_every_kernel_caches_in_the_folder_of_these_sources() -> None:
    numba = pytest.importorskip("numba")
    from numba.core.registry import CPUDispatcher

    folder = jit.cache_dir()
    assert folder.name.endswith(f"numba-{jit.source_stamp():014x}")
    found = 0
    for name in jit.SOURCES:
        module = importlib.import_module(f"scrapsim.model.{name[:-3]}")
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == module.__name__:
                cache = value._cache
                assert isinstance(cache, numba.core.caching.FunctionCache), value
                assert Path(cache._cache_path).is_relative_to(folder), value
                found += 1
    assert found >= 40      # the kernels, their helpers and market's pure functions
    from numba.core import config

    assert os.environ.get("NUMBA_CACHE_DIR", "") == config.CACHE_DIR  # others' code: numba's


def test_other_sources_have_another_folder(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))     # the user's folder, a sub-folder
    assert jit.folder_for(1) == tmp_path / "scrapsim-numba-00000000000001"
    assert jit.folder_for(2) != jit.folder_for(1)


def test_an_edited_kernel_file_changes_the_folder(tmp_path: Path) -> None:
    copy = tmp_path / "scrapsim"
    shutil.copytree(REPO / "scrapsim", copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))

    def folder() -> str:
        env = {**os.environ, "PYTHONPATH": str(tmp_path)}
        env.pop("NUMBA_CACHE_DIR", None)
        return subprocess.run([sys.executable, "-c", "from scrapsim.model import jit; "
                               "print(jit.cache_dir())"], env=env, cwd=tmp_path, capture_output=True,
                              text=True, check=True).stdout.strip()

    before = folder()
    assert before.startswith(str(copy / "model" / "__pycache__" / "numba-"))
    kernels = copy / "model" / "trader_kernels.py"
    kernels.write_text(kernels.read_text() + "\n# an edit\n")
    assert folder() != before
