"""Where a sweep keeps its runs: an append-only journal, then the sweep folder.

Each finished run becomes one JSON line appended to ``runs.jsonl`` in the working folder
``<out>.partial`` with a single ``write`` (so a SIGKILL leaves whole lines; a torn last line from
a power cut is cut off on reopening), and is fsynced at most every second. A run is keyed by its
scenario hash (the base scenario after ``--set``), its point (the overrides), replication and
seed, so a rerun of the same command skips every stored run and repeats none. When every run is
stored the tables are written into the working folder, which is then renamed to ``<out>``.
One writer at a time: the journal is locked (``flock``) while a sweep writes to it.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scrapsim.experiments.design import Design, SweepSpecError

__all__ = ["Journal", "check_out", "finish", "partial_path", "read_manifest", "read_records",
           "run_key", "runs_table", "write_json", "write_tables", "write_text"]

JOURNAL = "runs.jsonl"
MANIFEST = "manifest.json"
FSYNC_EVERY_S = 1.0


def run_key(scenario_hash: str, point: str, rep: int, seed: int, version: str) -> str:
    """The identity of one run (``point``: its overrides as canonical JSON): what it
    simulates, not where or when it ran."""
    return f"{scenario_hash[:16]}|{point}|{rep}|{seed}|{version}"


class Journal:
    """The append-only file of finished runs of one sweep (single writer, locked)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / JOURNAL
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise SweepSpecError("another sweep is writing to this folder", file=str(folder),
                                 expected="one sweep per folder at a time") from None
        self._cut_torn_tail()
        self._synced = time.monotonic()

    def _cut_torn_tail(self) -> None:
        """Drop a last line left incomplete by a crash, reading back from the end."""
        end = os.fstat(self._fd).st_size
        if end == 0 or os.pread(self._fd, 1, end - 1) == b"\n":
            return
        while end > 0:
            start = max(0, end - 65536)
            newline = os.pread(self._fd, end - start, start).rfind(b"\n")
            if newline >= 0:
                os.ftruncate(self._fd, start + newline + 1)
                return
            end = start
        os.ftruncate(self._fd, 0)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every stored run, in the order stored."""
        return read_records(self.path.parent)

    def append(self, record: dict[str, Any]) -> None:
        """Store one finished run (one whole line, one write)."""
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        os.write(self._fd, line)
        if time.monotonic() - self._synced > FSYNC_EVERY_S:
            os.fsync(self._fd)
            self._synced = time.monotonic()

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(folder: Path) -> Iterator[dict[str, Any]]:
    """The runs stored in a sweep folder's journal, in the order stored (read only)."""
    with open(folder / JOURNAL, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def partial_path(final: Path) -> Path:
    """The working folder of a sweep whose finished folder will be ``final``."""
    return final.with_name(final.name + ".partial")


def check_out(final: Path, sweep_id: str, what: str = "sweep") -> bool:
    """True when ``final`` already holds this finished sweep (or calibration, ...: ``what``,
    whose manifest has ``<what>_id``); error when it holds anything else."""
    if not final.exists():
        return False
    if not final.is_dir():
        raise SweepSpecError("exists and is not a folder", file=str(final),
                             value=str(final), expected="a new or empty folder for --out")
    manifest = final / MANIFEST
    if manifest.exists():
        found = json.loads(manifest.read_text(encoding="utf-8")).get(f"{what}_id")
        if found == sweep_id:
            return True
        raise SweepSpecError(f"holds another {what} (id {found}, this one is {sweep_id})",
                             file=str(final), expected="a new or empty folder for --out")
    if any(final.iterdir()):
        raise SweepSpecError("exists and is not empty", file=str(final), value=str(final),
                             expected="a new or empty folder for --out")
    return False


def finish(partial: Path, final: Path) -> None:
    """Rename the completed working folder to its final name."""
    if final.is_dir() and not any(final.iterdir()):
        final.rmdir()
    os.replace(partial, final)
    _fsync_dir(final.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    """Write a file through a temporary name, so a reader never sees half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


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


def write_tables(folder: Path, runs: Any, curves: Any, timings: Any) -> list[str]:
    """runs.csv, runs.parquet (when pyarrow is there), curves.csv, timings.csv; their names."""
    files = []
    for name, table in (("runs.csv", runs), ("curves.csv", curves), ("timings.csv", timings)):
        write_text(folder / name, table.to_csv(index=False, lineterminator="\n"))
        files.append(name)
    try:
        runs.to_parquet(folder / "runs.parquet", index=False)
        files.append("runs.parquet")
    except ImportError:
        pass  # pyarrow missing: pip install 'scrapsim[parquet]'
    return files
