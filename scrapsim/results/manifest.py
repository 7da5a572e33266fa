"""The header every manifest starts with, whatever wrote it.

``kind`` (run, sweep, calibration, sensitivity, validation, report), ``id``, the command line,
scrapsim's version, the scenario (name, file, hash), the seeds, the engine, and UTC times in
one format (``2017-02-15T08:00:00Z``). Readers (the report, a rerun) decide what a folder is
from ``kind`` alone.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scrapsim.results.identity import jsonable, package_version
from scrapsim.results.provenance import provenance

__all__ = ["KINDS", "header", "stamp", "utc_now"]

KINDS = ("run", "sweep", "calibration", "sensitivity", "validation", "report", "explore",
         "discover", "robust")


def utc_now() -> datetime:
    """Now, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """A UTC time as manifests write it: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def header(kind: str, ident: str, *, scenario: dict[str, Any] | None, seeds: Sequence[int],
           engine: dict[str, Any] | None, started: datetime,
           command: Sequence[str] | None = None, root_seed: int | None = None) -> dict[str, Any]:
    """The common head of a manifest; ``created`` is when the folder was completed."""
    if kind not in KINDS:
        raise ValueError(f"unknown result kind {kind!r}; expected one of {', '.join(KINDS)}")
    return jsonable({
        "kind": kind, "id": ident, "scrapsim": package_version(),
        "command": list(sys.argv if command is None else command),
        "scenario": scenario, "root_seed": root_seed, "seeds": list(seeds), "engine": engine,
        "started": stamp(started), "created": stamp(utc_now()),
        "provenance": provenance(),
        "python": platform.python_version(), "platform": platform.platform(),
    })
