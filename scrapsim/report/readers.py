"""Reading result folders for the report: JSON and CSV files with clear errors, what kind of
folder it is (its manifest's ``kind``), and the campaign windows of a resolved scenario."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from scrapsim.errors import ScenarioError

__all__ = ["check_types", "culprit", "damaged", "kind_of", "read_csv", "read_json", "windows_of"]

LEGACY = (("sensitivity", ("indices.csv", "samples.csv", "manifest.json")),
          ("calibration", ("parameters.csv", "fit.csv", "history.csv", "manifest.json")),
          ("sweep", ("curves.csv", "runs.csv", "manifest.json", "scenario.yaml")),
          ("run", ("daily.csv", "manifest.json")))
"""What folders written before manifests carried ``kind`` hold, by kind."""


def kind_of(folder: Path) -> str | None:
    """The kind of result folder (``run``, ``sweep``, ``calibration``, ``sensitivity``,
    ``validation``, ``report``) its manifest names; for a folder from before manifests named
    it, the kind its files show; None when it is no scrapsim result folder."""
    path = folder / "manifest.json"
    if path.is_file():
        kind = read_json(path).get("kind")
        if isinstance(kind, str):
            return kind
    for kind, files in LEGACY:
        if all((folder / name).is_file() for name in files):
            return kind
    return None


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object written by scrapsim; a clear input error otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"cannot read ({exc})", file=str(path),
                            expected="the JSON written by scrapsim") from None
    if not isinstance(data, dict):
        raise ScenarioError("is not a JSON object", file=str(path),
                            expected="the JSON written by scrapsim")
    return data


def read_csv(path: Path, rows: int | None = None, **kwargs: Any) -> Any:
    """A CSV table written by scrapsim (pandas); a clear input error otherwise: unreadable, not
    the ``rows`` its manifest records, or text in a column of numbers."""
    import pandas as pd

    try:
        table = pd.read_csv(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"cannot read ({exc})", file=str(path),
                            expected="the CSV written by scrapsim") from None
    if rows is not None and len(table) != rows:
        raise ScenarioError(f"has {len(table)} rows; its manifest records {rows} (cut short or "
                            "edited?)", file=str(path), expected="the table scrapsim wrote")
    check_types(table, path)
    return table


def check_types(table: Any, path: Path) -> None:
    """Refuse a column of numbers with a text cell in it (``abc`` among prices): the first
    such cell is named by column and row."""
    import pandas as pd

    for name in table.columns:
        column = table[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
            continue
        present = column.notna()
        numbers = pd.to_numeric(column.where(present), errors="coerce")
        bad = present & numbers.isna()
        if bad.any() and (present & numbers.notna()).sum() > bad.sum():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ScenarioError(f"column {name!r} holds numbers and the text "
                                f"{column.iloc[row]!r} (data row {row + 1})", file=str(path),
                                expected="a number in every cell of a number column")


def windows_of(scenario: dict[str, Any]) -> list[tuple[str, list[str], date, date]]:
    """Campaign windows of a resolved scenario (dict), clipped to the run; empty ones dropped."""
    start, end = date.fromisoformat(scenario["start"]), date.fromisoformat(scenario["end"])
    out = []
    for c in scenario.get("campaigns") or []:
        a = max(date.fromisoformat(c["start"]), start)
        b = min(date.fromisoformat(c["end"]), end)
        if a <= b:
            out.append((str(c["name"]), list(c["regions"]), a, b))
    return out


def damaged(folder: Path, kind: str | None, exc: BaseException) -> ScenarioError:
    """A result folder the report cannot read (a value of the wrong type, a missing field)."""
    return ScenarioError(f"is a damaged {kind or 'result'} folder ({type(exc).__name__}: "
                         f"{exc})", file=str(folder), expected=f"a {kind or 'result'} folder "
                         "as scrapsim wrote it")


def culprit(inputs: list[Any], build: Any) -> Path:
    """The folder whose sections ``build`` cannot make on its own (the first such), or ``.`` when
    each can and only their combination fails: what a damaged-folder error names."""
    if len(inputs) == 1:
        return Path(inputs[0].folder)
    for one in inputs:
        try:
            build([one])
        except (ScenarioError, KeyError, TypeError, ValueError, IndexError, AttributeError):
            return Path(one.folder)
    return Path(".")
