"""``scrapsim report`` (issue 4): from real run and sweep folders to report.html and report.pdf.

The folders are made once per module by the CLI: Hebei and Guangdong to the end of April 2017,
national_2017 to the end of March (six regions, so the comparison aggregates), and a 3-point,
2-replication sweep of Hebei's intensity. The report must be self-contained, open in headless
Chromium (a non-blank screenshot), print to the expected pages, and plot exactly the tables'
numbers (the lines are read back from the Axes). Chromium-dependent checks skip only when no
Chromium is installed (CI installs Debian's ``chromium`` in ``.ci/run``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from scrapsim.report.build import build_report, build_sections, load_input
from scrapsim.report.figures import comparison_figure, curves_figure, timeline_figure
from scrapsim.report.pdf import browser, headless_args
from scrapsim.scenario import ScenarioError

REPO = Path(__file__).resolve().parents[1]
END = "end=2017-04-30"


def scrapsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "scrapsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    scn = REPO / "scenarios"
    out = {name: root / name for name in ("hebei", "guangdong", "national", "sweep", "report")}
    for name, end in (("hebei", END), ("guangdong", END), ("national", "end=2017-03-31")):
        yaml = scn / ("national_2017.yaml" if name == "national" else f"{name}.yaml")
        ok(scrapsim(str(yaml), "--set", end, "--out", str(out[name]), "--no-plot", "-q",
                    cwd=root))
    ok(scrapsim("sweep", str(scn / "hebei.yaml"), "--vary", "enforcement.intensity=0:1:3",
                "--reps", "2", "--set", END, "--workers", "1", "--no-plot",
                "--out", str(out["sweep"]), cwd=root))
    proc = ok(scrapsim("report", str(out["hebei"]), str(out["guangdong"]), str(out["sweep"]),
                       "--out", str(out["report"]), cwd=root))
    (root / "report-stdout.txt").write_text(proc.stdout)
    return out


@pytest.fixture(scope="module")
def html(folders: dict[str, Path]) -> str:
    return (folders["report"] / "report.html").read_text(encoding="utf-8")


def test_report_folder_holds_html_pdf_and_what_drew_the_pdf(folders: dict[str, Path]) -> None:
    report = folders["report"]
    assert sorted(p.name for p in report.iterdir()) == ["report.html", "report.json",
                                                        "report.pdf"]
    info = json.loads((report / "report.json").read_text())
    assert info["pdf_by"] == ("chromium" if browser() else "matplotlib")
    assert [i["kind"] for i in info["inputs"]] == ["run", "run", "sweep"]
    assert [i["label"] for i in info["inputs"]] == ["hebei", "guangdong", "hebei"]
    stdout = (report.parent / "report-stdout.txt").read_text()
    assert str(report / "report.pdf") in stdout
    assert not [p for p in report.parent.iterdir() if ".tmp-" in p.name]


def test_html_is_self_contained(html: str) -> None:
    for pattern in (r"https?:", r"src=\"http", r"href=\"http", r"url\(", r"<script",
                    r"<link", r"<iframe", r"@import", r"file:"):
        assert not re.search(pattern, html, re.I), pattern
    sources = re.findall(r"<img [^>]*src=\"([^\"]+)\"", html)
    # comparison, hebei (one region), guangdong (one region), sweep curves
    assert len(sources) == 4 == html.count("<img ")
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.findall(r'href="([^"]*)"', html) == ["#s1", "#s2", "#s3", "#s4"]


def test_html_has_descriptions_sources_and_headline_numbers(folders: dict[str, Path],
                                                            html: str) -> None:
    for name in ("hebei", "guangdong"):
        manifest = json.loads((folders[name] / "manifest.json").read_text())
        summary = json.loads((folders[name] / "summary.json").read_text())
        text = " ".join(manifest["resolved_scenario"]["description"].split())
        assert text.replace("'", "&#x27;") in html
        assert manifest["resolved_scenario"]["sources"][1].replace("'", "&#x27;") in html
        for key in ("collection_change", "smelting_change", "price_change"):
            assert f"<td>{100 * summary[key]:+.1f}%</td>" in html
        assert (f"{100 * summary['shut_share']:.1f}% ({summary['shut_count']} of "
                f"{summary['smelters_start']})") in html
    curves = pd.read_csv(folders["sweep"] / "curves.csv")
    last = curves.iloc[-1]
    assert (f"<td>{100 * last['smelting_change_mean']:+.1f}%<span class=\"band\">"
            f"[{100 * last['smelting_change_lo']:+.1f}, {100 * last['smelting_change_hi']:+.1f}]"
            "</span></td>") in html


def _chromium(*action: str) -> None:
    exe = browser()
    if exe is None:
        pytest.skip("no chromium on PATH (CI installs it in .ci/run)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(headless_args(exe, Path(profile)) + list(action),
                       capture_output=True, timeout=180, check=True)


def test_html_opens_in_headless_chromium_and_is_not_blank(folders: dict[str, Path],
                                                          tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    page = (folders["report"] / "report.html").as_uri()
    _chromium("--hide-scrollbars", "--window-size=1200,2400", f"--screenshot={shot}", page)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape == (2400, 1200, 3)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 200  # text, tables and a figure, not one flat colour
    ink = (pixels.sum(axis=2) < 600).mean()
    assert 0.01 < ink < 0.6


def test_pdf_has_a_page_per_section_at_least(folders: dict[str, Path]) -> None:
    from pypdf import PdfReader

    reader = PdfReader(folders["report"] / "report.pdf")
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    info = json.loads((folders["report"] / "report.json").read_text())
    if info["pdf_by"] == "chromium":  # each of the 4 sections starts a page; figures fit a page
        assert 4 <= len(reader.pages) <= 12
    else:  # contents page, then per section a text page and its figures
        assert len(reader.pages) == 1 + 4 + 4
    for word in ("Comparison of hebei, guangdong", "guangdong", "SWEEP", "collection change"):
        assert word in text


def test_pdf_without_chromium_is_drawn_by_matplotlib(folders: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader

    monkeypatch.setenv("PATH", str(tmp_path))  # no browser to find
    paths = build_report([folders["guangdong"], folders["sweep"]], tmp_path / "r", ("pdf",))
    assert [p.name for p in paths] == ["report.pdf", "report.json"]
    assert json.loads((tmp_path / "r" / "report.json").read_text())["pdf_by"] == "matplotlib"
    reader = PdfReader(paths[0])
    # contents, two sections of text and one figure each: flowed, not a page per block (5)
    assert len(reader.pages) < 1 + (1 + 1) + (1 + 1)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "RUN: " in text and "SWEEP: " in text
    assert not (tmp_path / "r" / "report.html").exists()


def _daily(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "daily.csv", parse_dates=["date"])


def _line(ax: object, gid: str | None = None, label: str | None = None) -> tuple:
    for line in ax.get_lines():  # type: ignore[attr-defined]
        if (gid is not None and line.get_gid() == gid) or \
                (label is not None and line.get_label() == label):
            x = mdates.num2date(mdates.date2num(line.get_xdata()))
            return np.array([d.date() for d in x], dtype="datetime64[D]"), line.get_ydata()
    raise AssertionError(f"no line {gid or label}")


def test_comparison_plots_the_daily_tables_on_shared_y(folders: dict[str, Path]) -> None:
    runs = [load_input(folders[n]) for n in ("hebei", "national")]
    fig = comparison_figure([(r.scenario["name"], r.daily, r.windows) for r in runs])
    axes = np.array(fig.axes).reshape(3, 2)
    for j, run in enumerate(runs):
        daily = _daily(run.folder)
        by_date = daily.groupby("date")
        expected = {"collected": by_date["collected"].sum(), "smelted": by_date["smelted"].sum(),
                    "scrap_price": by_date["scrap_price"].mean()}
        # different periods: each run on days since its own first campaign window
        first = min(np.datetime64(str(w[-2])) for w in run.windows)
        for i, column in enumerate(("collected", "smelted", "scrap_price")):
            line = next(x for x in axes[i, j].get_lines()
                        if x.get_gid() == f"{run.scenario['name']}:{column}")
            want = expected[column]
            since = (want.index.to_numpy().astype("datetime64[D]") - first).astype(int)
            np.testing.assert_array_equal(line.get_xdata(), since.astype(float))
            np.testing.assert_allclose(line.get_ydata(), want.to_numpy(), rtol=1e-12)
    assert "days since the scenario's first campaign window" in fig.get_suptitle()
    assert runs[1].daily["region"].nunique() == 6  # the national run really aggregates
    for i in range(3):
        assert axes[i, 0].get_ylim() == axes[i, 1].get_ylim()


def test_timeline_plots_the_region_rows(folders: dict[str, Path]) -> None:
    run = load_input(folders["national"])
    daily = _daily(folders["national"])
    rows = daily[daily["region"] == "guangdong"]
    fig = timeline_figure(run.daily, run.windows, "guangdong", "guangdong")
    for ax_index, label, column in ((0, "collected", "collected"), (1, "smelted", "smelted"),
                                    (3, "workshops", "running_workshop"),
                                    (4, "scrap", "scrap_price"),
                                    (6, "violations found", "violations")):
        days, values = _line(fig.axes[ax_index], label=label)
        assert np.array_equal(days, rows["date"].to_numpy().astype("datetime64[D]"))
        np.testing.assert_allclose(values, rows[column].to_numpy(), rtol=1e-12)
    bars = [p.get_height() for p in fig.axes[6].patches if p.get_width() == 1.0]
    np.testing.assert_allclose(bars, rows["inspections"].to_numpy())
    shaded = {p.get_gid() for ax in fig.axes for p in ax.patches if p.get_gid()}
    assert shaded == {"window:guangdong-inspection"} == {f"window:{n}" for n, regs, *_ in
                                                         run.windows if "guangdong" in regs}


def test_sweep_curves_plot_the_curves_table(folders: dict[str, Path]) -> None:
    sweep = load_input(folders["sweep"])
    curves = pd.read_csv(folders["sweep"] / "curves.csv")
    fig = curves_figure(sweep.curves)
    for ax, label, metric in ((fig.axes[0], "collected", "collection_change"),
                              (fig.axes[1], "smelted", "smelting_change"),
                              (fig.axes[2], "price pressure", "mean_price_pressure")):
        line = next(ln for ln in ax.get_lines() if ln.get_label() == label)
        np.testing.assert_allclose(line.get_xdata(), curves["enforcement.intensity"])
        np.testing.assert_allclose(line.get_ydata(), curves[f"{metric}_mean"])
    twin = fig.axes[3]  # scrap price change, right-hand axis: its zero level with the index's
    left, right = fig.axes[2].get_ylim(), twin.get_ylim()   # where that stretches neither
    below = [-lo / (hi - lo) for lo, hi in (left, right)]   # axis, else one zero line only
    zero_lines = [ln for ln in twin.get_lines() if ln.get_gid() == "zero line"]
    assert below[0] == pytest.approx(below[1]) or zero_lines == []


def test_sections_of_a_multi_region_run(folders: dict[str, Path]) -> None:
    (section,) = build_sections([load_input(folders["national"])])
    assert section.kind == "run"
    assert len(section.figures) == 1 + 6  # all regions, then each region
    header = section.tables[0].header
    assert header[:2] == ["", "all regions"] and len(header) == 2 + 6
    # each region over its own campaigns' windows, the whole over all of them: said, since the
    # whole is then no average of its regions (a new user read it as one)
    assert section.tables[0].caption.endswith("over the campaign windows (all regions: every "
                                              "window; a region: its own campaigns')")
    (single,) = build_sections([load_input(folders["hebei"])])
    assert single.tables[0].caption.endswith("over the campaign windows")


@pytest.mark.parametrize("make, message", [
    (lambda tmp: [tmp / "missing"], "missing: does not exist; expected a run folder"),
    (lambda tmp: [tmp], "is not a scrapsim result folder (it holds: notes.txt)"),
], ids=["missing", "not-a-result"])
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, make: object,
                                              message: str) -> None:
    (tmp_path / "notes.txt").write_text("not a result")
    dirs = make(tmp_path)  # type: ignore[operator]
    proc = scrapsim("report", *map(str, dirs), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("scrapsim: error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_bad_format_and_occupied_out_are_refused(folders: dict[str, Path],
                                                 tmp_path: Path) -> None:
    proc = scrapsim("report", str(folders["hebei"]), "--format", "docx", cwd=tmp_path)
    assert proc.returncode == 2 and "--format: unknown report format 'docx'" in proc.stderr
    assert "did you mean" not in proc.stderr
    with pytest.raises(ScenarioError, match=r"unknown report format 'htm' \(did you mean "
                       r"'html'\?\); expected html, pdf or html,pdf"):
        build_report([folders["hebei"]], tmp_path / "r", "htm")
    with pytest.raises(ScenarioError, match="not a scrapsim report; not overwriting"):
        build_report([folders["hebei"]], folders["guangdong"])
    assert (folders["guangdong"] / "daily.csv").is_file()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ScenarioError, match="is given twice"):   # a run against itself
        build_report([folders["hebei"], folders["hebei"] / "."], tmp_path / "twice")
    assert list(tmp_path.iterdir()) == []


def test_report_help_imports_nothing_heavy(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "scrapsim", "report",
                           "--help"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: scrapsim report")
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    assert "scrapsim.cli.report" in imported
    for heavy in ("pandas", "matplotlib", "numpy", "scrapsim.report.build"):
        assert heavy not in imported


def test_run_without_baseline_and_lhs_sweep(folders: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    bare = tmp_path / "bare"
    ok(scrapsim(str(REPO / "scenarios" / "hebei.yaml"), "--no-baseline", "--no-plot", "-q",
                "--out", str(bare), cwd=tmp_path))
    assert not (bare / "summary.json").exists()
    damaged = tmp_path / "damaged"                 # a run whose summary.json was lost
    shutil.copytree(folders["hebei"], damaged)
    (damaged / "summary.json").unlink()
    with pytest.raises(ScenarioError, match=r"damaged: is a damaged run folder \(summary.json "
                       r"is gone\)"):              # not "changed": it is not there
        load_input(damaged)
    slim = tmp_path / "slim"                        # its figure deleted: the report needs none
    ok(scrapsim(str(REPO / "scenarios" / "hebei.yaml"), "--set", "end=2017-03-31", "-q",
                "--out", str(slim), cwd=tmp_path))
    assert "timeseries.png" in json.loads((slim / "manifest.json").read_text())["digests"]
    (slim / "timeseries.png").unlink()
    assert load_input(slim).summary is not None
    (slim / "events.csv").unlink()
    (slim / "daily.csv").write_text((slim / "daily.csv").read_text() + "\n")
    with pytest.raises(ScenarioError, match=r"slim: is a damaged run folder \(daily.csv changed "
                       r"since it was written; events.csv is gone\)"):
        load_input(slim)
    ok(scrapsim("sweep", str(REPO / "scenarios" / "hebei.yaml"), "--design", "lhs",
                "--samples", "3", "--vary", "enforcement.intensity=0..2",
                "--vary", "campaigns.0.teams=5..20", "--reps", "2", "--set", "end=2017-03-31",
                "--workers", "1", "--no-plot", "--out", str(tmp_path / "lhs"), cwd=tmp_path))
    inputs = [load_input(bare), load_input(tmp_path / "lhs")]
    run, sweep = build_sections(inputs)
    assert run.tables == [] and "no baseline" in run.paragraphs[-1]
    supply = sweep.figures[0].figure.axes[0]  # points with error bars, one entry per metric
    assert supply.get_legend_handles_labels()[1] == ["collected", "offered (supply)"]
    assert len(sweep.tables[0].rows) == 3
    paths = build_report([bare, tmp_path / "lhs"], tmp_path / "r", "html")
    assert [p.name for p in paths] == ["report.html", "report.json"]


class _Collect:
    """Stands in for PdfPages: keeps the pages instead of writing them."""

    def __init__(self) -> None:
        self.pages: list = []

    def savefig(self, fig: object) -> None:
        self.pages.append(fig)


def _lines_per_page(pages: list) -> list[int]:
    return [sum(len(t.get_text().split("\n")) for t in fig.texts) for fig in pages]


def test_pdf_flow_moves_a_table_whole_rather_than_leave_an_orphan_row() -> None:
    from scrapsim.report.pdf import PAGE_LINES, _Pages

    out = _Collect()
    pages = _Pages(out)  # type: ignore[arg-type]
    pages.text([f"para {i}" for i in range(PAGE_LINES - 5)])
    pages.text([f"row {i}" for i in range(12)])         # 5 lines left: the table moves whole
    pages.close()
    assert _lines_per_page(out.pages) == [PAGE_LINES - 5, 12]


def test_pdf_flow_breaks_a_long_table_leaving_at_least_three_rows() -> None:
    from scrapsim.report.pdf import EDGE_LINES, PAGE_LINES, _Pages

    out = _Collect()
    pages = _Pages(out)  # type: ignore[arg-type]
    pages.text([f"para {i}" for i in range(10)])
    pages.text([f"row {i}" for i in range(PAGE_LINES - 8)])   # longer than the 10 lines' rest
    pages.close()
    counts = _lines_per_page(out.pages)
    assert sum(counts) == 10 + PAGE_LINES - 8 and len(counts) == 2
    assert counts[1] >= EDGE_LINES and counts[0] <= PAGE_LINES


def test_pdf_flow_puts_a_figure_under_the_text_when_it_fits(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    from scrapsim.report.figures import png_bytes
    from scrapsim.report.pdf import _Pages

    fig = Figure(figsize=(6.4, 3.0))
    fig.add_subplot().plot([0, 1], [0, 1])
    out = _Collect()
    pages = _Pages(out)  # type: ignore[arg-type]
    pages.text(["a short section"] * 5)
    pages.image(png_bytes(fig))
    pages.image(png_bytes(fig))
    pages.close()
    assert len(out.pages) == 1 and len(out.pages[0].axes) == 2


def test_html_print_layout_keeps_short_tables_whole_and_no_forced_page_breaks() -> None:
    from scrapsim.report.page import CSS, EDGE_ROWS, KEEP_ROWS, TableBlock, _table

    assert "break-before: page" not in CSS
    short = _table(TableBlock("short", ["a"], [[str(i)] for i in range(KEEP_ROWS)]))
    assert short.startswith('<table class="keep">')
    long = _table(TableBlock("long", ["a"], [[str(i)] for i in range(KEEP_ROWS + 10)]))
    edges = long.split('<tbody class="edge">')[1:]
    assert len(edges) == 2 and all(e.split("</tbody>")[0].count("<tr>") == EDGE_ROWS
                                   for e in edges)
    assert long.count("<tr>") == KEEP_ROWS + 10 + 1


@pytest.mark.parametrize(("reps", "text"), [(1, "4 points × 1 replication"),
                                            (3, "4 points × 3 replications")])
def test_a_sweeps_design_counts_its_replications_in_words(reps: int, text: str) -> None:
    from scrapsim.report.sweep import _design_facts

    facts = dict(_design_facts({"design": {"kind": "grid", "points": 4}, "reps": reps}))
    assert facts["design"] == f"grid, {text}"


def test_build_report_takes_one_folder_as_a_string(folders: dict[str, Path],
                                                   tmp_path: Path) -> None:
    """Not as the list of its characters ('e: is given twice')."""
    paths = build_report(str(folders["hebei"]), tmp_path / "one", "html")
    assert [p.name for p in paths] == ["report.html", "report.json"]
    again = build_report(folders["hebei"], tmp_path / "path", "html")
    # the same report but for the minute it was made (the two may straddle a minute)
    made = re.compile(rb"made \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert made.search(paths[0].read_bytes())
    assert made.sub(b"", again[0].read_bytes()) == made.sub(b"", paths[0].read_bytes())


def test_a_report_replaced_with_fewer_formats_says_what_is_gone(folders: dict[str, Path],
                                                                tmp_path: Path,
                                                                capsys: pytest.CaptureFixture
                                                                ) -> None:
    """The folder is replaced whole, as documented; the PDF went without a word."""
    from scrapsim.cli.main import main

    out = tmp_path / "rep"
    assert main(["report", str(folders["hebei"]), "--out", str(out), "--format", "html,pdf",
                 "-q"]) == 0
    assert (out / "report.pdf").is_file()
    capsys.readouterr()
    assert main(["report", str(folders["hebei"]), "--out", str(out), "--format", "html",
                 "-q"]) == 0
    assert not (out / "report.pdf").exists()
    assert f"replaced the earlier report in {out}: its report.pdf (not asked for this time) " \
        "is gone" in capsys.readouterr().err
    assert main(["report", str(folders["hebei"]), "--out", str(out), "--format", "html",
                 "-q"]) == 0
    assert "replaced" not in capsys.readouterr().err        # nothing gone this time
