"""What numba's just-in-time build spends compiling each kernel (an empty cache).

    python benchmarks/bench_compile.py

Runs the two-day warm-up model (``simulation.compile_time``) in a fresh process whose numba
cache is an empty temporary folder (``NUMBA_CACHE_DIR``), recording numba's compile events.
Printed per kernel: its own time (its callees' compiles taken out) and with them, in s and as
a share of the whole compile; ``numba:`` marks numba's own library code compiled for them.
Kernels compiled into others are compiled once per signature
(``market.hold_factor`` is used by three kernels but typed once per argument types).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = 25

PROBE = """
import time
from numba.core import event

stack, own, total = [], {}, {}

class Listener(event.Listener):
    def on_start(self, ev):
        func = ev.data["dispatcher"].py_func
        mine = "" if func.__module__.startswith("scrapsim") else "numba:"
        stack.append([mine + func.__qualname__, time.perf_counter(), 0.0])

    def on_end(self, ev):
        name, start, inner = stack.pop()
        spent = time.perf_counter() - start
        own[name] = own.get(name, 0.0) + spent - inner
        total[name] = total.get(name, 0.0) + spent
        if stack:
            stack[-1][2] += spent

import os
os.environ["SCRAPSIM_JIT"] = "1"
from scrapsim.model.simulation import compile_time
with event.install_listener("numba:compile", Listener()):
    whole = compile_time()
print(f"whole {whole:.3f} {whole:.3f}")
for name in sorted(own, key=own.get, reverse=True):
    print(f"{name} {own[name]:.3f} {total[name]:.3f}")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout.split("\n")
    rows = [line.split() for line in out if line.strip()]
    whole = float(rows[0][1])
    print(f"numba compile, empty cache: {whole:.1f} s (warm-up model, imports excluded)")
    print(f"  {'kernel':28s} {'own s':>7s} {'share':>6s} {'with callees s':>15s}")
    for name, own, total in rows[1:TOP + 1]:
        print(f"  {name[:28]:28s} {float(own):7.2f} {float(own) / whole:6.1%} "
              f"{float(total):15.2f}")
    rest = sum(float(own) for _, own, _ in rows[TOP + 1:])
    print(f"  {len(rows) - TOP - 1} others{'':19s} {rest:7.2f} {rest / whole:6.1%}")
    ours = sum(float(own) for name, own, _ in rows[1:] if not name.startswith("numba:"))
    print(f"  scrapsim's kernels' own time {ours:.1f} s ({ours / whole:.0%}); the rest is "
          "numba's library code they use (array allocation, slicing, and the string "
          "formatting of its shape-error messages)")


if __name__ == "__main__":
    main()
