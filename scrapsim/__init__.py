"""scrapsim: scrap aluminium collection, smelting and prices under environmental inspections.

The public API for notebooks::

    import scrapsim
    sc = scrapsim.load_scenario("scenarios/hebei.yaml")
    result = scrapsim.run(sc, seed=1)          # tables and summary, nothing written to disk
    result.daily.to_pandas()                    # pandas on request
    results = scrapsim.run_batch(sc, seeds=[1, 2, 3])  # replications batched, same bytes

Names are imported on first use, so ``python -m scrapsim --help`` pays for none of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapsim.errors import (
        MassBalanceError,
        OutputFolderError,
        ParamsError,
        ScenarioError,
        ScrapsimError,
        SensitivityError,
        SweepError,
        SweepSpecError,
        TargetsError,
    )
    from scrapsim.experiments.calibration.output import Calibration
    from scrapsim.experiments.calibration.search import calibrate
    from scrapsim.experiments.exploration.discover import discover
    from scrapsim.experiments.exploration.explore import explore
    from scrapsim.experiments.exploration.robust import robust
    from scrapsim.experiments.sensitivity.analysis import sensitivity
    from scrapsim.experiments.sensitivity.output import SensitivityResult
    from scrapsim.experiments.sweep import SweepResult, sweep
    from scrapsim.experiments.validation.run import ValidationResult, validate
    from scrapsim.model.batch import run_batch
    from scrapsim.model.simulation import Result, run
    from scrapsim.report.build import build_report
    from scrapsim.scenario import Scenario, load_scenario

__version__ = "0.1.0"

_WHERE = {
    # one run
    "Scenario": "scenario", "load_scenario": "scenario",
    "run": "results.notebook", "Result": "results.notebook", "run_batch": "results.notebook",
    # many runs
    "sweep": "experiments.sweep", "SweepResult": "experiments.sweep",
    "validate": "experiments.validation.run", "ValidationResult": "experiments.validation.run",
    "calibrate": "experiments.calibration.search",
    "Calibration": "experiments.calibration.output",
    "sensitivity": "experiments.sensitivity.analysis",
    "SensitivityResult": "experiments.sensitivity.output",
    "explore": "experiments.exploration.explore",
    "discover": "experiments.exploration.discover",
    "robust": "experiments.exploration.robust",
    # reports
    "build_report": "report.build",
    # errors
    "ScrapsimError": "errors", "ScenarioError": "errors", "SweepSpecError": "errors",
    "TargetsError": "errors", "ParamsError": "errors", "SweepError": "errors",
    "SensitivityError": "errors", "MassBalanceError": "errors", "OutputFolderError": "errors",
}
"""Where each public name lives (imported on first use)."""

__all__ = [
    "Calibration",
    "MassBalanceError",
    "OutputFolderError",
    "ParamsError",
    "Result",
    "Scenario",
    "ScenarioError",
    "ScrapsimError",
    "SensitivityError",
    "SensitivityResult",
    "SweepError",
    "SweepResult",
    "SweepSpecError",
    "TargetsError",
    "ValidationResult",
    "build_report",
    "calibrate",
    "discover",
    "explore",
    "load_scenario",
    "robust",
    "run",
    "run_batch",
    "sensitivity",
    "sweep",
    "validate",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scrapsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
