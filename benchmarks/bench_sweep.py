"""Sweep speed and memory: the figures quoted in the README.

    python benchmarks/bench_sweep.py            # everything (about 5 minutes on 2 cores)
    python benchmarks/bench_sweep.py --runs 200 --skip-memory

1. ``--runs`` Hebei runs (full 2017 scenario, each with its intensity-0 baseline) over
   ``enforcement.intensity=0:2:20``: wall time with the default pool (one worker per core) and
   with one worker, and the speed-up (targets: 1,000 runs <= 15 s, speed-up >= 1.7x on 2 cores).
2. The Dask path: a scheduler and one single-threaded worker per core started here on
   127.0.0.1; per-run overhead = wall per run of no-op runs (engine cost only) on Dask minus the
   same on the local pool, and Hebei runs on Dask against the pool.
3. Peak memory of a 20,000-run sweep (Hebei cut to its first week, 20 points x 1,000 reps) run
   by the command line: resident memory of the parent and of parent + workers, sampled every
   0.1 s.
Wall times include starting the workers and writing the tables and figures.

Needs the Dask path's and the memory sampling's packages: ``pip install 'scrapsim[bench]'``
(dask distributed and psutil); without them it stops at once and says so (or skip the parts:
``--skip-dask``, ``--skip-memory``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
HEBEI = ROOT / "scenarios" / "hebei.yaml"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
NOOP = "bench_sweep:noop"


def noop(scenario: Any, seed: int) -> dict[str, Any]:
    """A run that does nothing: what is left is the engine's cost."""
    return {"collection_change": 0.0}


def timed_sweep(tmp: Path, name: str, runs: int, **kwargs: Any) -> tuple[float, Any]:
    from scrapsim.experiments.sweep import sweep

    reps = max(1, runs // 20)
    start = time.perf_counter()
    result = sweep(HEBEI, ["enforcement.intensity=0:2:20"], reps=reps, out=tmp / name,
                   quiet=True, **kwargs)
    wall = time.perf_counter() - start
    assert result.failed == 0, result.manifest["failures"][:3]
    return wall, result


def cli_sweep(tmp: Path, name: str, runs: int, workers: int) -> tuple[float, dict[str, Any]]:
    """Wall time of ``python -m scrapsim sweep`` in a fresh process, as a user runs it, and the
    sweep's manifest (so neither mode inherits the other's imports)."""
    out = tmp / name
    cmd = [sys.executable, "-m", "scrapsim", "sweep", str(HEBEI), "--vary",
           "enforcement.intensity=0:2:20", "--reps", str(max(1, runs // 20)), "--workers",
           str(workers), "--out", str(out), "--quiet"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=tmp, env=ENV, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return wall, json.loads((out / "manifest.json").read_text())


def speed(tmp: Path, runs: int, cores: int) -> dict[str, Any]:
    par, manifest = cli_sweep(tmp, "pool", runs, cores)
    ser, serial = cli_sweep(tmp, "serial", runs, 1)
    n = max(1, runs // 20) * 20
    mean = manifest["timings"]["run_s_mean"]
    print(f"Hebei sweep, {n} runs (each with its baseline), mean run {mean * 1e3:.0f} ms:")
    print(f"  {cores} workers: {par:7.1f} s  ({n / par:6.1f} runs/s)")
    print(f"  1 worker:  {ser:7.1f} s  ({n / ser:6.1f} runs/s)   speed-up {ser / par:.2f}x")
    ex_par, ex_ser = manifest["engine"]["execute_s"], serial["engine"]["execute_s"]
    print(f"  running phase alone (without tables and figures): {ex_par:.1f} s vs "
          f"{ex_ser:.1f} s, speed-up {ex_ser / ex_par:.2f}x")
    return {"runs": n, "run_s_mean": mean, "wall_pool_s": par, "wall_serial_s": ser,
            "workers": cores, "speedup": ser / par, "execute_speedup": ex_ser / ex_par}


def start_cluster(folder: Path, cores: int) -> tuple[str, list[subprocess.Popen]]:
    file = folder / "scheduler.json"
    common: dict[str, Any] = {"cwd": folder, "env": ENV, "stdout": subprocess.DEVNULL,
                              "stderr": subprocess.DEVNULL, "start_new_session": True}
    dask = [sys.executable, "-m", "dask"]
    log = (folder / "scheduler.log").open("wb")
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(file)],
                              **{**common, "stderr": log})]
    deadline = time.monotonic() + 60
    while not file.exists():
        if procs[0].poll() is not None or time.monotonic() > deadline:
            procs[0].kill()
            tail = (folder / "scheduler.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"bench_sweep: the Dask scheduler did not start "
                             f"(exit status {procs[0].poll()}):\n{tail}")
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]
    procs.append(subprocess.Popen([*dask, "worker", address, "--nworkers", str(cores),
                                   "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                  **common))
    from distributed import Client

    with Client(address) as client:
        client.wait_for_workers(cores, timeout=60)
    return address, procs


def dask_overhead(tmp: Path, runs: int, cores: int) -> dict[str, Any]:
    address, procs = start_cluster(tmp, cores)
    try:
        n_noop = 2000
        pool_noop, _ = timed_sweep(tmp, "noop-pool", n_noop, workers=cores, run_fn=NOOP,
                                   figures=False)
        dask_noop, _ = timed_sweep(tmp, "noop-dask", n_noop, scheduler=address, run_fn=NOOP,
                                   figures=False)
        n_real = min(runs, 400)
        pool_real, _ = timed_sweep(tmp, "real-pool", n_real, workers=cores, figures=False)
        dask_real, _ = timed_sweep(tmp, "real-dask", n_real, scheduler=address, figures=False)
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    per_run = (dask_noop - pool_noop) / n_noop
    print(f"Dask path ({cores} single-threaded workers on 127.0.0.1):")
    print(f"  {n_noop} no-op runs: pool {pool_noop:.1f} s, Dask {dask_noop:.1f} s -> "
          f"Dask overhead {per_run * 1e3:.2f} ms per run "
          f"(engine cost per run: pool {pool_noop / n_noop * 1e3:.2f} ms, "
          f"Dask {dask_noop / n_noop * 1e3:.2f} ms)")
    print(f"  {n_real} Hebei runs: pool {pool_real:.1f} s, Dask {dask_real:.1f} s")
    return {"noop_runs": n_noop, "noop_pool_s": pool_noop, "noop_dask_s": dask_noop,
            "dask_overhead_ms_per_run": per_run * 1e3, "hebei_runs": n_real,
            "hebei_pool_s": pool_real, "hebei_dask_s": dask_real}


def _tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of the process and of its descendants (summed)."""
    import psutil

    def rss(p: psutil.Process) -> int:
        try:
            return p.memory_info().rss
        except psutil.NoSuchProcess:
            return 0

    try:
        parent = psutil.Process(pid)
        children = parent.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0, 0
    return rss(parent), sum(rss(c) for c in children)


def memory(tmp: Path, cores: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "scrapsim", "sweep", str(HEBEI), "--set", "end=2017-01-07",
           "--vary", "enforcement.intensity=0:2:20", "--reps", "1000", "--workers", str(cores),
           "--out", str(tmp / "mem"), "--quiet"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, cwd=tmp)
    peak = [0, 0, 0]  # parent, workers, parent + workers at one moment
    while proc.poll() is None:
        parent, workers = _tree_rss(proc.pid)
        peak = [max(peak[0], parent), max(peak[1], workers), max(peak[2], parent + workers)]
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"memory sweep failed with status {proc.returncode}")
    mb = 1 / 2**20
    print(f"20,000-run sweep (Hebei, first week; {cores} workers) in {wall:.0f} s: peak RSS "
          f"parent {peak[0] * mb:.0f} MB, workers together {peak[1] * mb:.0f} MB, "
          f"parent + workers {peak[2] * mb:.0f} MB")
    return {"runs": 20000, "wall_s": wall, "peak_parent_mb": peak[0] * mb,
            "peak_workers_mb": peak[1] * mb, "peak_total_mb": peak[2] * mb}


NEEDS = {"distributed": "--skip-dask", "psutil": "--skip-memory"}
"""What the optional parts import, and the option that skips each."""


def _require(args: argparse.Namespace) -> None:
    """Stop at once, naming the install line, when a part to run cannot import its needs."""
    import importlib.util

    skipped = {"distributed": args.skip_dask, "psutil": args.skip_memory}
    missing = [m for m in NEEDS if not skipped[m] and importlib.util.find_spec(m) is None]
    if missing:
        skips = " ".join(NEEDS[m] for m in missing)
        raise SystemExit(f"bench_sweep: {', '.join(missing)} not installed: "
                         f"pip install 'scrapsim[bench]' (or run with {skips})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    _require(args)
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()
    print(f"{cores} cores; load average before: {load[0]:.1f} (1 min), {load[1]:.1f} (5 min)")
    figures: dict[str, Any] = {"cores": cores, "load_before": load}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as name:
        tmp = Path(name)
        if not args.skip_speed:
            figures["speed"] = speed(tmp, args.runs, cores)
        if not args.skip_dask:
            figures["dask"] = dask_overhead(tmp, args.runs, cores)
        if not args.skip_memory:
            figures["memory"] = memory(tmp, cores)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
