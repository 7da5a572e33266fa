"""The product of one run: its tables, its event log and, against its twin, its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from scrapsim.model.records import EventLog
from scrapsim.model.table import Table
from scrapsim.scenario import Scenario

__all__ = ["Result", "Window"]

Window = tuple[str, list[str], date, date]
"""A campaign window: (name, regions, first day, last day), clipped to the run."""


@dataclass(repr=False)
class Result:
    """Everything one run produced; nothing is written to disk."""

    scenario: Scenario
    seed: int
    daily: Table
    initial: Table
    log: EventLog = field(repr=False)
    windows: list[Window]
    wall_time: float
    n_events: int
    summary: dict[str, Any] | None = None
    baseline: Result | None = field(default=None, repr=False)

    @cached_property
    def events(self) -> Table:
        """The event table, built on first use (sweeps never need it)."""
        sc = self.scenario
        return self.log.table(sc.start, [r.name for r in sc.regions],
                              [c.name for c in sc.campaigns])

    def flat_summary(self) -> dict[str, Any]:
        """The summary as one flat mapping (regions' keys as ``<region>.<key>``; MODEL.md)."""
        from scrapsim.plots.display import flat_summary

        return flat_summary(self.summary)

    def __repr__(self) -> str:
        from scrapsim.plots.display import result_repr

        return result_repr(self)

    def _repr_html_(self) -> str:
        """For notebooks: the headline table and a small figure."""
        from scrapsim.plots.display import result_html

        return result_html(self)

    def frames(self) -> dict[str, Any]:
        """The tables as pandas DataFrames (imports pandas)."""
        return {"daily": self.daily.to_pandas(), "events": self.events.to_pandas(),
                "initial": self.initial.to_pandas()}
