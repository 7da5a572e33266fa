"""The study file of an exploration: policy levers, uncertain inputs, metrics and the design.

A study is YAML (read safely, duplicate keys refused), checked against the base scenario
before anything runs::

    description: why this study                  # optional text
    levers:                                      # policy levers on a full grid, or ...
      campaigns.0.teams: [7, 14, 21]
      campaigns.0.sanctions:                     # shares that sum to 1: one lever, whole sets
        - {close: 0.1, suspend: 0.8, upgrade: 0.1, fine: 0.0}
        - {close: 0.5, suspend: 0.4, upgrade: 0.1, fine: 0.0}
    policies:                                    # ... named policies (not both)
      light: {campaigns.0.teams: 7, campaigns.0.halt_share: 0.5}
      sweep_traders: {campaigns.0.targets.traders: 1.0}
    uncertainties:                               # as a sensitivity parameters file
      regions.hebei.traders.risk_tolerance: {low: 0.4, high: 0.9, source: "why"}
    metrics: [price_change, smelting_change, violating_smelting_change]
    goals: {violating_smelting_change: lower, smelting_change: higher}
    design: {sampler: lhs, samples: 32, reps: 3}   # sampler lhs or sobol (samples 2^k)

Levers are scenario fields by dotted path, each with the list of values a policy may give it
(or a mapping of named values, ``{reorganize: {...}, ban: {...}}``, whose names label the
policies); a mapping value replaces the whole sub-object (the sanction shares, which must sum
to 1, are one lever). Uncertainties are numeric fields sampled uniformly between ``low`` and
``high``, each with a required ``source``, checked by the same :func:`parse_parameters` as
sensitivity parameters files. ``goals`` say which direction is better for a metric
(robustness: regret and dominance); metrics without a goal are described, not ranked. Every
error names the file, the line, the place (``levers[campaigns.0.teams].1``), the value and
what was expected (:class:`~scrapsim.errors.ParamsError`, exit status 2).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scrapsim.experiments.sensitivity.params import (
    Parameter,
    Problems,
    canonical_path,
    error_reason,
    parse_metrics,
    parse_parameters,
    plain,
    read_yaml,
    spec_error,
    unknown_key,
)
from scrapsim.results.identity import canonical_json, jsonable
from scrapsim.scenario import Scenario, ScenarioError

__all__ = ["DEFAULT_GOALS", "DEFAULT_METRICS", "Policy", "Study", "load_study", "sample"]

TOP_KEYS = ("description", "levers", "policies", "uncertainties", "metrics", "goals", "design")
DESIGN_KEYS = ("sampler", "samples", "reps")
SAMPLERS = ("lhs", "sobol")
GOAL_WORDS = ("lower", "higher")
DEFAULT_METRICS = ("price_change", "smelting_change", "collection_change",
                   "violating_smelting_change", "shut_share")
DEFAULT_GOALS = {"violating_smelting_change": "lower", "smelting_change": "higher",
                 "collection_change": "higher"}
"""Goals used for the metrics a study lists without saying (less polluting smelting is better,
less lost supply is better); the price change has no better direction of its own."""
DEFAULT_DESIGN = {"sampler": "lhs", "samples": 32, "reps": 3}
RESERVED = ("seed", "enforcement.intensity")
WHAT = "an exploration study YAML file"


@dataclass(frozen=True)
class Policy:
    """One policy: its name and the lever values it sets (dotted path → value)."""

    name: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Study:
    """A checked study file (see the module's docstring)."""

    file: str
    text: str
    description: str
    lever_kind: str                    # "grid", "policies" or "none"
    levers: tuple[str, ...]
    policies: tuple[Policy, ...]
    uncertainties: tuple[Parameter, ...]
    metrics: tuple[str, ...]
    goals: dict[str, str]
    sampler: str
    samples: int
    reps: int

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.uncertainties]

    def identity(self) -> dict[str, Any]:
        """What the runs depend on (not the wording of sources, goals or the description)."""
        return {"policies": [[p.name, jsonable(p.overrides)] for p in self.policies],
                "uncertainties": [[p.key, p.low, p.high, p.integer]
                                  for p in self.uncertainties],
                "sampler": self.sampler, "samples": self.samples, "reps": self.reps}

    def describe(self) -> dict[str, Any]:
        """The study as the manifest records it."""
        return {"file": self.file, "description": self.description, "levers": self.lever_kind,
                "lever_keys": list(self.levers),
                "policies": [{"name": p.name, "set": jsonable(p.overrides)}
                             for p in self.policies],
                "uncertainties": [{"key": p.key, "low": p.low, "high": p.high,
                                   "integer": p.integer, "source": p.source}
                                  for p in self.uncertainties],
                "metrics": list(self.metrics), "goals": dict(self.goals),
                "sampler": self.sampler, "samples": self.samples, "reps": self.reps}


def load_study(source: str | Path | Mapping[str, Any], base: Scenario,
               known_metrics: Collection[str] | None = None, *, samples: int | None = None,
               reps: int | None = None) -> Study:
    """Read and check a study file (or the same structure as a mapping) against ``base``;
    ``samples``/``reps`` replace the design's (the command line's ``--samples``/``--reps``)."""
    if isinstance(source, Mapping):
        file, data, root = "<study>", dict(source), None
        text = yaml.safe_dump(plain(data), sort_keys=False, allow_unicode=True)
    else:
        from scrapsim.scenario.library import resolve

        text, data, root = read_yaml(source, WHAT, library="studies")
        file = str(resolve(source, "studies"))
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        raise spec_error(file, f"the document is {what}", expected="a mapping with "
                         "'uncertainties' (and 'levers' or 'policies', 'metrics', 'design')")
    problems = Problems()                 # every section's problems at once
    problems.found += [unknown_key(file, str(key), TOP_KEYS, str(key), root, (key,))
                       for key in data if key not in TOP_KEYS]
    unknown = bool(problems.found)    # maybe a section's name misspelt: a section left out
    parsed = problems.attempt(_levers, file, data, base, root) \
        if {"levers", "policies"} & set(data) or not unknown else None  # not reported missing
    kind, levers, policies = parsed or ("", (), ())
    uncertainties = problems.attempt(parse_parameters, file, data.get("uncertainties"), base,
                                     root, section="uncertainties") \
        if "uncertainties" in data or not unknown else None
    if parsed is not None and uncertainties is not None:
        problems.attempt(_no_overlap, file, base, levers, uncertainties, root)
    metrics = problems.attempt(parse_metrics, file, data.get("metrics", list(DEFAULT_METRICS)),
                               known_metrics, root) if "metrics" in data or not unknown else None
    goals = problems.attempt(_goals, file, data.get("goals"), metrics, root) \
        if metrics is not None else {}
    design = problems.attempt(_design, file, data.get("design"), root, samples, reps)
    description = data.get("description") or ""
    if not isinstance(description, str):
        problems.found.append(spec_error(file, "must be text", "description", description,
                                         "text", root, ("description",)))
    problems.check()                    # so each section parsed
    return Study(file, text, " ".join(description.split()), kind, levers, policies,
                 uncertainties or (), metrics or (), goals, **design)


# ---------------------------------------------------------------- levers and policies

def _levers(file: str, data: dict, base: Scenario,
            root: Any) -> tuple[str, tuple[str, ...], tuple[Policy, ...]]:
    if "levers" in data and "policies" in data:
        raise spec_error(file, "give levers (a grid) or policies (named), not both", "policies",
                         expected="one of levers, policies", root=root, loc=("policies",))
    if "levers" in data:
        return _grid(file, data["levers"], base, root)
    if "policies" in data:
        return _named(file, data["policies"], base, root)
    return "none", (), (Policy("scenario", {}),)


def _lever_path(file: str, key: Any, base: Scenario, where: str, root: Any,
                loc: tuple) -> str:
    if not isinstance(key, str) or not key:
        raise spec_error(file, "must be a dotted scenario path", where, key,
                         "e.g. campaigns.0.teams", root, loc)
    if key in RESERVED:
        raise spec_error(file, f"cannot be a lever: {key!r} is set by the experiment", where,
                         key, "a campaign, market or behaviour field", root, loc)
    try:
        base.get(key)
    except ScenarioError as exc:
        raise spec_error(file, f"not a field of the scenario: {error_reason(exc)}", where, key,
                         exc.expected or "a dotted path into the scenario", root, loc) from None
    return key


def _check_value(file: str, overrides: dict[str, Any], base: Scenario, where: str,
                 value: Any, root: Any, loc: tuple) -> None:
    try:
        base.with_overrides(overrides)
    except ScenarioError as exc:
        raise spec_error(file, f"gives a bad scenario: {error_reason(exc)}", where,
                         jsonable(value), exc.expected or "a value the scenario accepts", root,
                         loc) from None


def _grid(file: str, raw: Any, base: Scenario,
          root: Any) -> tuple[str, tuple[str, ...], tuple[Policy, ...]]:
    if not isinstance(raw, dict) or not raw:
        raise spec_error(file, "must be a non-empty mapping", "levers", raw,
                         "dotted.path: [value, value, ...]", root, ("levers",))
    columns: dict[str, list[tuple[str | None, Any]]] = {}
    for key, values in raw.items():
        where, loc = f"levers[{key}]", ("levers", key)
        path = _lever_path(file, key, base, where, root, loc)
        columns[path] = _lever_values(file, path, values, base, where, root, loc)
    _no_same_field(file, base, list(columns), "levers", root)
    keys = tuple(columns)
    policies = []
    for combo in itertools.product(*columns.values()):
        overrides = {k: v for k, (_, v) in zip(keys, combo, strict=True)}
        _check_value(file, overrides, base, "levers", overrides, root, ("levers",))
        names = {k: n for k, (n, _) in zip(keys, combo, strict=True) if n is not None}
        policies.append(Policy(policy_label(overrides, keys, names), overrides))
    return "grid", keys, tuple(policies)


def _lever_values(file: str, path: str, values: Any, base: Scenario, where: str, root: Any,
                  loc: tuple) -> list[tuple[str | None, Any]]:
    """A lever's values, each with its name: a list (unnamed) or a mapping name → value."""
    if isinstance(values, dict) and values:
        items: list[tuple[Any, Any]] = list(values.items())
    elif isinstance(values, list) and values:
        items = list(enumerate(values))
    else:
        raise spec_error(file, "must be a non-empty list of values (or a mapping of named "
                         "values)", where, values, "[value, ...] or {name: value, ...}", root,
                         loc)
    seen: list[str] = []
    out: list[tuple[str | None, Any]] = []
    for i, value in items:
        if isinstance(values, dict) and (not isinstance(i, str) or not i.strip()):
            raise spec_error(file, "a named value needs a name", f"{where}.{i}", i, "text",
                             root, (*loc, i))
        _check_value(file, {path: value}, base, f"{where}.{i}", value, root, (*loc, i))
        text = canonical_json(jsonable(value))
        if text in seen:
            raise spec_error(file, "listed twice", f"{where}.{i}", jsonable(value),
                             "each value once", root, (*loc, i))
        seen.append(text)
        out.append((i if isinstance(values, dict) else None, value))
    return out


def _named(file: str, raw: Any, base: Scenario,
           root: Any) -> tuple[str, tuple[str, ...], tuple[Policy, ...]]:
    if not isinstance(raw, dict) or not raw:
        raise spec_error(file, "must be a non-empty mapping", "policies", raw,
                         "name: {dotted.path: value, ...}", root, ("policies",))
    policies: list[Policy] = []
    seen: dict[str, str] = {}
    keys: dict[str, None] = {}
    for name, sets in raw.items():
        where, loc = f"policies[{name}]", ("policies", name)
        if not isinstance(name, str) or not name.strip():
            raise spec_error(file, "a policy needs a name", where, name, "text", root, loc)
        if sets is None:
            sets = {}
        if not isinstance(sets, dict):
            raise spec_error(file, "must be a mapping", where, sets,
                             "{dotted.path: value, ...} ({} for the scenario as it is)", root,
                             loc)
        for key, value in sets.items():
            path = _lever_path(file, key, base, f"{where}.{key}", root, (*loc, key))
            _check_value(file, {path: value}, base, f"{where}.{key}", value, root, (*loc, key))
            keys[path] = None
        _check_value(file, dict(sets), base, where, sets, root, loc)
        text = canonical_json(jsonable(sets))
        if text in seen:
            raise spec_error(file, f"sets the same levers as policy {seen[text]!r}", where,
                             name, "distinct policies", root, loc)
        seen[text] = name
        policies.append(Policy(name, dict(sets)))
    _no_same_field(file, base, list(keys), "policies", root)
    return "policies", tuple(keys), tuple(policies)


def policy_label(overrides: Mapping[str, Any], keys: tuple[str, ...],
                 names: Mapping[str, str] | None = None) -> str:
    """A grid policy's name: each lever's last path part (or the whole path where two levers
    end alike) with its value's name, or its value (a mapping as its non-zero shares)."""
    last = [k.split(".")[-1] for k in keys]
    parts = []
    for key, short in zip(keys, last, strict=True):
        name = short if last.count(short) == 1 else key
        value = overrides[key]
        if names and key in names:
            parts.append(names[key])
            continue
        if isinstance(value, Mapping):
            value = "/".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                             for k, v in value.items() if v)
        elif isinstance(value, float):
            value = f"{value:g}"
        parts.append(f"{name}={value}")
    return " ".join(parts)


def _no_same_field(file: str, base: Scenario, keys: list[str], section: str,
                   root: Any) -> None:
    paths = [canonical_path(base, k) for k in keys]
    for (a, pa), (b, pb) in itertools.combinations(zip(keys, paths, strict=True), 2):
        n = min(len(pa), len(pb))
        if pa[:n] == pb[:n]:
            raise spec_error(file, f"{b!r} and {a!r} name the same field (or one holds the "
                             "other)", section, b, "each field in one lever", root, (section,))


def _no_overlap(file: str, base: Scenario, levers: tuple[str, ...],
                uncertainties: tuple[Parameter, ...], root: Any) -> None:
    held = [(k, canonical_path(base, k)) for k in levers]
    for p in uncertainties:
        mine = canonical_path(base, p.key)
        for key, path in held:
            n = min(len(mine), len(path))
            if mine[:n] == path[:n]:
                raise spec_error(file, f"is also a lever ({key!r}): a field is a policy "
                                 "choice or an uncertainty, not both", f"uncertainties[{p.key}]",
                                 p.key, "a field no lever sets", root,
                                 ("uncertainties", p.key))


# ---------------------------------------------------------------- goals and design

def _goals(file: str, raw: Any, metrics: tuple[str, ...], root: Any) -> dict[str, str]:
    if raw is None:
        return {m: g for m, g in DEFAULT_GOALS.items() if m in metrics}
    if not isinstance(raw, dict):
        raise spec_error(file, "must be a mapping", "goals", raw, "metric: lower|higher", root,
                         ("goals",))
    for metric, goal in raw.items():
        if metric not in metrics:
            raise spec_error(file, "is not one of the study's metrics", f"goals.{metric}",
                             metric, f"one of {', '.join(metrics)}", root, ("goals", metric))
        if goal not in GOAL_WORDS:
            raise spec_error(file, "unknown goal", f"goals.{metric}", goal, "lower or higher",
                             root, ("goals", metric))
    return {str(m): str(g) for m, g in raw.items()}


def _design(file: str, raw: Any, root: Any, samples: int | None,
            reps: int | None) -> dict[str, Any]:
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise spec_error(file, "must be a mapping", "design", raw,
                         "{sampler: lhs|sobol, samples: N, reps: N}", root, ("design",))
    for key in raw:
        if key not in DESIGN_KEYS:
            raise unknown_key(file, str(key), DESIGN_KEYS, f"design.{key}", root,
                              ("design", key))
    out = {**DEFAULT_DESIGN, **raw}
    if out["sampler"] not in SAMPLERS:
        raise spec_error(file, "unknown sampler", "design.sampler", out["sampler"],
                         "lhs or sobol", root, ("design", "sampler"))
    for key, given, flag in (("samples", samples, "--samples"), ("reps", reps, "--reps")):
        value, where = (out[key], file) if given is None else (given, flag)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise spec_error(where, "must be a whole number >= 1", f"design.{key}"
                             if given is None else "", value, "a whole number >= 1",
                             root if given is None else None, ("design", key))
        out[key] = value
    n = out["samples"]
    if out["sampler"] == "sobol" and n & (n - 1):
        raise spec_error(file if samples is None else "--samples", "Sobol' sampling needs a "
                         "power of 2", "design.samples", n,
                         f"a power of 2, e.g. {1 << (n.bit_length() - 1)} or "
                         f"{1 << n.bit_length()}", root, ("design", "samples"))
    return out


def sample(study: Study, seed: Any) -> list[dict[str, Any]]:
    """The uncertainty scenarios: ``study.samples`` points by LHS or scrambled Sobol'
    (scipy.stats.qmc, driven by the SeedSequence ``seed``) in the declared ranges, values
    rounded to 12 significant digits (counts to whole numbers)."""
    import numpy as np
    from scipy.stats import qmc

    params = study.uncertainties
    rng = np.random.default_rng(seed)
    if study.sampler == "sobol":
        unit = qmc.Sobol(d=len(params), scramble=True, rng=rng).random_base2(
            study.samples.bit_length() - 1)
    else:
        unit = qmc.LatinHypercube(d=len(params), rng=rng).random(study.samples)
    return [{p.key: p.value(float(f"{p.low + u * (p.high - p.low):.12g}"))
             for p, u in zip(params, row, strict=True)} for row in unit]
