"""The scenario: a frozen, typed description of one enforcement episode.

YAML is loaded safely (:mod:`scrapsim.scenario_yaml`: ``extends:``, merge keys, ``--set``) and
validated by pydantic into :class:`Scenario`. Every error becomes a :class:`ScenarioError`
naming the file, the line, the dotted path, the value and what was expected; a file with
several problems reports all of them. Each field's docstring is its description in the JSON
Schema (``scrapsim schema``) and in docs/SCENARIOS.md, written once here.
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
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError,
                      field_validator, model_validator)

from scrapsim import scenario_yaml as raw
from scrapsim.errors import ScenarioError, error_from_pydantic, show

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
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              use_attribute_docstrings=True)


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
    """Days before Chinese New Year from which collection falls (smelting a third of that)."""
    cny_after_days: NonNeg = 20
    """Days after Chinese New Year until collection and smelting are back."""
    summer_trough: Share = 0.41
    """Depth of the July-August off-season dip in smelting demand. 0.41 is the calibrated value
    (targets/hebei.yaml: 95% interval 0.11 to the 0.5 bound) that gives July 2017's 56%
    operating rate against 65% normally; stocks absorb part of the dip, so it is deeper than
    the 14% fall in output it causes."""
    autumn_peak: Share = 0.08
    """Height of the September-November peak in generation and smelting."""


class TraderPopulation(_Base):
    """Collectors and dealers of one region (array population)."""

    count: int = Field(ge=0)
    """Number of traders (collectors and dealers) in the region."""
    capacity: NonNeg
    """Mean collection capacity per trader, t/day (lognormal across traders)."""
    capacity_cv: NonNeg = 0.8
    """Coefficient of variation of the traders' capacities."""
    cost: NonNeg = 9000.0
    """Mean collection cost incl. purchase at source, CNY/t (9,000: every shipped scenario's
    assumption, about 2,500 below the scrap price of 2017)."""
    cost_sd: NonNeg = 400.0
    """Standard deviation of the collection cost across traders, CNY/t."""
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
    """Number of smelters of this class (0: the class is absent)."""
    capacity: NonNeg = 0.0
    """Mean capacity per smelter, t scrap/day (lognormal across plants); required when
    ``count`` is above 0."""
    capacity_cv: NonNeg = 0.4
    """Coefficient of variation of the plants' capacities."""
    metal_yield: Annotated[float, Field(gt=0.0, le=1.0)] = 0.85
    """Tonnes of ingot per tonne of scrap smelted (70-90%, FACTS.md)."""
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

    @model_validator(mode="after")
    def _capacity_given(self) -> SmelterClass:
        if self.count > 0 and "capacity" not in self.model_fields_set:
            raise ValueError(f"capacity: required when count is above 0 (count {self.count}); "
                             "expected the mean capacity per smelter in t scrap/day")
        return self


class Smelters(_Base):
    """The region's smelters in three classes; a class left out has none."""

    large: SmelterClass = SmelterClass()
    """Large licensed plants (about 70 kt/yr and up); the ones that receive imported scrap."""
    small: SmelterClass = SmelterClass()
    """Small compliant plants."""
    workshop: SmelterClass = SmelterClass()
    """Scattered workshops (crucible furnaces, often unlicensed)."""


class Region(_Base):
    """One province or cluster: its scrap arising, traders and smelters."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    """Region name, used by campaigns' ``regions`` and in the daily table."""
    generation: Series
    """Scrap arising, t/day, before seasonality (a number or a dated series)."""
    generation_noise: Annotated[float, Field(ge=0.0, le=0.5)] = 0.05
    """Relative standard deviation of the daily noise on generation."""
    imports: Series = 0.0
    """Imported scrap delivered to the region's large plants, t/day."""
    initial_uncollected_days: NonNeg = 1.5
    """Scrap lying uncollected on day 1, in days of generation."""
    traders: TraderPopulation
    """The region's traders."""
    smelters: Smelters
    """The region's smelters by class."""

    @field_validator("generation", "imports")
    @classmethod
    def _series(cls, v: Series) -> Series:
        return _check_series(v)


class Sanctions(_Base):
    """Shares of what a detected violation gets; they must sum to 1 (a share left out is 0)."""

    close: Share = 0.0
    """Share closed for good (site sealed, yard stock confiscated)."""
    suspend: Share = 0.0
    """Share suspended (power cut) until the rectification deadline."""
    upgrade: Share = 0.0
    """Share ordered to stop and upgrade for ``rectify_days``, then restart."""
    fine: Share = 0.0
    """Share fined (``fine`` CNY) and left running."""

    @model_validator(mode="after")
    def _sum_to_one(self) -> Sanctions:
        total = self.close + self.suspend + self.upgrade + self.fine
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"sanction shares must sum to 1, got close {self.close:g} + "
                             f"suspend {self.suspend:g} + upgrade {self.upgrade:g} + fine "
                             f"{self.fine:g} = {total:g}")
        return self


class Targets(_Base):
    """Relative weights of inspections on each group of actors."""

    large: NonNeg = 1.0
    """Relative inspection weight on large plants."""
    small: NonNeg = 1.0
    """Relative inspection weight on small plants."""
    workshop: NonNeg = 1.0
    """Relative inspection weight on workshops."""
    traders: NonNeg = 0.0
    """Relative inspection weight on traders' yards."""


class Campaign(_Base):
    """One dated inspection campaign on one or more regions."""

    name: Annotated[str, Field(min_length=1)]
    """Campaign name (events and figures use it)."""
    regions: list[str] = Field(min_length=1)
    """Names of the regions inspected."""
    start: date
    """First day of inspections (YYYY-MM-DD)."""
    end: date
    """Last day of inspections (YYYY-MM-DD), on or after ``start``."""
    teams: int = Field(ge=0)
    """Inspection teams in the field each day at intensity 1."""
    inspections_per_team_day: NonNeg = 1.0
    """Sites one team inspects per day."""
    targets: Targets = Targets()
    """Whom the inspections visit, as relative weights."""
    size_bias: float = Field(0.0, ge=-3.0, le=3.0)
    """Inspection probability proportional to capacity**size_bias (0: uniform)."""
    detection: Share = 0.8
    """Probability an inspection detects a violation where there is one."""
    drones: Share = 0.0
    """Extra detection from drone surveillance: p = 1 - (1-detection)(1-drones)."""
    halted_detection: Share = 0.3
    """Relative detection of a workshop that has halted before inspectors came."""
    sanctions: Sanctions = Sanctions(close=0.3, suspend=0.5, upgrade=0.1, fine=0.1)
    """What a detected smelter gets (default: close 0.3, suspend 0.5, upgrade 0.1, fine 0.1)."""
    trader_sanctions: Sanctions = Sanctions(close=0.2, suspend=0.5, fine=0.3)
    """What a detected trader's yard gets (default: close 0.2, suspend 0.5, fine 0.3)."""
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
    """Smelter classes whose violators halt while inspectors are in the region."""
    deadline: date | None = None
    """Date by which every listed scattered enterprise (violating workshop) must be shut."""
    deadline_share: Share = 1.0
    """Share of the listed workshops actually shut at the deadline (at intensity 1)."""
    audits: list[date] = []
    """Dates of follow-up audits of closed sites (relapsed sites found are closed again)."""
    audit_detection: Share = 0.8
    """Probability an audit finds a relapsed site."""
    output_cut: Share = 0.0
    """Cut in running smelters' output in the campaign's regions (heating-season curbs)."""
    sources: list[str] = []
    """Where the campaign's dates and numbers come from."""

    @model_validator(mode="after")
    def _dates(self) -> Campaign:
        if self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start}")
        return self


class Enforcement(_Base):
    """How hard every campaign is run."""

    intensity: NonNeg = 1.0
    """Scales every campaign's inspection effort; 0 means no enforcement."""


class Market(_Base):
    """Prices and clearing: the scrap price responds to pressure and follows primary."""

    clearing_days: int = Field(1, ge=1, le=30)
    """Days between market clearings (1: daily)."""
    price_speed: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    """Log change of the scrap price per clearing per unit of price pressure."""
    anchor_speed: Annotated[float, Field(ge=0.0, le=1.0)] = 0.04
    """Daily pull of the scrap price toward primary price minus `primary_discount` (lagged follow)."""
    primary_discount: NonNeg = 2000.0
    """Discount of the scrap price's anchor below the primary price, CNY/t."""
    price_noise: Annotated[float, Field(ge=0.0, le=0.2)] = 0.004
    """Standard deviation of the daily log-price shock."""
    transport_cost: NonNeg = 300.0
    """Cost of shipping scrap between regions, CNY/t."""
    flow_rate: Share = 0.05
    """Share of a region's trader stock shipped per day per transport cost of price gap above it."""
    ingot_price: Series = 14900.0
    """ADC12 alloy-ingot price, CNY/t (a number or a dated series)."""
    primary_price: Series = 13500.0
    """Primary aluminium price, CNY/t (a number or a dated series)."""
    volatility_days: Positive = 10.0
    """Time scale of the moving mean of absolute daily log-price changes, days."""
    volatility_ref: Positive = 0.004
    """Mean absolute daily log-price change of a calm market (offers at their base share)."""
    trend_days: Positive = 10.0
    """Time scale of the moving mean of daily log-price changes (the trend), days."""
    trend_ref: Positive = 0.004
    """Daily log-price trend at which holders offer exp(-withhold) of their base share."""
    price_floor: Positive = 3000.0
    """Lowest scrap price the market can reach, CNY/t."""
    price_cap: Positive = 30000.0
    """Highest scrap price the market can reach, CNY/t (above ``price_floor``)."""

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
    """How closed sites and traders' perceptions evolve between campaigns."""

    relapse_share: Share = 0.05
    """Share of closed sites that relapse within a year while no campaign covers their region."""
    risk_memory_days: Positive = 10.0
    """Time scale on which traders' perceived risk follows the campaigns, days."""


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
        return self

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

    def with_overrides(self, overrides: dict[str, Any], file: str | None = None) -> Scenario:
        """A copy with fields replaced by dotted path (``regions.hebei.traders.count``); a last
        part ``+`` (or the list's length) appends to a list (``campaigns.+``)."""
        data = self.model_dump(mode="python")
        for key, value in overrides.items():
            raw.set_dotted(data, key, value, file)
        try:
            out = _validate(data, file)
        except ScenarioError as exc:
            raise _blame_overrides(exc, overrides) from None
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

    def __repr__(self) -> str:
        n_reg, n_camp = len(self.regions), len(self.campaigns)
        return (f"Scenario({self.name!r}, {self.start}..{self.end}, {self.days} days, "
                f"{n_reg} region{'s' * (n_reg != 1)}, {n_camp} campaign{'s' * (n_camp != 1)}, "
                f"intensity {self.enforcement.intensity:g}, seed {self.seed})")

    def _repr_html_(self) -> str:
        from scrapsim.display import scenario_html

        return scenario_html(self)


def _blame_overrides(exc: ScenarioError, overrides: dict[str, Any]) -> ScenarioError:
    """``exc`` with each problem caused by an override saying which one."""
    def note(e: ScenarioError) -> str:
        keys = [k for k in overrides if e.path == k or e.path.startswith(k + ".")
                or k.startswith(e.path + ".")]
        return f"{e} [from the override {keys[0]}={show(overrides[keys[0]])}]" if keys \
            else str(e)

    lines = [note(e) for e in exc.problems]
    exc.args = ("\n  ".join(([str(exc).split("\n")[0]] if len(lines) > 1 else []) + lines),)
    return exc


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` → (key, value), the value read as YAML (numbers such as ``1e3``, lists,
    dates, strings)."""
    return raw.parse_override(text)


def _validate(data: Any, file: str | None, root: yaml.Node | None = None) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise error_from_pydantic(exc, data, file, root, Scenario) from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, safely parse and validate a scenario YAML file (then apply dotted overrides).

    ``path`` may be a library name (``"hebei"``) when no such file exists here. Every
    problem of the file is reported at once, as one :class:`ScenarioError`.
    """
    from scrapsim.library import resolve, scenario_names

    path = resolve(path)
    file = str(path)
    if not path.exists():
        hint = difflib.get_close_matches(path.name.removesuffix(".yaml"), scenario_names(), n=1)
        extra = f" (did you mean the library's {hint[0]!r}?)" if hint else ""
        raise ScenarioError(f"no such file{extra}", file=file, expected="a scenario YAML file "
                            f"or a library name: {', '.join(scenario_names())}")
    data, root, text = raw.load_data(path)
    scenario = _validate(data, file, root)
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
        "this one, or a library scenario by name (hebei). Mappings merge field by field; a "
        "list replaces the other's; a mapping in place of a list addresses items by name."},
        **schema["properties"]}
    return schema


def safe_name(name: str) -> bool:
    """True when ``name`` can be a results sub-folder (no separators, no '..')."""
    return bool(re.fullmatch(NAME_PATTERN, name)) and ".." not in name
