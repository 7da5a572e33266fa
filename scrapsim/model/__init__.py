"""One run of the model: build -> run -> :class:`Result`.

The public face: :func:`run`, :func:`run_batch`, :class:`Result`, :class:`Model`,
:func:`baseline_of`. They are loaded on first use, so importing a light module of this package
(``scrapsim.model.table``) does not load the compiled model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Model", "Result", "baseline_of", "run", "run_batch"]

if TYPE_CHECKING:
    from scrapsim.model.batch import run_batch
    from scrapsim.model.result import Result
    from scrapsim.model.simulation import Model, baseline_of, run


def __getattr__(name: str) -> Any:
    if name == "Result":
        from scrapsim.model.result import Result
        return Result
    if name in ("Model", "baseline_of", "run"):
        from scrapsim.model import simulation
        return getattr(simulation, name)
    if name == "run_batch":
        from scrapsim.model.batch import run_batch
        return run_batch
    raise AttributeError(f"module 'scrapsim.model' has no attribute {name!r}")
