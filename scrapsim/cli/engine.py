"""What the commands that run many replications share: their engine options and the way they
end (``sweep``, ``calibrate``, ``sensitivity``).

Importing this module imports only argparse; the scenario loader and the executor load when a
command runs. Exit status of :func:`guarded`: 2 bad input (:class:`ScenarioError`, a missing
file, a missing optional dependency), 1 the workers or runs failed, 130 interrupted (Ctrl-C
or ``kill``; the finished runs
stay stored and the same command resumes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["add_engine_options", "guarded", "overrides", "scenario_path"]

T = TypeVar("T")


def scenario_path(text: str) -> Path | str:
    """A command's SCENARIO argument as a path, but an empty one kept as it was given:
    ``Path("")`` is the current folder, which the loader would report as a folder given for a
    file; :func:`~scrapsim.scenario.load_scenario` says that no scenario was named."""
    return Path(text) if text.strip() else text


def add_engine_options(p: argparse.ArgumentParser, *, out_help: str, quiet_help: str) -> None:
    """``--set``, ``--seed``, ``--out``, ``--workers``, ``--scheduler``, ``--quiet`` and
    ``--force``."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field of the base scenario by dotted path (repeatable)")
    p.add_argument("--seed", type=int, help="root seed (default: the scenario's seed)")
    p.add_argument("--out", type=Path, metavar="DIR", help=out_help)
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: the cores; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on an existing Dask distributed cluster "
                   "(pip install 'scrapsim[dask]')")
    p.add_argument("--quiet", "-q", action="store_true", help=quiet_help)
    p.add_argument("--force", action="store_true",
                   help="run a job bigger than the limits on runs and memory (a deliberate "
                   "big job; out-of-range values are refused all the same)")


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--set KEY=VALUE`` options as a mapping (a bad one raises ScenarioError)."""
    from scrapsim.scenario import parse_override

    return dict(parse_override(text) for text in args.overrides)


def guarded(prog: str, call: Callable[[], T],
            failures: tuple[type[BaseException], ...] = (),
            force: bool = False) -> tuple[int, T | None]:
    """``call()`` and 0, or None and the exit status after a one-line message on stderr;
    ``force`` lifts the soft limits of :mod:`scrapsim.experiments.bounds` (``--force``)."""
    from scrapsim.errors import MissingExtraError
    from scrapsim.experiments.bounds import forced
    from scrapsim.experiments.engine import SweepError
    from scrapsim.scenario import ScenarioError

    try:
        with forced(force):
            return 0, call()
    except BrokenPipeError:         # the reader of our output left: main() ends quietly
        raise
    except (ScenarioError, MissingExtraError, OSError) as exc:
        from scrapsim.results.folders import os_problem

        return _fail(prog, os_problem(exc), 2), None
    except (SweepError, *failures) as exc:  # type: ignore[misc]
        return _fail(prog, str(exc), 1), None
    except KeyboardInterrupt as exc:
        return _fail(prog, _interrupted(getattr(exc, "stored", None)), 130), None


def _interrupted(stored: int | None) -> str:
    """What an interrupt leaves: ``stored`` runs kept (None: not known)."""
    if stored == 0:
        return "interrupted before any run finished; nothing was kept"
    kept = "the finished runs are" if stored is None else \
        f"{stored} finished run{'s' * (stored != 1)} {'are' if stored != 1 else 'is'}"
    return f"interrupted; {kept} stored: run the same command again to resume"


def _fail(prog: str, message: str, status: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status
