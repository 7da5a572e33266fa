"""Field descriptions from attribute docstrings, given on first need rather than at import.

Each scenario field is documented by the docstring under it (:mod:`scrapsim.scenario.fields`).
pydantic's ``use_attribute_docstrings`` reads them when each model class is created, re-reading
its module's source per class: about 70 ms of every start-up, for descriptions only the JSON
Schema, docs/SCENARIOS.md and ``scrapsim new`` show. :func:`describe` sets the same
descriptions (the same cleaned text, only on fields without one) and rebuilds the models, once
per process; ``model_json_schema`` of every scenario model calls it first.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from pathlib import Path

from pydantic import BaseModel

__all__ = ["describe"]

MODULES = ("scrapsim.scenario.fields", "scrapsim.scenario")
"""Where the scenario models are defined, leaves first (the order they are rebuilt in)."""


def _docstrings(node: ast.ClassDef) -> dict[str, str]:
    """``{field: docstring}`` of the annotated assignments followed by a string in a class."""
    out = {}
    for field, doc in zip(node.body, node.body[1:], strict=False):
        if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                and isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
                and isinstance(doc.value.value, str)):
            out[field.target.id] = inspect.cleandoc(doc.value.value)
    return out


@functools.cache
def describe() -> None:
    """Give every scenario model field the description its docstring holds; rebuild them."""
    import scrapsim.scenario  # noqa: F401  (both modules of MODULES loaded)

    for name in MODULES:
        module = sys.modules[name]
        path = Path(module.__file__ or "")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            cls = getattr(module, node.name, None)
            if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
                continue
            for field, doc in _docstrings(node).items():
                info = cls.model_fields.get(field)
                if info is not None and info.description is None:
                    info.description = doc
            cls.model_rebuild(force=True)
