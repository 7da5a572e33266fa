"""Build the model's loops ahead of time: the extension ``scrapsim.model._loops``.

``pip install`` runs this through ``setup.py`` (its ``build_ext``), so an installed scrapsim
starts with nothing to compile; by hand, in a checkout::

    python -m scrapsim.model.aot            # writes scrapsim/model/_loops.<platform>.so

It compiles :data:`~scrapsim.model.loops.EXPORTED` with numba's ``numba.pycc`` for the types
the model passes them (the functions they call are compiled into them), plus ``stamp()``, the
:func:`~scrapsim.model.loops.source_stamp` of the sources it was built from. ``numba.pycc`` is
deprecated (pending removal since numba 0.57) but works up to at least 0.68; the code is for
the CPU family (e.g. x86-64), not this machine's model, so a wheel runs on another machine.
Needs numpy, numba and a C compiler; 25-60 s on the 2-core machine (a campaign's day, the
largest, since issue 12).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

__all__ = ["build", "built_stamp", "signatures", "up_to_date"]


def signatures() -> dict[str, object]:
    """numba signatures of :data:`scrapsim.model.loops.SIGNATURES`."""
    from numba import types as t

    from scrapsim.model.loops import SIGNATURES

    def typed(spec: Any) -> Any:
        if spec is None:
            return t.void
        if spec == "generator":
            return t.NumPyRandomGeneratorType("NumPyRandomGeneratorType")
        if isinstance(spec, str):
            return getattr(t, "boolean" if spec == "bool" else spec)
        assert isinstance(spec, tuple)
        if isinstance(spec[0], str):
            return t.Array(typed(spec[0]), spec[1], "C")
        return t.Tuple(tuple(typed(s) for s in spec))

    return {name: typed(result)(*(typed(a) for a in args))
            for name, (result, args) in SIGNATURES.items()}


def build(target: str | Path, verbose: bool = False) -> Path:
    """Compile the extension to ``target`` (a path ending in the platform's extension suffix);
    returns it. The new file replaces an old one by a rename, so a process that has the old
    one loaded keeps it (writing into a loaded shared object crashes that process)."""
    from scrapsim.model import campaign_kernels, draws, kernels, loops, market, sanction_kernels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc's pending-deprecation notice
        from numba.pycc import CC

    target = Path(target)
    cc = CC("_loops", __name__)
    cc.output_dir = str(target.parent)
    cc.output_file = target.name + ".partial"
    cc.verbose = verbose
    namespace = {"__name__": __name__}
    exec(f"def stamp():\n    return {loops.source_stamp()}\n", namespace)
    cc.export("stamp", "int64()")(namespace["stamp"])
    functions: dict[str, Any] = {
        "market_day": kernels.market_day, "market_days": kernels.market_days,
        "batch_days": kernels.batch_days,
        "state_summary": kernels.state_summary,
        "region_sums": kernels.region_sums, "smelter_margin": market.smelter_margin,
        "smooth": kernels.smooth,
        "pick_round": draws.pick_round, "campaign_day": campaign_kernels.campaign_day,
        "smelter_deadlines": sanction_kernels.smelter_deadlines,
        "calendar_day": sanction_kernels.calendar_day,
        "campaign_day_one_stream": campaign_kernels.campaign_day_one_stream,
        "calendar_day_one_stream": sanction_kernels.calendar_day_one_stream}
    assert set(functions) == set(loops.EXPORTED), "loops.EXPORTED and the build disagree"
    for name, signature in signatures().items():
        cc.export(name, signature)(functions[name].py_func)
    target.parent.mkdir(parents=True, exist_ok=True)
    cc.compile()
    os.replace(target.parent / cc.output_file, target)
    return target


def built_stamp(path: Path) -> int | None:
    """The :func:`~scrapsim.model.loops.source_stamp` an extension at ``path`` was built from,
    read in a separate process (this one must not load a file a build may replace); None if
    it does not load."""
    import subprocess

    probe = ("import importlib.util, sys\n"
             "spec = importlib.util.spec_from_file_location('scrapsim.model._loops', sys.argv[1])\n"
             "module = importlib.util.module_from_spec(spec)\n"
             "spec.loader.exec_module(module)\n"
             "print(module.stamp())\n")
    try:
        out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return int(out.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def up_to_date(path: Path) -> bool:
    """True when ``path`` is an extension built from the current sources (its stamp is
    theirs): ``setup.py`` then reuses it instead of compiling the same code again."""
    from scrapsim.model.loops import source_stamp

    return path.exists() and built_stamp(path) == source_stamp()


def replace_file(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` by a rename: a process that has the old extension
    loaded keeps the old file (writing into a loaded shared object crashes that process)."""
    partial = target.with_name(target.name + ".partial")
    shutil.copy2(source, partial)
    os.replace(partial, target)


def main() -> int:
    """Build into this source tree (next to :mod:`scrapsim.model.loops`)."""
    import sysconfig

    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    start = time.perf_counter()
    path = build(Path(__file__).with_name("_loops" + suffix))
    print(f"built {path} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
