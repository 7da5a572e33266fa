"""Writing scenarios: the field reference (docs/SCENARIOS.md) and the commented template of
``scrapsim new NAME``, both generated from the scenario schema, whose descriptions are the
field docstrings of :mod:`scrapsim.scenario` and :mod:`scrapsim.scenario.fields` (written once
there).
"""

from __future__ import annotations

import re
from typing import Any

from scrapsim.scenario import Scenario, scenario_schema

__all__ = ["field_reference", "template"]

SECTIONS = ("Scenario", "Enforcement", "Market", "Seasonality", "Behaviour", "Region",
            "TraderPopulation", "Smelters", "SmelterClass", "Campaign", "Targets", "Sanctions")
"""The schema's definitions in reading order (the top level first)."""


def _type(prop: dict[str, Any]) -> str:
    """A property's type in words."""
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "anyOf" in prop:
        kinds = [_type(p) for p in prop["anyOf"] if p.get("type") != "null"]
        if any(p.get("type") == "object" for p in prop["anyOf"]):
            return "number or dated series"
        return " or ".join(kinds) + (" or null" if len(kinds) < len(prop["anyOf"]) else "")
    kind = prop.get("type", "")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if "enum" in prop:
        return " / ".join(str(v) for v in prop["enum"])
    if prop.get("format") == "date":
        return "date"
    return {"number": "number", "integer": "whole number", "string": "text"}.get(kind, kind)


def _range(prop: dict[str, Any]) -> str:
    """A property's range from its schema bounds (``0 ≤ x ≤ 1``)."""
    lo = [f"{prop[k]:g} {w}" for k, w in (("minimum", "≤"), ("exclusiveMinimum", "<"))
          if k in prop]
    hi = [f"{w} {prop[k]:g}" for k, w in (("maximum", "≤"), ("exclusiveMaximum", "<"))
          if k in prop]
    if "minItems" in prop:
        return f"at least {prop['minItems']} item{'s' * (prop['minItems'] != 1)}"
    if "pattern" in prop:
        return f"matches `{prop['pattern']}`"
    return " ".join([*lo, "x", *hi]) if lo or hi else ""


def _default(name: str, prop: dict[str, Any], required: list[str]) -> str:
    if name in required:
        return "**required**"
    if "default" not in prop:
        return ""
    value = prop["default"]
    if "$ref" in prop and not prop["$ref"].endswith("/Sanctions"):
        return "its fields' defaults"
    if value == "":
        return '`""`'
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in value.items()) or "(defaults)"
    return "none" if value is None else f"`{value}`"


def field_reference() -> str:
    """docs/SCENARIOS.md: every field of a scenario file, its type, default, range and
    description, section by section (generated; ``tests/test_authoring.py`` checks it)."""
    schema = scenario_schema()
    defs = schema["$defs"]
    lines = ["# Scenario files: field reference", "",
             "Generated from the scenario schema by `python -m scrapsim schema --markdown` "
             "(the descriptions are the field docstrings of `scrapsim/scenario/__init__.py` "
             "and `scrapsim/scenario/fields.py`); a test "
             "fails when this file is not current. Units: days, tonnes (t), CNY per tonne; "
             "flows in t/day. A *dated series* is `{YYYY-MM-DD: value, ...}`, interpolated "
             "linearly and held flat beyond its ends.", "",
             "Start a file with `python -m scrapsim new NAME`; start from another scenario "
             "with `extends:` (see the README's *Writing scenarios*).", ""]
    for section in SECTIONS:
        block = schema if section == "Scenario" else defs[section]
        required = list(block.get("required", []))
        lines += [f"## {section}", "", block.get("description", ""), "",
                  "| field | type | default | range | description |",
                  "|---|---|---|---|---|"]
        for name, prop in block["properties"].items():
            desc = " ".join(prop.get("description", "").split()).replace("|", "\\|")
            lines.append(f"| `{name}` | {_type(prop)} | {_default(name, prop, required)} | "
                         f"{_range(prop)} | {desc} |")
        lines.append("")
    return "\n".join(lines)


def _note(model: Any, field: str) -> str:
    """The first sentence of a field's description, as a YAML comment."""
    from scrapsim.scenario.described import describe

    describe()
    text = " ".join((model.model_fields[field].description or "").split())
    first = re.split(r"(?<!\bincl)(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)(?<!\bvs)\. ", text)[0].rstrip(".")
    return f"  # {first}" if first else ""


def template(name: str) -> str:
    """A commented scenario of one region and one campaign that loads and runs as it is:
    every number is a placeholder to replace, marked ASSUMPTION."""
    from scrapsim.scenario import Campaign, Region, TraderPopulation

    sc, rg, tr, cp = Scenario, Region, TraderPopulation, Campaign
    lines = [
        f"# {name}: a scrapsim scenario (written by 'scrapsim new'). Units: days, tonnes (t),",
        "# CNY per tonne; flows in t/day. 'python -m scrapsim schema --markdown' describes",
        "# every field, with its default ('python -m scrapsim schema': JSON Schema for",
        "# editors). Replace each number marked ASSUMPTION by a",
        "# sourced one, or list it under assumptions. Start from another scenario instead with",
        "# 'extends: hebei' (a library name) or 'extends: other.yaml' (next to this file).",
        f"name: {name}" + _note(sc, "name"),
        "description: >",
        "  What this scenario describes.",
        "sources: []" + _note(sc, "sources"),
        "assumptions:",
        "  - \"Every number marked ASSUMPTION below\"",
        "start: 2017-01-01" + _note(sc, "start"),
        "end: 2017-12-31" + _note(sc, "end"),
        "seed: 1" + _note(sc, "seed"),
        "market:",
        "  ingot_price: 14900       # CNY/t, ADC12 (ASSUMPTION; a dated series also works)",
        "  primary_price: 13500     # CNY/t, primary aluminium (ASSUMPTION)",
        "regions:",
        "  - name: region_a" + _note(rg, "name"),
        "    generation: 1000       # t/day before seasonality (ASSUMPTION)",
        "    imports: 100           # t/day to the large plants (ASSUMPTION)",
        "    traders:",
        "      count: 700" + _note(tr, "count") + " (ASSUMPTION)",
        "      capacity: 2.2" + _note(tr, "capacity") + " (ASSUMPTION)",
        "      cost: 9000" + _note(tr, "cost") + " (ASSUMPTION)",
        "      cost_sd: 1500" + _note(tr, "cost_sd"),
        "    smelters:              # large, small, workshop; a class left out has none",
        "      large: {count: 3, capacity: 200}      # t scrap/day each (ASSUMPTION)",
        "      small: {count: 15, capacity: 50}      # (ASSUMPTION)",
        "      workshop: {count: 40, capacity: 10, processing_cost: 450, violator_share: 1.0}",
        "campaigns:",
        "  - name: inspection" + _note(cp, "name"),
        "    regions: [region_a]" + _note(cp, "regions"),
        "    start: 2017-03-01" + _note(cp, "start"),
        "    end: 2017-03-31" + _note(cp, "end"),
        "    teams: 5" + _note(cp, "teams") + " (ASSUMPTION)",
        "    inspections_per_team_day: 2" + _note(cp, "inspections_per_team_day"),
        "    sanctions: {close: 0.1, suspend: 0.8, upgrade: 0.1}   # shares, summing to 1",
        "    suspend_days: 19" + _note(cp, "suspend_days"),
        "    halt_classes: [workshop]" + _note(cp, "halt_classes"),
        "    sources: []",
    ]
    return "\n".join(lines) + "\n"
