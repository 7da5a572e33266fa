"""A tidy column table: a dict of equal-length numpy arrays, with CSV and pandas export.

Kept free of pandas so that a run and the CLI pay nothing for it; ``to_pandas`` imports it on
request. CSV floats are written with Python's shortest round-trip repr, so a table read back is
bit-identical and mass balances hold to the last digit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Table"]


class Table(Mapping[str, np.ndarray]):
    """Columns of equal length, in insertion order."""

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self._cols = {k: np.asarray(v) for k, v in columns.items()}
        lengths = {len(v) for v in self._cols.values()}
        if len(lengths) > 1:
            by_name = {k: len(v) for k, v in self._cols.items()}
            raise ValueError(f"columns differ in length: {by_name}")

    def __getitem__(self, key: str) -> np.ndarray:
        return self._cols[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)

    @property
    def n_rows(self) -> int:
        return len(next(iter(self._cols.values()))) if self._cols else 0

    @property
    def columns(self) -> list[str]:
        return list(self._cols)

    def where(self, mask: np.ndarray) -> Table:
        return Table({k: v[mask] for k, v in self._cols.items()})

    def to_pandas(self) -> Any:
        import pandas as pd

        return pd.DataFrame(dict(self._cols.items()))

    def to_csv(self, path: str | Path | None = None) -> str:
        """Write CSV (to ``path`` if given) and return the text."""
        cells = [_format(v) for v in self._cols.values()]
        buf = io.StringIO()
        buf.write(",".join(self._cols) + "\n")
        for row in zip(*cells, strict=False):
            buf.write(",".join(row) + "\n")
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        return f"Table({self.n_rows} rows × {len(self)} columns: {', '.join(self._cols)})"

    def _repr_html_(self) -> str:
        """For notebooks: the size and the first and last rows."""
        from scrapsim.plots.display import table_html

        return table_html(self)


def _format(col: np.ndarray) -> list[str]:
    if col.dtype.kind == "f":
        return [repr(x) for x in col.tolist()]
    if col.dtype.kind == "M":
        return [str(x) for x in col.astype("datetime64[D]")]
    return [_quote(str(x)) for x in col.tolist()]


def _quote(s: str) -> str:
    if any(c in s for c in ',"\n'):
        return '"' + s.replace('"', '""') + '"'
    return s
