"""Every shell block of the README runs as written.

The blocks run in the README's order in one scratch folder holding a copy of the scenario
library (later blocks read the folders earlier ones wrote, as a reader following the README
would), each command through ``bash`` with ``python`` meaning this interpreter. ``<id>`` in a
path stands for the folder an earlier command made there last. What is not run, and why:

- ``pip install ...``: the environment running this test was installed by the README's own
  test command (``pip install '.[test]'``), which CI runs verbatim;
- ``python -m pytest``: it is the command running this test;
- a block after ``<!-- readme: dask -->`` runs against a real Dask scheduler and two workers on
  127.0.0.1 (the suite's cluster fixture), its ``tcp://127.0.0.1:8786`` replaced by the
  fixture's address.

The blocks run in two halves, each in its own scratch folder and test module (this one up to
the Reports section, ``test_readme_later.py`` from :data:`SPLIT` on), so the suite's two
workers share them; no block reads what a block of the other half wrote.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- readme: (\w+) -->\s*\n)?```(?:sh|bash)\n(.*?)```", re.S)
LIBRARY = ("scenarios", "targets", "params", "studies")


SPLIT = "\n## Calibration\n"
"""The heading the README's second half starts at (its blocks run in test_readme_later.py)."""


def blocks(half: int | None = None) -> list[tuple[int, str, list[str]]]:
    """(line, marker, commands) of every shell block, in order; ``half`` 0 or 1: those before
    or from :data:`SPLIT`."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    split = text.index(SPLIT)
    out = []
    for m in BLOCK.finditer(text):
        if half is not None and (m.start() >= split) != bool(half):
            continue
        commands = []
        for raw in m.group(3).splitlines():
            line = raw.split("  #")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
        out.append((text[:m.start(3)].count("\n") + 1, m.group(2) or "", commands))
    return out


def runnable(command: str) -> str | None:
    """The part of ``command`` this test runs (None: nothing), see the module docstring."""
    parts = [p.strip() for p in command.split("&&")]
    kept = [p for p in parts if not p.startswith("pip ") and not p.startswith("python -m pytest")]
    return " && ".join(kept) or None


def resolve_ids(command: str, cwd: Path) -> str:
    """Replace each path holding ``<id>`` by the newest folder that matches it."""
    def one(m: re.Match[str]) -> str:
        found = sorted(cwd.glob(m.group(0).replace("<id>", "*")), key=lambda p: p.stat().st_mtime)
        assert found, f"nothing matches {m.group(0)} in {cwd}"
        return str(found[-1].relative_to(cwd))

    return re.sub(r"\S*<id>\S*", one, command)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A folder with the scenario library, and an environment whose ``python`` is this one."""
    cwd = tmp_path_factory.mktemp("readme")
    for name in LIBRARY:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, cwd / name)
    bin_dir = cwd / ".bin"
    bin_dir.mkdir()
    # A script, not a symlink: a virtual environment's python finds its packages from the
    # folder it is started in (pyvenv.cfg), which a link elsewhere does not have.
    shim = bin_dir / "python"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return cwd, env


def test_the_readme_has_shell_blocks() -> None:
    found = blocks()
    assert len(found) >= 5
    quick = found[0][2]
    assert quick == ["pip install . && python -m scrapsim scenarios/hebei.yaml",
                     "pip install '.[test]' && python -m pytest"]


def test_the_halves_hold_every_block_once() -> None:
    assert blocks(0) + blocks(1) == blocks() and blocks(0) and blocks(1)


@pytest.mark.parametrize("line, marker, commands", blocks(0),
                         ids=[f"README.md:{b[0]}" for b in blocks(0)])
def test_block_runs(line: int, marker: str, commands: list[str],
                    scratch: tuple[Path, dict[str, str]], request: pytest.FixtureRequest) -> None:
    run_block(line, marker, commands, scratch, request)


def run_block(line: int, marker: str, commands: list[str], scratch: tuple[Path, dict[str, str]],
              request: pytest.FixtureRequest) -> None:
    """Run one block's commands in the scratch folder; each must exit 0 without a traceback."""
    cwd, env = scratch
    address = request.getfixturevalue("dask_cluster") if marker == "dask" else None
    for command in commands:
        part = runnable(command)
        if part is None:
            continue
        if address is not None:
            part = part.replace("tcp://127.0.0.1:8786", address)
        part = resolve_ids(part, cwd)
        proc = subprocess.run(["bash", "-c", part], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, (f"README.md:{line}: {part}\n{proc.stdout[-2000:]}\n"
                                      f"{proc.stderr[-3000:]}")
        assert "Traceback" not in proc.stderr, part
