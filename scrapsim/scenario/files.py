"""Scenario data before validation: reading a file (with ``extends:``), dotted paths into it,
``--set`` values, and edits of a YAML text that keep its comments.

Everything here works on plain mappings and lists (what safe YAML loading gives), so that
:mod:`scrapsim.scenario` validates the result once. Errors are :class:`ScenarioError` naming
the file, the line, the dotted path, the value and what was expected.

``extends: other.yaml`` (relative to the extending file; a bare name such as ``hebei`` is the
scenario library's) starts from another scenario: mappings are merged field by field, a list
written as a list replaces the parent's, and a list written as a mapping addresses the
parent's items by ``name`` (``regions: {hebei: {traders: {count: 1500}}}``); a name the
parent does not have adds an item. Sanction shares (``sanctions``, ``trader_sanctions``) are
replaced whole, not merged: shares left out are 0, as in any scenario, so ``sanctions:
{suspend: 1}`` means all suspended whatever the parent's shares were.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml

from scrapsim.errors import ScenarioError
from scrapsim.scenario.yaml_input import UniqueKeyLoader, read_text, yaml_line, yaml_problem

__all__ = ["APPEND", "changes", "child", "compose", "edit_text", "load_data", "parse_override",
           "set_dotted"]

APPEND = "+"
"""The last part of a dotted key that appends to a list: ``--set campaigns.+={...}``."""
WHOLE = frozenset({"sanctions", "trader_sanctions"})
"""Fields an ``extends:`` file replaces whole (shares that must sum to 1 by themselves)."""
MAX_DEPTH = 8
"""Longest chain of ``extends:`` followed (a loop is refused before that)."""


def compose(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    """The data and the composed node tree of a YAML text (safe; errors with their line)."""
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(f"YAML error: {yaml_problem(exc)}", file=file,
                            line=yaml_line(exc, text),
                            expected="valid YAML (tags that construct objects are refused)"
                            ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {yaml_problem(exc)}", file=file,
                            line=yaml_line(exc, text), expected="valid YAML") from None
    return data, root


def load_data(path: Path, chain: tuple[Path, ...] = (),
              added: list[tuple[str, str, str]] | None = None,
              ) -> tuple[dict, yaml.Node | None, str]:
    """The mapping of a scenario file with its ``extends:`` resolved, its node tree and text;
    ``added`` collects the items the merge added under a name close to a parent's
    (:func:`merge`)."""
    file = str(path)
    text = read_text(path)
    data, root = compose(text, file)
    if data is None:
        raise ScenarioError("the file is empty", file=file, expected="a scenario mapping")
    if not isinstance(data, dict):
        raise ScenarioError(f"the document is a {type(data).__name__}, not a mapping", file=file,
                            value=data, expected="a mapping with name, start, end, regions ...")
    if "extends" not in data:
        return data, root, text
    parent_path = _parent_path(data.pop("extends"), path, root)
    if parent_path.resolve() in chain or len(chain) >= MAX_DEPTH:
        raise ScenarioError("files extend each other in a loop", file=file,
                            path="extends", value=str(parent_path),
                            expected="a chain of extends that ends")
    parent, _, _ = load_data(parent_path, (*chain, path.resolve()), added)
    return merge(parent, data, file, "", added), root, text


def _parent_path(ref: Any, path: Path, root: yaml.Node | None) -> Path:
    from scrapsim.errors import line_of
    from scrapsim.scenario.library import find_scenario

    line = line_of(root, ("extends",))
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError("extends names the scenario to start from", file=str(path),
                            line=line, path="extends", value=ref,
                            expected="a file relative to this one or a library name")
    candidate = path.parent / ref
    if candidate.is_file():
        return candidate
    found = find_scenario(ref)
    if found is None:
        from scrapsim.scenario.library import scenario_names

        hint = difflib.get_close_matches(ref, scenario_names(), n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ScenarioError(f"no such scenario{extra}", file=str(path), line=line,
                            path="extends", value=ref, expected=f"a file next to {path.name} "
                            f"or one of the library's {scenario_names()}")
    return found


def merge(base: Any, over: Any, file: str, where: str,
          added: list[tuple[str, str, str]] | None = None) -> Any:
    """``over`` laid on ``base``: mappings field by field, lists replaced, a mapping laid on a
    list addressing its items by ``name`` (or index). An item added under a name close to one
    of the parent's (a misspelling, or a new item on purpose) goes into ``added`` as (its
    dotted path, its name, the parent's), for the message if it then fails to validate."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merge(base[key], value, file, f"{where}{key}.", added) \
                if key in base and key not in WHOLE else value
        return out
    if isinstance(base, list) and isinstance(over, dict):
        items = copy.deepcopy(base)
        for key, value in over.items():
            i = _item_index(items, str(key))
            if i is None:
                names = [str(item.get("name")) for item in items if isinstance(item, dict)]
                close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.8)
                if close and added is not None:
                    added.append((f"{where}{len(items)}", str(key), close[0]))
                items.append({"name": str(key), **(value if isinstance(value, dict) else {})})
            else:
                items[i] = merge(items[i], value, file, f"{where}{key}.", added)
        return items
    return over


def _item_index(items: list, part: str) -> int | None:
    names = [item.get("name") for item in items if isinstance(item, dict)]
    if part in names:
        return names.index(part)
    if part.isdigit() and int(part) < len(items):
        return int(part)
    return None


def child(node: Any, part: str, dotted: str, file: str | None) -> Any:
    """The item ``part`` of a mapping or a list (lists by index or by ``name``)."""
    if isinstance(node, dict):
        if part not in node:
            raise unknown_key(part, list(node), dotted, file)
        return node[part]
    if isinstance(node, list):
        return node[list_index(node, part, dotted, file)]
    raise ScenarioError("is not a mapping or list", file=file, path=dotted, value=node,
                        expected="a path into the scenario")


def list_index(node: list, part: str, dotted: str, file: str | None) -> int:
    """The index of item ``part`` (an index or an item's ``name``) in ``node``."""
    i = _item_index(node, part)
    if i is not None:
        return i
    names = [item.get("name") for item in node if isinstance(item, dict)]
    close = difflib.get_close_matches(part, [str(n) for n in names], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScenarioError(f"no item {part!r}{hint}", file=file, path=dotted, value=part,
                        expected=f"an index below {len(node)}, {len(node)} or '{APPEND}' to "
                        f"append, or one of {names}")


def unknown_key(part: str, known: list[str], dotted: str, file: str | None) -> ScenarioError:
    hint = difflib.get_close_matches(part, known, n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return ScenarioError(f"unknown key {part!r}{extra}", file=file, path=dotted, value=part,
                         expected=f"one of {sorted(known)}")


def set_dotted(data: dict, dotted: str, value: Any, file: str | None) -> str:
    """Set ``dotted`` in ``data``; a last part equal to a list's length, or ``+``, appends.
    Returns the path with list items by index (``regions.hebei.x`` -> ``regions.0.x``), the
    path validation errors name."""
    parts = dotted.split(".")
    if not all(parts):
        raise ScenarioError("empty part in dotted key", file=file, path=dotted, value=dotted,
                            expected="a path like enforcement.intensity")
    node: Any = data
    indexed = []
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[: i + 1])
        indexed.append(str(list_index(node, part, here, file)) if isinstance(node, list)
                       else part)
        node = child(node, part, here, file)
    last = parts[-1]
    if isinstance(node, dict):
        if last not in node:
            raise unknown_key(last, list(node), dotted, file)
        node[last] = value
    elif isinstance(node, list):
        if last in (APPEND, str(len(node))):
            last = str(len(node))
            node.append(value)
        else:
            last = str(list_index(node, last, dotted, file))
            node[int(last)] = value
    else:
        raise ScenarioError("cannot set a field inside a value", file=file, path=dotted,
                            value=node, expected="a path into the scenario")
    return ".".join([*indexed, last])


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` → (key, value), the value read as YAML (numbers such as ``1e3``, lists,
    mappings, dates, strings); an impossible date stays text for validation to report."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError("expected KEY=VALUE", path=key or text, value=text,
                            expected="dotted.key=value")
    try:
        value = yaml.load(raw, Loader=UniqueKeyLoader) if raw.strip() else ""  # noqa: S506
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"cannot read the value as YAML: {problem}", path=key, value=raw,
                            expected="a YAML scalar, list or mapping") from None
    return key, value


def edit_text(text: str, changes: dict[tuple, Any], data: dict) -> str | None:
    """``text`` with the scalar at each path of ``changes`` replaced (comments and layout
    kept), or a missing key added to the mapping that should hold it; None when a change
    cannot be made in place. ``data``: the text's data, to turn list indexes into names."""
    root = yaml.compose(text, Loader=UniqueKeyLoader)
    edits: list[tuple[int, int, str]] = []
    for loc, value in changes.items():
        edit = _edit_at(root, loc, value, data, text)
        if edit is None:
            return None
        edits.append(edit)
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _edit_at(root: Any, loc: tuple, value: Any, data: Any,
             text: str) -> tuple[int, int, str] | None:
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node, data = node.value[part], data[part] if isinstance(data, list) else None
            continue
        if not isinstance(node, yaml.MappingNode):
            return None
        key = part
        if isinstance(part, int) and isinstance(data, list) and part < len(data):
            key = data[part].get("name") if isinstance(data[part], dict) else None
        match = [v for k, v in node.value if k.value == str(key)]
        if not match:
            return _insert(node, loc[i:], value, text)
        node = match[0]
        data = data.get(key) if isinstance(data, dict) else None
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False) and not (
            isinstance(node, yaml.SequenceNode) and _extends(data, value)):
        return _aligned(text, node.start_mark.index, node.end_mark.index, _scalar(value))
    if isinstance(node, yaml.SequenceNode) and node.value and _extends(data, value):
        return _append(node, value[len(data):], text)
    return None


def _extends(old: Any, new: Any) -> bool:
    """True when list ``new`` is list ``old`` with items added at its end."""
    return isinstance(old, list) and isinstance(new, list) and len(new) > len(old) \
        and new[:len(old)] == old


def _append(node: yaml.SequenceNode, items: list, text: str) -> tuple[int, int, str]:
    """Items added at the end of a flow or block sequence."""
    if node.flow_style:
        end = node.end_mark.index - 1
        return end, end, "".join(f", {_scalar(v)}" for v in items)
    last = node.value[-1]
    eol = text.find("\n", last.end_mark.index)
    eol = len(text) if eol < 0 else eol
    indent = " " * (last.start_mark.column - 2)
    return eol, eol, "".join(f"\n{indent}- {_scalar(v)}" for v in items)


def changes(old: Any, new: Any, loc: tuple = ()) -> dict[tuple, Any]:
    """The paths at which ``new`` differs from ``old`` (plain data), with the new values;
    lists of another length, or of scalars, change as a whole."""
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        out: dict[tuple, Any] = {}
        for key in new:
            out.update(changes(old[key], new[key], (*loc, key)))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) \
            and any(isinstance(v, (dict, list)) for v in new):
        out = {}
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out.update(changes(a, b, (*loc, i)))
        return out
    return {} if old == new else {loc: new}


def _insert(node: yaml.MappingNode, rest: tuple, value: Any,
            text: str) -> tuple[int, int, str] | None:
    """Add ``rest: value`` to a block or flow mapping (nested keys as a flow mapping)."""
    if any(isinstance(p, int) for p in rest) or not node.value:
        return None
    inner: Any = value
    for part in reversed(rest[1:]):
        inner = {part: inner}
    new = f"{rest[0]}: {_scalar(inner)}"
    if node.flow_style:
        end = node.end_mark.index - 1           # before the closing brace
        return end, end, f", {new}"
    first, last = node.value[0][0], node.value[-1][1]
    while isinstance(last, (yaml.MappingNode, yaml.SequenceNode)) and last.value \
            and not last.flow_style:
        last = last.value[-1][1] if isinstance(last, yaml.MappingNode) else last.value[-1]
    last_end = last.end_mark.index
    eol = text.find("\n", last_end)
    eol = len(text) if eol < 0 else eol
    return eol, eol, "\n" + " " * first.start_mark.column + new


def _aligned(text: str, start: int, end: int, new: str) -> tuple[int, int, str]:
    """Replace ``text[start:end]`` by ``new`` keeping a trailing comment in its column, the
    comment starting ``[was OLD]`` when the value changed: it was written about the old one
    (``suspend_days: 12.1  # [was 15] calibrated: ..., 15 kept inside it``)."""
    gap = len(text[end:]) - len(text[end:].lstrip(" "))
    if text[end + gap:end + gap + 1] != "#" or gap == 0:
        return start, end, new
    width, old, mark = (end - start) + gap, text[start:end], end + gap + 1
    if old == new:
        return start, end + gap, new + " " * max(1, width - len(new))
    mark += text[mark:mark + 1] == " "             # "# note" becomes "# [was OLD] note"
    rest = "" if text[mark:mark + 1] in ("", "\n") else " "
    return start, mark, new + " " * max(1, width - len(new)) + f"# [was {old}]{rest}"


def _scalar(value: Any) -> str:
    """A value as one line of YAML (flow style for mappings and lists; whole floats as
    integers, which validation reads back as the same number)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return yaml.safe_dump(value, default_flow_style=True, width=10_000,
                          sort_keys=False).strip().removesuffix("...").strip()
