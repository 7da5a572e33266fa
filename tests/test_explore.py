"""Exploration (issue 13): a known box found by PRIM and CART through the engine, study files'
errors with file and line, a killed exploration resuming to the same bytes, robustness on a
hand-made table.

The model runs use Hebei cut to January-March 2017, so a run with its baseline is a few
hundredths of a second.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scrapsim.errors import ParamsError, ScenarioError
from scrapsim.experiments.exploration.discover import discover
from scrapsim.experiments.exploration.explore import ExploreResult, explore
from scrapsim.experiments.exploration.robust import robust

pytest.importorskip("ema_workbench")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]
HEBEI = ROOT / "scenarios" / "hebei.yaml"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                os.environ.get("PYTHONPATH")]))}
UNIT = "scrapsim.experiments.exploration.explore:unit_box"
X1, X2 = "seasonality.summer_trough", "seasonality.autumn_peak"
SQUARE = {"uncertainties": {X1: {"low": 0.0, "high": 1.0, "source": "the unit square"},
                            X2: {"low": 0.0, "high": 1.0, "source": "the unit square"}},
          "metrics": ["in_box"], "design": {"sampler": "lhs", "samples": 600, "reps": 1}}
STUDY = """\
description: two policies on short Hebei runs
levers:
  campaigns.0.targets.traders: {spared: 0.0, targeted: 1.0}     # named values
uncertainties:
  regions.hebei.traders.risk_tolerance: {low: 0.4, high: 0.9, source: "test range"}
  campaigns.0.halt_share: {low: 0.5, high: 1.0, source: "test range"}
metrics: [price_change, smelting_change, collection_change]
design: {sampler: lhs, samples: 8, reps: 3}
"""
RUNS = 2 * 8 * 3


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapsim", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def square(tmp_path_factory: pytest.TempPathFactory) -> ExploreResult:
    out = tmp_path_factory.mktemp("square") / "explore"
    return explore(HEBEI, SQUARE, workers=1, out=out, quiet=True, run_fn=UNIT)


def test_prim_finds_the_known_box(square: ExploreResult, tmp_path: Path) -> None:
    """in_box is 1 exactly where x1 > 0.6 and x2 < 0.3: the chosen box restricts those two
    inputs, at those ends, to within 0.05, and reports coverage, density and quasi-p."""
    assert len(square.runs) == 600 and set(square.runs["status"]) == {"ok"}
    res = discover(square.folder, "in_box", above=0.5, out=tmp_path / "d")
    box = res.box.set_index("input")
    assert set(box.index) == {X1, X2}
    assert abs(box.at[X1, "lower"] - 0.6) < 0.05 and box.at[X1, "upper"] == box.at[X1, "maximum"]
    assert abs(box.at[X2, "upper"] - 0.3) < 0.05 and box.at[X2, "lower"] == box.at[X2, "minimum"]
    assert box.at[X1, "qp_lower"] < 1e-6 and box.at[X2, "qp_upper"] < 1e-6
    assert res.manifest["density"] > 0.9 and res.manifest["coverage"] > 0.9
    assert f"{X1} ≥" in res.rules and f"{X2} ≤" in res.rules
    traj = pd.read_csv(res.folder / "trajectory.csv")
    assert traj["coverage"].iloc[0] == 1.0 and traj["density"].is_monotonic_increasing
    for name in ("boxes.csv", "tree.txt", "figures/peeling.png", "figures/box.svg"):
        assert (res.folder / name).is_file() and name in res.manifest["files"]
    whole = discover(square.folder, "in_box", above=0.5, box=0, out=tmp_path / "d0")
    assert whole.rules.startswith("in_box > 0.5 when anywhere in the sampled ranges (the box "
                                  "restricts no input)")       # not "no box found": it was asked
    said = _cli("discover", str(square.folder), "--metric", "in_box", "--above", "0.5",
                "--out", str(tmp_path / "d"), cwd=tmp_path)
    assert said.returncode == 0, said.stderr
    assert f"box {res.chosen} of boxes 0-{len(res.trajectory) - 1} on the peeling trajectory " \
        "(box 0 holds every case)" in said.stdout


def test_cart_splits_on_the_box_inputs(square: ExploreResult, tmp_path: Path) -> None:
    res = discover(square.folder, "in_box", above=0.5, out=tmp_path / "d", figures=False)
    t = res.classifier.tree_
    inner = t.children_left != -1
    names = res.manifest["inputs"]
    split = {names[f]: thr for f, thr in zip(t.feature[inner], t.threshold[inner],
                                             strict=True)}
    assert set(split) == {X1, X2}, split
    assert abs(split[X1] - 0.6) < 0.05 and abs(split[X2] - 0.3) < 0.05
    assert f"{X1} >" in res.tree and f"{X2} <=" in res.tree


def test_discover_refuses_an_outcome_no_case_has(square: ExploreResult,
                                                 tmp_path: Path) -> None:
    proc = _cli("discover", str(square.folder), "--metric", "in_box", "--above", "2",
                "--out", str(tmp_path / "d"), cwd=tmp_path)
    assert proc.returncode == 2 and "no case has in_box > 2" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "d").exists()
    from scrapsim.errors import ParamsError

    with pytest.raises(ParamsError, match="no such policy.*expected one of scenario"):
        discover(square.folder, "in_box", above=0.5, policies=["strict"], out=tmp_path / "d")
    only = discover(square.folder, "in_box", above=0.5, policies=["scenario"],
                    out=tmp_path / "p", figures=False)
    assert only.manifest["options"]["policies"] == ["scenario"] and len(only.box) == 2


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("old, new, needle, words", [
    ("{low: 0.5, high: 1.0, source", "{low: 1.0, high: 0.5, source", "campaigns.0.halt_share",
     "expected a number > 1"),
    ("{low: 0.5, high: 1.0, source", "{low: 0.5, high: 1.5, source", "campaigns.0.halt_share",
     "gives a bad scenario"),
    ("{low: 0.5, high: 1.0, source: \"test range\"}", "{low: 0.5, high: 1.0}",
     "campaigns.0.halt_share", "each range needs a source"),
    ("targeted: 1.0}", "targeted: -1.0}", "campaigns.0.targets.traders", "expected"),
    ("campaigns.0.halt_share: {low", "campaigns.0.targets.traders: {low",
     "campaigns.0.targets.traders: {low", "is also a lever"),
    ("samples: 8", "samples: 6, sampler2: x", "design:", "unknown key 'sampler2'"),
])
def test_bad_study_exits_2_with_file_and_line(tmp_path: Path, old: str, new: str,
                                              needle: str, words: str) -> None:
    text = STUDY.replace(old, new)
    assert text != STUDY
    study = tmp_path / "study.yaml"
    study.write_text(text)
    proc = _cli("explore", str(HEBEI), "--study", str(study), "--out", str(tmp_path / "o"),
                cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"{study}:{_line(text, needle)}:" in proc.stderr, proc.stderr
    assert words in proc.stderr and "expected" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_killed_exploration_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(STUDY)
    short = ["--set", "end=2017-03-31"]
    ref = explore(HEBEI, study, workers=1, out=tmp_path / "ref", quiet=True,
                  overrides={"end": "2017-03-31"}, figures=False)
    runs = ref.runs
    assert len(runs) == RUNS and set(runs["status"]) == {"ok"}
    assert runs.groupby("rep")["seed"].nunique().eq(1).all()   # common random numbers
    assert runs.groupby(["policy", "scenario"]).size().eq(3).all()
    assert list(dict.fromkeys(runs["policy"])) == ["spared", "targeted"]
    assert set(runs["campaigns.0.targets.traders"]) == {0.0, 1.0}
    out, journal = tmp_path / "cut", tmp_path / "cut.partial" / "runs.jsonl"
    cmd = ["explore", str(HEBEI), "--study", str(study), *short, "--workers", "2", "--out",
           str(out), "--no-plot"]
    proc = subprocess.Popen([sys.executable, "-m", "scrapsim", *cmd, "--quiet"], env=ENV,
                            cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _lines(journal) < 6 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    stored = _lines(journal)
    assert 6 <= stored < RUNS and not out.exists()
    again = _cli(*cmd, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"{stored} resumed" in again.stdout
    assert json.loads((out / "manifest.json").read_text())["session"]["ran"] == RUNS - stored
    for name in ("runs.csv", "robust.csv", "dominance.csv"):
        assert (out / name).read_bytes() == (ref.folder / name).read_bytes(), name
    third = _cli(*cmd, cwd=tmp_path)       # read back: it said "48 ran now"
    assert third.returncode == 0, third.stderr
    assert f"= {RUNS} runs: 0 ran now, {RUNS} resumed (already complete), 0 failed" in \
        third.stdout


def test_means_equal_to_the_last_digits_tie_for_dominance() -> None:
    """Two policies that reach the same outcome by different paths (the README's sanction
    pairs) differ in the ninth digit of their means: neither dominates the other, while a
    policy worse by ten parts in a million is dominated."""
    x = -0.86350133678667618        # the shipped study's smelters halt_share=0 pair: the
    rows = [("ban", 0, 0, -0.86350133352298319, -0.95257408143479372),   # smelting change
            ("reorganize", 0, 0, x, -0.95257408237101870),               # and the violating
            ("worse", 0, 0, x * (1 + 1e-5), -0.95257408237101870)]       # one's (lower better)
    table = pd.DataFrame(rows, columns=["policy", "scenario", "rep", "gain", "cost"])
    assert table["gain"][0] > table["gain"][1] and table["cost"][1] < table["cost"][0]
    res = robust(table, metrics=["gain", "cost"], goals={"gain": "higher", "cost": "lower"})
    assert res.non_dominated == ["ban", "reorganize"]
    assert res.dominance.set_index("policy").at["worse", "dominated_by"] == "ban;reorganize"


def test_robust_regret_and_dominance_on_a_hand_made_table() -> None:
    """A and B tie on m1's mean, B is better on m2: B dominates A; C is best on m2 only."""
    rows = [("A", 0, 0, 1.0, 5.0), ("A", 0, 1, 1.0, 5.0), ("A", 1, 0, 3.0, 5.0),
            ("B", 0, 0, 1.0, 4.0), ("B", 0, 1, 3.0, 4.0), ("B", 1, 0, 2.0, 4.0),
            ("C", 0, 0, 0.0, 1.0), ("C", 1, 0, 1.0, 1.0)]
    table = pd.DataFrame(rows, columns=["policy", "scenario", "rep", "m1", "m2"])
    table["status"] = "ok"
    failed = pd.DataFrame([{"policy": "C", "scenario": 1, "rep": 1, "m1": 99.0, "m2": -99.0,
                            "status": "error"}])
    res = robust(pd.concat([table, failed]), metrics=["m1", "m2"],
                 goals={"m1": "higher", "m2": "lower"})
    t = res.table.set_index(["policy", "metric"])
    assert t.loc[("B", "m1"), "mean"] == 2.0 and t.loc[("A", "m1"), "mean"] == 2.0
    assert t.loc[("C", "m2"), "mean"] == 1.0        # the failed run is left out
    # m1 per scenario: A (1, 3), B (2, 2), C (0, 1); best (2, 3)
    assert [t.loc[(p, "m1"), "regret_max"] for p in "ABC"] == [1.0, 1.0, 2.0]
    assert [t.loc[(p, "m1"), "regret_mean"] for p in "ABC"] == [0.5, 0.5, 2.0]
    # m2 (lower is better): A 5, B 4, C 1 in both scenarios
    assert [t.loc[(p, "m2"), "regret_max"] for p in "ABC"] == [4.0, 3.0, 0.0]
    assert np.isclose(t.loc[("A", "m1"), "p10"], 1.2) and np.isclose(
        t.loc[("A", "m1"), "p90"], 2.8)
    assert res.non_dominated == ["B", "C"]
    assert res.dominance.set_index("policy").at["A", "dominated_by"] == "B"
    no_goal = robust(table, metrics=["m1", "m2"], goals={"m1": "higher"})
    assert no_goal.non_dominated == ["A", "B"]   # on m1 alone A and B tie, both beat C
    assert np.isnan(no_goal.table.set_index(["policy", "metric"]).loc[("A", "m2"),
                                                                     "regret_max"])


def test_report_takes_explore_and_discover_folders(square: ExploreResult,
                                                   tmp_path: Path) -> None:
    from scrapsim.report.build import build_report

    found = discover(square.folder, "in_box", above=0.5, out=tmp_path / "d")
    files = build_report([square.folder, found.folder], out=tmp_path / "r", formats="html")
    html = files[0].read_text(encoding="utf-8")
    assert escape(found.rules) in html and "the unit square" in html   # the box, the sources
    assert "Peeling trajectory" in html and "Per policy and metric" in html
    listed = json.loads((tmp_path / "r" / "report.json").read_text())["inputs"]
    assert [i["kind"] for i in listed] == ["explore", "discover"]


def test_robust_without_a_metric_is_an_input_error() -> None:
    """A damaged explore folder whose runs hold none of the study's metrics reached pandas
    with no metric (a KeyError traceback); it is an input error."""
    table = pd.DataFrame({"policy": ["a"], "scenario": [0], "rep": [0]})
    with pytest.raises(ParamsError, match="names no metric"):
        robust(table, metrics=[])


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> ExploreResult:
    study = tmp_path_factory.mktemp("policies") / "study.yaml"
    study.write_text(STUDY)
    return explore(HEBEI, study, workers=1, out=study.parent / "explore", quiet=True,
                   overrides={"end": "2017-03-31"}, figures=False)


def test_a_goal_given_is_compared_on_and_kept_with_the_studys(policies: ExploreResult,
                                                               tmp_path: Path) -> None:
    """A goal on a metric outside the study's list was dropped without a word (every policy
    came out non-dominated); a misspelt one was too."""
    assert "offered_change" in policies.runs.columns
    assert "offered_change" not in policies.manifest["study"]["metrics"]
    res = robust(policies.folder, goals={"offered_change": "higher"}, out=tmp_path / "a",
                 figures=False)
    table = res.table.set_index(["policy", "metric"])
    assert set(res.table["metric"]) == {"price_change", "smelting_change",
                                        "collection_change", "offered_change"}
    assert set(table.xs("offered_change", level="metric")["goal"]) == {"higher"}
    study_goals = policies.manifest["study"]["goals"]
    assert study_goals and "offered_change" not in study_goals
    assert res.manifest["goals"] == {**study_goals, "offered_change": "higher"}
    with pytest.raises(ParamsError, match=r"no column 'offered_chnage' \(did you mean "
                       r"'offered_change'\?\)"):
        robust(policies.folder, goals={"offered_chnage": "higher"}, out=tmp_path / "b")


def test_robust_says_when_no_metric_has_a_goal(policies: ExploreResult, tmp_path: Path) -> None:
    from scrapsim.cli.explore import robust_lines

    res = robust(policies.folder, metrics=["price_change"], out=tmp_path / "r", figures=False)
    assert res.non_dominated == ["spared", "targeted"]
    assert robust_lines(res.table, res.non_dominated)[-1].startswith(
        "* every policy: no metric compared has a goal")
    res = robust(policies.folder, goals={"price_change": "lower"}, out=tmp_path / "g",
                 figures=False)
    assert robust_lines(res.table, res.non_dominated)[-1].startswith("* non-dominated:")


def test_robust_and_discover_refuse_a_changed_or_wrong_folder(policies: ExploreResult,
                                                              tmp_path: Path) -> None:
    """An edited runs.csv gave a traceback (a NaN in the manifest) or, one value changed,
    tables drawn from it without a word; a run folder was said to have no manifest.json."""
    import shutil

    edited = tmp_path / "edited"
    shutil.copytree(policies.folder, edited)
    text = (edited / "runs.csv").read_text()
    (edited / "runs.csv").write_text(text.replace(",ok,", ",ok,9", 1))
    for call in (lambda: robust(edited, out=tmp_path / "r"),
                 lambda: discover(edited, "price_change", above=0.0, out=tmp_path / "d")):
        with pytest.raises(ParamsError, match=r"edited: is a damaged explore folder "
                           r"\(runs.csv changed since it was written\)"):
            call()
    run = tmp_path / "run"
    assert _cli(str(HEBEI), "--set", "end=2017-01-31", "--no-plot", "-q", "--out", str(run),
                cwd=tmp_path).returncode == 0
    with pytest.raises(ParamsError, match=r"run: is a run folder \(got 'run'; expected a "
                       "finished explore folder\\)"):
        robust(run)
    with pytest.raises(ParamsError, match="nowhere: no such folder"):
        robust(tmp_path / "nowhere")
    assert not (tmp_path / "r").exists() and not (tmp_path / "d").exists()


def test_a_missing_tradeoff_figure_is_said(policies: ExploreResult, tmp_path: Path) -> None:
    """The study's metrics lack violating_smelting_change: no figure, and the manifest and
    the command say why (it was left out without a word)."""
    from scrapsim.cli.explore import format_table

    study = tmp_path / "study.yaml"
    study.write_text(STUDY.replace("samples: 8, reps: 3", "samples: 2, reps: 1"))
    small = explore(HEBEI, study, workers=1, out=tmp_path / "e", quiet=True,
                    overrides={"end": "2017-02-28"})
    assert not (small.folder / "figures").exists()
    assert small.manifest["figure_note"].startswith(
        "no trade-off figure: it needs violating_smelting_change")
    assert small.manifest["figure_note"] in format_table(small)
    assert policies.manifest["figure_note"] is None            # figures=False: nothing to say
    res = robust(policies.folder, metrics=["violating_smelting_change", "smelting_change"],
                 out=tmp_path / "r")
    assert res.manifest["figure_note"] is None
    assert (tmp_path / "r" / "figures" / "tradeoff.png").is_file()


def test_a_misspelt_metric_gets_a_did_you_mean(policies: ExploreResult, tmp_path: Path) -> None:
    """And the metrics listed are metrics: not the scenario, seed or wall-time columns."""
    with pytest.raises(ParamsError) as err:
        discover(policies.folder, "price_chnage", below=-0.3, out=tmp_path / "d")
    said = str(err.value)
    assert "no metric 'price_chnage' (did you mean 'price_change'?)" in said
    listed = said.split("expected one of ")[1]
    assert "collection_change" in listed
    assert not {"scenario", "seed", "point", "rep", "wall_s"} & set(
        listed.rstrip(")").replace(", ...", "").split(", "))


def test_every_problem_of_a_study_is_reported_at_once(tmp_path: Path) -> None:
    """A study with four mistakes in four sections took four runs to fix, one a run."""
    text = STUDY.replace("targeted: 1.0}", "targeted: -1.0}") \
        .replace('{low: 0.5, high: 1.0, source: "test range"}', "{low: 0.5, high: 1.0}") \
        .replace("collection_change]", "collection_chnage]") \
        .replace("samples: 8", "samples: 8, sampler2: x")
    study = tmp_path / "study.yaml"
    study.write_text(text)
    proc = _cli("explore", str(HEBEI), "--study", str(study), "--out", str(tmp_path / "o"),
                cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"4 problems in {study}:" in proc.stderr.splitlines()[0]
    for words in ("campaigns.0.targets.traders", "each range needs a source",
                  "collection_chnage", "unknown key 'sampler2'"):
        assert words in proc.stderr, (words, proc.stderr)
    assert not (tmp_path / "o").exists()


def test_an_edited_robust_or_discover_folder_is_not_read_back(policies: ExploreResult,
                                                              tmp_path: Path) -> None:
    """Their manifests kept no digests: an edited mean in robust.csv was read back by the same
    command (and left on disk) and shown by the report."""
    from scrapsim.report.build import load_input

    res = robust(policies.folder, out=tmp_path / "r", figures=False)
    assert set(res.manifest["digests"]) == {"robust.csv", "dominance.csv"}
    found = discover(policies.folder, "price_change", below=-0.3, out=tmp_path / "d",
                     figures=False)
    assert "boxes.csv" in found.manifest["digests"]
    for folder, name, again in (
            (res.folder, "robust.csv", lambda: robust(policies.folder, out=tmp_path / "r")),
            (found.folder, "boxes.csv",
             lambda: discover(policies.folder, "price_change", below=-0.3, out=tmp_path / "d"))):
        table = folder / name
        table.write_text(table.read_text().replace("0.", "9.", 1))
        with pytest.raises(ParamsError, match=rf"is a damaged \w+ folder \({name} changed "):
            again()
        with pytest.raises(ScenarioError, match=rf"is a damaged \w+ folder \({name} changed "):
            load_input(folder)


def test_other_options_get_their_own_default_folders(policies: ExploreResult) -> None:
    """The README's follow-ups (``--threshold 0.7``, ``--box N``, ``robust --goal``) collided
    with the first analysis's default folder ("holds another discover")."""
    first = discover(policies.folder, "price_change", below=-0.3, figures=False)
    wider = discover(policies.folder, "price_change", below=-0.3, threshold=0.7, figures=False)
    assert first.folder.name == f"{policies.folder.name}-discover-price_change-below--0.3"
    assert wider.folder.name == first.folder.name + "-t0.7"
    assert robust(policies.folder, figures=False).folder.name == f"{policies.folder.name}-robust"
    other = robust(policies.folder, goals={"price_change": "higher"}, figures=False)
    assert re.fullmatch(rf"{policies.folder.name}-robust-[0-9a-f]{{6}}", other.folder.name)
    assert first.folder.is_dir() and wider.folder.is_dir() and other.folder.is_dir()
