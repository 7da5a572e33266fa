"""Small HTML pieces for notebooks (``_repr_html_``): escaped tables, nothing imported from
the rest of scrapsim, so any layer may use it."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["html_table", "scenario_html"]


def html_table(header: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "") -> str:
    """A plain HTML table of already formatted cells (escaped here)."""
    cap = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    head = "".join(f"<th style='text-align:left'>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def scenario_html(sc: Any) -> str:
    """A scenario as its headline, its regions and its campaigns."""
    regions = [(r.name, f"{r.traders.count:,}",
                " / ".join(str(getattr(r.smelters, k).count) for k in ("large", "small",
                                                                        "workshop")))
               for r in sc.regions]
    campaigns = [(c.name, ", ".join(c.regions), f"{c.start}..{c.end}", c.teams)
                 for c in sc.campaigns]
    out = html_table(["region", "traders", "smelters large / small / workshop"], regions,
                     caption=repr(sc))
    if campaigns:
        out += html_table(["campaign", "regions", "window", "teams"], campaigns)
    return out
