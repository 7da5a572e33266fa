"""What pydantic's lax mode would convert without a word, refused for scenario fields: a
yes/no (``true``) where a number is expected (it counts as 1 or 0: ``count: yes`` ran one
trader) and a number where a date is (read as seconds since 1970: ``start: 0`` began the run in
1970). Strings stay accepted where pydantic parses them (``"2017-01-01"``, ``"2000"``)."""

from __future__ import annotations

from datetime import date
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationInfo, field_validator

__all__ = ["StrictModel", "refuse_quiet_conversion"]


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


def refuse_quiet_conversion(annotation: Any, value: Any) -> Any:
    """``value`` for a field of type ``annotation``, or ValueError saying what was expected."""
    kinds = _kinds(annotation)
    if isinstance(value, bool) and bool not in kinds and kinds & {int, float}:
        raise ValueError(f"expected a number, got {str(value).lower()} (a yes/no)")
    if date in kinds and not _not_a_number(value):
        raise ValueError(f"expected a date (YYYY-MM-DD), got the number {value}")
    if _date_keys(annotation) and isinstance(value, dict | list):
        items = value if isinstance(value, list) else list(value)
        bad = next((v for v in items if not _not_a_number(v) or isinstance(v, bool)), None)
        if bad is not None:
            raise ValueError(f"expected dates (YYYY-MM-DD), got {bad!r}")
    return value


class StrictModel(BaseModel):
    """The base of the scenario's sections: every field refuses a quiet conversion."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_quiet_conversion(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        return value if field is None else refuse_quiet_conversion(field.annotation, value)
