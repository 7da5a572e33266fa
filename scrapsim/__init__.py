"""scrapsim: scrap aluminium collection, smelting and prices under environmental inspections.

The public API for notebooks::

    import scrapsim
    sc = scrapsim.load_scenario("scenarios/hebei.yaml")
    result = scrapsim.run(sc, seed=1)          # tables and summary, nothing written to disk
    result.daily.to_pandas()                    # pandas on request

Names are imported on first use, so ``python -m scrapsim --help`` pays for none of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapsim.model.simulation import Result, run
    from scrapsim.scenario import Scenario, ScenarioError, load_scenario
    from scrapsim.report.build import build_report
    from scrapsim.experiments.sweep import sweep
    from scrapsim.experiments.calibration.search import calibrate
    from scrapsim.experiments.sensitivity.analysis import sensitivity

__all__ = ["Result", "Scenario", "ScenarioError", "build_report", "calibrate", "load_scenario",
           "run", "sensitivity", "sweep", "__version__"]
__version__ = "0.1.0"

_WHERE = {"Result": "model.simulation", "run": "model.simulation", "Scenario": "scenario",
          "ScenarioError": "scenario", "load_scenario": "scenario", "sweep": "experiments.sweep",
          "build_report": "report.build", "calibrate": "experiments.calibration.search",
          "sensitivity": "experiments.sensitivity.analysis"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scrapsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
