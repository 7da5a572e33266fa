"""scrapsim: scrap aluminium collection, smelting and prices under environmental inspections.

The public API for notebooks::

    import scrapsim
    sc = scrapsim.load_scenario("scenarios/hebei.yaml")
    result = scrapsim.run(sc, seed=1)          # tables and summary, nothing written to disk
    result.daily.to_pandas()                    # pandas on request
"""

from __future__ import annotations

from typing import Any

from .model import Result, run
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Result", "Scenario", "ScenarioError", "load_scenario", "run", "sweep", "__version__"]
__version__ = "0.1.0"


def sweep(*args: Any, **kwargs: Any) -> Any:
    """Run an enforcement sweep; see :func:`scrapsim.sweep.sweep`."""
    from .sweep import sweep as _sweep

    return _sweep(*args, **kwargs)
