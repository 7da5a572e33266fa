"""Run folders: everything a single run produced, written atomically, described by a manifest.

A run folder holds

- ``daily.csv``    one row per (date, region), MODEL.md's columns (flows t/day, stocks t, prices CNY/t);
- ``initial.csv``  one row per region: the state before day 1 (``t-1`` of the first day's balances);
- ``events.csv``   every inspection, sanction and state change;
- ``summary.json`` the comparison against the intensity-0 baseline. A run without a baseline
  (``--no-baseline``) has no summary, so the file is *not written*; ``manifest.json`` then says
  ``"summary": null`` and lists the files that are there;
- ``manifest.json`` the resolved scenario and its hash, the seed, versions, wall time, events/s,
  creation time and command line;
- ``timeseries.png`` the time-series figure (unless plotting is off).

The folder is first written as a hidden sibling ``.<name>.tmp-<pid>-<token>`` and renamed into
place when complete; on any failure (including Ctrl-C) the temporary folder is removed, so a
folder that exists under ``results/`` is always a complete run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import platform
import secrets
import shutil
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from scrapsim.scenario import Scenario, ScenarioError, safe_name

__all__ = ["MANIFEST", "RESULTS_ROOT", "canonical_json", "check_out_dir", "jsonable",
           "package_version", "run_dir", "scenario_hash", "write_run"]

RESULTS_ROOT = Path("results")
MANIFEST = "manifest.json"


def canonical_json(data: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept, NaN refused."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def scenario_hash(scenario: Scenario) -> str:
    """sha256 (hex) of the resolved scenario as canonical JSON (seed included).

    Two scenarios hash equal exactly when every field, defaults included, is equal.
    """
    text = canonical_json(scenario.model_dump(mode="json"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_dir(scenario: Scenario, results_root: Path = RESULTS_ROOT) -> Path:
    """The scenario's folder under ``results_root``; refuses names that would leave it."""
    name = scenario.name
    root = Path(results_root).resolve()
    target = (root / name).resolve() if isinstance(name, str) else root
    if not (isinstance(name, str) and safe_name(name)) or target.parent != root:
        raise ScenarioError("would place results outside the results folder", path="name",
                            value=name, expected=f"a plain folder name inside {results_root}/ "
                            "(letters, digits, '_', '-', '.', no '..')")
    return Path(results_root) / name


def check_out_dir(out_dir: Path) -> None:
    """Refuse an ``--out`` target that is a file or a non-empty folder that is not a run.

    An existing run folder (one holding ``manifest.json``) or an empty folder is replaced.
    """
    out_dir = Path(out_dir)
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise ScenarioError("exists and is not a folder", file=str(out_dir),
                            expected="a new folder, an empty one, or an earlier run folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise ScenarioError("is a non-empty folder that is not a scrapsim run; not overwriting",
                            file=str(out_dir),
                            expected="a new folder, an empty one, or an earlier run folder")


def write_run(result: Any, out_dir: Path | None = None, results_root: Path = RESULTS_ROOT,
              plot: bool = True, command: list[str] | None = None) -> Path:
    """Write ``result`` (a :class:`scrapsim.model.simulation.Result`) as a run folder and return its path.

    ``out_dir`` None → ``results_root/<scenario.name>/<run-id>/`` with run-id
    ``<UTC time>-s<seed>-<first 8 hex of the scenario hash>`` (``-2``, ``-3``… if taken);
    otherwise exactly ``out_dir``. ``command`` defaults to ``sys.argv``.
    """
    scenario = result.scenario
    digest = scenario_hash(scenario)
    now = datetime.now(timezone.utc)
    if out_dir is None:
        parent = run_dir(scenario, results_root)
        final = parent / f"{now:%Y%m%dT%H%M%SZ}-s{result.seed}-{digest[:8]}"
    else:
        final = Path(out_dir)
        check_out_dir(final)
    created = _make_parents(final.parent)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        tmp.mkdir()
        files = _write_files(result, tmp, plot)
        manifest = _manifest(result, digest, now, files, command)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False,
                                               allow_nan=False) + "\n", encoding="utf-8")
        return _publish(tmp, final, replace=out_dir is not None)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in reversed(created):
            _rmdir_if_empty(folder)
        raise


def _make_parents(folder: Path) -> list[Path]:
    """mkdir -p, returning the folders it created (outermost first) so a failure can undo them."""
    missing = []
    for p in [folder, *folder.parents]:
        if p.exists():
            break
        missing.append(p)
    missing.reverse()
    for p in missing:
        p.mkdir(exist_ok=True)
    return missing


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _write_files(result: Any, folder: Path, plot: bool) -> list[str]:
    """The data files and the figure, in ``folder``; returns their names."""
    result.daily.to_csv(folder / "daily.csv")
    result.initial.to_csv(folder / "initial.csv")
    result.events.to_csv(folder / "events.csv")
    files = ["daily.csv", "initial.csv", "events.csv"]
    if result.summary is not None:
        text = json.dumps(jsonable(result.summary), indent=2, ensure_ascii=False, allow_nan=False)
        (folder / "summary.json").write_text(text + "\n", encoding="utf-8")
        files.append("summary.json")
    if plot:
        from scrapsim.plots.timeseries import plot_run

        plot_run(result, folder / "timeseries.png")
        files.append("timeseries.png")
    return files


def _publish(tmp: Path, final: Path, replace: bool) -> Path:
    """Rename the finished ``tmp`` to ``final``.

    For ``--out`` an earlier run there is moved aside first and removed after the rename; for
    the default folder a taken run-id gets a ``-2``, ``-3``… suffix instead.
    """
    if replace:
        old = None
        if final.is_dir() and any(final.iterdir()):
            check_out_dir(final)
            old = final.parent / f".{final.name}.old-{os.getpid()}-{secrets.token_hex(3)}"
            final.rename(old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final
    for n in range(1, 1000):
        candidate = final if n == 1 else final.with_name(f"{final.name}-{n}")
        if candidate.exists():
            continue
        try:
            tmp.rename(candidate)
            return candidate
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    raise FileExistsError(f"no free run folder name next to {final}")


def _manifest(result: Any, digest: str, now: datetime, files: list[str],
              command: list[str] | None) -> dict[str, Any]:
    """What a reader needs to know and reproduce the run."""
    import numpy as np

    scenario = result.scenario
    wall = float(result.wall_time)
    n_events = int(result.n_events)
    return {
        "scrapsim": package_version(),
        "created": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "command": list(sys.argv if command is None else command),
        "scenario_name": scenario.name,
        "scenario_hash": digest,
        "seed": int(result.seed),
        "days": scenario.days,
        "regions": [r.name for r in scenario.regions],
        "baseline": result.baseline is not None,
        "wall_time_s": wall,
        "compile_s": _compile_seconds(),
        "baseline_wall_time_s": (float(result.baseline.wall_time)
                                 if result.baseline is not None else None),
        "n_events": n_events,
        "events_per_s": n_events / wall if wall > 0 else None,
        "rows": {"daily": result.daily.n_rows, "events": result.events.n_rows},
        "files": files,
        "summary": "summary.json" if result.summary is not None else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "scenario": scenario.model_dump(mode="json"),
    }


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


def _compile_seconds() -> float:
    """Seconds this process spent compiling or loading the model's loops (not in wall time)."""
    from scrapsim.model.simulation import compile_time

    return compile_time()
