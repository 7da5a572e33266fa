"""What a notebook shows (``__repr__`` and ``_repr_html_``) of a scenario, a run's Result and
its tables: escaped HTML tables, the run's headline and a small figure; and the run summary as
one flat mapping. Duck-typed, importing only the figure functions of :mod:`scrapsim.plots`, so
the scenario and the model can both use it."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["HEADLINE", "flat_summary", "html_table", "result_html", "result_repr",
           "scenario_html", "table_html"]


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


HEADLINE = (
    ("collection_change", "collection vs. no enforcement", "pct"),
    ("smelting_change", "smelting vs. no enforcement", "pct"),
    ("price_change", "scrap price vs. no enforcement", "pct"),
    ("mean_price_pressure", "mean price pressure (index points)", "num"),
    ("shut_count", "smelters shut at peak", "int"),
    ("smelters_start", "smelters at the start", "int"),
    ("closed_share", "closed for good at the end", "pct"),
    ("recovery_days", "recovery (days after the last window)", "int"),
)
"""The summary keys a run's headline shows: (key, label, format)."""


def flat_summary(summary: dict[str, Any] | None) -> dict[str, Any]:
    """The summary as one flat mapping: the whole run's keys as they are (``shut_count``),
    each region's as ``<region>.<key>`` (``hebei.shut_count``), each campaign's counts as
    ``campaigns.<campaign>.<region or all>.<key>``, ``windows`` as a list of ``[start, end]``
    ISO dates; every key is documented in MODEL.md (*The summary*)."""
    if summary is None:
        return {}
    out = {k: v for k, v in summary.items() if k not in ("regions", "campaigns")}
    for region, block in (summary.get("regions") or {}).items():
        out.update({f"{region}.{k}": v for k, v in block.items()})
    for name, by_region in (summary.get("campaigns") or {}).items():
        for region, block in by_region.items():
            out.update({f"campaigns.{name}.{region}.{k}": v for k, v in block.items()})
    return out


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "n/a"
    if fmt == "pct":
        return f"{100 * float(value):+.1f}%"
    if fmt == "int":
        return f"{int(value):,}"
    return f"{float(value):+.3f}"


def result_repr(result: Any) -> str:
    """One line: scenario, seed, period, and the headline changes when there is a summary."""
    sc = result.scenario
    head = (f"Result({sc.name!r}, seed {result.seed}, {sc.start}..{sc.end}, "
            f"{result.daily.n_rows:,} daily rows, {int(result.n_events):,} events")
    s = result.summary
    if s is None:
        return head + ", no baseline)"
    if sc.enforcement_note() is not None:
        return head + f", no enforcement: {sc.enforcement_note()})"
    return head + (f", collection {_cell(s.get('collection_change'), 'pct')}, smelting "
                   f"{_cell(s.get('smelting_change'), 'pct')}, price "
                   f"{_cell(s.get('price_change'), 'pct')}, shut {s.get('shut_count')} of "
                   f"{s.get('smelters_start')})")


def _figure_png(result: Any) -> bytes:
    """A small figure for the notebook: collection and smelting with the baseline dashed."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from scrapsim.plots.style import STYLE
    from scrapsim.plots.timeseries import plot_collection, plot_smelting

    base = result.baseline.daily if result.baseline is not None else None
    windows = result.windows
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(7.0, 3.6), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True)
    plot_collection(result.daily, top, baseline=base, windows=windows, legend=False)
    plot_smelting(result.daily, bottom, baseline=base, windows=windows, legend=False)
    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=72, metadata={"Software": None})
    return buffer.getvalue()


def result_html(result: Any) -> str:
    """The headline as an HTML table and a small figure (for ``_repr_html_``)."""
    s = result.summary or {}
    note = result.scenario.enforcement_note()
    rows = [] if note is not None else [
        (label, _cell(s.get(key), fmt)) for key, label, fmt in HEADLINE if key in s]
    caption = result_repr(result)
    table = html_table(["over the campaign windows", "value"], rows, caption=caption)
    png = base64.b64encode(_figure_png(result)).decode("ascii")
    return (f"{table}<img alt='collection and smelting' "
            f"src='data:image/png;base64,{png}' style='max-width:100%'>")


TABLE_ROWS = 10
"""Rows a table's HTML shows: the first and last five."""


def table_html(table: Any) -> str:
    """A daily or event table as HTML: its size, then its first and last rows."""
    n = table.n_rows
    idx = list(range(n)) if n <= TABLE_ROWS else [*range(5), -1, *range(n - 5, n)]
    cols = table.columns

    def cell(col: str, i: int) -> str:
        value = table[col][i]
        kind = getattr(value, "dtype", None)
        if kind is not None and kind.kind == "f":
            return f"{float(value):,.6g}"
        if kind is not None and kind.kind == "M":
            return str(value.astype("datetime64[D]"))
        return str(value)

    rows = [["…"] * len(cols) if i < 0 else [cell(c, i) for c in cols] for i in idx]
    return html_table(cols, rows, caption=f"Table: {n:,} rows × {len(cols)} columns")
