"""``report.pdf``: the HTML report printed by headless Chromium, or drawn by matplotlib.

With ``chromium`` (or ``chromium-browser``, ``google-chrome``) on ``PATH`` the PDF is exactly
the HTML report printed (A4, no browser header or footer). Without one — or if it fails — the
same sections are drawn with matplotlib's ``PdfPages``: a text page per section (facts, sources,
tables) followed by its figures, one per page.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from scrapsim.report.page import Section

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
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return pdf.is_file() and pdf.stat().st_size > 0


def write_pdf(html: Path, pdf: Path, sections: list[Section], title: str, meta: str) -> str:
    """Write ``pdf``; returns what drew it (``"chromium"`` or ``"matplotlib"``)."""
    exe = browser()
    if exe is not None and _chromium_pdf(exe, html, pdf):
        return "chromium"
    pdf.unlink(missing_ok=True)
    _matplotlib_pdf(pdf, sections, title, meta)
    return "matplotlib"


def _text_lines(section: Section) -> list[str]:
    wrap = textwrap.TextWrapper(width=92, subsequent_indent="    ")
    lines = [f"{section.kind.upper()}: {section.title}", ""]
    for p in section.paragraphs:
        lines += wrap.wrap(p) + [""]
    lines += [line for k, v in section.facts for line in wrap.wrap(f"{k}: {v}")]
    if section.sources:
        lines += ["", "Sources:"] + [x for s in section.sources for x in wrap.wrap("- " + s)]
    for t in section.tables:
        rows = [[str(c).split("\n")[0] for c in r] for r in [t.header, *t.rows]]
        widths = [max(len(r[i]) for r in rows) for i in range(len(t.header))]
        banded = any("\n" in str(c) for r in t.rows for c in r)  # too wide for the page
        note = " (95% bands: in the HTML report)" if banded else ""
        lines += [""] + wrap.wrap(t.caption + note)
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return lines


PAGE_LINES = 66
"""Lines of 9-point monospace text on an A4 page (92 columns fit its width)."""


def _text_pages(lines: list[str]) -> list[Figure]:
    """A4 pages of ``lines``, as many as they need."""
    pages = []
    for start in range(0, max(len(lines), 1), PAGE_LINES):
        fig = Figure(figsize=(8.27, 11.69))
        fig.text(0.06, 0.96, "\n".join(lines[start:start + PAGE_LINES]), va="top", ha="left",
                 family="monospace", fontsize=9)
        pages.append(fig)
    return pages


def _matplotlib_pdf(pdf: Path, sections: list[Section], title: str, meta: str) -> None:
    with PdfPages(pdf, metadata={"Title": title, "CreationDate": None}) as pages:
        contents = [title, meta, ""] + [f"{i}. {s.title} ({s.kind})"
                                         for i, s in enumerate(sections, 1)]
        for page in _text_pages(contents):
            pages.savefig(page)
        for section in sections:
            for page in _text_pages(_text_lines(section)):
                pages.savefig(page)
            for block in section.figures:
                pages.savefig(block.figure)
