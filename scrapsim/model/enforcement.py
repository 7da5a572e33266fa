"""Enforcement as the record counts it: per campaign and region, from the event table.

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

from scrapsim.model.table import Table

__all__ = ["COUNTS", "by_campaign", "rates"]

COUNTS = {"inspections": "inspection", "verifications": "verification",
          "violations": "violation", "reported_closures": ("close", "deadline_close"),
          "false_closures": "false_close", "audited": "audit"}
"""Count name -> event kind(s) it counts."""


def rates(block: dict[str, Any]) -> dict[str, Any]:
    """Add ``violation_rate`` and ``audit_share_not_closed`` to a block of counts."""
    done, audited = block["inspections"], block["audited"]
    block["violation_rate"] = block["violations"] / done if done else None
    block["audit_share_not_closed"] = block["audit_found"] / audited if audited else None
    return block


def _block(event: np.ndarray, value: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kinds in COUNTS.items():
        out[name] = int(np.isin(event, kinds).sum())
    out["first_visits"] = int(((event == "inspection") & (value > 0)).sum())
    out["unrectified"] = int(((event == "verification") & (value > 0)).sum())
    out["audit_found"] = int(((event == "audit") & (value > 0)).sum())
    return rates(out)


def by_campaign(events: Table, campaigns: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """``{campaign: {"all": counts, region: counts, ...}}`` for (name, regions) pairs."""
    camp, reg = np.asarray(events["campaign"]), np.asarray(events["region"])
    event, value = np.asarray(events["event"]), np.asarray(events["value"], float)
    out: dict[str, Any] = {}
    for name, regions in campaigns:
        mine = camp == name
        entry = {"all": _block(event[mine], value[mine])}
        for r in regions:
            sel = mine & (reg == r)
            entry[r] = _block(event[sel], value[sel])
        out[name] = entry
    return out
