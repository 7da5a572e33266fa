"""The report section of a calibration: what was fitted within which bounds and why, the fitted
values with their 95% intervals, the fit against each target with its source, and the figure.

A calibration folder (``python -m scrapsim calibrate …``) is recognised by
:data:`CALIBRATION_FILES`; ``fitted.yaml`` gives the scenario's description and sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapsim.report.page import FigureBlock, Section, TableBlock
from scrapsim.report.readers import read_csv, read_json
from scrapsim.scenario import ScenarioError

__all__ = ["CALIBRATION_FILES", "CalibrationInput", "calibration_section",
           "load_calibration_input"]

CALIBRATION_FILES = ("parameters.csv", "fit.csv", "history.csv", "manifest.json")
PARAMETER_COLUMNS = {"parameter", "low", "high", "start", "fitted", "se", "ci_low", "ci_high",
                     "identified"}
FIT_COLUMNS = {"target", "value", "sd", "model", "ci_low", "ci_high", "z"}


@dataclass
class CalibrationInput:
    """A calibration folder: manifest, fitted scenario (a dict), and its three tables."""

    folder: Path
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    parameters: Any
    fit: Any
    history: Any
    label: str = ""


def load_calibration_input(folder: Path) -> CalibrationInput:
    """Read a calibration folder; a table that is not what scrapsim wrote raises
    ScenarioError."""
    import yaml


    manifest = read_json(folder / "manifest.json")
    tables = {}
    for name, need in (("parameters", PARAMETER_COLUMNS), ("fit", FIT_COLUMNS)):
        tables[name] = read_csv(folder / f"{name}.csv")
        if not need <= set(tables[name].columns):
            raise ScenarioError(f"is not the {name} table of a scrapsim calibration",
                                file=str(folder / f"{name}.csv"),
                                expected="columns " + ", ".join(sorted(need)))
    scenario: Any = {}
    try:
        scenario = yaml.safe_load((folder / "fitted.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read ({exc})", file=str(folder / "fitted.yaml"),
                            expected="the fitted scenario written by scrapsim") from None
    scenario = scenario if isinstance(scenario, dict) else {}
    scenario.setdefault("name", (manifest.get("scenario") or {}).get("name"))
    return CalibrationInput(folder, manifest, scenario, tables["parameters"], tables["fit"],
                            read_csv(folder / "history.csv"))


def _num(x: Any) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "n/a" if not math.isfinite(x) else f"{x:.4g}"


def _tables(item: CalibrationInput) -> list[TableBlock]:
    params = [[str(r.parameter), f"{_num(r.low)} to {_num(r.high)}", _num(r.start),
               _num(r.fitted), _num(r.se), f"{_num(r.ci_low)} to {_num(r.ci_high)}",
               "yes" if bool(r.identified) else "no"] for r in item.parameters.itertuples()]
    fit = [[str(r.target), f"{_num(r.value)} ± {_num(r.sd)}",
            f"{_num(r.model)} ({_num(r.ci_low)} to {_num(r.ci_high)})", f"{float(r.z):.2f}"]
           for r in item.fit.itertuples()]
    return [TableBlock("Fitted parameters: search range, start, fitted value, standard error "
                       "(from the moments' Jacobian around the optimum: target and simulation "
                       "error) and the 95% interval clipped to the range; identified = "
                       "fitted ± 1.96 se is narrower than the range.",
                       ["parameter", "range", "start", "fitted", "se", "95% interval",
                        "identified"], params),
            TableBlock("Fit against each target: the model's mean over replications at the "
                       "fitted values with its 95% interval, and z = (model − target) / sd.",
                       ["target", "target ± sd", "model (95% interval)", "z"], fit)]


def _facts(item: CalibrationInput) -> list[tuple[str, str]]:
    m = item.manifest
    opt, s = m.get("optimizer") or {}, m.get("settings") or {}
    session = m.get("session") or {}
    wall = session.get("wall_s")
    return [("targets", str(m.get("targets"))),
            ("search", f"differential evolution, population {s.get('popsize')} × parameters, "
                       f"{opt.get('nit')} generations, {opt.get('points')} points"),
            ("replications", f"{s.get('reps')} per point, the same seeds at every point "
                             f"(root seed {s.get('seed')})"),
            ("objective", f"Q = {_num(m.get('objective'))} with "
                          f"{m.get('degrees_of_freedom')} degrees of freedom"),
            ("wall time", f"{float(wall):.1f} s" if wall is not None else "n/a"),
            ("folder", str(item.folder))]


def calibration_section(item: CalibrationInput) -> Section:
    """A calibration: its settings, parameter table, fit table and figure."""
    from scrapsim.experiments.calibration.output import fit_figure

    section = Section(item.label, "calibration")
    section.paragraphs.append(
        "The parameters below were fitted to the targets by minimising Q = Σ ((model − "
        "target) / sd)², the model taken as the mean over replications with common seeds. A "
        "target far outside ±2 sd is one the model cannot meet with these parameters.")
    section.sources = [f"target {r.target}: " + " ".join(str(r.source).split())
                       for r in item.fit.itertuples() if isinstance(r.source, str) and r.source]
    section.sources += [" ".join(str(x).split()) for x in item.scenario.get("sources") or []]
    section.facts = _facts(item)
    section.tables += _tables(item)
    section.figures.append(FigureBlock(
        f"{item.label}: fit per target in sd units (grey: ±2 sd) and the best objective per "
        "generation.", fit_figure(item.fit, item.history)))
    return section
