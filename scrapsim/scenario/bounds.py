"""The hard bounds of a scenario: magnitudes and dates the model cannot mean, refused whatever
the entry point (a file, ``--set``, :meth:`~scrapsim.scenario.Scenario.with_overrides`,
``Scenario.model_validate`` in a notebook). The scenario's own validator applies them
(:func:`problem`), so a number beyond them is an error with the file's line like any other;
:mod:`scrapsim.experiments.bounds` adds the soft limits of a job (memory, runs).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from typing import Any

__all__ = ["LIMITS", "MAX_NUMBER", "YEARS", "problem"]

LIMITS: dict[str, float] = {
    "enforcement.intensity": 100.0,
    "teams": 100_000,
    "inspections_per_team_day": 1_000.0,
    "count": 10_000_000,
    "seed": 2.0**128,
}
"""Largest value of a field (by its last dotted part, or its whole path)."""
MAX_NUMBER = 1e12
"""Largest magnitude of any other number in a scenario (t/day, CNY/t, days...)."""
YEARS = (1900, 2200)
"""The years a scenario's dates may fall in."""


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            name = key.isoformat() if isinstance(key, date) else str(key)
            yield from _walk(value, f"{path}.{name}" if path else name)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}.{i}")
    else:
        yield path, node


def _limit(path: str) -> float | None:
    return LIMITS.get(path, LIMITS.get(path.rpartition(".")[2]))


def problem(data: Any) -> tuple[str, str, Any, str] | None:
    """The first number or date of ``data`` (a scenario's ``model_dump``) outside the bounds, as
    ``(dotted path, what is wrong, value, what was expected)``, or None."""
    for path, value in _walk(data):
        if isinstance(value, bool):
            continue
        if isinstance(value, date):
            if not YEARS[0] <= value.year <= YEARS[1]:
                return (path, "date out of range", value.isoformat(),
                        f"a date in the years {YEARS[0]}-{YEARS[1]}")
            continue
        if not isinstance(value, (int, float)):
            continue
        limit = _limit(path)
        if not math.isfinite(value) or abs(value) > (MAX_NUMBER if limit is None else limit):
            bound = f"{limit:,g}" if limit is not None else f"{MAX_NUMBER:g}"
            return (path, "value out of range", value,
                    f"a finite number of magnitude at most {bound}")
    return None
