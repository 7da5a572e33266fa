"""The parts of a scenario: every section below the top level (regions and their traders and
smelters, campaigns and their sanctions, the market, seasonality, behaviour), each field with
its docstring, which is its description in the JSON Schema and docs/SCENARIOS.md.
Re-exported by :mod:`scrapsim.scenario` (which adds the top level and loading); the shipped
scenarios are :mod:`scrapsim.scenario.library`'s, ``scrapsim new`` and docs/SCENARIOS.md
:mod:`scrapsim.scenario.authoring`'s. Units: days, tonnes (t), CNY per tonne; flows in t/day.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from scrapsim.scenario.strict import StrictModel

__all__ = ["NAME_PATTERN", "SMELTER_CLASSES", "Behaviour", "Campaign", "Enforcement", "Market",
           "Region", "Sanctions", "Seasonality", "Series", "SmelterClass", "Smelters", "Targets",
           "TraderPopulation"]

SMELTER_CLASSES = ("large", "small", "workshop")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Series = float | dict[date, float]
"""A constant or a dated series ``{date: value}``, interpolated linearly and held flat beyond
its ends."""


class _Base(StrictModel):
    # field descriptions (the docstrings) are set on first need: scrapsim.scenario.described
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from scrapsim.scenario.described import describe

        describe()
        return super().model_json_schema(*args, **kwargs)


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
    summer_trough: Share = 0.29
    """Depth of the July-August off-season dip, in smelting demand and in scrap arising alike:
    the whole chain slows (FACTS.md: "summer off-season", prices strong even then), so a
    clearing price does not undo the dip (the same depth on both is an ASSUMPTION). 0.29 is
    calibrated (targets/hebei.yaml: 95% interval 0.08-0.51, inside the 0-0.6 bound; 56% in July
    against 65%). It acted on smelting only until issue 10's end, when the fit sat at its 0.95
    bound (0.94): a clearing market answered the dip in demand alone with a lower price."""
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
    cover_days: Annotated[float, Field(ge=0.0, le=60.0)] = 5.0
    """Target yard stock in days of the trader's own collection in a calm market (holding scrap
    costs yard, capital and seizure risk; "fast in, fast out": days to weeks). ASSUMPTION."""
    sell_days: Annotated[float, Field(ge=1.0, le=60.0)] = 4.0
    """Days over which a trader sells (or holds back) the gap between its yard and its target,
    on top of what it collects. ASSUMPTION."""
    hold_elasticity: Annotated[float, Field(ge=0.0, le=50.0)] = 3.0
    """Elasticity of selling a yard's excess to the scrap price over the primary anchor
    (primary − discount): below it traders hold scrap back and wait, above it they sell
    faster, so a glut is sold as smelters take it rather than dumped. ASSUMPTION."""
    fast_out: NonNeg = 1.0
    """How much the target yard shrinks when prices are volatile ("fast in, fast out")."""
    withhold: NonNeg = 8.0
    """Elasticity of the target yard to the rally gap (holders withhold in a rally): the target
    grows by ``exp(withhold·gap)``, at most doubling, where ``gap`` is the log of primary −
    discount today over the lagged reference, how far scrap should still rise (FACTS.md: in
    the Aug 2017 rally, SHFE +18% from July to September, holders stopped quoting). 8: yards
    double when primary has run 9% ahead of the reference. ASSUMPTION, and not free: offers
    fall by 5% in Aug-Sep 2017 (validate's withholding row) only from about 7, and above 8
    national_2017's twin leaves Henan's mean price pressure above check's 0.05 (the shortage
    held back scrap makes at the workshops' break-even price; docs/MODEL.md, issue 10)."""
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
    per_site: bool = False
    """Smelter target weights per site: the smelters' share of visits (the sum of their three
    weights) goes to each class's list in proportion to weight × sites listed, as when teams work
    down one list of every plant; False: each class gets its weight's share whatever its size."""
    list_order: list[Literal["large", "small", "workshop"]] = []
    """Smelter lists worked in this order (with ``lists``): each day's smelter visits go to the
    first named list's sites not yet visited in the round, and to the next list only when the
    first has none left; when every named list has been worked through, a new round starts from
    the first. Classes not named get no visits. Empty: visits split over the lists by
    ``targets`` at once."""
    size_bias: float = Field(0.0, ge=-3.0, le=3.0)
    """Inspection probability proportional to capacity**size_bias (0: uniform)."""
    detection: Share = 0.8
    """Chance a visit finds a violation that is there (``violation_rate`` is an outcome)."""
    lists: bool = True
    """Work from lists: visit every site of a list (the campaign's regions' open plants of a class,
    or traders' yards) once per round before any is visited again, sites under a sanction off the
    lists until a verification visit; False draws with replacement from every site not closed
    and makes no verification visits."""
    verify: bool = True
    """Count the re-visits of sites this campaign ordered to rectify (made, with ``lists``, once
    their deadline passes; meanwhile the sites are off the inspection lists) apart, as
    ``verifications``. False: the same re-visits are counted as inspections and a site found
    still violating as a violation, as a record that does not tell them apart (the run is the
    same; only the counts and event names differ)."""
    ban_classes: list[Literal["large", "small", "workshop"]] = []
    """Smelter classes shut and banned directly when found violating, whatever the sanction."""
    drones: Share = 0.0
    """Extra detection from drone surveillance: p = 1 - (1-detection)(1-drones)."""
    halted_detection: Share = 0.3
    """Relative detection of a workshop that has halted before inspectors came."""
    unlicensed_classes: list[Literal["large", "small", "workshop"]] = []
    """Smelter classes the campaign's lists hold as unlicensed (no environmental permits or
    approvals, as the lists of scattered enterprises): with ``lists``, a visit finds a halted
    violator of these classes with the full detection, as it finds a running one, since the
    violation is the missing permit, not only the smoke; halted violators of other classes, and
    every halted one without ``lists``, are found at ``halted_detection``."""
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
    """Share of violating smelters of `halt_classes` that halt while inspectors are around."""
    halt_classes: list[Literal["large", "small", "workshop"]] = ["workshop"]
    """Smelter classes whose violators halt while inspectors are in the region."""
    deadline: date | None = None
    """Date by which every listed scattered enterprise (violating workshop) must be shut."""
    deadline_share: Share = 1.0
    """Share of the listed workshops actually shut by the deadline (at intensity 1)."""
    deadline_pace: Literal["even", "at_deadline"] = "even"
    """"even": weekly from the start, equal shares, the list done by the deadline (sites
    reported shut, truly or not, are off it); "at_deadline": all on the deadline's day."""
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
    price_speed: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    """Share of the (log) way from yesterday's price to the price at which today's supply meets
    today's demand that the price moves each clearing (1: the market clears every day)."""
    anchor_speed: Annotated[float, Field(ge=0.0, le=1.0)] = 0.04
    """Daily pull of traders' reference price toward primary price minus `primary_discount`:
    scrap follows primary with a lag of about 1/anchor_speed days."""
    primary_discount: NonNeg = 2000.0
    """Discount of the scrap price's anchor below the primary price, CNY/t."""
    price_noise: Annotated[float, Field(ge=0.0, le=0.2)] = 0.004
    """Standard deviation of the daily log-price shock."""
    transport_cost: NonNeg = 300.0
    """Cost of shipping scrap between regions, CNY/t."""
    flow_rate: Share = 0.05
    """Share of a region's trader stock shipped per day per transport cost of price gap above
    it."""
    outside: bool = False
    """Whether the regions trade scrap with the rest of the country, a market at the reference
    price (primary − discount, followed with the lag of ``anchor_speed``): by the rule between
    regions, traders ship out ``flow_rate·(gap − cost)/cost`` of their yards a day when their
    price is below it by more than ``transport_cost``, and the rest of the country ships in at
    the same rate, as deep as the region's own yards, when their price is above it by more.
    Off: the scenario's regions are a closed market."""
    ingot_price: Series = 14900.0
    """ADC12 alloy-ingot price, CNY/t (a number or a dated series)."""
    ingot_days: int = Field(30, ge=1, le=120)
    """Days over which smelters' ingot orders average the ADC12 price: the margin that sets
    their output uses the mean price of the last ``ingot_days`` days (orders priced at the past
    month's average; ASSUMPTION), so their demand follows a move of ADC12 about half that
    late. No effect when ``ingot_price`` is constant."""
    primary_price: Series = 13500.0
    """Primary aluminium price, CNY/t (a number or a dated series)."""
    discount_days: Positive = 60.0
    """Days over which traders learn the usual gap between the scrap price and the lagged
    primary reference (what they expect the price to be). ASSUMPTION."""
    volatility_days: Positive = 10.0
    """Time scale of the moving mean of absolute daily log-price changes, days."""
    volatility_ref: Positive = 0.004
    """Mean absolute daily log-price change of a calm market (offers at their base share)."""
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
    rectifiable: list[Literal["large", "small", "workshop"]] = ["large", "small", "workshop"]
    """Classes whose plants a completed rectification makes compliant; a plant of another class
    reopens after rectifying still in violation (a workshop cannot meet the standards)."""
    false_report: Share = 0.0
    """Share of reported closures that are false (the site never closed or reopened at once) and
    of reported rectifications that are not done (the site still violates); audits find the
    former, verification visits and inspections both."""
    risk_memory_days: Positive = 10.0
    """Time scale on which traders' perceived risk follows the campaigns, days."""
