"""Where an experiment keeps its runs while it works: an append-only journal.

Each finished run becomes one JSON line appended to ``runs.jsonl`` in the working folder
``<out>.partial`` with a single ``write`` (so a SIGKILL leaves whole lines; a torn last line from
a power cut is cut off on reopening), and is fsynced at most every second. A run is keyed by
what it simulates (:func:`run_key`), so a rerun of the same command skips every stored run and
repeats none. One writer at a time: the journal is locked (``flock``) from opening until the
experiment's folder is published.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scrapsim.errors import ScenarioError

__all__ = ["JOURNAL", "Journal", "read_records", "run_key"]

JOURNAL = "runs.jsonl"
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
            raise ScenarioError("another command is writing to this folder", file=str(folder),
                                 expected="one command per folder at a time") from None
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
