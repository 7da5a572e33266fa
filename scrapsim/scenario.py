"""The scenario: a frozen, typed description of one enforcement episode.

YAML is loaded safely and validated by pydantic into :class:`Scenario`. Every error becomes a
:class:`ScenarioError` naming the file, the dotted path, the value and what was expected.
Units: days, tonnes (t), CNY per tonne; flows in t/day.
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scrapsim.errors import ScenarioError, UniqueKeyLoader, error_from_pydantic, read_text

__all__ = [
    "Behaviour", "Campaign", "Enforcement", "Market", "Region", "Sanctions", "Scenario",
    "ScenarioError", "Seasonality", "Series", "SmelterClass", "Smelters", "TraderPopulation",
    "load_scenario", "parse_override", "scenario_schema",
]

SMELTER_CLASSES = ("large", "small", "workshop")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Series = float | dict[date, float]
"""A constant or a dated series ``{date: value}``, interpolated linearly and held flat beyond its ends."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_series(value: Series, lo: float = 0.0) -> Series:
    values = value.values() if isinstance(value, dict) else [value]
    for v in values:
        if not math.isfinite(v) or v < lo:
            raise ValueError(f"values must be finite and >= {lo}, got {v}")
    if isinstance(value, dict) and not value:
        raise ValueError("a dated series needs at least one date")
    return value


class Seasonality(_Base):
    """Calendar profile of scrap generation, collection and smelting (shares, 0 = no effect)."""

    cny_collection_dip: Share = 0.6
    """Share by which trader collection falls at Chinese New Year (traders stop first)."""
    cny_smelting_dip: Share = 0.35
    """Share by which smelting falls at Chinese New Year."""
    cny_before_days: NonNeg = 12
    cny_after_days: NonNeg = 20
    summer_trough: Share = 0.41
    """Depth of the July-August off-season dip in smelting demand. 0.41 is the calibrated value
    (targets/hebei.yaml: 95% interval 0.11 to the 0.5 bound) that gives July 2017's 56%
    operating rate against 65% normally; stocks absorb part of the dip, so it is deeper than
    the 14% fall in output it causes."""
    autumn_peak: Share = 0.08
    """Height of the September-November peak in generation and smelting."""


class TraderPopulation(_Base):
    """Collectors and dealers of one region (array population)."""

    count: int = Field(ge=0, description="number of traders")
    capacity: NonNeg = Field(description="mean collection capacity per trader, t/day")
    capacity_cv: NonNeg = 0.8
    cost: NonNeg = Field(10500.0, description="mean collection cost incl. purchase at source, CNY/t")
    cost_sd: NonNeg = 400.0
    elasticity: Annotated[float, Field(ge=0.0, le=2.0)] = 0.21
    """Price elasticity of collection (0.21: Blomberg & Soderholm 2009)."""
    offer_share: Share = 0.25
    """Share of yard stock offered per clearing in a calm market."""
    fast_out: NonNeg = 1.0
    """How much more is offered when prices are volatile ("fast in, fast out")."""
    withhold: NonNeg = 1.5
    """How much less is offered when prices rise fast (holders withhold in a rally)."""
    risk_tolerance: Annotated[float, Field(gt=0.0, le=2.0)] = 0.6
    """Mean perceived-risk level at which a trader stops collecting."""
    violator_share: Share = 0.5
    """Share of yards that an inspection would find in violation (unlicensed, open storage)."""


class SmelterClass(_Base):
    """One class of secondary-aluminium smelters (alloy-ingot makers) in a region."""

    count: int = Field(0, ge=0)
    capacity: NonNeg = Field(0.0, description="mean capacity per smelter, t scrap/day")
    capacity_cv: NonNeg = 0.4
    metal_yield: Annotated[float, Field(gt=0.0, le=1.0)] = 0.85
    processing_cost: NonNeg = 900.0
    """Non-scrap processing cost, CNY/t of scrap (900-1,000 for compliant plants)."""
    cover_days: Annotated[float, Field(ge=0.0, le=60.0)] = 10.0
    """Target scrap stock, days of smelting (7-20)."""
    operating_rate: Share = 0.65
    """Share of capacity used at the reference margin (about 65% nationally)."""
    margin_response: NonNeg = 4.0
    """Change in operating rate per unit margin/ingot price."""
    violator_share: Share = 0.3
    """Share of smelters that an inspection would find in violation."""


class Smelters(_Base):
    large: SmelterClass = SmelterClass()
    small: SmelterClass = SmelterClass()
    workshop: SmelterClass = SmelterClass()


class Region(_Base):
    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    generation: Series = Field(description="scrap arising, t/day, before seasonality")
    generation_noise: Annotated[float, Field(ge=0.0, le=0.5)] = 0.05
    imports: Series = 0.0
    """Imported scrap delivered to the region's large plants, t/day."""
    initial_uncollected_days: NonNeg = 1.5
    traders: TraderPopulation
    smelters: Smelters

    @field_validator("generation", "imports")
    @classmethod
    def _series(cls, v: Series) -> Series:
        return _check_series(v)


class Sanctions(_Base):
    """Shares of what a detected violation gets; they sum to 1."""

    close: Share = 0.0
    suspend: Share = 0.0
    upgrade: Share = 0.0
    fine: Share = 1.0

    @model_validator(mode="after")
    def _sum_to_one(self) -> Sanctions:
        total = self.close + self.suspend + self.upgrade + self.fine
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"fine: sanction shares close+suspend+upgrade+fine must sum to 1, "
                             f"got {total:g}")
        return self


class Targets(_Base):
    """Relative weights of inspections on each group of actors."""

    large: NonNeg = 1.0
    small: NonNeg = 1.0
    workshop: NonNeg = 1.0
    traders: NonNeg = 0.0


class Campaign(_Base):
    name: Annotated[str, Field(min_length=1)]
    regions: list[str] = Field(min_length=1)
    start: date
    end: date
    teams: int = Field(ge=0)
    inspections_per_team_day: NonNeg = 1.0
    targets: Targets = Targets()
    per_site: bool = False
    """Smelter target weights per site: the smelters' share of visits (the sum of their three
    weights) goes to each class's list in proportion to weight × sites listed, as when teams work
    down one list of every plant; False: each class gets its weight's share whatever its size."""
    size_bias: float = Field(0.0, ge=-3.0, le=3.0)
    """Inspection probability proportional to capacity**size_bias (0: uniform)."""
    detection: Share = 0.8
    """Probability an inspection finds a violation that is there (not the share of inspected
    sites found violating: that is an outcome, the daily ``violation_rate``)."""
    lists: bool = True
    """Work from lists: visit every site of a list (the campaign's regions' open plants of a class,
    or traders' yards) once per round before any is visited again; False draws with replacement."""
    verify: bool = True
    """Re-visit sites this campaign ordered to rectify once their deadline passes, as verification
    visits counted apart (``verifications``); meanwhile they are off the inspection lists. False:
    sanctioned sites stay on the lists and inspecting them finds nothing new."""
    ban_classes: list[Literal["large", "small", "workshop"]] = []
    """Smelter classes shut and banned directly when found violating, whatever the sanction draw
    ("shut down and banned directly", scattered enterprises)."""
    drones: Share = 0.0
    """Extra detection from drone surveillance: p = 1 - (1-detection)(1-drones)."""
    halted_detection: Share = 0.3
    """Relative detection of a workshop that has halted before inspectors came."""
    sanctions: Sanctions = Sanctions(close=0.3, suspend=0.5, upgrade=0.1, fine=0.1)
    trader_sanctions: Sanctions = Sanctions(close=0.2, suspend=0.5, fine=0.3)
    fine: NonNeg = 50000.0
    """Fine per fined violation, CNY."""
    suspend_days: NonNeg = 30
    """Days of power cut until the rectification deadline."""
    rectify_days: NonNeg = 21
    """Days of upgrading before a rectified plant restarts."""
    rectify_failure: Share = 0.15
    """Share of suspended plants closed at their deadline for not rectifying."""
    perceived_risk: Share = 0.8
    """Enforcement risk traders perceive in the campaign's regions at intensity 1."""
    announcement_days: NonNeg = 5
    """Days before the start from which traders and workshops react."""
    halt_share: Share = 0.8
    """Share of violating smelters of `halt_classes` that halt while inspectors are in the region."""
    halt_classes: list[Literal["large", "small", "workshop"]] = ["workshop"]
    deadline: date | None = None
    """Date by which every listed scattered enterprise (violating workshop) must be shut."""
    deadline_share: Share = 1.0
    audits: list[date] = []
    """Dates of follow-up audits of closed sites (relapsed sites found are closed again)."""
    audit_detection: Share = 0.8
    output_cut: Share = 0.0
    """Cut in running smelters' output in the campaign's regions (heating-season curbs)."""
    sources: list[str] = []

    @model_validator(mode="after")
    def _dates(self) -> Campaign:
        if self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start}")
        return self


class Enforcement(_Base):
    intensity: NonNeg = 1.0
    """Scales every campaign's inspection effort; 0 means no enforcement."""


class Market(_Base):
    clearing_days: int = Field(1, ge=1, le=30)
    price_speed: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    """Log change of the scrap price per clearing per unit of price pressure."""
    anchor_speed: Annotated[float, Field(ge=0.0, le=1.0)] = 0.04
    """Daily pull of the scrap price toward primary price minus `primary_discount` (lagged follow)."""
    primary_discount: NonNeg = 2000.0
    price_noise: Annotated[float, Field(ge=0.0, le=0.2)] = 0.004
    transport_cost: NonNeg = 300.0
    """Cost of shipping scrap between regions, CNY/t."""
    flow_rate: Share = 0.05
    """Share of a region's trader stock shipped per day per transport cost of price gap above it."""
    ingot_price: Series = 14900.0
    primary_price: Series = 13500.0
    volatility_days: Positive = 10.0
    volatility_ref: Positive = 0.004
    """Mean absolute daily log-price change of a calm market (offers at their base share)."""
    trend_days: Positive = 10.0
    trend_ref: Positive = 0.004
    price_floor: Positive = 3000.0
    price_cap: Positive = 30000.0

    @field_validator("ingot_price", "primary_price")
    @classmethod
    def _series(cls, v: Series) -> Series:
        return _check_series(v, lo=1.0)

    @model_validator(mode="after")
    def _bounds(self) -> Market:
        if self.price_floor >= self.price_cap:
            raise ValueError(f"price_cap: must exceed price_floor {self.price_floor:g}, "
                             f"got {self.price_cap:g}")
        return self


class Behaviour(_Base):
    relapse_share: Share = 0.05
    """Share of closed sites that relapse within a year while no campaign covers their region."""
    rectifiable: list[Literal["large", "small", "workshop"]] = ["large", "small", "workshop"]
    """Classes whose plants a completed rectification makes compliant; a plant of another class
    reopens after rectifying still in violation (a workshop cannot meet the standards)."""
    false_report: Share = 0.0
    """Share of reported closures that are false (the site never closed or reopened at once) and
    of reported rectifications that are not done (the site still violates); audits find the
    former, verification visits and inspections both."""
    risk_memory_days: Positive = 10.0
    """Time scale on which traders' perceived risk follows the campaigns, days."""


class Scenario(_Base):
    name: Annotated[str, Field(pattern=NAME_PATTERN, max_length=80)]
    description: str = ""
    sources: list[str] = []
    assumptions: list[str] = []
    start: date
    end: date
    seed: int = Field(0, ge=0)
    enforcement: Enforcement = Enforcement()
    market: Market = Market()
    seasonality: Seasonality = Seasonality()
    behaviour: Behaviour = Behaviour()
    regions: list[Region] = Field(min_length=1)
    campaigns: list[Campaign] = []

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
        return self

    @property
    def days(self) -> int:
        """Number of simulated days, start and end inclusive."""
        return (self.end - self.start).days + 1

    def with_overrides(self, overrides: dict[str, Any], file: str | None = None) -> Scenario:
        """A copy with fields replaced by dotted path (``regions.hebei.traders.count``)."""
        data = self.model_dump(mode="python")
        for key, value in overrides.items():
            _set_dotted(data, key, value, file)
        return _validate(data, file)

    def get(self, dotted: str) -> Any:
        """The value at a dotted path (lists by index or by ``name``)."""
        node: Any = self.model_dump(mode="python")
        for part in dotted.split("."):
            node = _child(node, part, dotted, None)
        return node


def _child(node: Any, part: str, dotted: str, file: str | None) -> Any:
    if isinstance(node, dict):
        if part not in node:
            raise _unknown_key(part, list(node), dotted, file)
        return node[part]
    if isinstance(node, list):
        return node[_list_index(node, part, dotted, file)]
    raise ScenarioError("is not a mapping or list", file=file, path=dotted, value=node,
                        expected="a path into the scenario")


def _list_index(node: list, part: str, dotted: str, file: str | None) -> int:
    if part.isdigit() and int(part) < len(node):
        return int(part)
    names = [item.get("name") for item in node if isinstance(item, dict)]
    if part in names:
        return names.index(part)
    raise ScenarioError(f"no item {part!r}", file=file, path=dotted, value=part,
                        expected=f"an index below {len(node)} or one of {names}")


def _unknown_key(part: str, known: list[str], dotted: str, file: str | None) -> ScenarioError:
    hint = difflib.get_close_matches(part, known, n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return ScenarioError(f"unknown key {part!r}{extra}", file=file, path=dotted, value=part,
                         expected=f"one of {sorted(known)}")


def _set_dotted(data: dict, dotted: str, value: Any, file: str | None) -> None:
    parts = dotted.split(".")
    if not all(parts):
        raise ScenarioError("empty part in dotted key", file=file, path=dotted, value=dotted,
                            expected="a path like enforcement.intensity")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: i + 1]), file)
    last = parts[-1]
    if isinstance(node, dict):
        if last not in node:
            raise _unknown_key(last, list(node), dotted, file)
        node[last] = value
    elif isinstance(node, list):
        node[_list_index(node, last, dotted, file)] = value
    else:
        raise ScenarioError("cannot set a field inside a value", file=file, path=dotted,
                            value=node, expected="a path into the scenario")


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` → (key, value), the value read as YAML (numbers, lists, dates, strings)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError("expected KEY=VALUE", path=key or text, value=text,
                            expected="dotted.key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ScenarioError(f"cannot read the value: {exc}", path=key, value=raw,
                            expected="a YAML scalar or list") from None
    return key, value


def _validate(data: Any, file: str | None, root: yaml.Node | None = None) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise error_from_pydantic(exc, data, file, root, Scenario) from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, safely parse and validate a scenario YAML file (then apply dotted overrides)."""
    path = Path(path)
    file = str(path)
    text = read_text(path)
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ScenarioError(f"YAML error: {exc.problem or exc}", file=file, line=line,
                            expected="valid YAML (tags that construct objects are refused)") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", file=file, expected="valid YAML") from None
    if data is None:
        raise ScenarioError("the file is empty", file=file, expected="a scenario mapping")
    if not isinstance(data, dict):
        raise ScenarioError(f"the document is a {type(data).__name__}, not a mapping", file=file,
                            value=data, expected="a mapping with name, start, end, regions ...")
    scenario = _validate(data, file, root)
    if overrides:
        scenario = scenario.with_overrides(overrides, file)
    return scenario


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "scrapsim scenario"
    return schema


def safe_name(name: str) -> bool:
    """True when ``name`` can be a results sub-folder (no separators, no '..')."""
    return bool(re.fullmatch(NAME_PATTERN, name)) and ".." not in name
