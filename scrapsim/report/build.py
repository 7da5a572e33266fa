"""``scrapsim report``: turn result folders (told apart by their manifest's ``kind``) into one
self-contained HTML file and a PDF. Inputs:

- a **run folder** (``python -m scrapsim SCENARIO --out DIR``) has ``daily.csv`` and
  ``manifest.json`` (with the resolved scenario under ``"resolved_scenario"``), and
  ``summary.json`` when the run had its intensity-0 baseline;
- a **sweep folder** (``python -m scrapsim sweep …``) has ``curves.csv``, ``runs.csv``,
  ``manifest.json`` and ``scenario.yaml``;
- a **sensitivity folder** (``python -m scrapsim sensitivity …``) has ``indices.csv``,
  ``samples.csv`` and ``manifest.json``; its section (:mod:`scrapsim.report.sensitivity`) shows
  the ranges varied, the indices with their 95% intervals and their bar chart;
- a **calibration folder** (``scrapsim calibrate …``) has ``parameters.csv``, ``fit.csv``,
  ``history.csv`` and ``manifest.json``; its section (:mod:`scrapsim.report.calibration`): the
  fitted values with their intervals, the fit against each target with its source, the figure.

The report holds, per input, the scenario's description and sources, a headline table (changes
over the campaign windows against the baseline, shut and closed shares, recovery) and timelines
per region with the campaign windows shaded (runs), or the supply, smelting-demand and
price-pressure curves with their 95% bands and their table (sweeps). With two or more runs, a
comparison comes first: headline figures in one table, and collection, smelting and scrap price
side by side on shared y axes.

``report.pdf``: the HTML printed by headless Chromium (``chromium`` on ``PATH``), else drawn by
matplotlib (:mod:`scrapsim.report.pdf`). Written as a hidden sibling, renamed when complete."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from scrapsim.errors import ScenarioError
from scrapsim.report.calibration import (
    CalibrationInput,
    calibration_section,
    load_calibration_input,
)
from scrapsim.report.discovery import (
    DiscoverInput,
    ExploreInput,
    discovery_section,
    load_discover,
    load_explore,
    load_robust,
)
from scrapsim.report.page import FigureBlock, Section, TableBlock, render_html
from scrapsim.report.readers import culprit, damaged, kind_of, read_csv, read_json, windows_of
from scrapsim.report.sensitivity import SensitivityInput, load_sensitivity, sensitivity_section
from scrapsim.results import folders
from scrapsim.results.identity import digest, package_version
from scrapsim.results.manifest import header, utc_now
from scrapsim.results.run_folder import RESULTS_ROOT

__all__ = ["FORMATS", "RunInput", "SweepInput", "build_report", "build_sections",
           "default_out", "load_input", "parse_formats"]

FORMATS = ("html", "pdf")
EXPECTED = ("a run folder (daily.csv, manifest.json), a sweep folder (curves.csv, runs.csv, "
            "manifest.json, scenario.yaml), a sensitivity folder (indices.csv, samples.csv, "
            "manifest.json), a calibration folder (parameters.csv, fit.csv, history.csv, "
            "manifest.json) or an explore, discover or robust folder")


@dataclass
class RunInput:
    """A run folder: its manifest, resolved scenario (dict), summary (None: no baseline), daily
    table (pandas, ``date`` parsed) and campaign windows ``(name, regions, start, end)``."""

    folder: Path
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    summary: dict[str, Any] | None
    daily: Any
    windows: list[tuple[str, list[str], date, date]]
    label: str = ""
    baseline: Any = None
    """The intensity-0 twin's daily table (``baseline_daily.csv``), None if the folder has none."""


@dataclass
class SweepInput:
    """A sweep folder: its manifest, scenario (dict from scenario.yaml) and curves table."""

    folder: Path
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    curves: Any
    label: str = ""


# ---------------------------------------------------------------- reading inputs

def _load_run(folder: Path) -> RunInput:
    manifest = read_json(folder / "manifest.json")
    scenario = manifest.get("resolved_scenario", manifest.get("scenario"))
    if not isinstance(scenario, dict) or "start" not in scenario:
        raise ScenarioError("has no resolved scenario", file=str(folder / "manifest.json"),
                            path="scenario", expected="the manifest of a scrapsim run")
    summary = (read_json(folder / "summary.json") if (folder / "summary.json").is_file()
               else None)
    rows = manifest.get("rows", {})
    daily = read_csv(folder / "daily.csv", rows=rows.get("daily") if isinstance(rows, dict)
                     else None, parse_dates=["date"])
    if "date" not in daily.columns or "region" not in daily.columns:
        raise ScenarioError("has no date and region columns", file=str(folder / "daily.csv"),
                            expected="the daily table of a scrapsim run")
    twin = folder / "baseline_daily.csv"
    baseline = read_csv(twin, parse_dates=["date"]) if twin.is_file() else None
    return RunInput(folder, manifest, scenario, summary, daily, windows_of(scenario),
                    baseline=baseline)


def _load_sweep(folder: Path) -> SweepInput:
    import yaml

    manifest = read_json(folder / "manifest.json")
    try:
        scenario = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read ({exc})", file=str(folder / "scenario.yaml"),
                            expected="the scenario written by scrapsim sweep") from None
    design = manifest.get("design")
    curves = read_csv(folder / "curves.csv", rows=design.get("points")
                      if isinstance(design, dict) else None)
    if "point" not in curves.columns or "n_ok" not in curves.columns:
        raise ScenarioError("has no point and n_ok columns", file=str(folder / "curves.csv"),
                            expected="the curves table of a scrapsim sweep")
    return SweepInput(folder, manifest, scenario if isinstance(scenario, dict) else {}, curves)


def load_input(folder: Path) -> RunInput | SweepInput | SensitivityInput | CalibrationInput:
    """Read a run, sweep, sensitivity or calibration folder (told by its files; refused when
    they are not as its manifest's digests say)."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise ScenarioError(f"{what}; expected {EXPECTED}", file=str(folder))
    kind = kind_of(folder)
    loader = LOADERS.get(kind or "")
    if loader is not None:
        if (folder / folders.MANIFEST).is_file() and (why := folders.damage(
                folder, read_json(folder / folders.MANIFEST), figures_may_go=True)):
            raise ScenarioError(f"is a damaged {kind} folder ({why})", file=str(folder),
                                expected=f"the {kind} folder as scrapsim wrote it")
        try:
            return loader(folder)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            if isinstance(exc, ScenarioError):
                raise
            raise damaged(folder, kind, exc) from None
    if kind is not None:
        raise ScenarioError(f"is a {kind} folder, which has no report section; expected "
                            f"{EXPECTED}", file=str(folder))
    names = sorted(p.name for p in folder.iterdir())
    have = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "") if names else "nothing"
    raise ScenarioError(f"is not a scrapsim result folder (it holds: {have}); expected "
                        f"{EXPECTED}", file=str(folder))


Input = RunInput | SweepInput | SensitivityInput | CalibrationInput
"""What a result folder reads as."""


LOADERS: dict[str, Any] = {"run": _load_run, "sweep": _load_sweep,
                           "sensitivity": load_sensitivity, "calibration": load_calibration_input,
                           "explore": load_explore, "discover": load_discover,
                           "robust": load_robust}
"""How each kind of result folder (its manifest's ``kind``) is read."""


def _label(inputs: Sequence[Input]) -> None:
    """Each input's label: its scenario name, plus the folder name where two inputs of the same
    kind (run or sweep) share a name."""
    keys = [(type(i).__name__, str(i.scenario.get("name") or i.folder.name)) for i in inputs]
    for item, key in zip(inputs, keys, strict=True):
        item.label = key[1] if keys.count(key) == 1 else f"{key[1]} ({item.folder.name})"


# ---------------------------------------------------------------- sections

def _pct(x: Any, sign: bool = True) -> str:
    if x is None:
        return "n/a"
    return f"{100 * float(x):+.1f}%" if sign else f"{100 * float(x):.1f}%"


def _recovery(days: Any) -> str:
    if days is None:
        return "not within the run"
    return f"{int(days)} day" + ("" if int(days) == 1 else "s")


HEADLINE = (
    ("collection change", lambda s: _pct(s.get("collection_change"))),
    ("smelting change", lambda s: _pct(s.get("smelting_change"))),
    ("scrap price change", lambda s: _pct(s.get("price_change"))),
    ("smelters shut at peak", lambda s: f"{_pct(s.get('shut_share'), False)} "
     f"({s.get('shut_count')} of {s.get('smelters_start')})"),
    ("closed at the end", lambda s: _pct(s.get("closed_share"), False)),
    ("recovery after the last window", lambda s: _recovery(s.get("recovery_days"))),
)
"""Headline rows: label and how to format it from a summary (or a region's part of it)."""


def headline_table(run: RunInput) -> TableBlock | None:
    """The run's headline figures, all regions and (with several) each region over its own
    campaigns' windows (so the whole is no average of its regions); None without a summary."""
    s = run.summary
    if s is None:
        return None
    regions = list((s.get("regions") or {}).items())
    parts = [("all regions", s)] + (regions if len(regions) > 1 else [])
    rows = [[label] + [fmt(part) for _, part in parts] for label, fmt in HEADLINE]
    how = " (all regions: every window; a region: its own campaigns')" if regions[1:] else ""
    return TableBlock("Against the same run without enforcement (same seed), over the campaign "
                      f"windows{how}", [""] + [name for name, _ in parts], rows)


def _scenario_text(section: Section, scenario: dict[str, Any]) -> None:
    if scenario.get("description"):
        section.paragraphs.append(" ".join(str(scenario["description"]).split()))
    section.sources = [" ".join(str(x).split()) for x in scenario.get("sources") or []]


def run_section(run: RunInput) -> Section:
    """A run: scenario, headline table, timelines (all regions, then each region)."""
    sc, m = run.scenario, run.manifest
    section = Section(run.label, "run")
    _scenario_text(section, sc)
    regions = [str(r) for r in dict.fromkeys(run.daily["region"].astype(str))]
    section.facts = [("period", f"{sc['start']} to {sc['end']} ({m.get('days', '?')} days)"),
                     ("seed", str(m.get("seed"))),
                     ("enforcement intensity", f"{sc.get('enforcement', {}).get('intensity')}"),
                     ("regions", ", ".join(regions)),
                     ("campaigns", "; ".join(f"{n} ({', '.join(r)}): {a} to {b}"
                                             for n, r, a, b in run.windows) or "none"),
                     ("folder", str(run.folder))]
    table = headline_table(run)
    if table is None:
        section.paragraphs.append("This run has no baseline (run with --no-baseline), so there "
                                  "is no headline table.")
    else:
        section.tables.append(table)
    from scrapsim.report.figures import timeline_figure

    for region in ([None] if len(regions) > 1 else []) + regions:
        where = "all regions (flows and counts summed, prices averaged)" if region is None \
            else f"region {region}"
        fig = timeline_figure(run.daily, run.windows, region, f"{run.label} · {where}",
                              baseline=run.baseline)
        twin = "; grey dashed: the same seed without enforcement" if run.baseline is not None \
            else ""
        section.figures.append(FigureBlock(
            f"{run.label}, {where}: collection, smelting, smelters by state and class, prices, "
            f"price pressure and inspections per day; shaded: campaign windows{twin}.", fig))
    return section


def comparison_section(runs: list[RunInput]) -> Section:
    """Several runs: their headline figures in one table, and the side-by-side figure."""
    from scrapsim.report.figures import comparison_figure

    section = Section("Comparison of " + ", ".join(r.label for r in runs), "comparison")
    section.paragraphs.append("All regions of each run together. Panels in a row share their "
                              "y axis; shaded: each scenario's campaign windows.")
    with_summary = [r for r in runs if r.summary is not None]
    if with_summary:
        rows = [[label] + [fmt(r.summary) for r in with_summary] for label, fmt in HEADLINE]
        section.tables.append(TableBlock("Headline figures, against each run without "
                                         "enforcement", [""] + [r.label for r in with_summary],
                                         rows))
    fig = comparison_figure([(r.label, r.daily, r.windows) for r in runs])
    section.figures.append(FigureBlock("Scrap collected and smelted (t/day) and scrap price "
                                       "(CNY/t), scenarios side by side.", fig))
    return section


def build_sections(inputs: Sequence[Input]) -> list[Section]:
    """The report's sections: a comparison when there are two or more runs, then each input."""
    from scrapsim.report.sweep import sweep_section

    runs = [i for i in inputs if isinstance(i, RunInput)]
    sections = [comparison_section(runs)] if len(runs) > 1 else []
    for item in inputs:
        if isinstance(item, SensitivityInput):
            sections.append(sensitivity_section(item))
        elif isinstance(item, CalibrationInput):
            sections.append(calibration_section(item))
        elif isinstance(item, (ExploreInput, DiscoverInput)):
            sections.append(discovery_section(item))
        else:
            sections.append(run_section(item) if isinstance(item, RunInput) else
                            sweep_section(item))
    return sections


# ---------------------------------------------------------------- writing

def parse_formats(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``"html,pdf"`` (or a sequence) → a tuple of known formats, in the order given."""
    items = text.split(",") if isinstance(text, str) else list(text)
    wanted = tuple(dict.fromkeys(f.strip().lower() for f in items if f.strip()))
    bad = [f for f in wanted if f not in FORMATS]
    hint = get_close_matches(bad[0], FORMATS, n=1) if bad else []
    if bad or not wanted:
        raise ScenarioError(f"unknown report format {','.join(items)!r}" + (
            f" (did you mean {hint[0]!r}?)" if hint else "") + "; expected html, pdf or "
            "html,pdf", file="--format")
    return wanted


def default_out(results_root: Path = RESULTS_ROOT) -> Path:
    """``results/report-<UTC time>``: a new folder per report."""
    return Path(results_root) / f"report-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def _listed(inputs: list[Any]) -> list[dict[str, Any]]:
    """The inputs as the report's manifest lists them (their digest is the report's id)."""
    return [{"folder": str(i.folder), "kind": _kind(i), "label": i.label,
             "id": i.manifest.get("id")} for i in inputs]


def build_report(dirs: Sequence[str | Path] | str | Path, out: Path | None = None,
                 formats: tuple[str, ...] | list[str] | str = FORMATS) -> list[Path]:
    """Read the result folders ``dirs`` (one, or a list), write ``report.html`` and/or
    ``report.pdf`` into ``out``; return the files. Bad input raises ScenarioError first."""
    given = [dirs] if isinstance(dirs, str | Path) else list(dirs)   # a folder, not its letters
    formats = parse_formats(formats)
    if not given:
        raise ScenarioError(f"no result folders given; expected {EXPECTED}", file="DIR")
    seen = [Path(d).resolve() for d in given]
    twice = next((d for i, d in enumerate(given) if seen[i] in seen[:i]), None)
    if twice is not None:       # a run compared with itself says nothing
        raise ScenarioError("is given twice", file=str(twice), expected="each folder once")
    inputs = [load_input(Path(d)) for d in given]
    _label(inputs)
    out = Path(out) if out is not None else default_out()
    replace = folders.check_replace(out, "report", digest(_listed(inputs)),
                                    manifest_name="report.json")
    try:
        sections = build_sections(inputs)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise exc if isinstance(exc, ScenarioError) else \
            damaged(culprit(inputs, build_sections), None, exc) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    folders.clean_stale(out)
    tmp = folders.work_path(out)
    try:
        tmp.mkdir()
        names = _write(sections, inputs, tmp, formats)
        folders.publish(tmp, out, replace=replace)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in names]


def _write(sections: list[Section], inputs: list[Any], folder: Path,
           formats: tuple[str, ...]) -> list[str]:
    from scrapsim.report.pdf import write_pdf

    now = utc_now()
    title = "scrapsim report: " + ", ".join(
        i.label + ({SweepInput: " sweep", SensitivityInput: " sensitivity",
                    CalibrationInput: " calibration"}.get(type(i), "") or
                   (f" {i.kind}" if isinstance(i, (ExploreInput, DiscoverInput)) else ""))
        for i in inputs)
    meta = (f"{len(inputs)} result folder{'s' if len(inputs) > 1 else ''} · made "
            f"{now:%Y-%m-%d %H:%M} UTC by scrapsim {package_version()}")
    footer = ("Simulated with scrapsim, a model of China's scrap-aluminium market under "
              "environmental inspections. Figures are model output, not observations; see each "
              "scenario's sources and its marked assumptions.")
    html = render_html(title, meta, sections, footer)
    (folder / "report.html").write_text(html, encoding="utf-8")
    written = ["report.html"] if "html" in formats else []
    if "pdf" in formats:
        pdf_by = write_pdf(folder / "report.html", folder / "report.pdf", sections, title, meta)
        written.append("report.pdf")
    else:
        pdf_by = None
    if "html" not in formats:
        (folder / "report.html").unlink()
    listed = _listed(inputs)
    head = header("report", digest(listed), scenario=None, seeds=[], engine=None, started=now)
    folders.write_json(folder / "report.json", head | {"inputs": listed, "files": written,
                                                      "digests": folders.digests(folder,
                                                                                 written),
                                                      "pdf_by": pdf_by})
    return written + ["report.json"]


def _kind(item: Any) -> str:
    if isinstance(item, (ExploreInput, DiscoverInput)):
        return item.kind
    return {RunInput: "run", SweepInput: "sweep", SensitivityInput: "sensitivity",
            CalibrationInput: "calibration"}[type(item)]
