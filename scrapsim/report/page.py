"""The report as a document: sections of text, tables and figures, rendered to one HTML file.

:class:`Section` is the document model that :mod:`scrapsim.report.build` fills and that both outputs
use (HTML here; the PDF is printed from that HTML, or drawn from the same blocks by matplotlib).
The HTML is self-contained: inline CSS, figures as ``data:image/png;base64`` images, no script,
no link, no address outside the file, so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html import escape

from matplotlib.figure import Figure

from scrapsim.report.figures import png_bytes

__all__ = ["FigureBlock", "Section", "TableBlock", "render_html"]


@dataclass
class TableBlock:
    """A table: caption, column headers, rows of already formatted cells (first column: names)."""

    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class FigureBlock:
    """A figure and its caption; ``png`` is rendered once, on first use."""

    caption: str
    figure: Figure
    _png: bytes | None = field(default=None, repr=False)

    @property
    def png(self) -> bytes:
        if self._png is None:
            self._png = png_bytes(self.figure)
        return self._png


@dataclass
class Section:
    """One part of the report: a scenario's run or sweep, or the comparison of several runs."""

    title: str
    kind: str              # "run", "sweep", "comparison", "sensitivity" or "calibration"
    paragraphs: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)   # (label, value) lines
    sources: list[str] = field(default_factory=list)
    tables: list[TableBlock] = field(default_factory=list)
    figures: list[FigureBlock] = field(default_factory=list)


CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1a1a1a;
       max-width: 60rem; margin: 1.5rem auto; padding: 0 1.2rem; line-height: 1.45;
       font-size: 15px; background: #fff; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.kind { font-size: .75rem; text-transform: uppercase; letter-spacing: .06em; color: #fff;
        background: #0072B2; border-radius: 3px; padding: .1rem .4rem; margin-right: .5rem;
        vertical-align: middle; }
.kind.sweep { background: #D55E00; } .kind.comparison { background: #009E73; }
.kind.sensitivity { background: #CC79A7; } .kind.calibration { background: #56479E; }
.meta { color: #555; font-size: .9rem; margin: 0 0 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem;
           font-size: .9rem; margin: .6rem 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
ul.sources { font-size: .85rem; color: #333; padding-left: 1.2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-weight: bold; padding-bottom: .3rem; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #ddd; text-align: right; }
td { white-space: nowrap; } td .band { display: block; font-size: .8em; color: #555; }
tr { break-inside: avoid; page-break-inside: avoid; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #888; vertical-align: bottom; }
figure { margin: 1rem 0 1.6rem; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: #444; margin-top: .3rem; }
nav ol { font-size: .9rem; }
footer { margin-top: 2.5rem; font-size: .8rem; color: #666; border-top: 1px solid #ddd;
         padding-top: .5rem; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 11pt; }
  h2, h3, caption { break-after: avoid; page-break-after: avoid; }
  p, dl.facts, ul.sources { orphans: 3; widows: 3; }
  table.keep, tbody.edge { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 9pt; }
  figure img { max-height: 240mm; width: auto; max-width: 100%; }
  nav { display: none; }
}
"""


def _cell(text: str) -> str:
    """A table cell; a second line (after a newline) is drawn small beneath (e.g. a band)."""
    first, *rest = text.split("\n", 1)
    band = f'<span class="band">{escape(rest[0])}</span>' if rest else ""
    return f"<td>{escape(first)}{band}</td>"


KEEP_ROWS = 25
"""A table of at most this many rows is printed on one page (moved whole to the next one
rather than broken); a longer one breaks, but never leaves fewer than :data:`EDGE_ROWS`
rows on a page, its header repeated."""
EDGE_ROWS = 3


def _table(block: TableBlock) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
    rows = ["<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in block.rows]
    keep = len(rows) <= KEEP_ROWS
    if keep:
        body = f"<tbody>{''.join(rows)}</tbody>"
    else:
        first, middle, last = rows[:EDGE_ROWS], rows[EDGE_ROWS:-EDGE_ROWS], rows[-EDGE_ROWS:]
        body = (f'<tbody class="edge">{"".join(first)}</tbody><tbody>{"".join(middle)}'
                f'</tbody><tbody class="edge">{"".join(last)}</tbody>')
    cls = ' class="keep"' if keep else ""
    return (f"<table{cls}><caption>{escape(block.caption)}</caption><thead><tr>{head}</tr>"
            f"</thead>{body}</table>")


def _figure(block: FigureBlock) -> str:
    data = base64.b64encode(block.png).decode("ascii")
    alt = escape(block.caption, quote=True)
    return (f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(block.caption)}</figcaption></figure>")


def _section(number: int, s: Section) -> str:
    parts = [f'<section id="s{number}"><h2><span class="kind {escape(s.kind)}">'
             f"{escape(s.kind)}</span>{escape(s.title)}</h2>"]
    parts += [f"<p>{escape(p)}</p>" for p in s.paragraphs]
    if s.facts:
        parts.append('<dl class="facts">' + "".join(
            f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in s.facts) + "</dl>")
    if s.sources:
        parts.append("<h3>Sources</h3><ul class=\"sources\">"
                     + "".join(f"<li>{escape(x)}</li>" for x in s.sources) + "</ul>")
    parts += [_table(t) for t in s.tables]
    parts += [_figure(f) for f in s.figures]
    parts.append("</section>")
    return "\n".join(parts)


def render_html(title: str, meta: str, sections: list[Section], footer: str) -> str:
    """The whole report as one self-contained HTML document."""
    toc = "".join(f'<li><a href="#s{i}">{escape(s.title)}</a> ({escape(s.kind)})</li>'
                  for i, s in enumerate(sections, 1))
    body = "\n".join(_section(i, s) for i, s in enumerate(sections, 1))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{escape(title)}</h1><p class=\"meta\">{escape(meta)}</p>"
            f"<nav><ol>{toc}</ol></nav></header>\n{body}\n"
            f"<footer>{escape(footer)}</footer></body></html>\n")
