"""What pydantic's lax mode would convert without a word, refused for scenario fields: a
yes/no (``true``) where a number is expected (it counts as 1 or 0: ``count: yes`` ran one
trader) and a number where a date is (read as seconds since 1970: ``start: 0`` began the run in
1970). Strings stay accepted where pydantic parses them (``"2017-01-01"``, ``"2000"``)."""

from __future__ import annotations

from datetime import date
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationInfo, field_validator

__all__ = ["StrictModel"]


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (``float | dict[date, float]`` gives float and
    dict; ``list[date]`` gives list; ``int | None`` int and NoneType)."""
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is Annotated:
        return _kinds(args[0])
    if origin is Union or origin is UnionType:
        return set().union(*(_kinds(a) for a in args))
    return {origin or annotation}


def _date_keys(annotation: Any) -> bool:
    """Whether the annotation admits a mapping or a list whose items are dates."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _date_keys(args[0])
    if origin is Union or origin is UnionType:
        return any(_date_keys(a) for a in args)
    return origin in (dict, list) and bool(args) and args[0] is date


def _not_a_number(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int | float)


def _rule(annotation: Any) -> tuple[bool, bool, bool]:
    """What a field of type ``annotation`` refuses: a yes/no (it takes a number and not a
    yes/no), a number (it takes a date), numbers among its items (it takes dates)."""
    kinds = _kinds(annotation)
    return (bool not in kinds and bool(kinds & {int, float}), date in kinds,
            _date_keys(annotation))


def _refuse(rule: tuple[bool, bool, bool], value: Any) -> Any:
    """``value``, or ValueError saying what was expected, by the field's :func:`_rule`."""
    no_yes_no, no_number, no_number_items = rule
    if no_yes_no and isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()} (a yes/no)")
    if no_number and not _not_a_number(value):
        raise ValueError(f"expected a date (YYYY-MM-DD), got the number {value}")
    if no_number_items and isinstance(value, dict | list):
        items = value if isinstance(value, list) else list(value)
        bad = next((v for v in items if not _not_a_number(v) or isinstance(v, bool)), None)
        if bad is not None:
            raise ValueError(f"expected dates (YYYY-MM-DD), got {bad!r}")
    return value


_RULES: dict[tuple[type, str], tuple[bool, bool, bool] | None] = {}
"""Each section's fields' rules (:func:`_rule`), worked out on a field's first value: from
the annotation each time, the checks made validating a Hebei scenario 13 times slower (0.25
against 0.019 ms), a sweep's every run parsing its scenario."""


class StrictModel(BaseModel):
    """The base of the scenario's sections: every field refuses a quiet conversion."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_quiet_conversion(cls, value: Any, info: ValidationInfo) -> Any:
        key = (cls, info.field_name or "")
        if key not in _RULES:
            field = cls.model_fields.get(key[1])
            _RULES[key] = None if field is None else _rule(field.annotation)
        rule = _RULES[key]
        return value if rule is None else _refuse(rule, value)
