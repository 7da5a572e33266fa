"""Enforcement as the record counts it: per campaign and region, from the event log.

For each campaign and each of its regions: ``inspections`` (visits of sites on the lists),
``first_visits`` (a site's first inspection by the campaign), ``verifications`` (re-visits of
sites the campaign ordered to rectify, counted apart), ``violations`` (found by inspections),
``violation_rate`` (violations / inspections, the share of inspected sites found violating,
None without inspections), ``unrectified`` (verifications that found the site still violating),
``reported_closures`` (``close`` and ``deadline_close`` events, true or false),
``false_closures`` (``false_close`` events), ``audited`` (sites visited by audits of reported
closures), ``audit_found`` and ``audit_share_not_closed`` (found / audited). Counts are sites
(events); the run totals (``all``) sum the regions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scrapsim.model.records import EventLog
from scrapsim.scenario import Scenario

__all__ = ["COUNTS", "KINDS", "by_campaign", "rates"]

COUNTS = {"inspections": "inspection", "verifications": "verification",
          "violations": "violation", "reported_closures": ("close", "deadline_close"),
          "false_closures": "false_close", "audited": "audit"}
"""Count name -> event kind(s) it counts."""
KINDS = ("inspection", "verification", "violation", "close", "deadline_close", "false_close",
         "audit")
"""The event kinds the counts read."""


def rates(block: dict[str, Any]) -> dict[str, Any]:
    """Add ``violation_rate`` and ``audit_share_not_closed`` to a block of counts."""
    done, audited = block["inspections"], block["audited"]
    block["violation_rate"] = block["violations"] / done if done else None
    block["audit_share_not_closed"] = block["audit_found"] / audited if audited else None
    return block


def by_campaign(log: EventLog, scenario: Scenario,
                campaigns: list[tuple[str, list[str]]] | None = None) -> dict[str, Any]:
    """``{campaign: {"all": counts, region: counts, ...}}`` of a run's event log, for the
    (name, regions) pairs given (default: each of ``scenario``'s campaigns and its regions).
    Counted from the log's codes (:meth:`EventLog.coded`), grouped in one ``bincount`` per
    campaign: sweeps and summaries never build the event table for it."""
    if campaigns is None:
        campaigns = [(c.name, list(c.regions)) for c in scenario.campaigns]
    regions = [r.name for r in scenario.regions]
    names = [c.name for c in scenario.campaigns]
    camp, region, kind, value = log.coded(KINDS)
    n_kinds, n_regions = len(KINDS), len(regions)
    counted = kind >= 0
    key = (region * n_kinds + kind) * 2 + (value > 0)
    out: dict[str, Any] = {}
    for name, its in campaigns:
        mine = counted & np.isin(camp, [k for k, c in enumerate(names) if c == name])
        table = np.bincount(key[mine], minlength=n_regions * n_kinds * 2)
        table = table.reshape(n_regions, n_kinds, 2)
        entry = {"all": _block(table.sum(axis=0))}
        for r in its:
            entry[r] = _block(table[regions.index(r)])
        out[name] = entry
    return out


def _block(table: np.ndarray) -> dict[str, Any]:
    """Counts of a ``[kind, value > 0]`` table of :data:`KINDS`."""
    total = table.sum(axis=1)
    out: dict[str, Any] = {}
    for name, kinds in COUNTS.items():
        out[name] = int(sum(total[KINDS.index(k)] for k in
                            ((kinds,) if isinstance(kinds, str) else kinds)))
    out["first_visits"] = int(table[KINDS.index("inspection"), 1])
    out["unrectified"] = int(table[KINDS.index("verification"), 1])
    out["audit_found"] = int(table[KINDS.index("audit"), 1])
    return rates(out)
