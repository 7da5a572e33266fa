"""Reading scrapsim's YAML inputs safely: scenario, targets (calibration) and parameters
(sensitivity) files are all read through :func:`read_text` (a regular UTF-8 file of at most
:data:`MAX_FILE_BYTES`) and :class:`UniqueKeyLoader` (a ``SafeLoader`` that refuses duplicate
keys and deep nesting); :func:`yaml_line` and :func:`yaml_problem` turn PyYAML's errors into
a line and a message. Bad input raises :class:`~scrapsim.errors.ScenarioError` (or the error
class given)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from scrapsim.errors import ScenarioError

__all__ = ["MAX_FILE_BYTES", "MAX_NESTING", "UniqueKeyLoader", "read_text", "yaml_line",
           "yaml_problem"]


MAX_NESTING = 64
"""Deepest nesting of lists and mappings a YAML input may have (scrapsim's files need 6)."""

MAX_FILE_BYTES = 16 * 2**20
"""Largest YAML input read (16 MiB; the shipped scenarios are 10-40 kB, and a file of 16 MiB
takes minutes to parse)."""


def yaml_line(exc: yaml.YAMLError, text: str) -> int | None:
    """The line a YAML error points at: its mark's, or for a character the reader refuses
    (a NUL byte, a control character) the line of its position."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What a YAML error says, without PyYAML's ``in "<unicode string>", position N``."""
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return f"unacceptable character #x{char:04x}: {exc.reason}"
    return str(getattr(exc, "problem", None) or exc)


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader for scrapsim's files.

    It refuses duplicate keys instead of keeping the last silently; accepts YAML merge keys
    (``<<: *defaults``, the explicit keys win); reads ``1e3`` and ``4.5e1`` as numbers (YAML
    1.1 wants ``1.0e+3``); and keeps an impossible date (``2017-02-30``) as its text, so that
    validation reports it with its file, line and path instead of a traceback.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Nodes nested deeper than :data:`MAX_NESTING` are refused with their line (the
        composer recurses: a few hundred levels would exhaust Python's stack)."""
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_NESTING} levels",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "a key must be a plain name, not a list or mapping", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key_node.value!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return str(node.value)


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                UniqueKeyLoader.construct_yaml_timestamp)
UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"))


def read_text(path: Path, error: type[ScenarioError] | None = None,
              expected: str = "a scenario YAML file") -> str:
    """The text of a YAML input file; ``error`` (default :class:`ScenarioError`) when it is
    missing, not a regular file (a folder, a device such as /dev/zero, a FIFO: they would be
    read forever or block), larger than :data:`MAX_FILE_BYTES`, or not UTF-8 text."""
    err = error or ScenarioError
    if not path.exists():
        raise err("no such file", file=str(path), expected=expected)
    if path.is_dir():
        raise err("is a directory", file=str(path), expected=expected)
    if not path.is_file():
        raise err("is not a regular file", file=str(path), expected=expected)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise err(f"is {size / 2**20:.1f} MiB, more than a YAML input may be "
                      f"({MAX_FILE_BYTES // 2**20} MiB)", file=str(path), expected=expected)
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_FILE_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise err(f"cannot read: {exc}", file=str(path), expected="a UTF-8 YAML file") from None
    if len(text) > MAX_FILE_BYTES:   # grew while read
        raise err(f"is more than a YAML input may be ({MAX_FILE_BYTES // 2**20} MiB)",
                  file=str(path), expected=expected)
    return text


