"""The bytes the speed work promises to keep, checked on every CI run (a clean clone, so
nothing comes from a stale compiled cache): the digests of every shipped scenario's daily,
event and initial tables (seeds 0 and 1, national_2017 seed 0, with their intensity-0 twins,
and national_2017 with ``market.outside``), as ``benchmarks/table_hashes.py`` computes them.

``tests/data/table_digests.txt`` holds them as caf31b7 wrote them from a clean build. A change
that is meant to change the model's output rewrites the file
(``python benchmarks/table_hashes.py > tests/data/table_digests.txt``) and says so in its
commit; a speed change must leave it alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_shipped_scenarios_tables_keep_their_bytes() -> None:
    spec = importlib.util.spec_from_file_location("table_hashes",
                                                  REPO / "benchmarks" / "table_hashes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = (REPO / "tests" / "data" / "table_digests.txt").read_text().splitlines()
    assert module.digests() == expected
