"""Shared fixtures for the model tests: a small valid scenario built in code, and the Hebei file.

``tiny_scenario(**overrides)`` returns a :class:`Scenario` of two regions (``north`` with a
campaign, ``south`` without), about 300 traders and 50 smelters, 90 days from 1 January 2017,
balanced so that collection, imports and smelting roughly match without enforcement. Keyword
arguments are dotted paths with ``__`` for ``.`` (``market__clearing_days=3``) or a ``dotted``
dict, applied through :meth:`Scenario.with_overrides` so they are validated like user input.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scrapsim.model.simulation import Result
from scrapsim.model.table import Table
from scrapsim.scenario import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]
HEBEI = REPO / "scenarios" / "hebei.yaml"

TINY: dict[str, Any] = {
    "name": "tiny",
    "description": "two regions, a short inspection pulse in the north",
    "start": "2017-01-01",
    "end": "2017-03-31",            # 90 days
    "seed": 11,
    "market": {"ingot_price": 14900, "primary_price": 13500, "primary_discount": 2000},
    "regions": [
        {
            "name": "north",
            "generation": 250,      # t/day
            "imports": 40,          # t/day to the large plants
            "traders": {"count": 180, "capacity": 3.0, "cost": 9000, "cost_sd": 700,
                        "violator_share": 0.6},
            "smelters": {
                "large": {"count": 2, "capacity": 100, "metal_yield": 0.9,
                          "processing_cost": 950, "violator_share": 0.5},
                "small": {"count": 8, "capacity": 20, "metal_yield": 0.85,
                          "processing_cost": 800, "violator_share": 0.8},
                "workshop": {"count": 20, "capacity": 5, "metal_yield": 0.8,
                             "processing_cost": 450, "cover_days": 7, "violator_share": 1.0},
            },
        },
        {
            "name": "south",
            "generation": 150,
            "traders": {"count": 120, "capacity": 3.0, "cost": 9000, "cost_sd": 700},
            "smelters": {
                "small": {"count": 6, "capacity": 20, "metal_yield": 0.85,
                          "processing_cost": 800},
                "workshop": {"count": 12, "capacity": 5, "metal_yield": 0.8,
                             "processing_cost": 450, "violator_share": 1.0},
            },
        },
    ],
    "campaigns": [
        {
            "name": "pulse",
            "regions": ["north"],
            "start": "2017-02-10",
            "end": "2017-03-05",
            "teams": 4,
            "inspections_per_team_day": 2,
            "targets": {"large": 1, "small": 1, "workshop": 1, "traders": 0.5},
            "detection": 0.9,
            "sanctions": {"close": 0.3, "suspend": 0.5, "upgrade": 0.1, "fine": 0.1},
            "suspend_days": 20,
            "rectify_days": 10,
        },
    ],
}


def make_tiny(dotted: dict[str, Any] | None = None, **kw: Any) -> Scenario:
    """The tiny scenario with dotted-path overrides (``a__b=1`` means ``a.b=1``)."""
    base = Scenario.model_validate(copy.deepcopy(TINY))
    overrides = dict(dotted or {})
    overrides.update({k.replace("__", "."): v for k, v in kw.items()})
    return base.with_overrides(overrides) if overrides else base


@pytest.fixture(scope="session")
def tiny_scenario() -> Callable[..., Scenario]:
    """Factory: ``tiny_scenario(market__clearing_days=2)`` → a validated Scenario."""
    return make_tiny


@pytest.fixture(scope="session")
def tiny_dict() -> Callable[[], dict[str, Any]]:
    """Factory of a fresh deep copy of the tiny scenario's raw mapping (to edit lists freely)."""
    return lambda: copy.deepcopy(TINY)


@pytest.fixture(scope="session")
def hebei() -> Scenario:
    return load_scenario(HEBEI)


@pytest.fixture(scope="session")
def hebei_result(hebei: Scenario) -> Result:
    """scenarios/hebei.yaml at its own seed, with its baseline (shared: runs once)."""
    from scrapsim.model.simulation import run

    return run(hebei)


def matrix(table: Table, column: str, n_regions: int) -> np.ndarray:
    """A daily column as a [day, region] float array."""
    return np.asarray(table[column], dtype=float).reshape(-1, n_regions)


@pytest.fixture(scope="session")
def as_matrix() -> Callable[[Table, str, int], np.ndarray]:
    return matrix


def interruptible() -> None:
    """``preexec_fn`` for a command a test interrupts with SIGINT: Ctrl-C's default action, as
    at a terminal, even when the suite runs as a background job (``nohup``, ``&``), whose
    children inherit SIGINT ignored and would never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _subprocess_env() -> dict[str, str]:
    """This environment with the checkout first on PYTHONPATH (for worker subprocesses)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(REPO), os.environ.get("PYTHONPATH")]))}


def start_dask(folder: Path) -> tuple[str, list[subprocess.Popen]]:
    """A real Dask scheduler and two single-threaded workers (with their nanny) on 127.0.0.1,
    as subprocesses in their own sessions: the address and [scheduler, workers]."""
    file = folder / "scheduler.json"
    file.unlink(missing_ok=True)
    common: dict[str, Any] = {"cwd": folder, "env": _subprocess_env(),
                              "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                              "start_new_session": True}
    dask = [sys.executable, "-m", "dask"]
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(file)], **common)]
    try:
        deadline, address = time.monotonic() + 60, None
        while address is None and time.monotonic() < deadline:
            try:  # the scheduler may not have written the whole file yet
                address = json.loads(file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        assert address is not None, "the Dask scheduler did not start within 60 s"
        procs.append(subprocess.Popen([*dask, "worker", address, "--nworkers", "2",
                                       "--nthreads", "1", "--no-dashboard", "--host",
                                       "127.0.0.1"], **common))
    except BaseException:
        stop_dask(procs)
        raise
    return address, procs


def stop_dask(procs: list[subprocess.Popen]) -> None:
    """SIGKILL the process groups of :func:`start_dask` (workers first) and reap them."""
    for p in reversed(procs):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(20)


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Dask scheduler and two single-threaded workers on 127.0.0.1, as subprocesses."""
    pytest.importorskip("distributed")
    address, procs = start_dask(tmp_path_factory.mktemp("dask"))
    try:
        yield address
    finally:
        stop_dask(procs)


LONGEST_FIRST = ("test_packaging.py", "test_readme.py", "test_readme_later.py")
"""Test files that take minutes (a just-in-time compile on an empty cache, a wheel, the
README's sweeps and analyses), collected first: the workers take files in collection order,
so these start at once, in parallel with the rest, instead of last on one worker."""


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
