"""Start-up: a first run on a fresh machine against a warm one, and where a warm CLI run goes.

    python benchmarks/bench_start.py            # 3 warm runs, 1 cold (about 1 minute)

*Cold*: the package is copied to a temporary directory (so numba's disk cache, which lives in
``__pycache__`` beside the sources, is empty there) and ``python -m scrapsim
scenarios/hebei.yaml`` runs from the copy: what a first run after ``pip install .`` pays.
*Warm*: the same command again, from the same copy. Both include writing the run folder and
its figure. Printed: each wall time, the ratio cold/warm (issue target: at most 1.5), and for
the warm run the parts measured in one process: imports, loading the compiled loops, the run
with its baseline, and the figure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PARTS = """
import time
t0 = time.perf_counter()
import scrapsim
from scrapsim.model.simulation import compile_time, run
sc = scrapsim.load_scenario("scenarios/hebei.yaml")
t1 = time.perf_counter(); compile_time(); t2 = time.perf_counter()
r = run(sc); t3 = time.perf_counter()
from scrapsim.plots.timeseries import plot_run
t4 = time.perf_counter(); plot_run(r, "ts.png"); t5 = time.perf_counter()
print(f"{t1-t0:.3f} {t2-t1:.3f} {t3-t2:.3f} {t4-t3:.3f} {t5-t4:.3f}")
"""


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(ROOT / "scrapsim", copy / "scrapsim",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "scrapsim" / "library" / "scenarios", copy / "scenarios")
        run = [sys.executable, "-m", "scrapsim", "scenarios/hebei.yaml", "-q"]
        cold = timed([*run, "--out", "cold"], copy)
        warm = sorted(timed([*run, "--out", f"warm{i}"], copy) for i in range(3))[1]
        parts = subprocess.run([sys.executable, "-c", PARTS], cwd=copy, check=True,
                               capture_output=True, text=True).stdout.split()
    print("python -m scrapsim scenarios/hebei.yaml (writes the folder and timeseries.png)")
    print(f"  first run, empty cache: {cold:6.2f} s")
    print(f"  warm run (median of 3): {warm:6.2f} s")
    print(f"  ratio cold/warm:        {cold / warm:6.2f}  (target <= 1.5)")
    names = ("imports and scenario", "loading compiled loops", "run + baseline",
             "matplotlib and plots import", "figure")
    print("  a warm run's parts, in one process:")
    for name, value in zip(names, parts, strict=True):
        print(f"    {name:28s} {float(value):6.2f} s")


if __name__ == "__main__":
    main()
