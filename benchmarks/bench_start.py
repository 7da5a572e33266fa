"""Start-up: a first run after ``pip install`` against a warm one, and where a warm run goes.

    python benchmarks/bench_start.py            # about 4.5 minutes on the 2-core machine
    python benchmarks/bench_start.py --no-jit   # skip the just-in-time copy (about 2.5 minutes)

The command timed is ``python -m scrapsim scenarios/hebei.yaml -q`` (writes the run folder and
its timeseries.png), each in a fresh process:

- *Installed*: a wheel is built from this checkout (``pip wheel``, which compiles the loops
  ahead of time, ``scrapsim.model.aot``; its time is printed) and installed with ``pip install
  --target`` into a temporary folder. *First run*: the first after the install; *warm*: the
  median of the next three.
- *Just in time* (skipped with ``--no-jit``): the package copied without ``__pycache__`` and
  without the extension, as a source checkout is: the first run compiles with numba and fills
  its disk cache, the warm ones load it.
- *Helper on and off*: warm installed runs taking turns with the figure drawn by the
  command's forked helper (the default, :mod:`scrapsim.cli.figure`) and in-process
  (``SCRAPSIM_FIGURE_PROCESS=0``, the implementation before it).
- *Parts*: a warm installed run's steps measured in one process.

Every figure is also printed as a ratio to a *reference* measured in the same run: the median
of three ``python -c "import numpy, matplotlib.figure"``, the floor of any process that
computes and draws (a shared machine's load moves both). The issue's targets: first run at
most 1.5 × warm; warm about 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "scenarios" / "hebei.yaml")

PARTS = f"""
import time
t0 = time.perf_counter()
import scrapsim
try:
    from scrapsim.model.loops import BACKEND
except ImportError:  # a checkout from before the loops were built ahead of time
    BACKEND = "just-in-time"
from scrapsim.model.simulation import compile_time, run
sc = scrapsim.load_scenario({SCENARIO!r})
t1 = time.perf_counter(); compile_time(); t2 = time.perf_counter()
r = run(sc); t3 = time.perf_counter()
from scrapsim.plots.timeseries import plot_run
t4 = time.perf_counter(); plot_run(r, "ts.png"); t5 = time.perf_counter()
print(BACKEND, f"{{t1-t0:.3f}} {{t2-t1:.3f}} {{t3-t2:.3f}} {{t4-t3:.3f}} {{t5-t4:.3f}}")
"""
PART_NAMES = ("imports and scenario", "loading the compiled loops", "run + baseline",
              "matplotlib and plots import", "figure (build, draw, PNG)")


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def median_of(n: int, cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    return statistics.median(timed(cmd, cwd, env) for _ in range(n))


def install(tmp: Path) -> tuple[Path, float]:
    """Build a wheel of this checkout's tracked files and install it; returns the site folder
    and the wheel's build time (the ahead-of-time compile included)."""
    src = tmp / "checkout"
    subprocess.run(["git", "checkout-index", "-a", f"--prefix={src}/"], cwd=ROOT, check=True)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    start = time.perf_counter()
    subprocess.run([*pip, "wheel", ".", "--no-deps", "-w", str(tmp / "dist")], cwd=src,
                   check=True, capture_output=True)
    built = time.perf_counter() - start
    wheel = next((tmp / "dist").glob("scrapsim-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(tmp / "site"), str(wheel)],
                   check=True, capture_output=True)
    return tmp / "site", built


def first_and_warm(cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    run = [sys.executable, "-m", "scrapsim", SCENARIO, "-q"]
    first = timed([*run, "--out", "first"], cwd, env)
    warm = statistics.median(timed([*run, "--out", f"warm{i}"], cwd, env) for i in range(3))
    return first, warm


def helper_on_off(cwd: Path, env: dict[str, str], rounds: int = 7) -> tuple[float, float]:
    """Warm runs with the figure helper (scrapsim.cli.figure) and without it, taking turns:
    the medians."""
    run = [sys.executable, "-m", "scrapsim", SCENARIO, "-q"]
    on, off = [], []
    for i in range(rounds):
        on.append(timed([*run, "--out", f"on{i}"], cwd, env))
        off.append(timed([*run, "--out", f"off{i}"], cwd, {**env, "SCRAPSIM_FIGURE_PROCESS": "0"}))
    return statistics.median(on), statistics.median(off)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-jit", action="store_true", help="skip the just-in-time copy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        work = tmp / "work"
        work.mkdir()
        ref = median_of(3, [sys.executable, "-c", "import numpy, matplotlib.figure"], work)
        site, built = install(tmp)
        env = {**os.environ, "PYTHONPATH": str(site)}
        env.pop("SCRAPSIM_JIT", None)
        first, warm = first_and_warm(work, env)
        on, off = helper_on_off(work, env)
        out = subprocess.run([sys.executable, "-c", PARTS], cwd=work, env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        backend, parts = out[0], [float(x) for x in out[1:]]
        jit = None
        if not args.no_jit:
            copy = tmp / "jit"
            shutil.copytree(ROOT / "scrapsim", copy / "scrapsim",
                            ignore=shutil.ignore_patterns("__pycache__", "_loops*"))
            jit = first_and_warm(work, {**env, "PYTHONPATH": str(copy)})
        ref_after = median_of(3, [sys.executable, "-c", "import numpy, matplotlib.figure"],
                              work)

    def line(label: str, seconds: float) -> str:
        return f"  {label:34s} {seconds:6.2f} s  {seconds / ref:5.2f} x ref"

    print("python -m scrapsim scenarios/hebei.yaml -q (writes the folder and timeseries.png)")
    print(f"reference: python -c 'import numpy, matplotlib.figure'  {ref:.3f} s "
          f"(again at the end: {ref_after:.3f} s)")
    print(f"installed from a wheel (loops: {backend}; building the wheel took {built:.1f} s)")
    print(line("first run after the install", first))
    print(line("warm run (median of 3)", warm))
    print(f"  ratio first/warm                   {first / warm:6.2f}  (target <= 1.5)")
    print("  warm runs taking turns, median of 7:")
    print(line("  figure drawn by the helper", on))
    print(line("  figure drawn in-process", off))
    print(f"    helper / in-process              {on / off:6.2f}")
    print("  a warm run's parts, in one process:")
    for part, seconds in zip(PART_NAMES, parts, strict=True):
        print(line("  " + part, seconds))
    if jit is not None:
        print("source copy, numba's just-in-time build (no extension, empty cache)")
        print(line("first run (compiles)", jit[0]))
        print(line("warm run (median of 3)", jit[1]))
        print(f"  ratio first/warm                   {jit[0] / jit[1]:6.2f}")


if __name__ == "__main__":
    main()
