"""What enforcement may see and change of a run: the regulator's narrow view of the model.

The regulator reads the scenario, its inputs, the two populations, the random streams and the
run's length; it changes the world only through named methods: the actors' own transitions
(``Smelters.close``, ``Traders.close``, ...), :meth:`World.count` for a daily enforcement
total and :attr:`World.log` for events. It never holds the model itself
(:class:`~scrapsim.model.simulation.Model`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scrapsim.model.actors.smelters import Smelters
from scrapsim.model.actors.traders import Traders
from scrapsim.model.inputs import Inputs
from scrapsim.model.records import DailyRecorder, EventLog
from scrapsim.model.rng import Streams
from scrapsim.scenario import Scenario

__all__ = ["World"]


@dataclass(frozen=True)
class World:
    """One run's state as enforcement sees it (built by the model, one per run)."""

    scenario: Scenario
    inputs: Inputs
    smelters: Smelters
    traders: Traders
    streams: Streams
    n_days: int
    log: EventLog
    recorder: DailyRecorder

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return len(self.scenario.regions)

    def count(self, day: int, column: str, per_region: np.ndarray) -> None:
        """Add to a daily enforcement total (inspections, violations, fines CNY, seized t)."""
        self.recorder.values[day, :, self.recorder.index[column]] += per_region

    def count_actors(self, day: int, column: str, region: np.ndarray,
                     value: float | np.ndarray = 1.0) -> None:
        """Add ``value`` per actor (``region`` holds each actor's region) to ``column``."""
        if region.size:
            n = self.n_regions
            if np.ndim(value):
                self.count(day, column, np.bincount(region, weights=value, minlength=n))
            else:
                self.count(day, column, value * np.bincount(region, minlength=n))
