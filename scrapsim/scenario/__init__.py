"""The scenario: a frozen, typed description of one enforcement episode.

YAML is loaded safely (:mod:`scrapsim.scenario.files`: ``extends:``, merge keys, ``--set``) and
validated by pydantic into :class:`Scenario`. Every error becomes a :class:`ScenarioError`
naming the file, the line, the dotted path, the value and what was expected; a file with
several problems reports all of them. Each field's docstring is its description in the JSON
Schema (``scrapsim schema``) and in docs/SCENARIOS.md, written once here.
Units: days, tonnes (t), CNY per tonne; flows in t/day.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from scrapsim.errors import ScenarioError, error_from_pydantic, several, show
from scrapsim.scenario import bounds
from scrapsim.scenario import files as raw
from scrapsim.scenario.fields import (
    NAME_PATTERN,
    SMELTER_CLASSES,
    Behaviour,
    Campaign,
    Enforcement,
    Market,
    Region,
    Sanctions,
    Seasonality,
    Series,
    SmelterClass,
    Smelters,
    Targets,
    TraderPopulation,
    _Base,
)

__all__ = [
    "Behaviour", "Campaign", "Enforcement", "Market", "Region", "Sanctions", "Scenario",
    "ScenarioError", "Seasonality", "Series", "SmelterClass", "Smelters", "TraderPopulation",
    "SMELTER_CLASSES", "Targets", "load_scenario", "parse_override", "round_to_se",
    "safe_name",
    "scenario_schema",
]


class Scenario(_Base):
    """One enforcement episode: a period, regions with their actors, a market and campaigns."""

    name: Annotated[str, Field(pattern=NAME_PATTERN, max_length=80)]
    """Scenario name; also the results sub-folder (letters, digits, '_', '-', '.')."""
    description: str = ""
    """What the scenario describes, in a sentence or two."""
    sources: list[str] = []
    """Where the scenario's facts come from."""
    assumptions: list[str] = []
    """What the scenario assumes where no source gives a number."""
    start: date
    """First simulated day (YYYY-MM-DD)."""
    end: date
    """Last simulated day (YYYY-MM-DD), inclusive."""
    seed: int = Field(0, ge=0)
    """Root seed of every random stream (same seed, same results)."""
    enforcement: Enforcement = Enforcement()
    """How hard the campaigns are run."""
    market: Market = Market()
    """Prices and market clearing."""
    seasonality: Seasonality = Seasonality()
    """Calendar profile (Chinese New Year, summer trough, autumn peak)."""
    behaviour: Behaviour = Behaviour()
    """Relapse of closed sites and traders' risk memory."""
    regions: list[Region] = Field(min_length=1)
    """The regions simulated, each with its traders and smelters."""
    campaigns: list[Campaign] = []
    """Dated inspection campaigns (none: a market without enforcement)."""

    _source: tuple[str, str, dict] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start}")
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"regions: region names must be unique, got {names}")
        for i, c in enumerate(self.campaigns):
            for r in c.regions:
                if r not in names:
                    hint = difflib.get_close_matches(r, names, n=1)
                    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                    raise ValueError(f"campaigns.{i}.regions: unknown region {r!r}{extra}; "
                                     f"expected one of {names}")
        found = bounds.problem(self.model_dump(mode="python"))
        if found is not None:
            path, what, value, expected = found
            raise ValueError(f"{path}: {what} (got {show(value)}; expected {expected})")
        return self

    @property
    def source_file(self) -> str | None:
        """The file this scenario was read from (kept through :meth:`with_overrides`), or None
        for one built in code."""
        return None if self._source is None else self._source[1]

    @property
    def days(self) -> int:
        """Number of simulated days, start and end inclusive."""
        return (self.end - self.start).days + 1

    def campaigns_in_run(self) -> list[Campaign]:
        """The campaigns whose window (or announcement) overlaps the simulated period."""
        return [c for c in self.campaigns if c.start <= self.end and c.end >= self.start]

    @property
    def enforced(self) -> bool:
        """True when some inspection can happen: intensity above 0 and a campaign with teams
        inside the run."""
        return self.enforcement.intensity > 0 and any(
            c.teams > 0 for c in self.campaigns_in_run())

    def enforcement_note(self) -> str | None:
        """Why this scenario enforces nothing (None when it does): intensity 0, no campaigns,
        or campaigns that all fall outside the run or have no teams."""
        if self.enforcement.intensity <= 0:
            return "enforcement.intensity is 0"
        if not self.campaigns:
            return "the scenario has no campaigns"
        inside = self.campaigns_in_run()
        if not inside:
            spans = ", ".join(f"{c.name} {c.start}..{c.end}" for c in self.campaigns)
            return f"no campaign falls inside the run {self.start}..{self.end} ({spans})"
        if all(c.teams == 0 for c in inside):
            return "every campaign inside the run has 0 teams"
        return None

    def run_warnings(self) -> list[str]:
        """What a run should warn of: campaigns meant to enforce that cannot (all outside the
        run, or without teams), or, when some enforce, each campaign outside the run (a
        mistyped year drops it without a word otherwise). Intensity 0 is meant: no warning."""
        note = self.enforcement_note()
        if note is not None:
            return [f"{note}: this run has no enforcement"] \
                if self.campaigns and self.enforcement.intensity > 0 else []
        inside = self.campaigns_in_run()
        return [f"campaign {c.name} ({c.start}..{c.end}) falls outside the run "
                f"{self.start}..{self.end}: it schedules nothing"
                for c in self.campaigns if c not in inside]

    def with_overrides(self, overrides: dict[str, Any], file: str | None = None) -> Scenario:
        """A copy with fields replaced by dotted path (``regions.hebei.traders.count``); a last
        part ``+`` (or the list's length) appends to a list (``campaigns.+``)."""
        data = self.model_dump(mode="python")
        paths = {}
        for key, value in overrides.items():
            try:            # a path into nothing (an unknown key, no such item) names it too
                paths[key] = raw.set_dotted(data, key, value, file)
            except ScenarioError as exc:
                raise _blame_overrides(exc, {key: value}) from None
        try:
            out = _validate(data, file)
        except ScenarioError as exc:
            raise _blame_overrides(exc, overrides, paths) from None
        out._source = self._source
        return out

    def get(self, dotted: str) -> Any:
        """The value at a dotted path (lists by index or by ``name``)."""
        node: Any = self.model_dump(mode="python")
        for part in dotted.split("."):
            node = raw.child(node, part, dotted, None)
        return node

    def to_yaml(self, path: str | Path | None = None) -> str:
        """This scenario as YAML, loadable by :func:`load_scenario`. A scenario loaded from a
        file keeps that file's text, comments and layout, with the changed values edited in;
        otherwise (or when a change cannot be made in place) the fields that differ from the
        defaults. Written to ``path`` too when given."""
        text = self._edited_source()
        if text is None:
            data = self.model_dump(mode="json", exclude_defaults=True)
            data = {"name": self.name, **{k: v for k, v in data.items() if k != "name"}}
            head = "# scrapsim scenario (the fields that differ from the defaults)\n"
            text = head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def _edited_source(self) -> str | None:
        if self._source is None:
            return None
        text, _, before = self._source
        now = self.model_dump(mode="json")
        try:
            return raw.edit_text(text, raw.changes(before, now), before)
        except (yaml.YAMLError, KeyError, IndexError, TypeError, AttributeError):
            return None

    def __eq__(self, other: object) -> bool:
        """Equal fields (where a scenario was read from does not count)."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = _Base.__hash__

    def __repr__(self) -> str:
        n_reg, n_camp = len(self.regions), len(self.campaigns)
        return (f"Scenario({self.name!r}, {self.start}..{self.end}, {self.days} days, "
                f"{n_reg} region{'s' * (n_reg != 1)}, {n_camp} campaign{'s' * (n_camp != 1)}, "
                f"intensity {self.enforcement.intensity:g}, seed {self.seed})")

    def _repr_html_(self) -> str:
        from scrapsim.plots.display import scenario_html

        return scenario_html(self)


def _blame_overrides(exc: ScenarioError, overrides: dict[str, Any],
                     paths: dict[str, str] | None = None) -> ScenarioError:
    """``exc`` with each problem caused by an override saying which one (``paths``: each
    override's path with list items by index, as validation names them)."""
    def hits(key: str, path: str) -> bool:
        return path == key or path.startswith(key + ".") or key.startswith(path + ".")

    def note(e: ScenarioError) -> str:
        keys = [k for k in overrides
                if hits(k, e.path) or hits((paths or {}).get(k, k), e.path)]
        return f"{e} [from the override {keys[0]}={show(overrides[keys[0]])}]" if keys \
            else str(e)

    lines = [note(e) for e in exc.problems]
    exc.args = ("\n  ".join(([str(exc).split("\n")[0]] if len(lines) > 1 else []) + lines),)
    return exc


def round_to_se(value: float, se: float, like: Any = None) -> float | int:
    """``value`` rounded to two significant digits of its standard error ``se`` (19.41 ± 8.73
    -> 19.4; 0.4103 ± 0.15 -> 0.41); four significant digits when ``se`` is not a positive
    number; a whole number when ``like`` (the field's current value) is an int."""
    if isinstance(like, int) and not isinstance(like, bool):
        return int(round(value))
    if math.isfinite(se) and se > 0:
        digits = 1 - math.floor(math.log10(se))
    else:
        digits = 3 - math.floor(math.log10(abs(value))) if value else 0
    return round(value, max(digits, 0)) if digits >= 0 else float(round(value, digits))


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` → (key, value), the value read as YAML (numbers such as ``1e3``, lists,
    dates, strings)."""
    return raw.parse_override(text)


def _validate(data: Any, file: str | None, root: yaml.Node | None = None) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise error_from_pydantic(exc, data, file, root, Scenario) from None


def _added_by_mistake(exc: ScenarioError, added: list[tuple[str, str, str]]) -> ScenarioError:
    """``exc`` with a "did you mean" on the first problem of each item that ``extends:`` added
    under a name close to one of the parent's (``campaigns: {hebei-inspecton-2017: ...}``
    adds a campaign that lacks its dates, where the parent's was meant)."""
    problems, hinted = [], set()
    for problem in exc.problems:
        for where, name, parent in added:
            if where not in hinted and (problem.path + ".").startswith(where + "."):
                hinted.add(where)
                text, problem = problem.args[0], copy.copy(problem)
                problem.args = (f"{text} ({name!r} adds an item, since the parent has none of "
                                f"that name: did you mean {parent!r}?)",)
        problems.append(problem)
    return several(problems) if hinted else exc


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, safely parse and validate a scenario YAML file (then apply dotted overrides).

    ``path`` may be a library name (``"hebei"``) when no such file exists here. Every
    problem of the file is reported at once, as one :class:`ScenarioError`.
    """
    from scrapsim.scenario.library import close_name, resolve, scenario_names

    if not str(path).strip():       # Path("") is the current folder: say what was given
        raise ScenarioError("empty: no scenario named", file="scenario", value=str(path),
                            expected="a scenario YAML file or a library name: "
                            f"{', '.join(scenario_names())}")
    path = resolve(path)
    file = str(path)
    if not path.exists():
        raise ScenarioError(f"no such file{close_name(path)}", file=file, expected="a scenario "
                            f"YAML file or a library name: {', '.join(scenario_names())}")
    added: list[tuple[str, str, str]] = []
    data, root, text = raw.load_data(path, added=added)
    try:
        scenario = _validate(data, file, root)
    except ScenarioError as exc:
        raise _added_by_mistake(exc, added) from None
    scenario._source = (text, file, scenario.model_dump(mode="json"))
    if overrides:
        scenario = scenario.with_overrides(overrides, file)
    return scenario


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors (every property has a description)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "scrapsim scenario"
    schema["properties"] = {"extends": {
        "type": "string", "description": "Start from another scenario: a file relative to "
        "this one, or a library scenario by name (hebei). Mappings merge field by field "
        "(sanction shares are replaced whole); a list replaces the other's; a mapping in "
        "place of a list addresses items by name."},
        **schema["properties"]}
    return schema


def safe_name(name: str) -> bool:
    """True when ``name`` can be a results sub-folder (no separators, no '..')."""
    return bool(re.fullmatch(NAME_PATTERN, name)) and ".." not in name
