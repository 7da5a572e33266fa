"""Calibration targets: which parameters to fit, within which bounds, to which observed moments.

A targets file (YAML, loaded safely; duplicate keys refused) has two lists::

    parameters:                       # scenario fields by dotted path, with bounds
      campaigns.0.halt_share: {low: 0.3, high: 1.0, source: "why these bounds"}
      # checked as a sensitivity parameters file's are (scrapsim.experiments.sensitivity.params)
    targets:                          # observed moments the fit should reproduce
      - name: shut_at_peak
        moment: shut_count            # a moment below, or any key of the run summary
        value: 164
        sd: 3                         # how sure the figure is: weight 1/sd² in the objective
        source: "seed article: 164 of 167 shut (H)"

Moments of the daily table, averaged over ``period`` (``run``: every day, the default;
``window``: the campaign windows; ``[FIRST, LAST]``: dates, both included), of the enforcement
run or of its intensity-0 twin (``of: baseline``), for one ``region`` or all:

* ``operating_rate`` — smelted / nominal capacity (Σ count × mean capacity), a share;
* ``smelted``, ``collected``, ``traded``, ``imports`` — mean t/day;
* ``scrap_price`` — mean CNY/t;
* ``violation_rate`` — violations found / inspections made over the period, a share.

Any summary key (``shut_count``, ``collection_change``, ``recovery_days``, ...) is a moment
too; ``recovery_days`` that never comes within the run counts as the days left in the run.
:func:`moments` is the run function calibration gives the sweep engine's workers.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from scrapsim.errors import TargetsError, several
from scrapsim.experiments.sensitivity.params import Parameter, Problems, parse_parameters
from scrapsim.scenario import Scenario, ScenarioError

__all__ = ["DAILY_MOMENTS", "TargetSpec", "Targets", "TargetsError", "load_targets",
           "moments"]

DAILY_MOMENTS = ("operating_rate", "smelted", "collected", "traded", "imports", "scrap_price",
                 "violation_rate")
_SUMMARY_ONLY = ("shut_count", "shut_share", "closed_share", "recovery_days", "collection_change",
                 "smelting_change", "price_change", "offered_change", "demanded_change",
                 "traded_change", "mean_price_pressure", "inspections", "violations",
                 "audit_share_not_closed")



@dataclass(frozen=True)
class TargetSpec:
    """One observed moment: the model's mean over replications should be ``value`` ± ``sd``."""

    name: str
    moment: str
    value: float
    sd: float
    period: str | tuple[str, str] = "run"
    of: str = "run"
    region: str | None = None
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """What a worker needs to measure it (JSON-ready)."""
        return {"name": self.name, "moment": self.moment, "period": self.period,
                "of": self.of, "region": self.region}


@dataclass(frozen=True)
class Targets:
    """A loaded targets file."""

    parameters: tuple[Parameter, ...]
    targets: tuple[TargetSpec, ...]
    file: str

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]


def _read(path: Path) -> tuple[Any, Any]:
    """The file's data and its composed YAML (for line numbers)."""
    import yaml

    from scrapsim.scenario.yaml_input import UniqueKeyLoader, read_text, yaml_line, yaml_problem

    text = read_text(path, TargetsError, "a calibration targets YAML file")
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        return data, yaml.compose(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise TargetsError(f"YAML error: {yaml_problem(exc)}", file=str(path),
                           line=yaml_line(exc, text), expected="valid YAML") from None


def load_targets(path: str | Path, base: Scenario) -> Targets:
    """Read and check a targets file against the scenario it will calibrate; a bad file
    raises TargetsError naming its line. ``path`` may name a library targets file
    (``hebei``) when no such file exists here."""
    from scrapsim.scenario.library import close_name, resolve

    given, path = path, resolve(path, "targets")
    if not path.exists():
        raise TargetsError(f"no such file{close_name(given, 'targets')}", file=str(path),
                           expected="a calibration targets YAML file")
    data, root = _read(path)
    try:
        return _check(str(path), data, base, root)
    except ScenarioError as exc:         # each problem with its line
        raise several([p if p.line is not None or not p.path else
                       TargetsError(_reason(p), file=p.file, path=p.path, value=p.value,
                                    expected=p.expected, line=_line(root, p.path))
                       for p in exc.problems]) from None


def _reason(exc: ScenarioError) -> str:
    """The message of ``exc`` without its ``file: path:`` head."""
    text = str(exc)
    head = f"{exc.file or '<scenario>'}" + (f":{exc.line}" if exc.line is not None else "")
    return text.removeprefix(head + ": ").removeprefix(f"{exc.path}: ")


def _line(root: Any, path: str) -> int | None:
    """The line of a dotted ``path`` (``targets.2.period``) in the file."""
    from scrapsim.errors import line_of

    return line_of(root, tuple(int(p) if p.isdigit() else p for p in path.split(".")))


def _check(file: str, data: Any, base: Scenario, root: Any) -> Targets:
    if not isinstance(data, dict) or set(data) - {"parameters", "targets"}:
        extra = sorted(set(data) - {"parameters", "targets"}) if isinstance(data, dict) else []
        raise TargetsError("a targets file is a mapping with 'parameters' and 'targets'",
                           file=file, path=extra[0] if extra else "",
                           value=extra[0] if extra else data,
                           expected="parameters: {KEY: {low, high}}, targets: [...]")
    items = data.get("targets")
    if not isinstance(items, list) or not items:
        raise TargetsError("needs at least one target", file=file, path="targets", value=items,
                           expected="a list of {name, moment, value, sd}")
    problems = Problems()                # every target's problem, and the parameters'
    parameters = problems.attempt(parse_parameters, file, data.get("parameters"), base, root)
    targets = tuple(problems.attempt(_target, file, i, t, base) for i, t in enumerate(items))
    problems.check()
    names = [t.name for t in targets]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise TargetsError("target name used twice", file=file, path="targets", value=dup[0],
                           expected="distinct names")
    return Targets(parameters, targets, file)


def _number(file: str, path: str, value: Any, expected: str = "a number") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TargetsError("not a finite number", file=file, path=path, value=value,
                           expected=expected)
    return float(value)


def _target(file: str, i: int, spec: Any, base: Scenario) -> TargetSpec:
    path = f"targets.{i}"
    allowed = {"name", "moment", "value", "sd", "period", "of", "region", "source"}
    if not isinstance(spec, dict) or set(spec) - allowed or not {"name", "moment", "value",
                                                                   "sd"} <= set(spec):
        bad = sorted(set(spec) - allowed) if isinstance(spec, dict) else []
        hint = difflib.get_close_matches(bad[0], sorted(allowed), n=1) if bad else []
        raise TargetsError("a target needs name, moment, value and sd" +
                           (f"; unknown key {bad[0]!r}" if bad else "") +
                           (f" (did you mean {hint[0]!r}?)" if hint else ""), file=file,
                           path=f"{path}.{bad[0]}" if bad else path, value=spec,
                           expected="{name, moment, value, sd[, period, of, region, source]}")
    moment = str(spec["moment"])
    if moment not in DAILY_MOMENTS and moment not in _SUMMARY_ONLY:
        hint = difflib.get_close_matches(moment, DAILY_MOMENTS + _SUMMARY_ONLY, n=1)
        raise TargetsError("unknown moment" + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                           file=file, path=f"{path}.moment", value=moment,
                           expected="one of " + ", ".join(DAILY_MOMENTS + _SUMMARY_ONLY))
    sd = _number(file, f"{path}.sd", spec["sd"], "a number > 0")
    if sd <= 0:
        raise TargetsError("must be positive", file=file, path=f"{path}.sd", value=sd,
                           expected="a number > 0")
    period = _period(file, f"{path}.period", spec.get("period", "run"), base, moment)
    of = spec.get("of", "run")
    if of not in ("run", "baseline") or (of == "baseline" and moment not in DAILY_MOMENTS):
        hint = difflib.get_close_matches(str(of), ["run", "baseline"], n=1)
        raise TargetsError("unknown run" + (f" (did you mean {hint[0]!r}?)" if hint and
                                            hint[0] != of else ""),
                           file=file, path=f"{path}.of", value=of,
                           expected="run or baseline (baseline for daily moments only)")
    region = spec.get("region")
    if region is not None and region not in [r.name for r in base.regions]:
        raise TargetsError("no such region", file=file, path=f"{path}.region", value=region,
                           expected=", ".join(r.name for r in base.regions))
    return TargetSpec(str(spec["name"]), moment, _number(file, f"{path}.value", spec["value"]),
                      sd, period, of, region, str(spec.get("source", "")))


def _period(file: str, path: str, raw: Any, base: Scenario,
            moment: str) -> str | tuple[str, str]:
    if raw == "run":
        return "run"
    if moment not in DAILY_MOMENTS:
        raise TargetsError("a summary moment has no period", file=file, path=path, value=raw,
                           expected="no period (the summary fixes its own)")
    if raw == "window":
        return "window"
    days = [_date(d) for d in raw] if isinstance(raw, list) and len(raw) == 2 else []
    if len(days) == 2:
        first, last = days
        if first is not None and last is not None and base.start <= first <= last <= base.end:
            return first.isoformat(), last.isoformat()
    raise TargetsError("bad period", file=file, path=path, value=raw,
                       expected=f"run, window or [FIRST, LAST] dates within "
                       f"{base.start.isoformat()}..{base.end.isoformat()}")


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


# --- measuring (runs in the workers) -------------------------------------------------------------

def moments(scenario: Scenario, seed: int, specs: list[dict[str, Any]]) -> dict[str, Any]:
    """Run function for the sweep engine: the model with its baseline, then each moment."""
    from scrapsim.experiments.batching import model_run

    result = model_run(scenario, seed)   # batched with the chunk's other seeds of the point
    return {s["name"]: _measure(result, s) for s in specs}


def _measure(result: Any, spec: dict[str, Any]) -> float | None:
    sc = result.scenario
    names = [r.name for r in sc.regions]
    cols = [names.index(spec["region"])] if spec.get("region") else list(range(len(names)))
    if spec["moment"] not in DAILY_MOMENTS:
        summary = result.summary["regions"][spec["region"]] if spec.get("region") \
            else result.summary
        value = summary.get(spec["moment"])
        if spec["moment"] == "recovery_days" and value is None and result.windows:
            end = max((b - sc.start).days for *_, b in result.windows)
            value = sc.days - 1 - end        # censored: not back within the run
        return None if value is None else float(value)
    table = (result.baseline if spec["of"] == "baseline" else result).daily
    days = _days(result, spec["period"])
    column = "smelted" if spec["moment"] == "operating_rate" else spec["moment"]
    x = np.asarray(table[column], dtype=float).reshape(sc.days, len(names))[:, cols]
    if spec["moment"] == "scrap_price":
        return float(x[days].mean())
    if spec["moment"] == "violation_rate":
        found = np.asarray(table["violations"], dtype=float).reshape(sc.days, len(names))
        done = np.asarray(table["inspections"], dtype=float).reshape(sc.days, len(names))
        n = done[days][:, cols].sum()
        return float(found[days][:, cols].sum() / n) if n > 0 else None
    mean = float(x[days].sum(axis=1).mean())
    if spec["moment"] == "operating_rate":
        return mean / _capacity(sc, cols)
    return mean


def _days(result: Any, period: str | list[str] | tuple[str, str]) -> np.ndarray:
    sc = result.scenario
    mask = np.zeros(sc.days, dtype=bool)
    if period == "run":
        mask[:] = True
    elif period == "window":
        for *_, a, b in result.windows:
            mask[(a - sc.start).days:(b - sc.start).days + 1] = True
        if not mask.any():
            mask[:] = True
    else:
        first, last = (date.fromisoformat(d) for d in period)
        mask[(first - sc.start).days:(last - sc.start).days + 1] = True
    return mask


def _capacity(sc: Scenario, cols: list[int]) -> float:
    """Nominal smelting capacity, t scrap/day: Σ count × mean capacity over the regions."""
    total = 0.0
    for i in cols:
        smelters = sc.regions[i].smelters
        for klass in ("large", "small", "workshop"):
            group = getattr(smelters, klass, None)
            if group is not None:
                total += group.count * group.capacity
    return total
