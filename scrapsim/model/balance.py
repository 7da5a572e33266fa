"""Is a market left alone in balance? Flows, price pressure and stock trends per region.

Read from the daily table of a run without enforcement (the intensity-0 twin): per region the
mean flows (t/day) of generation, collection, smelting, imports and the scrap shipped out (net,
to other regions and the rest of the country); the mean price-pressure
index; and the trend of each stock (uncollected scrap, trader yards, smelter stocks). A stock's
trend is the change over the run of the least-squares line through its daily values, stated two
ways: relative to the stock's mean level, and in days of the region's mean smelting. Seasonality
(the Chinese-New-Year dip, the summer trough) moves stocks up and down within the year; a line
through a whole year of it stays nearly flat, while a glut that builds up does not.

A region is **balanced** when ``|mean pressure| ≤ PRESSURE_BAND`` and no stock's trend exceeds
both ``TREND_BAND`` of its level and ``TREND_DAYS`` days of smelting (a small stock may double
without mattering to the market; a large one may move a few days of smelting without being a
glut). The thresholds are the issue's ±0.05 and this module's choices, stated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scrapsim.model.table import Table

__all__ = ["PRESSURE_BAND", "STOCKS", "TREND_BAND", "TREND_DAYS", "RegionBalance", "balance"]

PRESSURE_BAND = 0.05
"""Largest mean price-pressure index of a balanced market (MODEL.md: about zero)."""
TREND_BAND = 0.5
"""Largest change of a stock over the run, relative to its mean level."""
TREND_DAYS = 3.0
"""Largest change of a stock over the run in days of the region's mean smelting."""
STOCKS = ("uncollected", "trader_stock", "smelter_stock")


@dataclass(frozen=True)
class RegionBalance:
    """One region's balance: mean flows t/day, mean pressure, stock trends and the verdict."""

    region: str
    generated: float
    collected: float
    smelted: float
    imports: float
    shipped_out: float
    """Net scrap traders ship out a day: to other regions and the rest of the country
    (``market.outside``), less what they receive."""
    pressure: float
    level: dict[str, float]
    trend: dict[str, float]
    """Change of each stock over the run relative to its mean level."""
    trend_days: dict[str, float]
    """Change of each stock over the run in days of mean smelting."""

    @property
    def problems(self) -> list[str]:
        """Why the region is out of balance (empty when it is balanced)."""
        out = []
        if abs(self.pressure) > PRESSURE_BAND:
            out.append(f"mean price pressure {self.pressure:+.3f} outside ±{PRESSURE_BAND}")
        for s in STOCKS:
            if abs(self.trend[s]) > TREND_BAND and abs(self.trend_days[s]) > TREND_DAYS:
                out.append(f"{s} trends {self.trend[s]:+.0%} of its level "
                           f"({self.trend_days[s]:+.1f} days of smelting) over the run")
        return out

    @property
    def balanced(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "generated": self.generated, "collected": self.collected,
                "smelted": self.smelted, "imports": self.imports,
                "smelted_less_imports": self.smelted - self.imports,
                "shipped_out": self.shipped_out,
                "mean_price_pressure": self.pressure,
                **{f"{s}_mean": self.level[s] for s in STOCKS},
                **{f"{s}_trend": self.trend[s] for s in STOCKS},
                **{f"{s}_trend_days": self.trend_days[s] for s in STOCKS},
                "balanced": self.balanced, "problems": self.problems}


def _trend(x: np.ndarray) -> float:
    """Change over the run of the least-squares line through ``x`` (units of ``x``)."""
    if x.size < 2:
        return 0.0
    t = np.arange(x.size, dtype=float)
    slope = np.polyfit(t, x, 1)[0]
    return float(slope * (x.size - 1))


def balance(daily: Table, regions: list[str]) -> list[RegionBalance]:
    """The balance of each region of a daily table (best: a run at intensity 0)."""
    n = len(regions)

    def col(name: str) -> np.ndarray:
        return np.asarray(daily[name], float).reshape(-1, n)

    flows = {c: col(c) for c in ("generated", "collected", "smelted", "imports")}
    shipped = col("outflow") + col("to_outside") - col("inflow") - col("from_outside")
    pressure = col("price_pressure")
    stocks = {s: col(s) for s in STOCKS}
    out = []
    for r, name in enumerate(regions):
        smelted = float(flows["smelted"][:, r].mean())
        level = {s: float(stocks[s][:, r].mean()) for s in STOCKS}
        change = {s: _trend(stocks[s][:, r]) for s in STOCKS}
        p = pressure[:, r]
        out.append(RegionBalance(
            region=name, generated=float(flows["generated"][:, r].mean()),
            collected=float(flows["collected"][:, r].mean()), smelted=smelted,
            imports=float(flows["imports"][:, r].mean()),
            shipped_out=float(shipped[:, r].mean()),
            pressure=float(np.nanmean(p)) if np.isfinite(p).any() else 0.0, level=level,
            trend={s: change[s] / level[s] if level[s] > 0 else 0.0 for s in STOCKS},
            trend_days={s: change[s] / smelted if smelted > 0 else 0.0 for s in STOCKS}))
    return out
