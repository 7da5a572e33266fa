"""Run folders: everything a single run produced, written atomically, described by a manifest.

A run folder holds

- ``daily.csv``    one row per (date, region), MODEL.md's columns (flows t/day, stocks t,
  prices CNY/t);
- ``initial.csv``  one row per region: the state before day 1 (``t-1`` of the first day's balances);
- ``events.csv``   every inspection, sanction and state change;
- ``baseline_daily.csv`` the intensity-0 twin's daily table (same seed, same columns), so every
  "vs. no enforcement" can be rebuilt from the CSVs (not written with ``--no-baseline``);
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
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapsim.results import folders
from scrapsim.results.identity import canonical_json, jsonable, package_version, scenario_hash
from scrapsim.results.manifest import header, utc_now
from scrapsim.scenario import Scenario, ScenarioError, safe_name

__all__ = ["MANIFEST", "RESULTS_ROOT", "check_out_dir", "draw_figure", "run_dir", "run_id",
           "write_run"]

RESULTS_ROOT = Path("results")
MANIFEST = folders.MANIFEST


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


def run_id(scenario: Scenario, seed: int) -> str:
    """A run's id: what it simulates (scenario hash, seed, scrapsim's version), 12 hex."""
    text = canonical_json({"scenario": scenario_hash(scenario), "seed": int(seed),
                           "version": package_version()})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def check_out_dir(out_dir: Path, scenario: Scenario | None = None,
                  seed: int | None = None) -> bool:
    """Refuse an ``--out`` target scrapsim may not replace (exit 2, nothing deleted).

    A new or empty folder is taken; an existing one only when its manifest proves it is the
    run of this same scenario and seed (``kind`` run, the same id) and it holds nothing the
    manifest does not list. Without ``scenario`` (an early check) any earlier run folder of
    nothing but its own files passes. True when the folder will be replaced.
    """
    out_dir = Path(out_dir)
    ident = None if scenario is None else \
        run_id(scenario, scenario.seed if seed is None else seed)
    if ident is None and (out_dir / MANIFEST).is_file():
        found = folders.read_manifest(out_dir)
        ident = folders.folder_id(found, "run") if found.get("kind") == "run" else None
        ident = ident or "?"
    return folders.check_replace(out_dir, "run", ident or "?")


def write_run(result: Any, out_dir: Path | None = None, results_root: Path = RESULTS_ROOT,
              plot: bool = True, command: list[str] | None = None,
              draw: Callable[[Any, Path], None] | None = None) -> Path:
    """Write ``result`` (a :class:`scrapsim.model.simulation.Result`) as a run folder and
    return its path.

    ``out_dir`` None → ``results_root/<scenario.name>/<run-id>/`` with run-id
    ``<UTC time>-s<seed>-<first 8 hex of the scenario hash>`` (``-2``, ``-3``… if taken);
    otherwise exactly ``out_dir``. ``command`` defaults to ``sys.argv``. ``draw(result, folder)``
    draws ``timeseries.png`` into the temporary folder when ``plot`` (default: in this process;
    the command line passes :meth:`scrapsim.cli.figure.FigureProcess.draw`).
    """
    scenario = result.scenario
    digest = scenario_hash(scenario)
    now = utc_now()
    if out_dir is None:
        name = f"{now:%Y%m%dT%H%M%SZ}-s{result.seed}-{digest[:8]}"
        final = run_dir(scenario, results_root) / name
    else:
        final = Path(out_dir)
        check_out_dir(final, scenario, int(result.seed))
    created = folders.make_parents(final.parent)
    folders.clean_stale(final)  # work folders of killed runs beside it
    tmp = folders.work_path(final)
    try:
        tmp.mkdir()
        files = _write_files(result, tmp, plot, draw)
        folders.write_json(tmp / MANIFEST, _manifest(result, digest, now, files, command,
                                                     folders.digests(tmp, files)))
        if out_dir is not None:
            return folders.publish(tmp, final, replace=True)
        return _publish_new(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        folders.remove_empty(created)
        raise


def _write_files(result: Any, folder: Path, plot: bool,
                 draw: Callable[[Any, Path], None] | None = None) -> list[str]:
    """The data files and the figure, in ``folder``; returns their names."""
    result.daily.to_csv(folder / "daily.csv")
    result.initial.to_csv(folder / "initial.csv")
    result.events.to_csv(folder / "events.csv")
    files = ["daily.csv", "initial.csv", "events.csv"]
    if result.baseline is not None:
        result.baseline.daily.to_csv(folder / "baseline_daily.csv")
        files.append("baseline_daily.csv")
    if result.summary is not None:
        text = json.dumps(jsonable(result.summary), indent=2, ensure_ascii=False, allow_nan=False)
        (folder / "summary.json").write_text(text + "\n", encoding="utf-8")
        files.append("summary.json")
    if plot:
        (draw or draw_figure)(result, folder)
        files.append("timeseries.png")
    return files


def draw_figure(result: Any, folder: Path) -> None:
    """Draw ``timeseries.png`` of ``result`` into ``folder``, in this process."""
    from scrapsim.plots.timeseries import plot_run

    plot_run(result, folder / "timeseries.png")


def _publish_new(tmp: Path, final: Path) -> Path:
    """Publish a run under its default name; a taken run-id gets ``-2``, ``-3``… instead."""
    for n in range(1, 1000):
        candidate = final if n == 1 else final.with_name(f"{final.name}-{n}")
        if candidate.exists():
            continue
        try:
            return folders.publish(tmp, candidate)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    raise FileExistsError(f"no free run folder name next to {final}")


def _manifest(result: Any, digest: str, now: Any, files: list[str],
              command: list[str] | None, sums: dict[str, str] | None = None) -> dict[str, Any]:
    """What a reader needs to know and reproduce the run: the common header, then the run's
    own facts and the resolved scenario."""
    import numpy as np

    scenario = result.scenario
    wall = float(result.wall_time)
    n_events = int(result.n_events)
    ident = run_id(scenario, int(result.seed))
    head = header("run", ident, scenario={"name": scenario.name, "file": scenario.source_file,
                                               "hash": digest},
                  seeds=[int(result.seed)], root_seed=int(result.seed),
                  engine={"engine": "serial", "workers": 1}, started=now, command=command)
    return head | jsonable({
        "scenario_name": scenario.name,
        "scenario_hash": digest,
        "seed": int(result.seed),
        "days": scenario.days,
        "regions": [r.name for r in scenario.regions],
        "baseline": result.baseline is not None,
        "wall_time_s": wall,
        "compile_s": _compile_seconds(),
        "loops": _loops_backend(),
        "baseline_wall_time_s": (float(result.baseline.wall_time)
                                 if result.baseline is not None else None),
        "n_events": n_events,
        "events_per_s": n_events / wall if wall > 0 else None,
        "rows": {"daily": result.daily.n_rows, "events": result.events.n_rows},
        "files": [*files, MANIFEST],
        "digests": sums or {},
        "summary": "summary.json" if result.summary is not None else None,
        "numpy": np.__version__,
        "resolved_scenario": scenario.model_dump(mode="json"),
    })


def _loops_backend() -> str:
    """Which build of the compiled loops ran (:data:`scrapsim.model.loops.BACKEND`)."""
    from scrapsim.model.loops import BACKEND

    return BACKEND


def _compile_seconds() -> float:
    """Seconds this process spent compiling or loading the model's loops (not in wall time)."""
    from scrapsim.model.simulation import compile_time

    return compile_time()
