"""Calibration speed: the figures quoted in the README's Calibration section.

    python benchmarks/bench_calibrate.py              # about 2-3 minutes on 2 cores
    python benchmarks/bench_calibrate.py --quick      # a smaller search, for a smoke test

1. The shipped Hebei fit (``scrapsim calibrate scenarios/hebei.yaml --targets
   targets/hebei.yaml``, the defaults) as a fresh command-line process, with one worker per core
   and with one worker: wall time, runs, runs per second and the speed-up. The two searches
   are the same (same seeds, same trajectory), so the ratio compares engines, not searches.
2. The resume: the same command again after the folder is removed but its journal kept in
   ``<folder>.partial`` (no model runs; tables, uncertainty and figure only).
3. What keeping the workers between generations saves: the cost of starting a pool of
   workers (spawn, imports, loading the compiled loops from the cache) and stopping it, which a
   pool per generation would pay every generation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli_fit(out: Path, workers: int, extra: list[str]) -> tuple[float, dict[str, Any]]:
    """Wall time of one ``python -m scrapsim calibrate`` process and its manifest."""
    cmd = [sys.executable, "-m", "scrapsim", "calibrate", str(ROOT / "scenarios" / "hebei.yaml"),
           "--targets", str(ROOT / "targets" / "hebei.yaml"), "--workers", str(workers),
           "--out", str(out), "-q", *extra]
    start = time.perf_counter()
    subprocess.run(cmd, env=ENV, check=True, cwd=out.parent)
    wall = time.perf_counter() - start
    return wall, json.loads((out / "manifest.json").read_text())


def engine_start_stop(workers: int, times: int = 3) -> float:
    """Median seconds to start a pool of ``workers``, have each run one Hebei replication (so
    every worker has imported the model and loaded its compiled loops) and stop it, minus the
    same replications on a pool already warm: what a fresh pool per generation would cost."""
    from scrapsim.experiments.engine import Engine, Task
    from scrapsim.scenario import load_scenario

    text = load_scenario(ROOT / "scenarios" / "hebei.yaml").model_dump_json()
    tasks = [Task(0, r, r, f"warm|{r}", text) for r in range(workers)]
    walls = []
    with Engine(workers) as warm:
        warm.run(tasks, lambda *_: None)
        start = time.perf_counter()
        warm.run(tasks, lambda *_: None)
        hot = time.perf_counter() - start
    for _ in range(times):
        start = time.perf_counter()
        with Engine(workers) as engine:
            engine.run(tasks, lambda *_: None)
        walls.append(time.perf_counter() - start - hot)
    return sorted(walls)[len(walls) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="4 replications, population 4 per parameter, 4 generations")
    args = parser.parse_args()
    extra = ["--reps", "4", "--popsize", "4", "--maxiter", "4"] if args.quick else []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        par, m_par = cli_fit(tmp / "parallel", cores, extra)
        ser, m_ser = cli_fit(tmp / "serial", 1, extra)
        runs = m_par["session"]["ran"]
        partial = tmp / "resumed.partial"
        partial.mkdir()
        shutil.copyfile(tmp / "parallel" / "runs.jsonl", partial / "runs.jsonl")
        resumed, m_res = cli_fit(tmp / "resumed", cores, extra)
        same = (tmp / "parallel" / "parameters.csv").read_bytes() == \
            (tmp / "serial" / "parameters.csv").read_bytes()
        generations = m_par["optimizer"]["nit"] + 1        # the initial population, then each
        pool = engine_start_stop(cores)
    print(f"Hebei fit: {m_par['optimizer']['points']} points, {runs} runs, "
          f"{generations - 1} generations")
    print(f"  {cores} workers: {par:.1f} s ({runs / par:.0f} runs/s)")
    print(f"  1 worker:  {ser:.1f} s ({runs / ser:.0f} runs/s)")
    print(f"  speed-up:  {ser / par:.2f}x; same fit with 1 and {cores} workers: {same}")
    print(f"  resumed from the journal: {resumed:.1f} s, {m_res['session']['ran']} runs")
    print(f"  starting and stopping a pool of {cores}: {pool:.2f} s; a pool per generation "
          f"would add about {pool * (generations - 1):.1f} s to this fit")


if __name__ == "__main__":
    main()
