"""``scrapsim report``: the command-line face of :func:`scrapsim.report.build.build_report`.

``add_parser`` only declares options (argparse, nothing heavy); ``main`` imports the report
machinery (pandas, matplotlib) when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "main"]

EPILOG = """\
Each DIR is a run folder (from 'scrapsim SCENARIO --out DIR': daily.csv, manifest.json, ...),
a sweep folder (from 'scrapsim sweep ...': curves.csv, runs.csv, manifest.json, scenario.yaml)
or a sensitivity folder (from 'scrapsim sensitivity ...': indices.csv, samples.csv, ...).
With two or more run folders the report starts with a side-by-side comparison.

Writes into --out (default results/report-<UTC time>/): report.html (self-contained: figures
embedded, no network), report.pdf (printed by headless Chromium if 'chromium' is on PATH, else
drawn by matplotlib) and report.json (inputs, files, what drew the PDF).
Exit status: 0 ok; 2 bad input (a folder missing or not a scrapsim result, a bad --format).
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``report`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "report", help="turn result folders into report.html and report.pdf",
        description="Write a self-contained HTML report (and its PDF) from result folders "
        "(runs, sweeps, sensitivity analyses, calibrations, explorations and their discover "
        "and robust analyses): each scenario's description and sources, headline table, "
        "timelines per region with the campaign windows shaded, sweep curves with their "
        "bands, and each analysis's tables and figures.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dirs", type=Path, nargs="+", metavar="DIR",
                   help="run, sweep, sensitivity, calibration, explore, discover or robust "
                        "folder")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report folder (an earlier report of the same folders there, unchanged "
                        "since, is replaced)")
    p.add_argument("--format", default="html,pdf", metavar="LIST",
                   help="comma-separated: html, pdf (default html,pdf)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")


def main(args: argparse.Namespace) -> int:
    """Build the report; print the files written and what drew the PDF. Returns 0."""
    import json

    from scrapsim.report.build import build_report, default_out

    start = time.perf_counter()
    out = args.out if args.out is not None else default_out()
    before = {p.name for p in out.glob("report.*")} if out.is_dir() else set()
    paths = build_report(list(args.dirs), out, args.format)
    gone = sorted(before - {p.name for p in out.iterdir()})
    if gone:        # the earlier report was replaced whole: say what of it is not there now
        print(f"replaced the earlier report in {out}: its {', '.join(gone)} (not asked for "
              "this time) is gone", file=sys.stderr)
    if not args.quiet:
        info = json.loads((out / "report.json").read_text(encoding="utf-8"))
        for path in paths:
            note = f"  (drawn by {info['pdf_by']})" if path.name == "report.pdf" else ""
            print(f"{path}{note}")
        print(f"report of {len(args.dirs)} folder(s) in {time.perf_counter() - start:.1f} s")
    return 0
