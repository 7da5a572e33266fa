"""Every error scrapsim raises, under one base :class:`ScrapsimError`; safe YAML reading; and
pydantic's complaints turned into one message naming the file, the line, the dotted path, the
value and what was expected.

The family::

    ScrapsimError
    ├── ScenarioError (also a ValueError): bad input, exit status 2 on the command line
    │   ├── SweepSpecError      --vary, --design, --samples, --reps, --out, --workers
    │   │   └── OutputFolderError   a folder scrapsim will not write into
    │   ├── TargetsError        a calibration targets file
    │   └── ParamsError         a sensitivity parameters file
    ├── SweepError (also a RuntimeError): many runs that cannot go on (workers lost)
    ├── SensitivityError (also a RuntimeError): runs failed or a metric had no value
    ├── MissingExtraError (also an ImportError): an optional dependency is not installed; exit
    │   status 2 everywhere, the message carries the ``pip install`` line that fixes it
    └── MassBalanceError: a daily row broke MODEL.md's mass balance (a model defect)

A file with several problems raises one :class:`ScenarioError` listing all of them (its
``problems`` attribute holds one error per problem, the first being the error itself);
:func:`line_of` finds the line of a dotted path in the composed YAML. The files themselves are
read by :mod:`scrapsim.scenario.yaml_input`.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["MassBalanceError", "MissingExtraError", "OutputFolderError", "ParamsError",
           "ScenarioError", "ScrapsimError", "SensitivityError", "SweepError", "SweepSpecError",
           "TargetsError", "error_from_pydantic", "line_of", "require_extra", "several", "show"]


class ScrapsimError(Exception):
    """The base of every error scrapsim raises on purpose."""


class ScenarioError(ScrapsimError, ValueError):
    """Bad scenario input: names the file, the dotted path, the value and what was expected."""

    def __init__(self, message: str, *, file: str | None = None, path: str = "",
                 value: Any = None, expected: str = "", line: int | None = None) -> None:
        self.file, self.path, self.value = file, path, value
        self.expected, self.line = expected, line
        where = file or "<scenario>"
        if line is not None:
            where += f":{line}"
        head = f"{where}: {path}: " if path else f"{where}: "
        if value is not None and "got " not in message:
            message += f" (got {show(value)}" + (f"; expected {expected})" if expected else ")")
        elif value is None and expected and "expected" not in message:
            message += f" (expected {expected})"    # e.g. a file not found: what would do
        super().__init__(head + message)
        self.problems: list[ScenarioError] = [self]


def several(errors: list[ScenarioError]) -> ScenarioError:
    """One error reporting every problem of ``errors`` (the first one's fields, all lines)."""
    if len(errors) == 1:
        return errors[0]
    first = errors[0]
    combined = type(first).__new__(type(first))
    combined.__dict__.update(first.__dict__)
    where = first.file or "<scenario>"
    lines = [f"{len(errors)} problems in {where}:"] + [f"  {e}" for e in errors]
    combined.args = ("\n".join(lines),)
    combined.problems = list(errors)
    return combined


class SweepSpecError(ScenarioError):
    """A bad sweep specification (``--vary``, ``--design``, ``--samples``, ``--reps``)."""


class OutputFolderError(SweepSpecError):
    """An output folder scrapsim will not write into: a user's files there, another run's or
    experiment's results, a file in the way (for a run's folder, ``Result.save``'s, a sweep's
    and every experiment's). A :class:`SweepSpecError`, as these were before they had a name
    of their own, so code that caught that still does."""


class TargetsError(ScenarioError):
    """A bad targets file: names the file, the dotted path, the value and what was expected."""


class ParamsError(ScenarioError):
    """A bad parameters file (or a bad sensitivity option)."""


class SweepError(ScrapsimError, RuntimeError):
    """A sweep that cannot go on (workers unreachable or dead); finished runs stay stored."""


class SensitivityError(ScrapsimError, RuntimeError):
    """Runs failed or gave no value for a metric; the finished runs stay stored."""


class MassBalanceError(ScrapsimError):
    """A daily row broke MODEL.md's mass balance."""


class MissingExtraError(ScrapsimError, ImportError):
    """An optional dependency is missing; the message says which ``pip install`` fixes it."""


EXTRAS = {"dask": "distributed", "parquet": "pyarrow", "sensitivity": "SALib"}
"""pyproject's optional extras and the module each one provides."""


def require_extra(extra: str, needed_for: str) -> None:
    """Raise :class:`MissingExtraError` unless the module of ``extra`` can be imported."""
    import importlib.util

    if importlib.util.find_spec(EXTRAS[extra]) is None:
        raise MissingExtraError(f"{needed_for} needs {EXTRAS[extra]}, which is not installed: "
                                f"pip install 'scrapsim[{extra}]'")


def _short_repr() -> Any:
    import reprlib

    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxset = 2, 6, 6, 6
    short.maxstring, short.maxother, short.maxlong = 120, 120, 60
    return short


_SHORT_REPR = _short_repr()


def show(value: Any) -> str:
    """A value as a user wrote it: dates in ISO form, mappings abbreviated, and anything long
    cut short (``...``): a message never prints a whole file or an expanded alias tree."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, date) for v in value[:8]):
        return "[" + ", ".join(show(v) for v in value[:8]) + (", ...]" if len(value) > 8
                                                               else "]")
    return str(_SHORT_REPR.repr(value))


def _loc_to_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-")))


def _expected(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "a known key"
    ctx = err.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}")
    for key, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in ctx:
            return f"a number {word} {ctx[key]}"
    return _SHORT.get(kind.split("_")[0], err["msg"]) if kind != "finite_number" \
        else "a finite number"


_SHORT = {"float": "a number", "int": "a whole number", "bool": "true or false",
          "date": "a date (YYYY-MM-DD)", "string": "text", "list": "a list",
          "dict": "a mapping", "model": "a mapping", "missing": "this required field",
          "literal": "one of the listed values"}
"""Short expectations by pydantic error kind (its first word), instead of repeating its text."""


PATTERN_WORDS = {r"^[A-Za-z0-9][A-Za-z0-9_.-]*$": "letters, digits, '_', '.' and '-', "
                 "starting with a letter or digit: it names files"}
"""What a field's pattern (``fields.NAME_PATTERN``) asks for, in words."""

_UNION_TAGS = {"float", "int", "str", "date", "bool"}


_DATE_KEY = re.compile(r"^datetime\.date\((\d+), (\d+), (\d+)\)$")


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union-member tags (``float``, ``dict[date,float]``) from a location, and
    write a dated series' key (pydantic's ``datetime.date(2017, 3, 1)``) as the file does."""
    out = []
    for p in loc:
        if isinstance(p, str) and ("[" in p or p in _UNION_TAGS):
            continue
        day = _DATE_KEY.match(p) if isinstance(p, str) else None
        out.append(f"{int(day[1]):04d}-{int(day[2]):02d}-{int(day[3]):02d}" if day else p)
    return tuple(out)


def error_from_pydantic(exc: ValidationError, data: Any, file: str | None,
                        root: yaml.Node | None, model: Any) -> ScenarioError:
    """Every one of pydantic's errors worth showing as one ScenarioError (``model``: the
    validated class, for "did you mean" on unknown keys); see :func:`several`."""
    return several([_one_error(err, data, file, root, model)
                    for err in _useful(exc.errors())])


def _one_error(err: Any, data: Any, file: str | None, root: yaml.Node | None,
               model: Any) -> ScenarioError:
    """One pydantic error as a ScenarioError with its line, path, value and expectation."""
    loc = _clean_loc(tuple(err["loc"]))
    msg = err["msg"].removeprefix("Value error, ")
    head = re.match(r"^([A-Za-z_][\w.]*): (.*)$", msg, re.S)
    if head and isinstance(_lookup(data, loc), dict):
        loc = loc + tuple(int(p) if p.isdigit() else p for p in head.group(1).split("."))
        msg = head.group(2)
    path = _loc_to_path(loc)
    line = line_of(root, loc, data)
    if err["type"] == "extra_forbidden":
        known = _fields_at(loc[:-1], model)
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        return ScenarioError(f"unknown key {loc[-1]!r}{extra}", file=file, path=path,
                             value=loc[-1], expected=f"one of {sorted(known)}", line=line)
    if err["type"] == "value_error":
        value = _lookup(data, loc)
        got = "" if "got " in msg else f" (got {show(value)})"
        return ScenarioError(msg + got, file=file, path=path, value=value, expected=msg,
                             line=line)
    value = err.get("input")
    msg = "is not a name scrapsim can use" if err["type"] == "string_pattern_mismatch" else msg
    if err["type"] == "missing":
        return ScenarioError("this field is required and has no default", file=file,
                             path=path, expected="a value", line=line)
    return ScenarioError(f"{msg} (got {show(value)}; expected {_expected(err)})", file=file,
                         path=path, value=value, expected=_expected(err), line=line)


def _useful(errors: list[Any]) -> list[Any]:
    """pydantic's errors without union noise: per location one error (an unknown key first),
    and none at a location that a deeper error explains (a series' "not a number" when one
    of its dates is bad)."""
    by_loc: dict[tuple, Any] = {}
    for e in errors:
        loc = _clean_loc(tuple(e["loc"]))
        if loc not in by_loc or e["type"] == "extra_forbidden":
            by_loc[loc] = e
    locs = list(by_loc)
    typos = {(loc[:-1], m) for loc, e in by_loc.items() if e["type"] == "extra_forbidden"
             for m in difflib.get_close_matches(str(loc[-1]), _siblings(by_loc, loc), n=1)}
    return [by_loc[loc] for loc in locs
            if not any(len(o) > len(loc) and o[:len(loc)] == loc for o in locs)
            and not (by_loc[loc]["type"] == "missing" and (loc[:-1], loc[-1]) in typos)]


def _siblings(by_loc: dict[tuple, Any], loc: tuple) -> list[str]:
    """The missing fields next to ``loc`` (a mistyped key's likely meaning)."""
    return [str(o[-1]) for o, e in by_loc.items()
            if e["type"] == "missing" and o[:-1] == loc[:-1]]


def _lookup(data: Any, loc: tuple) -> Any:
    for p in loc:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            try:                    # a dated series' key, written as the file does
                data = data[date.fromisoformat(p)]
            except (KeyError, IndexError, TypeError, ValueError):
                return None
    return data


def _fields_at(loc: tuple, model: Any) -> list[str]:
    """The field names of the pydantic model at ``loc`` inside ``model``."""
    for p in loc:
        if isinstance(p, int):
            continue
        field = model.model_fields.get(p)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", None)
        model = args[0] if args and isinstance(args[0], type) else ann
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return list(model.model_fields)


def line_of(root: yaml.Node | None, loc: tuple, data: Any = None) -> int | None:
    """The line of the deepest part of ``loc`` found in the node tree ``root``. With ``data``
    (what the tree became, ``extends:`` resolved), a list index that the file writes as a
    mapping of items by ``name`` (``campaigns: {hebei-inspection-2017: {...}}``) is found
    under that name."""
    node, line = root, None
    for p in loc:
        if isinstance(node, yaml.MappingNode):
            key = p
            if isinstance(p, int) and isinstance(data, list) and p < len(data) \
                    and isinstance(data[p], dict) and "name" in data[p]:
                key = data[p]["name"]
            match = [(k, v) for k, v in node.value if k.value == str(key)]
            if not match:
                break
            line, node = match[0][0].start_mark.line + 1, match[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and p < len(node.value):
            node = node.value[p]
            line = node.start_mark.line + 1
        else:
            break
        data = _lookup(data, (p,))
    return line
