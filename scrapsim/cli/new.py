"""``scrapsim new NAME``: write NAME.yaml, a commented scenario template that runs as it is
(:func:`scrapsim.scenario.authoring.template`). An existing file is never overwritten.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "main"]


def add_parser(subparsers: Any) -> None:
    """Register ``new`` on an argparse subparsers object."""
    p = subparsers.add_parser(
        "new", help="write a commented scenario template NAME.yaml",
        description="Write NAME.yaml (or --out FILE): a scenario of one region and one "
        "campaign, every field commented, that runs as it is. Fields: docs/SCENARIOS.md.")
    p.add_argument("name", help="scenario name (letters, digits, '_', '-', '.')")
    p.add_argument("--out", type=Path, metavar="FILE", help="file to write (default NAME.yaml)")


def main(args: argparse.Namespace) -> int:
    """Write the template; 0, or a ScenarioError (exit 2) for a bad name or a taken file."""
    from scrapsim.errors import ScenarioError
    from scrapsim.scenario import safe_name
    from scrapsim.scenario.authoring import template

    if args.out is None and args.name.lower().endswith((".yaml", ".yml")):
        args.out = Path(args.name)            # 'scrapsim new mine.yaml': the file, named mine
        args.name = args.name.rsplit(".", 1)[0]
    if not safe_name(args.name):
        raise ScenarioError("not a scenario name", file="scrapsim new", path="name",
                            value=args.name,
                            expected="letters, digits, '_', '-', '.' (no '..')")
    out = args.out or Path(f"{args.name}.yaml")
    if out.exists():
        raise ScenarioError("exists; not overwriting", file=str(out),
                            expected="a new file name (or --out FILE)")
    try:
        with out.open("x", encoding="utf-8") as f:
            f.write(template(args.name))
    except FileNotFoundError:
        raise ScenarioError("its folder does not exist", file=str(out),
                            expected="a file in an existing folder") from None
    print(f"wrote {out}: run it with 'scrapsim {out}'")
    return 0
