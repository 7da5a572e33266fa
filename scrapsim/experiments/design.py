"""Sweep designs: which scenario variants a sweep runs, and the seeds of its replications.

A design is a list of *points*, each a ``{dotted.path: value}`` override of the base scenario.
``--vary`` specs come in three forms:

* ``KEY=START:STOP:N`` — ``N`` evenly spaced values, both ends included (``0:2:21``);
* ``KEY=v1,v2,...`` — the listed values, each read as YAML (numbers, dates, strings);
* ``KEY=LOW..HIGH`` — bounds of a Latin-hypercube design (``design="lhs"``).

A ``"points"`` design (Python API only: calibration and sensitivity analysis use it) takes
``{key: [v0, v1, ...]}`` columns of equal length and runs point ``i`` at the ``i``-th value of
every column, as sampled elsewhere (SALib, an optimizer's population).

Several grid specs give the full grid (the first key varies slowest). Grid values are rounded to
12 significant digits so that ``0:2:21`` gives ``0.3``, not ``0.30000000000000004``; a key whose
scenario value is an integer gets integers (an LHS sample is rounded to the nearest one).

Common random numbers: one root seed becomes a ``SeedSequence``; its first child is spawned into
one seed per replication (the same at every point), its second child drives the LHS sampler.
Every point is validated by building its scenario before any run starts.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import yaml

from scrapsim.errors import SweepSpecError
from scrapsim.experiments import bounds
from scrapsim.results.identity import canonical_json, jsonable
from scrapsim.scenario import Scenario, ScenarioError

__all__ = ["Axis", "Design", "SweepSpecError", "build_design", "canonical_key", "parse_vary",
           "rep_seeds", "validate_points"]

DesignKind = Literal["grid", "lhs", "points"]
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUM})\s*:\s*({_NUM})\s*:\s*(\S+)\s*$")
_BOUNDS = re.compile(rf"^\s*({_NUM})\s*\.\.\s*({_NUM})\s*$")
_RESERVED = {"seed": "the sweep sets the seed of each replication; use --seed for the root seed"}



@dataclass(frozen=True)
class Axis:
    """One varied key: its grid values, or its LHS bounds (``low``, ``high``)."""

    key: str
    spec: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False


@dataclass(frozen=True)
class Design:
    """The points of a sweep (overrides of the base scenario), in run order."""

    kind: DesignKind
    axes: tuple[Axis, ...]
    points: tuple[dict[str, Any], ...]
    samples: int | None = None

    @property
    def keys(self) -> list[str]:
        return [a.key for a in self.axes]

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description for the manifest."""
        axes = [{"key": a.key, "spec": a.spec, **self._extent(a)} for a in self.axes]
        return {"kind": self.kind, "axes": axes, "samples": self.samples,
                "points": len(self.points)}

    def _extent(self, a: Axis) -> dict[str, Any]:
        if self.kind == "lhs":
            return {"low": a.low, "high": a.high}
        if self.kind == "points":
            return {"low": jsonable(min(a.values)), "high": jsonable(max(a.values))}
        return {"values": [jsonable(v) for v in a.values]}


def _error(spec: str, message: str, key: str = "", value: Any = None,
           expected: str = "") -> SweepSpecError:
    return SweepSpecError(message, file=f"--vary {spec}", path=key, value=value,
                          expected=expected)


def parse_vary(spec: str | tuple[str, Any], base: Scenario, kind: DesignKind = "grid") -> Axis:
    """One ``KEY=SPEC`` text (or a ``(key, values)`` pair from the Python API) → an Axis."""
    if isinstance(spec, str):
        key, sep, raw = spec.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise _error(spec, "expected KEY=START:STOP:N, KEY=v1,v2,... or KEY=LOW..HIGH",
                         value=spec, expected="KEY=SPEC")
    else:
        key, raw = spec
        spec = f"{key}={raw}"
    _check_key(spec, key, base)
    key = canonical_key(base, key)
    integer = _is_int(base.get(key))
    if kind == "lhs":
        low, high = _bounds(spec, key, raw)
        return Axis(key, spec, low=low, high=high, integer=integer)
    return Axis(key, spec, values=_grid_values(spec, key, raw, integer), integer=integer)


def _check_key(spec: str, key: str, base: Scenario) -> None:
    if key in _RESERVED:
        raise _error(spec, f"cannot vary {key!r}: {_RESERVED[key]}", key, key)
    try:
        base.get(key)
    except ScenarioError as exc:
        raise _error(spec, _reason(exc), key, key, exc.expected) from None


def canonical_key(base: Scenario, dotted: str) -> str:
    """One spelling per field, so two names of one field are one key: a list item by its
    ``name`` when it has a plain, unique one (``campaigns.0.teams`` becomes
    ``campaigns.hebei-inspection-2017.teams``), by its index otherwise."""
    node: Any = base.model_dump(mode="python")
    parts = []
    for part in dotted.split("."):
        if isinstance(node, list):
            names = [item.get("name") if isinstance(item, dict) else None for item in node]
            index = int(part) if part.isdigit() and int(part) < len(node) else names.index(part)
            name = names[index]
            plain = isinstance(name, str) and bool(name) and "." not in name and \
                not name.isdigit() and names.count(name) == 1
            part, node = (str(name) if plain else str(index)), node[index]
        else:
            node = node[part]
        parts.append(part)
    return ".".join(parts)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _grid_values(spec: str, key: str, raw: Any, integer: bool) -> tuple[Any, ...]:
    if not isinstance(raw, str):
        raw = raw.tolist() if isinstance(raw, np.ndarray) else raw
        values = tuple(raw) if isinstance(raw, (list, tuple, range)) else (raw,)
        if not values:
            raise _error(spec, "empty list of values", key, raw, "at least one value")
        return values
    match = _RANGE.match(raw)
    if match:
        return _linspace(spec, key, match.groups(), integer)
    if ".." in raw and _BOUNDS.match(raw):
        raise _error(spec, "LOW..HIGH bounds need --design lhs", key, raw,
                     "START:STOP:N or v1,v2,... for a grid")
    if ":" in raw:
        if raw.count(":") == 2:         # three parts, but not numbers
            raise _error(spec, "a range's START and STOP must be finite numbers and N a "
                         "whole number", key, raw, "START:STOP:N, e.g. 0:2:21")
        raise _error(spec, "a range needs three parts, START:STOP:N (N points, both ends "
                     "included)", key, raw, "START:STOP:N, e.g. 0:2:21")
    items = [s.strip() for s in raw.split(",")]
    if not all(items):
        raise _error(spec, "empty value in the list", key, raw, "v1,v2,... with no empty item")
    return tuple(yaml.safe_load(s) for s in items)


def _linspace(spec: str, key: str, parts: Sequence[str], integer: bool) -> tuple[Any, ...]:
    start, stop, n_text = parts
    if not re.fullmatch(r"\d+", n_text):
        raise _error(spec, f"N must be a whole number, got {n_text!r}", key, n_text,
                     "KEY=START:STOP:N with N >= 1")
    n = int(n_text)
    if n > bounds.MAX_AXIS:
        raise _error(spec, f"{n:,} values on one axis is more than {bounds.MAX_AXIS:,}", key,
                     n_text, f"N from 1 to {bounds.MAX_AXIS:,}")
    lo, hi = float(start), float(stop)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise _error(spec, "range ends must be finite", key, f"{start}:{stop}",
                     "finite START and STOP")
    if n == 1 and lo != hi:
        raise _error(spec, f"{start}:{stop}:1 is one point, so only {start} would run",
                     key, f"{start}:{stop}:{n}", f"N >= 2 to span {start}..{stop}, or the "
                     f"single value KEY={start}")
    if n < 1 or (n > 1 and lo == hi):
        raise _error(spec, f"empty range {start}:{stop}:{n}", key, f"{start}:{stop}:{n}",
                     "N >= 1, and START != STOP when N > 1")
    values = [float(f"{v:.12g}") for v in np.linspace(lo, hi, n)]
    if integer and all(v == int(v) for v in values):
        return tuple(int(v) for v in values)
    return tuple(values)


def _bounds(spec: str, key: str, raw: Any) -> tuple[float, float]:
    if isinstance(raw, str):
        match = _BOUNDS.match(raw)
        if not match:
            raise _error(spec, "an LHS design needs bounds LOW..HIGH", key, raw, "KEY=LOW..HIGH")
        low, high = float(match.group(1)), float(match.group(2))
    else:
        try:
            low, high = (float(v) for v in raw)
        except (TypeError, ValueError):
            raise _error(spec, "an LHS design needs bounds (low, high)", key, raw,
                         "two numbers") from None
    if not low < high:
        raise _error(spec, f"empty range {low:g}..{high:g}", key, raw, "LOW < HIGH")
    if not (np.isfinite(low) and np.isfinite(high)):
        raise _error(spec, "bounds must be finite", key, raw, "finite LOW..HIGH")
    return low, high


def _reason(exc: ScenarioError) -> str:
    """The message of a ScenarioError without its ``file: path:`` head."""
    text = str(exc)
    head = f"{exc.file or '<scenario>'}" + (f":{exc.line}" if exc.line is not None else "") + ": "
    text = text.removeprefix(head)
    return text.removeprefix(f"{exc.path}: ") if exc.path else text


def build_design(base: Scenario, vary: Sequence[str | tuple[str, Any]] | Mapping[str, Any],
                 kind: DesignKind = "grid", samples: int | None = None,
                 root_seed: int = 0) -> Design:
    """Parse the ``--vary`` specs and lay out the points of a grid or LHS design."""
    items = list(vary.items()) if isinstance(vary, Mapping) else list(vary)
    if kind not in ("grid", "lhs", "points"):
        raise SweepSpecError(f"unknown design {kind!r}", file="--design", value=kind,
                             expected="grid or lhs")
    if kind == "points":
        return _points(base, items)
    axes = tuple(parse_vary(item, base, kind) for item in items)
    keys = [a.key for a in axes]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise SweepSpecError(f"key varied twice: {', '.join(dup)} (two names of one field?)",
                             file="--vary", path=dup[0], value=dup[0],
                             expected="each field in one --vary")
    if kind == "grid":
        if samples is not None:
            raise SweepSpecError("--samples needs --design lhs", file="--samples",
                                 value=samples, expected="--design lhs")
        size = int(np.prod([len(a.values) for a in axes], dtype=object)) if axes else 1
        if size > bounds.MAX_POINTS:
            raise SweepSpecError(f"the grid has {size:,} points, more than "
                                 f"{bounds.MAX_POINTS:,}", file="--vary", value=size,
                                 expected="fewer values per axis")
        bounds.check_runs(size)  # at least one run per point: refused before laying them out
        points = tuple(dict(zip(keys, combo, strict=True)) for combo in
                       itertools.product(*(a.values for a in axes)))
        return _distinct(Design("grid", axes, points), "--vary")
    return _distinct(_lhs(axes, samples, root_seed), "--samples")


def _lhs(axes: tuple[Axis, ...], samples: int | None, root_seed: int) -> Design:
    from scipy.stats import qmc

    if not axes:
        raise SweepSpecError("an LHS design needs at least one --vary KEY=LOW..HIGH",
                             file="--vary", expected="KEY=LOW..HIGH")
    if samples is None:
        raise SweepSpecError("an LHS design needs --samples N >= 1", file="--samples",
                             value=samples, expected="a whole number >= 1")
    bounds.check_count(samples, bounds.MAX_SAMPLES, "--samples", "sample size")
    rng = np.random.default_rng(np.random.SeedSequence(root_seed).spawn(2)[1])
    unit = qmc.LatinHypercube(d=len(axes), rng=rng).random(samples)
    points = []
    for row in unit:
        point = {}
        for a, u in zip(axes, row, strict=True):
            assert a.low is not None and a.high is not None, "an LHS axis has bounds"
            v = float(f"{a.low + u * (a.high - a.low):.12g}")
            point[a.key] = int(round(v)) if a.integer else v
        points.append(point)
    return Design("lhs", axes, tuple(points), samples)


def _points(base: Scenario, items: list[Any]) -> Design:
    """Explicit points: ``(key, values)`` columns of one length, point i = i-th of each."""
    axes = []
    for key, vals in items:
        spec = f"{key}=<{len(vals)} values>"
        _check_key(spec, key, base)
        key = canonical_key(base, key)
        values = tuple(v.item() if hasattr(v, "item") else v for v in vals)
        axes.append(Axis(key, spec, values=values, integer=_is_int(base.get(key))))
    lengths = {len(a.values) for a in axes}
    if len(lengths) != 1 or 0 in lengths:
        raise SweepSpecError("point columns must be non-empty and of one length",
                             file="points", value=sorted(lengths),
                             expected="columns of equal length")
    n = lengths.pop()
    points = tuple({a.key: a.values[i] for a in axes} for i in range(n))
    return _distinct(Design("points", tuple(axes), points, n), "points")


def _distinct(design: Design, where: str) -> Design:
    """The design, when no two of its points are the same scenario variant; otherwise an
    input error naming the twins (a run is keyed by its point: twins would be one row)."""
    keys = design.keys
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise SweepSpecError(f"key varied twice: {', '.join(dup)} (two names of one field?)",
                             file=where, path=dup[0], value=dup[0],
                             expected="each field in one --vary")
    seen: dict[str, int] = {}
    twins = []
    for i, point in enumerate(design.points):
        first = seen.setdefault(canonical_json(jsonable(point)), i)
        if first != i:
            twins.append((first, i))
    if twins:
        shown = ", ".join(f"point {j} repeats point {i}" for i, j in twins[:3]) + \
            (f" and {len(twins) - 3} more" if len(twins) > 3 else "")
        hint = ("fewer samples, or a grid of the whole numbers" if design.kind == "lhs"
                else "distinct values (after rounding to whole numbers or 12 digits)")
        raise SweepSpecError(f"{len(twins)} of {len(design.points)} points repeat an earlier "
                             f"point ({shown}): their runs would be one row",
                             file=where, value=canonical_json(
                                 jsonable(design.points[twins[0][1]])),
                             expected=hint)
    return design


def validate_points(base: Scenario, design: Design) -> int:
    """Build every point's scenario (which checks its bounds); the first that fails raises
    :class:`SweepSpecError`. The largest memory estimate of a point's run back, bytes."""
    from scrapsim.results.identity import scenario_hash

    by_key = {a.key: a for a in design.axes}
    peak = bounds.run_bytes(base)
    seen: dict[str, int] = {}
    for i, point in enumerate(design.points):
        try:
            variant = base.with_overrides(point)      # its validation applies the bounds
            peak = max(peak, bounds.run_bytes(variant))
        except ScenarioError as exc:
            axis = by_key.get(exc.path) or next(iter(by_key.values()), None)
            spec = axis.spec if axis else "?"
            shown = ", ".join(f"{k}={jsonable(v)!r}" for k, v in point.items())
            raise SweepSpecError(f"point {i} ({shown}) gives a bad scenario: {_reason(exc)}",
                                 file=f"--vary {spec}", path=exc.path, value=exc.value,
                                 expected=exc.expected) from None
        first = seen.setdefault(scenario_hash(variant), i)
        if first != i:
            raise SweepSpecError(f"point {i} ({jsonable(point)}) is the same scenario as point "
                                 f"{first} ({jsonable(design.points[first])})",
                                 file="--vary", value=canonical_json(jsonable(point)),
                                 expected="points that give distinct scenarios")
    return peak


def rep_seeds(root_seed: int, reps: int) -> list[int]:
    """One seed per replication, the same at every point (common random numbers)."""
    runs = np.random.SeedSequence(root_seed).spawn(2)[0]
    return [int(child.generate_state(1)[0]) for child in runs.spawn(reps)]
