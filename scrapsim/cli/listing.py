"""``scrapsim list``: the scenario library shipped in the package (and its targets and
parameters files), with where it lives, so a user can run ``scrapsim NAME`` or copy a file.

``add_parser`` only declares options; ``main`` reads the library's YAML files.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "main"]


def add_parser(subparsers: Any) -> None:
    """Register ``list`` on an argparse subparsers object."""
    subparsers.add_parser(
        "list", help="list the scenario library shipped with scrapsim",
        description="List the scenarios shipped inside the package (run one by name: "
        "'scrapsim hebei'), and the targets and parameters files of calibrate and "
        "sensitivity, with the folders they live in.")


def _describe(path: Any) -> str:
    from scrapsim.errors import ScenarioError
    from scrapsim.scenario import load_scenario

    try:
        sc = load_scenario(path)
    except ScenarioError as exc:
        return f"(does not load: {str(exc).splitlines()[0]})"
    regions = ", ".join(r.name for r in sc.regions)
    n = len(sc.campaigns)
    return (f"{sc.start}..{sc.end}  {regions}; {n} campaign{'s' * (n != 1)}"
            f"{'' if sc.enforced else ' (no enforcement)'}")


def main(args: argparse.Namespace) -> int:
    """Print the library; 0."""
    from scrapsim.scenario import library

    folder = library.folder("scenarios")
    print(f"scenarios in {folder} (run one with 'scrapsim NAME'):")
    names = library.scenario_names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"  {name:<{width}}  {_describe(folder / f'{name}.yaml')}")
    for kind, use in (("targets", "calibrate SCENARIO --targets NAME"),
                      ("params", "sensitivity SCENARIO --params NAME")):
        print(f"{kind} in {library.folder(kind)} ('scrapsim {use}'):")
        for name in library.scenario_names(kind):
            print(f"  {name}")
    return 0
