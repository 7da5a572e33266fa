"""The compiled loops the model calls from Python, from one of two builds of the same source.

- **Ahead of time** (``scrapsim.model._loops``, an extension module that ``pip install``
  builds with :mod:`scrapsim.model.aot`): nothing to compile or load at run time, and numba is
  not imported at all.
- **Just in time**: numba compiles the kernels of :mod:`scrapsim.model.kernels` on first use
  and caches them on disk (the first run on a machine pays about half a minute). Used when
  the extension is missing (a source checkout, or an install without a C compiler), when it
  was built from other sources than these (its :func:`source_stamp` differs: the kernels were
  edited since), or when ``SCRAPSIM_JIT=1``.

Both compile the same functions with the same numba, so a run gives the same bytes on
either (``tests/test_packaging.py`` compares them). :data:`BACKEND` says which one this
process uses.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from typing import Any

import numpy as np

from scrapsim.model.jit import SOURCES, source_stamp

__all__ = ["BACKEND", "EXPORTED", "HELD", "SIGNATURES", "SOURCES", "batch_days", "calendar_day",
           "calendar_day_one_stream", "campaign_day", "campaign_day_one_stream", "check",
           "market_day", "market_days", "pick_round", "region_sums", "smelter_deadlines",
           "smelter_margin", "smooth", "source_stamp", "state_summary"]

Spec = Any
"""An argument's type: a scalar's dtype name, ``"generator"`` for a ``numpy.random.Generator``,
``(dtype, ndim)`` for a C-contiguous array, or a tuple of specs for a tuple of arrays."""
_F1, _F2, _F3 = ("float64", 1), ("float64", 2), ("float64", 3)
_I1, _I2, _B1, _I8 = ("int64", 1), ("int64", 2), ("bool", 1), ("int8", 1)
_DAY: tuple[Spec, ...] = (
    (_F1, _F1, _F1, _F2, _F2, _F2, _F2, _F2, _F2),    # packing.INPUT_FIELDS
    (_F1,) * 8,                                      # MARKET_FIELDS
    (_I1,) + (_F1,) * 17,                            # TRADER_FIELDS
    (_I1, _I1) + (_F1,) * 13 + (_B1, _I2, _F2, _B1),  # SMELTER_FIELDS
    _F3, _I1)


def _batched(spec: Spec) -> Spec:
    """``spec`` with a leading replication axis on every array."""
    if isinstance(spec[0], str):
        return (spec[0], spec[1] + 1)
    return tuple(_batched(s) for s in spec)


_BATCH = tuple(_batched(s) for s in _DAY[:5]) + (_I1,)
""":func:`batch_days`' arrays: those of the market day, ``(R, ...)``; ``cols`` as is."""
_CS = (_I1, _I1, _I1, _F1, _B1, _F1, _F1, _F1, _B1, _B1, _F1)   # CAMPAIGN_SMELTER_FIELDS
_CT = (_I1, _I8, _B1) + (_F1,) * 8                               # CAMPAIGN_TRADER_FIELDS
SIGNATURES: dict[str, tuple[Spec, tuple[Spec, ...]]] = {
    "market_day": (None, ("int64", *_DAY)),
    "market_days": (None, ("int64", "int64", *_DAY)),
    "batch_days": (None, ("int64", "int64", *_BATCH)),
    "state_summary": ("float64", (_I1, _I1, _I1, _I1, _F1, _F1, _F1, _I2, _F1, _F1, _B1)),
    "region_sums": (None, (_I1, _F1, _F1)),
    "smooth": (_F2, (_F2, "float64")),
    "smelter_margin": (_F1, ("float64", _F1, _F1, _F1)),
    "pick_round": (_I1, (_I1, _F1, "bool", "int64", _B1, _I1, "int64", "generator")),
    "campaign_day": ((_F2, _I2, _F1), (
        "int64",
        (_F1, _I1, _I1, _B1, _B1, _B1, _F1, _I1, _B1, _B1, _I1, _I1, _B1, _B1, _I1),  # CAMPAIGN_
        _CS,                                                       # CAMPAIGN_SMELTER_FIELDS
        _CT,                                                       # CAMPAIGN_TRADER_FIELDS
        _F3, _I1, "generator", "generator")),
    "smelter_deadlines": ((_F2, _I2, _F1), ("int64", _CS, _B1, "generator", "generator",
                                             "float64", _F1)),
    "calendar_day": ((_F2, _I2, _F1), ("int64", _CS, _B1, "generator", "generator", "float64",
                                       "bool", _CT, "bool", _F1, _I2, "float64", "float64",
                                       "bool", "float64", _F3, "int64")),
}
"""(result, arguments) of each loop Python calls, the types the model passes; the extension
is compiled for exactly these (:mod:`scrapsim.model.aot`), the others are compiled into them."""
# the runs without false reports (their stream is the other generator, never drawn on):
# the same loops without it, and for the calendar without its share
SIGNATURES["campaign_day_one_stream"] = (
    SIGNATURES["campaign_day"][0], SIGNATURES["campaign_day"][1][:-1])
SIGNATURES["calendar_day_one_stream"] = (
    SIGNATURES["calendar_day"][0], SIGNATURES["calendar_day"][1][:4]
    + SIGNATURES["calendar_day"][1][6:])
EXPORTED = tuple(SIGNATURES)


def _conforms(value: Any, spec: Spec) -> bool:
    if spec == "generator":
        return isinstance(value, np.random.Generator)
    if isinstance(spec, str):
        return isinstance(value, float | int) and not isinstance(value, bool) \
            if spec != "bool" else isinstance(value, bool)
    if isinstance(spec[0], str):
        return (isinstance(value, np.ndarray) and value.dtype == spec[0]
                and value.ndim == spec[1] and value.flags.c_contiguous)
    return (isinstance(value, tuple) and len(value) == len(spec)
            and all(_conforms(v, s) for v, s in zip(value, spec, strict=True)))


def check(name: str, *args: Any) -> None:
    """Raise TypeError unless ``args`` have the types of loop ``name``'s :data:`SIGNATURES`:
    the extension's loops take them unchecked (a float array passed as int64 is read as
    garbage). The model checks :func:`market_day`'s arguments once when it packs them, the
    regulator :func:`campaign_day`'s on a campaign's first day, the smelters
    :func:`state_summary`'s on their first refresh (the same arrays each time); the other
    loops check each call."""
    specs = SIGNATURES[name][1]
    for i, (value, spec) in enumerate(zip(args, specs, strict=True)):
        if not _conforms(value, spec):
            raise TypeError(f"{name}: argument {i} is not {spec} (C-contiguous)")


def _ahead_of_time() -> Any:
    """The extension module, if built from these sources and not switched off; else None."""
    if os.environ.get("SCRAPSIM_JIT", "") not in ("", "0"):
        return None
    try:
        built = importlib.import_module("scrapsim.model._loops")
    except ImportError:
        return None
    return built if built.stamp() == source_stamp() else None


HELD = (signal.SIGINT, signal.SIGTERM)
"""Signals whose Python handlers wait while a loop that takes a ``numpy.random.Generator``
runs. numba unboxes a generator by calling back into Python (``ctypes.cast``), where pending
signal handlers run; one that raises there (Ctrl-C's ``KeyboardInterrupt``, the commands'
SIGTERM) leaves the call on a failure path that crashes the process (a segmentation fault, or
the command dying by the signal after it said it was interrupted). Blocking the signals in
this thread would not do: another thread (BLAS's) can receive them, and Python then runs the
handler in this one all the same."""


try:
    import _signal as _handlers  # the C module behind ``signal``, without its enum wrapping
except ImportError:  # pragma: no cover - not CPython
    _handlers = signal   # (``signal.signal`` costs about 5 µs a call, ``_signal.signal`` 0.3)
_NUMBERS = tuple(int(s) for s in HELD)
_MAIN = threading.main_thread().ident
_noted: list[int] = []


def _note(number: int, frame: Any) -> None:
    _noted.append(number)


def _signals_deferred(loop: Any) -> Any:
    """``loop`` called with the handlers of :data:`HELD` replaced by one that only notes the
    signal; the previous handlers are put back and then called for what was noted, as if the
    signal had come just after the call (four ``_signal.signal`` calls of 0.3 µs; a wrapped
    ``pick_round`` timed as fast as the bare one). Off the main thread (where
    Python runs no handler, and cannot set one) ``loop`` is called as is."""
    def call(*args: Any) -> Any:
        if threading.get_ident() != _MAIN:
            return loop(*args)
        previous = []
        for number in _NUMBERS:
            handler = _handlers.getsignal(number)
            if handler is not None:     # None: set outside Python, left alone
                _handlers.signal(number, _note)
                previous.append((number, handler))
        try:
            return loop(*args)
        finally:
            for number, handler in previous:
                _handlers.signal(number, handler)
            while _noted:
                number = _noted.pop(0)
                handler = dict(previous)[number]
                if callable(handler):
                    handler(number, None)
                elif handler == signal.SIG_DFL:
                    signal.raise_signal(number)
    call.__name__ = call.__qualname__ = getattr(loop, "__name__", "loop")
    call.signals_deferred = True  # type: ignore[attr-defined]
    return call


def _checked(name: str, loop: Any) -> Any:
    def call(*args: Any) -> Any:
        check(name, *args)
        return loop(*args)
    call.__name__ = call.__qualname__ = name
    return call


_built = _ahead_of_time()
BACKEND = "just-in-time" if _built is None else "ahead-of-time"
"""Which build this process runs: ``"ahead-of-time"`` or ``"just-in-time"``."""
if _built is None:
    from scrapsim.model import campaign_kernels, draws, kernels, market, sanction_kernels

    market_day: Any = kernels.market_day
    market_days: Any = kernels.market_days
    batch_days: Any = kernels.batch_days
    state_summary: Any = kernels.state_summary
    region_sums: Any = kernels.region_sums
    smooth: Any = kernels.smooth
    smelter_margin: Any = market.smelter_margin
    pick_round: Any = _signals_deferred(draws.pick_round)
    campaign_day: Any = _signals_deferred(campaign_kernels.campaign_day)
    smelter_deadlines: Any = _signals_deferred(sanction_kernels.smelter_deadlines)
    calendar_day: Any = _signals_deferred(sanction_kernels.calendar_day)
    campaign_day_one_stream: Any = _signals_deferred(campaign_kernels.campaign_day_one_stream)
    calendar_day_one_stream: Any = _signals_deferred(sanction_kernels.calendar_day_one_stream)
else:
    market_day = _built.market_day  # unchecked per call: check() once on the packed tuples
    market_days = _built.market_days
    batch_days = _built.batch_days  # unchecked per call: the batch checks its stacked tuples
    state_summary = _built.state_summary  # unchecked per call: the smelters check their first
    region_sums = _checked("region_sums", _built.region_sums)
    smooth = _checked("smooth", _built.smooth)
    smelter_margin = _checked("smelter_margin", _built.smelter_margin)
    pick_round = _signals_deferred(_checked("pick_round", _built.pick_round))
    # unchecked per call (the regulator checks a campaign's first day, the smelters their
    # first deadline), with the signals' handlers deferred (they take generators)
    campaign_day = _signals_deferred(_built.campaign_day)
    smelter_deadlines = _signals_deferred(_built.smelter_deadlines)
    calendar_day = _signals_deferred(_built.calendar_day)
    campaign_day_one_stream = _signals_deferred(_built.campaign_day_one_stream)
    calendar_day_one_stream = _signals_deferred(_built.calendar_day_one_stream)
