"""The parameters file of a sensitivity analysis: which scenario fields vary, over what ranges.

A parameters file is YAML (read safely: tags that build objects are refused, duplicate keys
too)::

    description: why these ranges            # optional text
    parameters:                              # scenario fields by dotted path
      campaigns.0.rectify_failure: {low: 0.0, high: 0.3, source: "why this range"}
      campaigns.0.teams: {low: 7, high: 21, source: "..."}     # a count: whole numbers
    metrics: [collection_change, smelting_change, price_change, shut_share, recovery_days]

Each parameter is a numeric scenario field (lists by index or by ``name``:
``regions.hebei.traders.risk_tolerance``), sampled uniformly between ``low`` and ``high`` in
the field's own unit; ``source`` says where the range comes from and is required. Both ends are
checked against the scenario's rules before anything runs (a share stays within [0, 1]). A field
holding a whole number (a count) takes whole-number ends, and every sampled value is rounded to
the nearest whole number before it runs. Sanction shares that must sum to 1 cannot be varied one
at a time. ``metrics`` (optional, default :data:`DEFAULT_METRICS`) are summary keys of a run
(see :mod:`scrapsim.model.summary`), or ``region.<name>.<key>`` for one region's.

Every error names the file, the place in it (``parameters[campaigns.0.teams].low``), the value
and what was expected, as a :class:`ParamsError` (a :class:`~scrapsim.scenario.ScenarioError`).
Calibration's targets files (:mod:`scrapsim.experiments.calibration.targets`) declare their
parameters the same way and are checked by the same :func:`parse_parameters`, as are the
uncertainties of an exploration study (:mod:`scrapsim.experiments.exploration.study`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scrapsim.errors import ParamsError, line_of, several
from scrapsim.scenario import Scenario, ScenarioError
from scrapsim.scenario.yaml_input import UniqueKeyLoader, read_text, yaml_line, yaml_problem

__all__ = ["DEFAULT_METRICS", "Parameter", "ParamSpec", "ParamsError", "Problems",
           "canonical_path", "error_reason", "load_params", "parse_metrics", "parse_parameters",
           "plain", "read_yaml", "spec_error", "unknown_key"]

DEFAULT_METRICS = ("collection_change", "smelting_change", "price_change", "shut_share",
                   "recovery_days")
"""Metrics analysed when the file names none (all against intensity 0, same seed)."""
TOP_KEYS = ("description", "parameters", "metrics")


class Problems:
    """The problems of a file, gathered section by section so that all are reported at once
    (as a scenario file's are): ``problems.attempt(parse, ...)`` is ``parse(...)``, or None
    with its problems kept; :meth:`check` raises them together."""

    def __init__(self) -> None:
        self.found: list[ScenarioError] = []

    def attempt(self, parse: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except ScenarioError as exc:    # a ParamsError, or a targets file's TargetsError
            self.found.extend(exc.problems)
            return None

    def check(self) -> None:
        if self.found:
            raise several(list(self.found))
ENTRY_KEYS = ("low", "high", "source")
RESERVED = {"seed": "replications set the seed; use --seed for the root seed"}



@dataclass(frozen=True)
class Parameter:
    """One varied scenario field: its range (the field's unit) and where the range comes from."""

    key: str
    low: float
    high: float
    source: str
    integer: bool = False

    def value(self, x: float) -> float | int:
        """The value a run gets for the sampled ``x`` (whole numbers rounded half up)."""
        return int(math.floor(x + 0.5)) if self.integer else float(x)


@dataclass(frozen=True)
class ParamSpec:
    """A checked parameters file: parameters in file order, metrics, and the text as given."""

    parameters: tuple[Parameter, ...]
    metrics: tuple[str, ...]
    file: str
    text: str
    description: str = ""

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    def problem(self) -> dict[str, Any]:
        """SALib's problem definition (names are the dotted keys)."""
        return {"num_vars": len(self.parameters), "names": self.keys,
                "bounds": [[p.low, p.high] for p in self.parameters]}

    def identity(self) -> dict[str, Any]:
        """What the numbers depend on (ranges and metrics, not the sources' wording)."""
        return {"parameters": [[p.key, p.low, p.high, p.integer] for p in self.parameters],
                "metrics": list(self.metrics)}


def spec_error(spec_file: str, message: str, path: str = "", value: Any = None,
           expected: str = "", root: yaml.Node | None = None,
           loc: tuple = ()) -> ParamsError:
    line = line_of(root, loc) if root is not None and loc else None
    return ParamsError(message, file=spec_file, path=path, value=value, expected=expected,
                       line=line)


def read_yaml(source: str | Path, what: str = "a sensitivity parameters YAML file",
              library: str | None = "params") -> tuple[str, Any, yaml.Node | None]:
    """A YAML file's text, its data (read safely, duplicate keys refused) and its composed
    node tree (for line numbers); ``what`` names the file expected in errors; ``library``: the
    kind of library file a bare name may stand for (None: a path only)."""
    from scrapsim.scenario.library import close_name, resolve

    path = resolve(source, library) if library else Path(source)
    file = str(path)
    if library and not path.exists():
        raise ParamsError(f"no such file{close_name(source, library)}", file=file,
                          expected=what)
    text = read_text(path, ParamsError, what)
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        raise ParamsError(f"YAML error: {yaml_problem(exc)}", file=file,
                          line=yaml_line(exc, text),
                          expected="valid YAML (tags that construct objects are refused)"
                          ) from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"YAML error: {yaml_problem(exc)}", file=file,
                          line=yaml_line(exc, text), expected="valid YAML") from None
    return text, data, root


def load_params(source: str | Path | Mapping[str, Any], base: Scenario,
                known_metrics: Collection[str] | None = None) -> ParamSpec:
    """Read and check a parameters file (or the same structure as a mapping) against ``base``.

    ``known_metrics``: the metric names a run gives (None: not checked here).
    """
    if isinstance(source, Mapping):
        file, data, root = "<parameters>", dict(source), None
        text = yaml.safe_dump(plain(data), sort_keys=False, allow_unicode=True)
    else:
        text, data, root = read_yaml(source)
        from scrapsim.scenario.library import resolve

        file = str(resolve(source, "params"))
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        raise spec_error(file, f"the document is {what}", expected="a mapping with 'parameters' "
                     "(and optionally 'metrics', 'description')")
    problems = Problems()
    problems.found += [unknown_key(file, str(key), TOP_KEYS, str(key), root, (key,))
                       for key in data if key not in TOP_KEYS]
    unknown = bool(problems.found)    # maybe a section's name misspelt: a section left out
    params = problems.attempt(parse_parameters, file, data.get("parameters"), base, root) \
        if "parameters" in data or not unknown else None       # is then not reported missing
    metrics = problems.attempt(parse_metrics, file, data.get("metrics", list(DEFAULT_METRICS)),
                               known_metrics, root) if "metrics" in data or not unknown else None
    description = data.get("description") or ""
    if not isinstance(description, str):
        problems.found.append(spec_error(file, "must be text", "description", description,
                                         "text", root, ("description",)))
    problems.check()                    # so each section parsed
    return ParamSpec(params or (), metrics or (), file, text, description)


def plain(data: Any) -> Any:
    """A mapping from the Python API as plain YAML-ready data (numpy scalars unwrapped)."""
    if isinstance(data, Mapping):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [plain(v) for v in data]
    return data.item() if hasattr(data, "item") else data


def unknown_key(file: str, name: str, known: Collection[str], path: str, root: Any,
             loc: tuple) -> ParamsError:
    hint = difflib.get_close_matches(name, list(known), n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return spec_error(file, f"unknown key {name!r}{extra}", path, name,
                  f"one of {', '.join(known)}", root, loc)


def parse_parameters(file: str, raw: Any, base: Scenario, root: Any,
                     section: str = "parameters") -> tuple[Parameter, ...]:
    """The ``parameters:`` mapping of a parameters file or a calibration targets file (or the
    ``uncertainties:`` of an exploration study: ``section`` names it; ``root``: the composed
    YAML, for line numbers), each checked against ``base``."""
    if raw is None:
        raise spec_error(file, "missing: list the fields to vary as dotted.path: {low: ..., "
                     "high: ..., source: ...}", section)
    if not isinstance(raw, dict) or not raw:
        raise spec_error(file, "must be a non-empty mapping", section, raw,
                     "dotted.path: {low: ..., high: ..., source: ...}", root, (section,))
    out: list[Parameter] = []
    seen: dict[tuple[Any, ...], str] = {}
    problems = Problems()                     # every entry's problem, not the first one's
    for key, entry in raw.items():
        param = problems.attempt(_parameter, file, key, entry, base, root, section)
        if param is None:
            continue
        canonical = canonical_path(base, param.key)
        if canonical in seen:
            problems.found.append(spec_error(
                file, f"names the same field as {seen[canonical]!r}", f"{section}[{key}]", key,
                "each field once", root, (section, key)))
            continue
        seen[canonical] = param.key
        out.append(param)
    problems.check()
    return tuple(out)


def canonical_path(base: Scenario, key: str) -> tuple[Any, ...]:
    """The key with list items by index (``regions.hebei`` and ``regions.0`` are the same)."""
    node: Any = base.model_dump(mode="python")
    parts: list[Any] = []
    for part in key.split("."):
        if isinstance(node, list):
            names = [item.get("name") if isinstance(item, dict) else None for item in node]
            index = int(part) if part.isdigit() else names.index(part)
            parts.append(index)
            node = node[index]
        else:
            parts.append(part)
            node = node[part]
    return tuple(parts)


def _field(file: str, key: Any, base: Scenario, root: Any, section: str) -> bool:
    """Check that ``key`` is a numeric scenario field; True when it holds a whole number."""
    where, loc = f"{section}[{key}]", (section, key)
    if not isinstance(key, str) or not key:
        raise spec_error(file, "must be a dotted scenario path", where, key,
                     "e.g. campaigns.0.detection", root, loc)
    if key in RESERVED:
        raise spec_error(file, f"cannot vary {key!r}: {RESERVED[key]}", where, key,
                     "another scenario field", root, loc)
    try:
        current = base.get(key)
    except ScenarioError as exc:
        raise spec_error(file, f"not a field of the scenario: {error_reason(exc)}", where, key,
                     exc.expected or "a dotted path into the scenario", root, loc) from None
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise spec_error(file, f"is not a number in the scenario (it holds {_short(current)})",
                     where, key, "a numeric field (dated series cannot vary)", root, loc)
    return isinstance(current, int)


def _parameter(file: str, key: Any, entry: Any, base: Scenario, root: Any,
               section: str) -> Parameter:
    integer = _field(file, key, base, root, section)
    where, loc = f"{section}[{key}]", (section, key)
    if not isinstance(entry, dict):
        raise spec_error(file, "must be a mapping", where, entry,
                     "{low: number, high: number, source: text}", root, loc)
    for name in entry:
        if name not in ENTRY_KEYS:
            raise unknown_key(file, str(name), ENTRY_KEYS, f"{where}.{name}", root, (*loc, name))
    low, high = (_bound(file, key, entry, end, integer, root, section)
                 for end in ("low", "high"))
    if not low < high:
        raise spec_error(file, f"empty range: low {low:g} is not below high {high:g}",
                     f"{where}.high", entry.get("high"), f"a number > {low:g}", root,
                     (*loc, "high"))
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        why = "each range needs a source (where it comes from, or why)"
        raise spec_error(file, f"missing 'source': {why}; expected source: non-empty text"
                         if source is None else why, f"{where}.source", source,
                         "non-empty text", root, (*loc, "source"))
    for end, value in (("low", low), ("high", high)):
        _check_in_scenario(file, key, end, value, integer, base, root, section)
    return Parameter(key, low, high, " ".join(source.split()), integer)


def _bound(file: str, key: str, entry: dict, end: str, integer: bool, root: Any,
           section: str) -> float:
    where, loc = f"{section}[{key}].{end}", (section, key, end)
    if end not in entry:
        raise spec_error(file, f"missing {end!r}", f"{section}[{key}]", expected=f"{end}: a number",
                     root=root, loc=(section, key))
    value = entry[end]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise spec_error(file, "must be a finite number", where, value, "a number", root, loc)
    if integer and value != int(value):
        raise spec_error(file, f"{key} holds a whole number (a count)", where, value,
                     "a whole number", root, loc)
    return float(value)


def _check_in_scenario(file: str, key: str, end: str, value: float, integer: bool,
                       base: Scenario, root: Any, section: str) -> None:
    try:
        base.with_overrides({key: int(value) if integer else value})
    except ScenarioError as exc:
        raise spec_error(file, f"gives a bad scenario: {error_reason(exc)}",
                     f"{section}[{key}].{end}", value,
                     exc.expected or "a value the scenario accepts", root,
                     (section, key, end)) from None


def parse_metrics(file: str, raw: Any, known: Collection[str] | None,
                  root: Any) -> tuple[str, ...]:
    """A ``metrics:`` list: names, each once, and known to the run function when given."""
    loc = ("metrics",)
    if not isinstance(raw, list) or not raw:
        raise spec_error(file, "must be a non-empty list", "metrics", raw,
                     f"a list such as [{', '.join(DEFAULT_METRICS[:3])}]", root, loc)
    out: list[str] = []
    for i, name in enumerate(raw):
        if not isinstance(name, str) or not name:
            raise spec_error(file, "must be a metric name", f"metrics.{i}", name, "text", root,
                         (*loc, i))
        if name in out:
            raise spec_error(file, "listed twice", f"metrics.{i}", name, "each metric once", root,
                         (*loc, i))
        if known is not None and name not in known:
            hint = difflib.get_close_matches(name, list(known), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            plain = sorted(k for k in known if not k.startswith("region."))
            raise spec_error(file, f"unknown metric {name!r}{extra}", f"metrics.{i}", name,
                         f"one of {', '.join(plain)} or region.<name>.<metric>", root,
                         (*loc, i))
        out.append(name)
    return tuple(out)


def error_reason(exc: ScenarioError) -> str:
    """A ScenarioError's message without its ``file: path:`` head and its value/expected tail."""
    text = str(exc)
    head = f"{exc.file or '<scenario>'}" + (f":{exc.line}" if exc.line is not None else "") + ": "
    text = text.removeprefix(head)
    text = text.removeprefix(f"{exc.path}: ") if exc.path else text
    return text.split(" (got ")[0]


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a dated series" if value else "a mapping"
    return f"{type(value).__name__} {value!r}"[:60]
