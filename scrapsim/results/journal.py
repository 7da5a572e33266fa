"""Where an experiment keeps its runs while it works: an append-only journal that survives
damage.

Each finished run becomes one JSON line appended to ``runs.jsonl`` in the working folder
``<out>.partial``, ending in a checksum of its own bytes (``,"check":"<16 hex>"}``: the first
16 hex digits of the SHA-256 of the record's JSON). A line is written whole or not at all: the
byte count of every ``write`` is checked and a short write is completed, and a write that fails
(a full disk) is cut off again. When the journal is opened, every line is checked; a torn,
corrupt (``{not json}``, NUL bytes) or altered record (valid JSON whose checksum does not match)
is set aside into ``rejected.jsonl`` beside it, reported in one line on stderr, and dropped from
the journal, so its run is simply repeated. A run is keyed by what it simulates
(:func:`run_key`), so a rerun of the same command skips every stored run and repeats none. One
writer at a time: the journal is locked (``flock``) from opening until the experiment's folder
is published.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scrapsim.errors import ScenarioError

__all__ = ["JOURNAL", "REJECTED", "Journal", "encode", "decode", "read_records", "run_key"]

JOURNAL = "runs.jsonl"
REJECTED = "rejected.jsonl"
FSYNC_EVERY_S = 1.0
_CHECK = re.compile(rb',"check":"([0-9a-f]{16})"}$')


def run_key(scenario_hash: str, point: str, rep: int, seed: int, version: str) -> str:
    """The identity of one run (``point``: its overrides as canonical JSON): what it
    simulates, not where or when it ran."""
    return f"{scenario_hash[:16]}|{point}|{rep}|{seed}|{version}"


def _checksum(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def encode(record: dict[str, Any]) -> bytes:
    """One journal line: the record's JSON with its checksum as a last field, and a newline."""
    if "check" in record:
        raise ValueError("a journal record may not have a field named 'check'")
    body = json.dumps(record, separators=(",", ":")).encode()
    return body[:-1] + b',"check":"' + _checksum(body).encode() + b'"}\n'


def decode(line: bytes) -> dict[str, Any] | str:
    """The record of one journal line, or why it is rejected (torn, not JSON, altered)."""
    if not line.endswith(b"\n"):
        return "torn (no end of line)"
    text = line[:-1]
    if b"\0" in text:
        return "NUL bytes"
    match = _CHECK.search(text)
    if match is None:
        return "no checksum (torn or not written by this version)"
    body = text[:match.start()] + b"}"
    try:
        record = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return "not JSON"
    if not isinstance(record, dict) or "key" not in record:
        return "not a run record"
    if _checksum(body) != match.group(1).decode():
        return "checksum mismatch (altered)"
    return record


class Journal:
    """The append-only file of finished runs of one experiment (single writer, locked)."""

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
        self.rejected = 0
        try:
            if os.stat(self.path).st_ino != os.fstat(self._fd).st_ino:
                raise ScenarioError("was published or moved by another command meanwhile",
                                    file=str(folder), expected="one command per folder at a "
                                    "time; run the command again")
            self._records = self._check()
        except BaseException:
            os.close(self._fd)
            raise
        self._synced = time.monotonic()

    def _check(self) -> list[dict[str, Any]]:
        """Read every line; set the damaged ones aside and keep the journal to the sound."""
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        good: list[bytes] = []
        records: list[dict[str, Any]] = []
        bad: list[tuple[int, str, bytes]] = []
        for number, line in enumerate(data.splitlines(keepends=True), 1):
            if not line.strip(b"\n\r \0"):
                if line.strip(b"\n"):
                    bad.append((number, "NUL bytes", line))
                continue
            found = decode(line)
            if isinstance(found, str):
                bad.append((number, found, line))
            else:
                good.append(line)
                records.append(found)
        if bad:
            self._set_aside(bad)
            _rewrite(self._fd, b"".join(good))
        self.rejected = len(bad)
        return records

    def _set_aside(self, bad: list[tuple[int, str, bytes]]) -> None:
        rejected = self.path.with_name(REJECTED)
        with open(rejected, "a", encoding="utf-8") as f:
            for number, reason, line in bad:
                f.write(json.dumps({"line": number, "reason": reason,
                                    "text": line.decode("utf-8", "replace")}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        lines = ", ".join(str(n) for n, _, _ in bad[:5]) + (" ..." if len(bad) > 5 else "")
        print(f"scrapsim: {self.path}: set aside {len(bad)} damaged record"
              f"{'s' if len(bad) > 1 else ''} (line {lines}: {bad[0][1]}) into {rejected}; "
              "their runs are repeated", file=sys.stderr)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every sound stored run, in the order stored."""
        return iter(self._records)

    def append(self, record: dict[str, Any]) -> None:
        """Store one finished run (one whole line, every byte written, or none of it)."""
        line = encode(record)
        start = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, line)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            raise
        self._records.append(json.loads(line[:line.rindex(b',"check"')] + b"}"))
        if time.monotonic() - self._synced > FSYNC_EVERY_S:
            os.fsync(self._fd)
            self._synced = time.monotonic()

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        if self._fd >= 0:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a short write is continued; none raises)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(f"wrote no byte of {len(view)} to the journal")
        view = view[n:]


def _rewrite(fd: int, data: bytes) -> None:
    """Replace the journal's content by ``data`` (its sound lines) in place, keeping the lock."""
    os.ftruncate(fd, 0)
    _write_all(fd, data)
    os.fsync(fd)


def read_records(folder: Path) -> Iterator[dict[str, Any]]:
    """The sound runs stored in an experiment folder's journal, in the order stored (read
    only: damaged lines are skipped)."""
    with open(folder / JOURNAL, "rb") as f:
        for line in f:
            found = decode(line) if line.strip() else None
            if isinstance(found, dict):
                yield found
