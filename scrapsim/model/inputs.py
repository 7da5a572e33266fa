"""Exogenous daily inputs, computed once per run as arrays: seasonality, dated series, campaign
windows.

Everything here is a pure function of the scenario (and, for noise, of a dedicated random
stream), so a run and its baseline see the same inputs. Arrays are indexed ``[day]`` or
``[day, region]``; day 0 is ``scenario.start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from scrapsim.model import loops
from scrapsim.scenario import Campaign, Scenario, Series

__all__ = ["CNY", "Inputs", "build_inputs", "cny_date", "series_values", "window_profile"]

CNY = {2010: "02-14", 2011: "02-03", 2012: "01-23", 2013: "02-10", 2014: "01-31",
       2015: "02-19", 2016: "02-08", 2017: "01-28", 2018: "02-16", 2019: "02-05",
       2020: "01-25", 2021: "02-12", 2022: "02-01", 2023: "01-22", 2024: "02-10",
       2025: "01-29", 2026: "02-17", 2027: "02-06", 2028: "01-26", 2029: "02-13",
       2030: "02-03", 2031: "01-23", 2032: "02-11", 2033: "01-31", 2034: "02-19",
       2035: "02-08"}
"""Chinese New Year (first day of the lunar year) by Gregorian year."""


def cny_date(year: int) -> date:
    """Chinese New Year's day; outside 2010-2035 the mean date (5 February) is used."""
    month_day = CNY.get(year, "02-05")
    return date.fromisoformat(f"{year}-{month_day}")


def day_numbers(start: date, n_days: int) -> np.ndarray:
    """Days as numpy datetime64[D], starting at ``start``."""
    return np.datetime64(start, "D") + np.arange(n_days)


def series_values(series: Series, start: date, n_days: int) -> np.ndarray:
    """A constant or a dated series as one value per day (linear between dates, flat outside)."""
    if not isinstance(series, dict):
        return np.full(n_days, float(series))
    pts = sorted(series.items())
    x = np.array([(d - start).days for d, _ in pts], dtype=float)
    y = np.array([v for _, v in pts], dtype=float)
    return np.interp(np.arange(n_days, dtype=float), x, y)


def window_profile(offsets: np.ndarray, before: float, after: float) -> np.ndarray:
    """Raised-cosine bump: 1 at offset 0, falling to 0 at ``-before`` and ``+after`` days."""
    half = np.where(offsets < 0, max(before, 1e-9), max(after, 1e-9))
    x = np.clip(np.abs(offsets) / half, 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * x))


def _offsets_to_nearest(days: np.ndarray, anchors: list[date]) -> np.ndarray:
    anchor_days = np.array([np.datetime64(a, "D") for a in anchors])
    diff = (days[:, None] - anchor_days[None, :]).astype(float)
    pick = np.abs(diff).argmin(axis=1)
    return diff[np.arange(len(days)), pick]


def seasonal_profiles(scenario: Scenario, days: np.ndarray) -> tuple[np.ndarray, ...]:
    """(generation, collection, smelting) multipliers per day.

    Chinese New Year: collection dips from ``cny_before_days`` before the holiday, smelting only
    from a third of that (traders stop before smelters); both recover over ``cny_after_days``.
    Summer trough centred on 25 July (half-width 40 days) on smelting; autumn peak centred on
    20 October (half-width 50 days) on generation and smelting.
    """
    s = scenario.seasonality
    years = range(int(str(days[0])[:4]) - 1, int(str(days[-1])[:4]) + 2)
    cny = _offsets_to_nearest(days, [cny_date(y) for y in years])
    summer = _offsets_to_nearest(days, [date(y, 7, 25) for y in years])
    autumn = _offsets_to_nearest(days, [date(y, 10, 20) for y in years])
    autumn_bump = s.autumn_peak * window_profile(autumn, 50, 50)
    summer_dip = s.summer_trough * window_profile(summer, 40, 40)
    collection = 1.0 - s.cny_collection_dip * window_profile(cny, s.cny_before_days,
                                                             s.cny_after_days)
    smelting = (1.0 - s.cny_smelting_dip * window_profile(cny, s.cny_before_days / 3,
                                                          s.cny_after_days)
                - summer_dip + autumn_bump)
    return 1.0 - summer_dip + autumn_bump, collection, smelting


@dataclass(frozen=True)
class Inputs:
    """Daily exogenous arrays of one run."""

    dates: np.ndarray          # datetime64[D], [day]
    generation: np.ndarray     # t/day, [day, region], seasonality and noise included
    imports: np.ndarray        # t/day, [day, region]
    ingot: np.ndarray          # CNY/t, [day]: the ADC12 spot price (scenario input)
    ingot_paid: np.ndarray     # CNY/t, [day]: what smelters' orders pay, see ingot_paid()
    primary: np.ndarray        # CNY/t, [day]
    collection_season: np.ndarray  # multiplier, [day]
    smelting_season: np.ndarray    # multiplier, [day]
    price_noise: np.ndarray    # log-price shocks, [day, region]
    risk: np.ndarray           # traders' perceived enforcement risk, [day, region]
    output_cut: np.ndarray     # share of output cut by curbs, [day, region]
    campaign_active: np.ndarray  # bool [day, region]: a campaign window (announcement too)


def campaign_mask(c: Campaign, scenario: Scenario, lead_days: float = 0.0) -> np.ndarray:
    """Bool [day] of a campaign's window, opened ``lead_days`` early (announcement)."""
    idx = np.arange(scenario.days)
    first = (c.start - scenario.start).days - int(round(lead_days))
    last = (c.end - scenario.start).days
    return (idx >= first) & (idx <= last)


def _campaign_arrays(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    names = [r.name for r in scenario.regions]
    shape = (scenario.days, len(names))
    intensity = scenario.enforcement.intensity
    keep_risk, keep_cut = np.ones(shape), np.ones(shape)
    active = np.zeros(shape, dtype=bool)
    for c in scenario.campaigns:
        mask = campaign_mask(c, scenario, c.announcement_days)
        cols = [names.index(r) for r in c.regions]
        if intensity > 0:
            window = np.outer(mask, np.isin(np.arange(len(names)), cols))
            keep_risk[window] *= (1.0 - c.perceived_risk) ** intensity
            keep_cut[window] *= (1.0 - c.output_cut) ** intensity
            active |= window
    return 1.0 - keep_risk, 1.0 - keep_cut, active


def ingot_paid(spot: np.ndarray, days: int) -> np.ndarray:
    """The ingot price smelters' orders pay on each day: the mean spot price over the last
    ``days`` days (before the start, the first day's), CNY/t. Alloy-ingot orders are priced at
    an average of the spot price over the past month rather than at the day's quote
    (ASSUMPTION, ``market.ingot_days``), so the margin that sets smelters' output, and with it
    their demand for scrap, follows a move of ADC12 about ``days/2`` days late."""
    k = max(int(days), 1)
    c = np.cumsum(np.concatenate([np.full(k, spot[0]), spot]))
    return (c[k:] - c[:-k]) / k


def build_inputs(scenario: Scenario, rng: np.random.Generator) -> Inputs:
    """All daily inputs of ``scenario``; ``rng`` draws generation and price noise."""
    n, start = scenario.days, scenario.start
    dates = day_numbers(start, n)
    gen_season, coll_season, smelt_season = seasonal_profiles(scenario, dates)
    regions = scenario.regions
    base_gen = np.column_stack([series_values(r.generation, start, n) for r in regions])
    sd = np.array([r.generation_noise for r in regions])
    noise = np.exp(rng.standard_normal((n, len(regions))) * sd - 0.5 * sd**2)
    price_noise = rng.standard_normal((n, len(regions))) * scenario.market.price_noise
    target, cut, active = _campaign_arrays(scenario)
    memory = 1.0 - float(np.exp(-1.0 / scenario.behaviour.risk_memory_days))
    risk = loops.smooth(target, memory)   # smoothed along days
    ingot = series_values(scenario.market.ingot_price, start, n)
    return Inputs(
        dates=dates,
        generation=base_gen * gen_season[:, None] * noise,
        imports=np.column_stack([series_values(r.imports, start, n) for r in regions]),
        ingot=ingot,
        ingot_paid=ingot_paid(ingot, scenario.market.ingot_days),
        primary=series_values(scenario.market.primary_price, start, n),
        collection_season=coll_season,
        smelting_season=smelt_season,
        price_noise=price_noise,
        risk=np.clip(risk, 0.0, 1.0),
        output_cut=cut,
        campaign_active=active,
    )


def date_of(start: date, day: float) -> date:
    """Calendar date of simulation day ``day``."""
    return start + timedelta(days=int(day))
