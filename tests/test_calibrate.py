"""Calibration: recovers parameters from targets the model generated, resumes, refuses bad
targets files, and its uncertainty formula matches the linear case."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from scrapsim.cli.main import main
from scrapsim.experiments.calibration.search import calibrate, covariance, unfixed
from scrapsim.experiments.calibration.targets import TargetsError, load_targets, moments
from scrapsim.experiments.design import rep_seeds
from scrapsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HEBEI = ROOT / "scenarios" / "hebei.yaml"
HALF_YEAR = {"end": "2017-06-30", "campaigns.0.lists": False, "campaigns.0.verify": False}
"""Hebei's first half-year, inspectors drawing with replacement and without verification visits:
there the announcement halts (halt_share) shape the window's operating rate; with lists the
rounds find halted workshops anyway and these targets no longer pin halt_share down."""
TRUE = {"campaigns.0.halt_share": 0.6, "campaigns.0.suspend_days": 20}
TARGETS = [  # name, spec, sd
    ("rate_in_window", {"moment": "operating_rate", "period": "window"}, 0.015),
    ("recovery", {"moment": "recovery_days"}, 2.0),
    ("rate_after", {"moment": "operating_rate", "period": ["2017-03-16", "2017-04-30"]}, 0.02),
]
SEED, REPS = 7, 4


def _generated_targets(tmp: Path, root: int = SEED, reps: int = REPS) -> Path:
    """A targets file whose values are the model's own means at TRUE over ``reps`` seeds from
    ``root`` (by default the seeds the calibration will use)."""
    base = load_scenario(HEBEI, HALF_YEAR)
    truth = base.with_overrides(TRUE)
    specs = [{"name": n, "period": "run", "of": "run", "region": None, **s}
             for n, s, _ in TARGETS]
    specs = [{**s, "period": tuple(s["period"]) if isinstance(s["period"], list) else
              s["period"]} for s in specs]
    values = np.mean([[moments(truth, seed, specs)[n] for n, _, _ in TARGETS]
                      for seed in rep_seeds(root, reps)], axis=0)
    data = {"parameters": {"campaigns.0.halt_share": {"low": 0.3, "high": 1.0, "source": "test"},
                           "campaigns.0.suspend_days": {"low": 7, "high": 45,
                                                        "source": "test"}},
            "targets": [{"name": n, **s, "value": float(v), "sd": sd}
                        for (n, s, sd), v in zip(TARGETS, values, strict=False)]}
    path = tmp / f"generated-{root}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("calibrate")
    targets = _generated_targets(tmp)
    cal = calibrate(HEBEI, targets, overrides=HALF_YEAR, reps=REPS, popsize=6, maxiter=8,
                    seed=SEED, workers=1, out=tmp / "fit")
    return targets, cal


def test_recovers_the_parameters_that_generated_the_targets(generated) -> None:
    _, cal = generated
    p = cal.parameters.set_index("parameter")
    assert abs(p.loc["campaigns.0.halt_share", "fitted"] - 0.6) <= 0.06
    assert abs(p.loc["campaigns.0.suspend_days", "fitted"] - 20) <= 2.5
    for key, true in TRUE.items():                      # the truth inside the reported interval
        assert p.loc[key, "ci_low"] <= true <= p.loc[key, "ci_high"], key
        assert p.loc[key, "identified"]
    assert (cal.fit["z"].abs() < 1.0).all()
    assert cal.objective < 1.0
    # .scenario is fitted.yaml's: the fitted values rounded to their standard errors, named,
    # the same whether the fit ran now or was read back from its folder
    again = load_scenario(cal.folder / "fitted.yaml")
    assert cal.scenario.model_dump() == again.model_dump()
    assert cal.scenario.name == "hebei-fitted"
    fitted = p.loc["campaigns.0.halt_share", "fitted"]
    assert abs(cal.scenario.get("campaigns.0.halt_share") - fitted) <= \
        p.loc["campaigns.0.halt_share", "se"]


def test_targets_from_other_seeds_keep_the_truth_inside_the_interval(tmp_path: Path) -> None:
    """Targets measured on 8 seeds the calibration never sees: the fit is off by sampling noise
    only, and the reported 95% intervals cover the parameters that generated them."""
    targets = _generated_targets(tmp_path, root=99, reps=8)
    cal = calibrate(HEBEI, targets, overrides=HALF_YEAR, reps=REPS, popsize=6, maxiter=8,
                    seed=SEED, workers=2, out=tmp_path / "fit")
    p = cal.parameters.set_index("parameter")
    assert abs(p.loc["campaigns.0.halt_share", "fitted"] - 0.6) <= 0.15
    assert abs(p.loc["campaigns.0.suspend_days", "fitted"] - 20) <= 3
    for key, true in TRUE.items():
        assert p.loc[key, "ci_low"] <= true <= p.loc[key, "ci_high"], key
    assert (cal.fit["z"].abs() < 2).all()


def test_writes_a_runnable_fitted_scenario_and_the_tables(generated) -> None:
    _, cal = generated
    names = sorted(p.name for p in cal.folder.iterdir())
    for name in ("fitted.yaml", "fit.csv", "parameters.csv", "history.csv", "evaluations.csv",
                 "fit.png", "fit.svg", "targets.yaml", "manifest.json", "runs.jsonl"):
        assert name in names
    fitted = load_scenario(cal.folder / "fitted.yaml")
    assert fitted.name == "hebei-fitted"
    from scrapsim.scenario import round_to_se

    for row in cal.parameters.itertuples():      # fitted values, rounded to their se
        want = round_to_se(cal.scenario.get(row.parameter), row.se, 0.5)
        assert fitted.get(row.parameter) == want, row.parameter
        assert abs(want - row.fitted) <= 0.05 * row.se + 1e-12
    svg = (cal.folder / "fit.svg").read_text(encoding="utf-8")
    assert "hebei calibrated to" in svg
    text = (cal.folder / "fitted.yaml").read_text(encoding="utf-8")
    source = HEBEI.read_text(encoding="utf-8")
    comments = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    assert all(line in text.splitlines() for line in comments)     # the source's comments kept
    assert "      count: 2000           # ASSUMPTION (issue 2: about 2,000 traders)" in text
    assert fitted.with_overrides({k: cal.scenario.get(k) for k in cal.parameters.parameter}
                                 | {"name": cal.scenario.name, "sources": cal.scenario.sources}
                                 ) == cal.scenario
    manifest = json.loads((cal.folder / "manifest.json").read_text())
    assert manifest["calibration_id"] and len(manifest["seeds"]) == REPS
    assert np.isfinite(np.array(manifest["covariance"])).all()
    history = cal.history["best_objective"].to_numpy()
    assert (np.diff(history) <= 1e-12).all()            # the best never gets worse


def test_rerun_resumes_from_the_journal_with_the_same_bytes(generated, tmp_path: Path) -> None:
    targets, cal = generated
    again = tmp_path / "again"
    partial = again.with_name("again.partial")
    partial.mkdir()
    shutil.copyfile(cal.folder / "runs.jsonl", partial / "runs.jsonl")   # as if killed late
    second = calibrate(HEBEI, targets, overrides=HALF_YEAR, reps=REPS, popsize=6, maxiter=8,
                       seed=SEED, workers=2, out=again)
    assert second.manifest["session"]["ran"] == 0
    for name in ("parameters.csv", "fit.csv", "evaluations.csv", "history.csv", "fitted.yaml",
                 "fit.png", "fit.svg"):  # figures too: one deterministic writer
        assert (again / name).read_bytes() == (cal.folder / name).read_bytes(), name
    done = calibrate(HEBEI, targets, overrides=HALF_YEAR, reps=REPS, popsize=6, maxiter=8,
                     seed=SEED, workers=1, out=again)
    assert done.manifest["session"]["ran"] == 0 and done.folder == again


def test_covariance_is_the_inverse_curvature_in_the_linear_case() -> None:
    jac = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 3.0]])
    sd = np.array([0.5, 1.0, 2.0])
    w = np.diag(1 / sd ** 2)
    expected = np.linalg.inv(jac.T @ w @ jac)
    assert np.allclose(covariance(jac, sd, np.zeros((3, 3))), expected)
    sim = np.diag([0.25, 1.0, 4.0])                     # simulation error as large as the target's
    assert np.allclose(covariance(jac, sd, sim), 2 * expected)


def test_a_parameter_the_targets_do_not_fix_has_an_infinite_se() -> None:
    """Three parameters for two targets (the first weeks' rate moved by detection and by the
    halt share alike, the audit by the false reports): the pseudo-inverse alone gave the two on
    the ridge a finite se and called them identified."""
    jac = np.array([[0.5, -0.4, 0.0], [0.0, 0.0, 0.3]])
    sd = np.array([0.05, 0.01])
    cov = covariance(jac, sd, np.zeros((2, 2)))
    assert np.isinf(cov[0, 0]) and np.isinf(cov[1, 1]) and np.isfinite(cov[2, 2])
    assert np.isclose(cov[2, 2], (0.01 / 0.3) ** 2)
    assert unfixed(np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])).tolist() == [True, True]
    assert unfixed(np.array([[1.0, 0.0], [0.0, 1e-3]])).tolist() == [False, False]  # small, fixed
    assert unfixed(np.array([[1.0, 0.0], [2.0, 0.0]])).tolist() == [False, True]   # no effect
    one = np.array([[1.0, 0.01]])        # one target: the ridge runs along the second
    assert unfixed(one).tolist() == [False, True]
    cov = covariance(one, np.array([1.0]), np.zeros((1, 1)), np.array([1.0, 100.0]))
    assert np.isinf(np.diag(cov)).all()  # over its range the second moves the moment as much


def test_a_fit_with_more_parameters_than_targets_says_so_and_writes_its_folder(
        tmp_path: Path) -> None:
    """Two parameters, one target (the window's operating rate, which the suspension length
    barely moves): the suspension length is not fixed (se inf, not identified), and the folder
    is written (its manifest is strict JSON: the covariance's unfixed entries are null) and
    read back by the same command."""
    data = yaml.safe_load(_generated_targets(tmp_path).read_text())
    data["targets"] = data["targets"][:1]
    one = tmp_path / "one.yaml"
    one.write_text(yaml.safe_dump(data, sort_keys=False))
    cal = calibrate(HEBEI, one, overrides=HALF_YEAR, reps=2, popsize=2, maxiter=1, seed=SEED,
                    workers=1, out=tmp_path / "ridge", quiet=True)
    p = cal.parameters.set_index("parameter")
    assert np.isinf(p.loc["campaigns.0.suspend_days", "se"])
    assert not p.loc["campaigns.0.suspend_days", "identified"]
    manifest = json.loads((tmp_path / "ridge" / "manifest.json").read_text())
    assert manifest["degrees_of_freedom"] == -1 and None in manifest["covariance"][0]
    again = calibrate(HEBEI, one, overrides=HALF_YEAR, reps=2, popsize=2, maxiter=1,
                      seed=SEED, workers=1, out=tmp_path / "ridge", quiet=True)
    assert np.isinf(again.parameters.set_index("parameter").loc["campaigns.0.suspend_days", "se"])


BAD = [
    ("parameters: {nope.field: {low: 0, high: 1, source: s}}\n"
     "targets: [{name: a, moment: shut_count, value: 1, sd: 1}]\n", "parameters[nope.field]"),
    ("parameters: {campaigns.0.halt_share: {low: 0, high: 1, source: s}}\n"
     "targets: []\n", "targets"),
    ("parameters: {campaigns.0.halt_share: {low: 0.5, high: 0.2, source: s}}\n"
     "targets: [{name: a, moment: shut_count, value: 1, sd: 1}]\n", "empty range"),
    ("parameters: {campaigns.0.halt_share: {low: 0, high: 2, source: s}}\n"
     "targets: [{name: a, moment: shut_count, value: 1, sd: 1}]\n", "halt_share"),
    ("parameters: {campaigns.0.halt_share: {low: 0, high: 1, source: s}}\n"
     "targets: [{name: a, moment: profit, value: 1, sd: 1}]\n", "targets.0.moment"),
    ("parameters: {campaigns.0.halt_share: {low: 0, high: 1, source: s}}\n"
     "targets: [{name: a, moment: smelted, value: 1, sd: 0}]\n", "targets.0.sd"),
    ("parameters: {campaigns.0.halt_share: {low: 0, high: 1, source: s}}\n"
     "targets: [{name: a, moment: smelted, period: [2016-01-01, 2016-02-01], value: 1, "
     "sd: 1}]\n", "targets.0.period"),
    ("parameters: {campaigns.0.halt_share: {low: 0, high: 1, source: s}}\n"
     "targets: [{name: a, moment: shut_count, period: window, value: 1, sd: 1}]\n",
     "no period"),
    ("parameters: {a: 1, a: 2}\n", "duplicate key"),
    ("parameters: {campaigns.0.halt_share: {low: 0, high: 1}}\n"
     "targets: [{name: a, moment: shut_count, value: 1, sd: 1}]\n", "needs a source"),
    ("!!python/object/apply:os.system ['true']\n", "YAML error"),
]


@pytest.mark.parametrize(("text", "words"), BAD)
def test_bad_targets_file_exit_2_and_nothing_written(tmp_path: Path, capsys, text: str,
                                                     words: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    status = main(["calibrate", str(HEBEI), "--targets", str(bad), "--workers", "1",
                   "--maxiter", "1"])
    err = capsys.readouterr().err
    assert status == 2
    assert str(bad) in err and words in err and "Traceback" not in err
    assert not (tmp_path / "results").exists()


def test_shipped_hebei_targets_load_with_sources() -> None:
    base = load_scenario(HEBEI)
    targets = load_targets(ROOT / "targets" / "hebei.yaml", base)
    assert len(targets.parameters) >= 2 and len(targets.targets) > len(targets.parameters)
    assert all(t.source for t in targets.targets) and all(p.source for p in targets.parameters)
    with pytest.raises(TargetsError, match="--reps"):
        calibrate(base, targets, reps=0, workers=1, out="unused")


def test_a_dask_cluster_fits_the_same_bytes(generated, dask_cluster: str,
                                            tmp_path: Path) -> None:
    targets, _ = generated
    kw = {"overrides": HALF_YEAR, "reps": 2, "popsize": 3, "maxiter": 2, "seed": 3}
    calibrate(HEBEI, targets, workers=1, out=tmp_path / "alone", **kw)
    remote = calibrate(HEBEI, targets, scheduler=dask_cluster, out=tmp_path / "dask", **kw)
    assert remote.manifest["engine"]["engine"] == "dask"
    for name in ("parameters.csv", "fit.csv", "evaluations.csv", "history.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes()


def test_report_shows_the_calibration(generated, tmp_path: Path) -> None:
    import re

    from scrapsim.report.build import build_report

    _, cal = generated
    files = build_report([cal.folder], tmp_path / "report", formats="html")
    html = (tmp_path / "report" / "report.html").read_text()
    assert [f.name for f in files] == ["report.html", "report.json"]
    assert "hebei-fitted" in html and "CALIBRATION" in html.upper()
    for r in cal.parameters.itertuples():                # the fitted values, as in the table
        assert r.parameter in html and f"{r.fitted:.4g}" in html
    for r in cal.fit.itertuples():
        assert r.target in html and f"{r.z:.2f}" in html
    assert len(re.findall(r"<img [^>]*src=\"data:image/png;base64,", html)) == 1
    assert not re.search(r"https?:", html)
    kinds = json.loads((tmp_path / "report" / "report.json").read_text())["inputs"]
    assert kinds[0]["kind"] == "calibration"


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.add(int(status.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_kill_stops_the_workers_and_the_rerun_resumes(generated, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    targets, _ = generated
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "scrapsim", "calibrate", str(HEBEI), "--targets",
           str(targets), "--set", "end=2017-06-30", "--reps", "2", "--popsize", "6",
           "--maxiter", "30", "--tol", "1e-9", "--workers", "2", "--out", str(tmp_path / "c")]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    journal = tmp_path / "c.partial" / "runs.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not journal.exists() or
                                           len(journal.read_text().splitlines()) < 40):
        time.sleep(0.2)
    workers = _children(proc.pid)
    assert workers, "the calibration started no worker processes"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in workers):
        time.sleep(0.2)
    assert not [p for p in workers if Path(f"/proc/{p}").exists()], "workers left behind"
    stored = len(journal.read_text().splitlines())
    said = re.search(r"interrupted; (\d+) finished runs? (are|is) stored", err)
    assert said and int(said.group(1)) == stored, err
    again = subprocess.run([*cmd, "--maxiter", "3", "-q"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["session"]["resumed"] == stored > 0


def test_runs_are_keyed_by_the_moments_they_store(tmp_path: Path) -> None:
    """A journal kept for one targets file is not read for another that measures other
    moments (each run stores only the moments it was asked for)."""
    from scrapsim.experiments.calibration.search import Evaluator

    base = load_scenario(HEBEI, HALF_YEAR)
    path = _generated_targets(tmp_path, root=1, reps=1)
    one = load_targets(path, base)
    data = yaml.safe_load(path.read_text())
    data["targets"] = data["targets"][:2]
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(data))
    two = load_targets(tmp_path / "two.yaml", base)
    keys = [Evaluator(base, t, [5], None, "h" * 64)._key('{"a":1}', 0) for t in (one, two)]
    assert keys[0] != keys[1]
    assert keys[0] == Evaluator(base, one, [5], None, "h" * 64)._key('{"a":1}', 0)


def test_the_fit_figure_draws_replications_that_agree() -> None:
    """Both seeds at 166: fit.csv's z, kept to ten digits, is a hair above its own interval's
    top; the bars are clipped at zero instead of refused ("'xerr' must not contain negative
    values", which made ``report`` call the folder damaged)."""
    import pandas as pd

    from scrapsim.experiments.calibration.output import fit_figure

    fit = pd.DataFrame({"target": ["shut_at_peak"], "value": [164.0], "sd": [3.0],
                        "model": [166.0], "ci_low": [166.0], "ci_high": [166.0],
                        "z": [0.6666666667]})
    assert (fit["z"] - (fit["ci_high"] - fit["value"]) / fit["sd"]).iloc[0] > 0
    fig = fit_figure(fit, pd.DataFrame({"generation": [0], "best_objective": [0.44]}))
    bars = fig.axes[0].containers[0]
    assert bars.has_xerr


def test_a_report_names_the_folder_it_cannot_draw(generated, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from scrapsim.errors import ScenarioError
    from scrapsim.report import build

    _, cal = generated
    run = tmp_path / "run"
    assert main([str(HEBEI), "--set", "end=2017-03-31", "--out", str(run), "--no-plot",
                 "-q"]) == 0

    def broken(item):
        raise ValueError("cannot draw")

    monkeypatch.setattr(build, "calibration_section", broken)
    with pytest.raises(ScenarioError, match="damaged") as err:
        build.build_report([run, cal.folder], tmp_path / "report", formats="html")
    assert err.value.file == str(cal.folder)
    assert not (tmp_path / "report").exists()


def test_every_problem_of_a_targets_file_is_reported_at_once(tmp_path: Path) -> None:
    """Each with its line: a misspelt moment and a negative sd (one a run before)."""
    text = (ROOT / "targets" / "hebei.yaml").read_text(encoding="utf-8")
    bad = text.replace("moment: shut_count", "moment: shut_cont").replace("sd: 0.03", "sd: -0.03")
    assert bad.count("shut_cont") == 1 and bad.count("sd: -0.03") == 1
    path = tmp_path / "t.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(TargetsError) as info:
        load_targets(path, load_scenario(HEBEI))
    lines = str(info.value).splitlines()
    assert lines[0] == f"2 problems in {path}:"
    line_of = {needle: next(i for i, t in enumerate(bad.splitlines(), 1) if needle in t)
               for needle in ("shut_cont", "sd: -0.03")}
    assert f"{path}:{line_of['shut_cont']}: targets.0.moment: unknown moment (did you mean " \
        "'shut_count'?)" in lines[1]
    assert f"{path}:{line_of['sd: -0.03']}: targets.1.sd: must be positive" in lines[2]


def test_misspelt_target_keys_and_runs_get_a_did_you_mean(tmp_path: Path) -> None:
    text = (ROOT / "targets" / "hebei.yaml").read_text(encoding="utf-8")
    bad = text.replace("of: baseline", "of: basline", 1).replace("    sd: 3\n", "    sdd: 3\n", 1)
    assert "basline" in bad and "sdd: 3" in bad
    path = tmp_path / "t.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(TargetsError) as info:
        load_targets(path, load_scenario(HEBEI))
    said = str(info.value)
    assert "unknown key 'sdd' (did you mean 'sd'?)" in said
    assert "unknown run (did you mean 'baseline'?)" in said
