"""``Result.save(folder)``: a run written exactly as ``scrapsim run --out folder`` writes it.

The model's :class:`~scrapsim.model.result.Result` must not import the run folder's writer
(the results floor is above the model), so this module, on the results floor, gives the class
its ``save`` method (:func:`attach`) when imported; ``scrapsim.Result`` and ``scrapsim.run``
come through here, so ``scrapsim.run(...).save("my-run")`` works as is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapsim.model.batch import run_batch
from scrapsim.model.result import Result
from scrapsim.model.simulation import run

__all__ = ["Result", "attach", "run", "run_batch", "save"]


def save(result: Any, folder: str | Path, *, plot: bool = True) -> Path:
    """Write ``result`` into ``folder`` exactly as ``scrapsim run --out folder`` does (an
    earlier run folder there is replaced; any other non-empty folder is refused)."""
    from scrapsim.results.run_folder import write_run

    return write_run(result, Path(folder), plot=plot,
                     command=["scrapsim.Result.save", str(folder)])


def attach(cls: type = Result) -> type:
    """Give ``cls`` (the model's Result) its ``save`` method; idempotent."""
    cls.save = save  # type: ignore[attr-defined]
    return cls


attach()
