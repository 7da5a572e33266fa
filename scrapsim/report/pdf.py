"""``report.pdf``: the HTML report printed by headless Chromium, or drawn by matplotlib.

With ``chromium`` (or ``chromium-browser``, ``google-chrome``) on ``PATH`` the PDF is exactly
the HTML report printed (A4, no browser header or footer). Without one — or if it fails — the
same sections are drawn with matplotlib's ``PdfPages`` as a flow of A4 pages: each section's
text (facts, sources, tables) then its figures, one after the other while they fit, so no page
is left half empty; a table of up to a page is moved whole rather than broken, and a longer one
never leaves fewer than three rows on a page. A section starts a new page only when less than a
quarter of the current one is left.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.image import imread

from scrapsim.report.page import Section, TableBlock

__all__ = ["BROWSERS", "browser", "headless_args", "write_pdf"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 180.0


def browser() -> str | None:
    """Path of a Chromium-family browser on ``PATH``, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def headless_args(exe: str, profile: Path) -> list[str]:
    """A headless, offline, throw-away-profile Chromium command line (before the action)."""
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}"]


def _chromium_pdf(exe: str, html: Path, pdf: Path) -> bool:
    with tempfile.TemporaryDirectory(prefix="scrapsim-chromium-") as profile:
        cmd = headless_args(exe, Path(profile)) + [
            "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()]
        try:
            # its own process group, so that on a timeout, an error or Ctrl-C the browser's
            # helper processes end with it
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    process_group=0)
        except OSError:
            return False
        try:
            proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return False
        finally:
            _end_group(proc)
    return pdf.is_file() and pdf.stat().st_size > 0


def _end_group(proc: subprocess.Popen) -> None:
    """Kill what is left of the browser's process group and wait for the browser."""
    import signal

    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def write_pdf(html: Path, pdf: Path, sections: list[Section], title: str, meta: str) -> str:
    """Write ``pdf``; returns what drew it (``"chromium"`` or ``"matplotlib"``)."""
    exe = browser()
    if exe is not None and _chromium_pdf(exe, html, pdf):
        return "chromium"
    pdf.unlink(missing_ok=True)
    _matplotlib_pdf(pdf, sections, title, meta)
    return "matplotlib"


def _table_lines(t: TableBlock) -> list[str]:
    rows = [[str(c).split("\n")[0] for c in r] for r in [t.header, *t.rows]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]


def _text_blocks(section: Section) -> list[list[str]]:
    """The section's text as blocks that stay together where they can (a paragraph, the
    facts, the sources, each table with its caption)."""
    wrap = textwrap.TextWrapper(width=92, subsequent_indent="    ")
    blocks = [[f"{section.kind.upper()}: {section.title}", ""]]
    blocks += [wrap.wrap(p) + [""] for p in section.paragraphs]
    if section.facts:
        blocks.append([line for k, v in section.facts for line in wrap.wrap(f"{k}: {v}")])
    if section.sources:
        blocks.append(["", "Sources:"] + [x for s in section.sources
                                          for x in wrap.wrap("- " + s)])
    for t in section.tables:
        banded = any("\n" in str(c) for r in t.rows for c in r)  # too wide for the page
        note = " (95% bands: in the HTML report)" if banded else ""
        blocks.append([""] + wrap.wrap(t.caption + note) + _table_lines(t))
    return blocks


A4 = (8.27, 11.69)
TOP, BOTTOM, LEFT, WIDTH = 0.96, 0.04, 0.06, 0.88
LINE = 9 * 1.2 / 72 / A4[1]
"""One line of 9-point monospace text (line spacing 1.2) as a share of the A4 height."""
PAGE_LINES = int((TOP - BOTTOM) / LINE)
"""Lines of text on a page (92 columns fit its width)."""
MIN_SCALE = 0.6
"""A figure is shrunk to at most this share of its size to fit the rest of a page."""
EDGE_LINES = 3
"""Fewest lines of a broken block left on either page (no orphan rows)."""


class _Pages:
    """A4 pages filled top to bottom with text lines and figure images."""

    def __init__(self, out: PdfPages) -> None:
        self.out, self.y = out, TOP
        self.fig: Figure | None = None

    def _new(self) -> None:
        self.close()
        self.fig, self.y = Figure(figsize=A4), TOP

    def close(self) -> None:
        if self.fig is not None:
            self.out.savefig(self.fig)
            self.fig = None

    def room(self) -> float:
        return self.y - BOTTOM if self.fig is not None else 0.0

    def section(self) -> None:
        """Start a section: on a new page unless most of a quarter page is left."""
        if self.room() < 0.25 * (TOP - BOTTOM):
            self._new()

    def text(self, lines: list[str]) -> None:
        """Lines that stay together when they fit on a page; else broken, never leaving
        fewer than EDGE_LINES on either side."""
        while lines:
            fits = int(self.room() / LINE + 1e-9)
            if len(lines) <= fits:
                self._put(lines)
                return
            if len(lines) <= PAGE_LINES or fits < EDGE_LINES:
                self._new()
                continue
            take = min(fits, len(lines) - EDGE_LINES)
            self._put(lines[:take])
            lines = lines[take:]
            self._new()

    def _page(self) -> Figure:
        if self.fig is None:
            self._new()
        assert self.fig is not None
        return self.fig

    def _put(self, lines: list[str]) -> None:
        self._page().text(LEFT, self.y, "\n".join(lines), va="top", ha="left",
                          family="monospace", fontsize=9, linespacing=1.2)
        self.y -= LINE * len(lines)

    def image(self, png: bytes) -> None:
        """A figure at the page's width (smaller when taller than a page, or down to
        MIN_SCALE of its size to fit the rest of this page), below the text."""
        img = imread(io.BytesIO(png), format="png")
        h_px, w_px = img.shape[:2]
        height = WIDTH * A4[0] * h_px / w_px / A4[1]
        width = WIDTH
        if height > TOP - BOTTOM:
            width, height = WIDTH * (TOP - BOTTOM) / height, TOP - BOTTOM
        if height > self.room() >= MIN_SCALE * height:      # shrink a little to fit the page
            width, height = width * self.room() / height, self.room()
        if height > self.room():
            self._new()
        ax = self._page().add_axes((LEFT, self.y - height, width, height))
        ax.imshow(img, interpolation="antialiased")
        ax.set_axis_off()
        self.y -= height + LINE


def _matplotlib_pdf(pdf: Path, sections: list[Section], title: str, meta: str) -> None:
    with PdfPages(pdf, metadata={"Title": title, "CreationDate": None}) as out:
        pages = _Pages(out)
        pages.text([title, meta, ""] + [f"{i}. {s.title} ({s.kind})"
                                        for i, s in enumerate(sections, 1)] + [""])
        for section in sections:
            pages.section()
            for block in _text_blocks(section):
                pages.text(block)
            for fig in section.figures:
                pages.image(fig.png)
        pages.close()
