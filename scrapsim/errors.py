"""Every error scrapsim raises, under one base :class:`ScrapsimError`; safe YAML reading; and
pydantic's complaints turned into one message naming the file, the line, the dotted path, the
value and what was expected.

The family::

    ScrapsimError
    ├── ScenarioError (also a ValueError): bad input, exit status 2 on the command line
    │   ├── SweepSpecError      --vary, --design, --samples, --reps, --out, --workers
    │   ├── TargetsError        a calibration targets file
    │   └── ParamsError         a sensitivity parameters file
    ├── SweepError (also a RuntimeError): many runs that cannot go on (workers lost)
    ├── SensitivityError (also a RuntimeError): runs failed or a metric had no value
    └── MassBalanceError: a daily row broke MODEL.md's mass balance (a model defect)

Scenario files, targets files (calibration) and parameters files (sensitivity) are all read
through :class:`UniqueKeyLoader` (a ``SafeLoader`` that refuses duplicate keys) and
:func:`read_text`; :func:`line_of` finds the line of a dotted path in the composed YAML.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["MassBalanceError", "ParamsError", "ScenarioError", "ScrapsimError", "SensitivityError",
           "SweepError", "SweepSpecError", "TargetsError", "UniqueKeyLoader", "error_from_pydantic",
           "line_of", "read_text", "show"]


class ScrapsimError(Exception):
    """The base of every error scrapsim raises on purpose."""


class ScenarioError(ScrapsimError, ValueError):
    """Bad scenario input: names the file, the dotted path, the value and what was expected."""

    def __init__(self, message: str, *, file: str | None = None, path: str = "",
                 value: Any = None, expected: str = "", line: int | None = None) -> None:
        self.file, self.path, self.value, self.expected, self.line = file, path, value, expected, line
        where = file or "<scenario>"
        if line is not None:
            where += f":{line}"
        head = f"{where}: {path}: " if path else f"{where}: "
        if value is not None and "got " not in message:
            message += f" (got {show(value)}" + (f"; expected {expected})" if expected else ")")
        super().__init__(head + message)


class SweepSpecError(ScenarioError):
    """A bad sweep specification (``--vary``, ``--design``, ``--samples``, ``--reps``)."""


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


def show(value: Any) -> str:
    """A value as a user wrote it: dates in ISO form, mappings abbreviated."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, date) for v in value):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


def _loc_to_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-")))


def _expected(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "a known key"
    ctx = err.get("ctx") or {}
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


_UNION_TAGS = {"float", "int", "str", "date", "bool"}


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union-member tags (``float``, ``dict[date,float]``) from a location."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in _UNION_TAGS)))


def error_from_pydantic(exc: ValidationError, data: Any, file: str | None,
                        root: yaml.Node | None, model: Any) -> ScenarioError:
    """The most useful of pydantic's errors as a ScenarioError (``model``: the validated
    class, for "did you mean" on unknown keys)."""
    err = _most_useful(exc.errors())
    loc = _clean_loc(tuple(err["loc"]))
    msg = err["msg"].removeprefix("Value error, ")
    head = re.match(r"^([A-Za-z_][\w.]*): (.*)$", msg, re.S)
    if head and isinstance(_lookup(data, loc), dict):
        loc = loc + tuple(int(p) if p.isdigit() else p for p in head.group(1).split("."))
        msg = head.group(2)
    path = _loc_to_path(loc)
    line = line_of(root, loc)
    if err["type"] == "extra_forbidden":
        known = _fields_at(loc[:-1], model)
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        return ScenarioError(f"unknown key {loc[-1]!r}{extra}", file=file, path=path,
                             value=loc[-1], expected=f"one of {sorted(known)}", line=line)
    value = _lookup(data, loc) if head else err.get("input")
    if head:
        return ScenarioError(f"{msg} (got {show(value)})", file=file, path=path, value=value,
                             expected=msg, line=line)
    return ScenarioError(f"{msg} (got {show(value)}; expected {_expected(err)})", file=file,
                         path=path, value=value, expected=_expected(err), line=line)


def _most_useful(errors: list[dict]) -> dict:
    """Pick one error: an unknown key first, else the deepest, skipping union noise."""
    for e in errors:
        if e["type"] == "extra_forbidden":
            return e
    return max(errors, key=lambda e: len(_clean_loc(tuple(e["loc"]))))


def _lookup(data: Any, loc: tuple) -> Any:
    for p in loc:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
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


def line_of(root: yaml.Node | None, loc: tuple) -> int | None:
    node, line = root, None
    for p in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(p)]
            if not match:
                break
            line, node = match[0][0].start_mark.line + 1, match[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and p < len(node.value):
            node = node.value[p]
            line = node.start_mark.line + 1
        else:
            break
    return line


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of keeping the last silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_text(path: Path) -> str:
    if not path.exists():
        raise ScenarioError("no such file", file=str(path), expected="a scenario YAML file")
    if path.is_dir():
        raise ScenarioError("is a directory", file=str(path), expected="a scenario YAML file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read: {exc}", file=str(path),
                            expected="a UTF-8 YAML file") from None


