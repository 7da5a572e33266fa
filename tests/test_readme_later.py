"""The README's shell blocks from its Calibration section on, run as test_readme.py runs the
others (there: what runs, what does not and why), in a scratch folder of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_readme import blocks, run_block, scratch

__all__ = ["scratch"]  # the fixture, module-scoped here too: this half's own folder


@pytest.mark.parametrize("line, marker, commands", blocks(1),
                         ids=[f"README.md:{b[0]}" for b in blocks(1)])
def test_block_runs(line: int, marker: str, commands: list[str],
                    scratch: tuple[Path, dict[str, str]], request: pytest.FixtureRequest) -> None:
    run_block(line, marker, commands, scratch, request)
