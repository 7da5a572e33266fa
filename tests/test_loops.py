"""The loops Python calls (scrapsim.model.loops): the types the extension built at install is
compiled for are those the model passes, arguments of other types are refused (the extension
would read them as garbage), and a stale or switched-off extension is not used."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import _subprocess_env, interruptible

from scrapsim.model import loops
from scrapsim.model.simulation import Model
from scrapsim.scenario import Scenario

TINY = {"name": "tiny", "start": "2017-01-01", "end": "2017-01-10",
        "regions": [{"name": "a", "generation": 10.0, "imports": 1.0,
                     "traders": {"count": 3, "capacity": 10.0},
                     "smelters": {"large": {"count": 1, "capacity": 20.0},
                                  "workshop": {"count": 2, "capacity": 5.0}}}]}


@pytest.fixture(scope="module")
def model() -> Model:
    return Model(Scenario.model_validate(TINY), 1)


def test_the_build_is_typed_as_the_model_calls(model: Model) -> None:
    numba = pytest.importorskip("numba")
    from scrapsim.model.aot import signatures

    built = signatures()["market_day"]
    passed = tuple(numba.typeof(a) for a in (0, *model._day_args, model.recorder.values,
                                            model._cols))
    assert tuple(built.args) == passed  # type: ignore[attr-defined]
    s = model.smelters
    margin = signatures()["smelter_margin"]
    assert tuple(margin.args)[1:] == tuple(numba.typeof(a) for a in  # type: ignore[attr-defined]
                                           (s.metal_yield, s.cost, s.cost))


def test_arguments_of_other_types_are_refused(model: Model) -> None:
    args = (0, *model._day_args, model.recorder.values, model._cols)
    loops.check("market_day", *args)
    traders = list(args[3])
    for bad in (traders[1].astype(np.float32), traders[1][::-1], traders[1][:, None]):
        wrong = list(args)
        wrong[3] = (traders[0], bad, *traders[2:])
        with pytest.raises(TypeError, match="market_day: argument 3"):
            loops.check("market_day", *wrong)
    with pytest.raises(TypeError, match="argument 3"):
        loops.check("market_day", *args[:3], tuple(traders[:-1]), *args[4:])
    with pytest.raises(TypeError, match="region_sums: argument 1"):
        loops.check("region_sums", np.array([0, 3]), np.arange(3), np.zeros(1))


def test_a_stale_or_switched_off_extension_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("scrapsim.model._loops")
    fake.stamp = lambda: loops.source_stamp()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "scrapsim.model._loops", fake)
    monkeypatch.delenv("SCRAPSIM_JIT", raising=False)
    assert loops._ahead_of_time() is fake
    monkeypatch.setenv("SCRAPSIM_JIT", "1")
    assert loops._ahead_of_time() is None
    monkeypatch.delenv("SCRAPSIM_JIT")
    fake.stamp = lambda: loops.source_stamp() ^ 1  # type: ignore[attr-defined]
    assert loops._ahead_of_time() is None


def test_both_builds_give_the_same_numbers(model: Model) -> None:
    """The extension (when built here) and numba's JIT agree on a whole run, bit for bit."""
    if loops.BACKEND != "ahead-of-time":
        pytest.skip("no extension built in this checkout (python -m scrapsim.model.aot)")
    from scrapsim.model import kernels

    def daily(day_loop: object, days_loop: object) -> np.ndarray:
        m = Model(Scenario.model_validate(TINY), 1)
        original = loops.market_day, loops.market_days
        loops.market_day, loops.market_days = day_loop, days_loop
        try:
            m.run()
        finally:
            loops.market_day, loops.market_days = original
        return m.recorder.values

    np.testing.assert_array_equal(daily(loops.market_day, loops.market_days),
                                  daily(kernels.market_day, kernels.market_days))


def test_a_loaded_extension_is_replaced_not_overwritten(tmp_path: Path) -> None:
    """Installing again from a clone replaces the extension an earlier install left there; a
    process that has it loaded (the build itself once did) must keep working: writing into a
    loaded shared object crashes it (the second ``pip install .`` died of SIGSEGV)."""
    if loops.BACKEND != "ahead-of-time":
        pytest.skip("no extension built in this checkout (python -m scrapsim.model.aot)")
    from scrapsim.model import _loops  # type: ignore[attr-defined]
    from scrapsim.model.aot import replace_file

    built = Path(_loops.__file__)
    loaded = tmp_path / built.name
    shutil.copy2(built, loaded)
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import importlib.util, sys
            spec = importlib.util.spec_from_file_location("scrapsim.model._loops", {str(loaded)!r})
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            print(mod.stamp(), flush=True)
            sys.stdin.readline()
            print(mod.stamp(), flush=True)
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    first = child.stdout.readline()
    scrambled = tmp_path / "other.so"
    scrambled.write_bytes(bytes(reversed(built.read_bytes())))  # what a changed build writes
    replace_file(scrambled, loaded)
    out, _ = child.communicate("go\n", timeout=60)
    assert child.returncode == 0 and out.strip() == first.strip()
    assert loaded.read_bytes() == scrambled.read_bytes()
    assert not list(tmp_path.glob("*.partial"))


def test_an_extension_is_reused_only_when_built_from_these_sources(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``setup.py`` reuses the extension beside the sources only when its stamp is theirs:
    not a file that does not load, not one built before the kernels changed."""
    from scrapsim.model import aot

    built = sorted(Path(loops.__file__).parent.glob("_loops*.so"))
    fresh = [p for p in built if aot.built_stamp(p) == loops.source_stamp()]
    if not fresh:
        pytest.skip("no extension built from these sources (python -m scrapsim.model.aot)")
    assert aot.up_to_date(fresh[0])
    garbage = tmp_path / fresh[0].name
    garbage.write_bytes(b"not an extension")
    assert aot.built_stamp(garbage) is None and not aot.up_to_date(garbage)
    assert not aot.up_to_date(tmp_path / "missing.so")
    monkeypatch.setattr(loops, "source_stamp", lambda: aot.built_stamp(fresh[0]) ^ 1)
    assert not aot.up_to_date(fresh[0])            # the kernels changed since it was built


CTRL_C_DURING_LOOPS = """
import os, random, signal, sys, threading, time
import numpy as np
from scrapsim.model import loops
pool, weights = np.arange(100), np.ones(100)
seen, last = np.zeros(100, dtype=bool), np.zeros(100, dtype=np.int64)
rng, pid, caught = np.random.default_rng(0), os.getpid(), 0
def ctrl_c():
    time.sleep(random.uniform(1e-4, 2e-3))
    os.kill(pid, signal.SIGINT)
for trial in range(int(sys.argv[1])):
    shooter = threading.Thread(target=ctrl_c)
    try:
        shooter.start()
        while True:
            loops.pick_round(pool, weights, False, 3, seen, last, 0, rng)
    except KeyboardInterrupt:
        caught += 1
    try:
        shooter.join()
    except KeyboardInterrupt:
        pass
print(caught)
"""


def test_ctrl_c_during_a_loop_that_takes_a_generator_is_an_interrupt_not_a_crash() -> None:
    """Ctrl-C lands at random moments of calls that unbox a ``numpy.random.Generator`` (numba
    calls back into Python to do it): every one is a ``KeyboardInterrupt`` after the call.
    Without the handlers deferred the process dies of a segmentation fault within about a
    hundred such interrupts."""
    proc = subprocess.run([sys.executable, "-c", CTRL_C_DURING_LOOPS, "300"],
                          env=_subprocess_env(), capture_output=True, text=True, timeout=300,
                          check=False, preexec_fn=interruptible)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.split() == ["300"]


def test_every_loop_that_takes_a_generator_defers_the_signals() -> None:
    """The loops whose arguments include a generator are called with the handlers deferred
    (a new one added without it would crash on Ctrl-C as above); the others are not wrapped."""
    def has_generator(spec: object) -> bool:
        return spec == "generator" or (isinstance(spec, tuple)
                                       and any(has_generator(s) for s in spec))

    for name, (_, args) in loops.SIGNATURES.items():
        wrapped = getattr(getattr(loops, name), "signals_deferred", False)
        assert wrapped == has_generator(args), name
