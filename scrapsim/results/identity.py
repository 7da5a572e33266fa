"""What identifies a result: canonical JSON, the scenario's hash, the package version.

A run, a sweep or a calibration is named by a hash of what it simulates (scenario, design,
seeds, version), never by where or when it ran, so the same command finds its own folder again.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from datetime import date, datetime
from typing import Any

from scrapsim.scenario import Scenario

__all__ = ["canonical_json", "digest", "jsonable", "package_version", "scenario_hash"]


def canonical_json(data: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept, NaN refused."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def digest(data: Any, length: int = 12) -> str:
    """The first ``length`` hex digits of the sha256 of ``data`` as canonical JSON."""
    text = canonical_json(jsonable(data))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def scenario_hash(scenario: Scenario) -> str:
    """sha256 (hex) of the resolved scenario as canonical JSON (seed included).

    Two scenarios hash equal exactly when every field, defaults included, is equal.
    """
    text = canonical_json(scenario.model_dump(mode="json"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_version() -> str:
    """scrapsim's version: the package attribute, else the installed metadata."""
    module = sys.modules.get("scrapsim")
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib import metadata

    try:
        return metadata.version("scrapsim")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON data: numpy scalars unwrapped, dates ISO, NaN/inf → None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if getattr(obj, "ndim", None) == 0 and callable(getattr(obj, "item", None)):
        obj = obj.item()
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
