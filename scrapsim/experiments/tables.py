"""The tables of many runs: one row per run (:func:`runs_table`), one row per point with
95% bands (:func:`curves_table`), and how they are written (:func:`write_tables`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scrapsim.experiments.design import Design
from scrapsim.results.folders import write_text

__all__ = ["CONFIDENCE", "CURVE_METRICS", "curves_table", "runs_table", "write_tables"]

CURVE_METRICS = ("collection_change", "offered_change", "smelting_change", "demanded_change",
                 "price_change", "mean_price_pressure", "shut_share")
"""Metrics given a band in curves.csv (offered/demanded when the model reports them)."""
CONFIDENCE = 0.95

IDENTITY = ("point", "rep", "seed", "status", "error")
TIMING = ("wall_s", "worker")


def runs_table(records: list[dict[str, Any]], design: Design) -> tuple[Any, Any]:
    """The runs table (one row per run, sorted by point and replication) and its timings.

    Columns: ``point``, the varied keys (dotted paths), ``rep``, ``seed``, every summary key
    in the order the model gives them (regions flattened to ``region.<name>.<key>``), ``status``
    and ``error``. Timings (``wall_s`` seconds, ``worker``) go to a separate table so the runs
    table is the same whatever ran it.
    """
    import pandas as pd

    records = sorted(records, key=lambda r: (r["point"], r["rep"]))
    keys = design.keys
    taken = set(IDENTITY) | set(keys)
    summary_cols = list(dict.fromkeys(k for r in records for k in r["summary"] if k not in taken))
    columns: dict[str, Any] = {"point": [r["point"] for r in records]}
    for k in keys:
        columns[k] = [design.points[r["point"]][k] for r in records]
    columns["rep"] = [r["rep"] for r in records]
    columns["seed"] = [r["seed"] for r in records]
    for c in summary_cols:
        columns[c] = _column([r["summary"].get(c) for r in records])
    columns["status"] = [r["status"] for r in records]
    columns["error"] = [r["error"] for r in records]
    runs = pd.DataFrame(columns)
    timings = pd.DataFrame({"point": columns["point"], "rep": columns["rep"],
                            "seed": columns["seed"], "wall_s": [r["wall_s"] for r in records],
                            "worker": [r["worker"] for r in records]})
    return runs, timings


def _column(values: list[Any]) -> Any:
    """A typed column: integers (nullable), floats (None → NaN), booleans, else text."""
    import pandas as pd

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.array(values, dtype="Int64")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.array([float("nan") if v is None else float(v) for v in values],
                        dtype="float64")
    return pd.array(["" if v is None else str(v) for v in values], dtype=object)


def write_tables(folder: Path, runs: Any, timings: Any, curves: Any = None) -> list[str]:
    """runs.csv, curves.csv (sweeps), timings.csv and runs.parquet (when pyarrow is there);
    the names written."""
    files = []
    named = (("runs.csv", runs), ("curves.csv", curves), ("timings.csv", timings))
    for name, table in ((n, t) for n, t in named if t is not None):
        write_text(folder / name, table.to_csv(index=False, lineterminator="\n"))
        files.append(name)
    try:
        runs.to_parquet(folder / "runs.parquet", index=False)
        files.append("runs.parquet")
    except ImportError:
        pass  # pyarrow missing: pip install 'scrapsim[parquet]'
    return files


def curves_table(runs: Any, keys: Sequence[str], confidence: float = CONFIDENCE) -> Any:
    """Per point: the varied keys, run counts and ``<metric>_mean/_lo/_hi`` over replications.

    The band is the ``confidence`` t-interval of the mean over the successful replications
    (empty with fewer than two; zero width when all replications agree).

    Worked on numpy columns, the points found by one stable sort (each point's runs in the
    table's order, as a ``groupby`` gives them) and the t quantile once per count: the same
    numbers as a ``groupby`` with a quantile per point and metric, several times faster (a
    Sobol' design has a thousand points)."""
    import numpy as np
    import pandas as pd
    from scipy.stats import t

    metrics = [m for m in CURVE_METRICS if m in runs.columns]
    if len(runs) == 0:
        return pd.DataFrame([])
    order = np.argsort(runs["point"].to_numpy(), kind="stable")
    points, starts = np.unique(runs["point"].to_numpy()[order], return_index=True)
    ends = [*starts[1:].tolist(), len(order)]
    ok = (runs["status"].to_numpy() == "ok")[order]
    firsts = {k: runs[k].iloc[order[starts]] for k in keys}
    values = {m: runs[m].to_numpy(dtype=float)[order] for m in metrics}
    quantile: dict[int, float] = {}
    rows = []
    for j, (point, a, b) in enumerate(zip(points.tolist(), starts.tolist(), ends, strict=True)):
        mine = ok[a:b]
        n_ok = int(mine.sum())
        row = {"point": point, **{k: firsts[k].iloc[j] for k in keys},
               "n_ok": n_ok, "n_failed": (b - a) - n_ok}
        for m in metrics:
            x = values[m][a:b][mine]
            x = x[np.isfinite(x)]
            mean = float(x.mean()) if len(x) else float("nan")
            if len(x) > 1 and len(x) not in quantile:
                quantile[len(x)] = t.ppf(0.5 + confidence / 2, len(x) - 1)
            half = float(quantile[len(x)] * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 \
                else float("nan")
            row |= {f"{m}_mean": mean, f"{m}_lo": mean - half, f"{m}_hi": mean + half}
        rows.append(row)
    return pd.DataFrame(rows)
