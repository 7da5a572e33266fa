"""Sensitivity analysis (issue 5, deliverable 3): SALib samples run on the sweep engine.

The pipeline (sampling → ``sweep(design="points")`` → averages → SALib analysis) is checked
against Ishigami's function, whose indices are known in closed form, through a run function of
the package (``scrapsim.experiments.sensitivity.analysis:ishigami``) that reads three scenario shares.
Then: a small real Hebei Morris analysis (finite indices, the same bytes with one and two
workers, a report with its section), resuming after an interruption, and bad parameter files.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scrapsim.cli.engine import _interrupted
from scrapsim.experiments.sensitivity.analysis import ISHIGAMI_FIELDS, ishigami, sensitivity
from scrapsim.experiments.sensitivity.params import ParamsError, load_params
from scrapsim.scenario import Scenario, ScenarioError, load_scenario

REPO = Path(__file__).resolve().parents[1]
HEBEI = REPO / "scenarios" / "hebei.yaml"
HEBEI_PARAMS = REPO / "params" / "hebei.yaml"
ISHIGAMI_RUN = "scrapsim.experiments.sensitivity.analysis:ishigami"

# Ishigami, a = 7, b = 0.1, x_i uniform on [-pi, pi] (Ishigami & Homma 1990; Saltelli et al.
# 2008, "Global Sensitivity Analysis: The Primer", section 4.9): partial variances in closed form.
A, B = 7.0, 0.1
V1 = 0.5 * (1 + B * math.pi ** 4 / 5) ** 2
V2 = A ** 2 / 8
V13 = B ** 2 * math.pi ** 8 * (1 / 18 - 1 / 50)
V = V1 + V2 + V13
S1_TRUE = (V1 / V, V2 / V, 0.0)                       # 0.3139, 0.4424, 0
ST_TRUE = ((V1 + V13) / V, V2 / V, V13 / V)           # 0.5576, 0.4424, 0.2437


def ishigami_base() -> Scenario:
    """The smallest valid scenario: Ishigami's run function reads only three of its shares."""
    return Scenario.model_validate({
        "name": "ishigami", "start": "2017-01-01", "end": "2017-01-01",
        "regions": [{"name": "r", "generation": 1.0, "traders": {"count": 0, "capacity": 0.0},
                     "smelters": {}}]})


ISHIGAMI_PARAMS: dict[str, Any] = {
    "parameters": {key: {"low": 0.0, "high": 1.0, "source": f"x{i + 1} = -pi + 2 pi u"}
                   for i, key in enumerate(ISHIGAMI_FIELDS)},
    "metrics": ["ishigami"],
}


def run_ishigami(out: Path, method: str, samples: int, **kw: Any) -> Any:
    kw.setdefault("run_fn", ISHIGAMI_RUN)
    return sensitivity(ishigami_base(), ISHIGAMI_PARAMS, method=method, samples=samples, reps=1,
                       workers=kw.pop("workers", 1), out=out, quiet=True, figures=False, **kw)


def by_parameter(result: Any, column: str) -> np.ndarray:
    table = result.indices.set_index("parameter").loc[list(ISHIGAMI_FIELDS)]
    return table[column].to_numpy(float)


# --- Ishigami: the known answer through the real pipeline ---------------------------------------

def test_analytic_ishigami_values() -> None:
    assert pytest.approx((0.3139, 0.4424, 0.0), abs=1e-4) == S1_TRUE
    assert pytest.approx((0.5576, 0.4424, 0.2437), abs=1e-4) == ST_TRUE


def test_sobol_reproduces_ishigami_indices(tmp_path: Path) -> None:
    """N = 1024 (5,120 runs, about 4 s). Tolerance 0.05: over 30 sampler seeds at this N,
    SALib alone missed the analytic S1/ST by at most 0.024, and its bootstrap 95% half-widths
    are 0.02-0.09; a broken pipeline (points paired with the wrong runs, a wrong average,
    columns swapped) misses by far more."""
    res = run_ishigami(tmp_path / "sobol", "sobol", 1024)
    assert res.manifest["points"] == 1024 * 5 == len(res.samples)
    assert res.manifest["runs"] == res.manifest["distinct_points"] == 5120
    assert by_parameter(res, "S1") == pytest.approx(S1_TRUE, abs=0.05)
    assert by_parameter(res, "ST") == pytest.approx(ST_TRUE, abs=0.05)
    for conf in ("S1_conf", "ST_conf"):
        assert np.all((by_parameter(res, conf) > 0) & (by_parameter(res, conf) < 0.15))
    x = res.samples[list(ISHIGAMI_FIELDS)].to_numpy()
    y = [ishigami(ishigami_base().with_overrides(dict(zip(ISHIGAMI_FIELDS, row, strict=False))), 0)["ishigami"]
         for row in x[:5]]
    assert res.samples["ishigami"].to_numpy()[:5] == pytest.approx(y, rel=1e-12)


def test_sobol_second_order_finds_the_x1_x3_interaction(tmp_path: Path) -> None:
    """Ishigami's only interaction is x1·x3: S2(1,3) = V13/V = 0.2437, the other pairs 0. S2 is
    noisier than S1 (over 20 sampler seeds at N = 512 SALib alone missed by up to 0.12), so
    0.15 here: enough to catch pairs put in the wrong order."""
    res = run_ishigami(tmp_path / "s2", "sobol", 512, second_order=True)
    assert res.manifest["points"] == 512 * 8 and res.manifest["second_order"] is True
    pairs = pd.read_csv(res.folder / "second_order.csv")
    assert list(pairs.columns) == ["metric", "parameter_1", "parameter_2", "S2", "S2_conf"]
    s2 = {(a, b): v for a, b, v in zip(pairs["parameter_1"], pairs["parameter_2"], pairs["S2"], strict=False)}
    x1, x2, x3 = ISHIGAMI_FIELDS
    assert s2[(x1, x3)] == pytest.approx(V13 / V, abs=0.15)
    assert abs(s2[(x1, x2)]) < 0.15 and abs(s2[(x2, x3)]) < 0.15
    assert res.second_order is not None and len(res.second_order) == 3


def test_morris_on_ishigami_matches_its_elementary_effects(tmp_path: Path) -> None:
    """With 4 levels on [-pi, pi] every step is 2/3 of the range, between levels -pi and pi/3
    or -pi/3 and pi. Then every effect of x2 is ±7·0.75/(2/3) = ±7.875 exactly; every effect of
    x1 is positive, 0.866·1.5·(1 + 0.1·x3⁴): 13.95 or 1.455 (mean 7.704); |effects| of x3 are
    12.50 or 0 (mean 6.249). The last two are means of r two-valued draws (sd 6.25/sqrt(r)):
    checked within 4 standard errors. (So the ranking x1 > x2 > x3 often quoted is not
    what 4-level Morris gives: mu* of x2 exceeds x1's in expectation.)"""
    r = 200
    res = run_ishigami(tmp_path / "morris", "morris", r)
    assert res.manifest["points"] == r * 4 and res.manifest["distinct_points"] <= 4 ** 3
    mu_star, mu = by_parameter(res, "mu_star"), by_parameter(res, "mu")
    assert mu_star[1] == pytest.approx(7.875, abs=1e-9)
    assert by_parameter(res, "mu_star_conf")[1] == pytest.approx(0.0, abs=1e-9)
    assert mu[0] == pytest.approx(mu_star[0], abs=1e-12)
    se = 4 * 6.25 / math.sqrt(r)
    assert mu_star[0] == pytest.approx(7.704, abs=se)
    assert mu_star[2] == pytest.approx(6.249, abs=se)
    assert by_parameter(res, "sigma")[2] > 5.0   # x3 acts only through its interaction


# --- a small real Hebei analysis -----------------------------------------------------------------

@pytest.fixture(scope="module")
def hebei(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Hebei, Morris, 4 trajectories (28 points), 2 replications: once on 1 worker, once on 2."""
    root = tmp_path_factory.mktemp("hebei")
    kw = {"method": "morris", "samples": 4, "reps": 2, "quiet": True}
    one = sensitivity(HEBEI, HEBEI_PARAMS, workers=1, out=root / "w1", **kw)
    two = sensitivity(HEBEI, HEBEI_PARAMS, workers=2, out=root / "w2", figures=False, **kw)
    return {"one": one, "two": two, "root": root}


def test_hebei_morris_gives_finite_indices_for_every_parameter_and_metric(
        hebei: dict[str, Any]) -> None:
    res = hebei["one"]
    spec = load_params(HEBEI_PARAMS, load_scenario(HEBEI))
    assert len(spec.parameters) >= 4
    ind = res.indices
    assert list(dict.fromkeys(ind["metric"])) == list(spec.metrics)
    assert list(dict.fromkeys(ind["parameter"])) == spec.keys
    assert len(ind) == len(spec.metrics) * len(spec.keys)
    values = ind[["mu", "mu_star", "mu_star_conf", "sigma"]].to_numpy(float)
    assert np.isfinite(values).all() and (values[:, 1] >= 0).all()
    m = res.manifest
    assert m["runs"] == m["distinct_points"] * 2 and m["failed"] == 0
    assert m["session"]["ran"] == m["runs"] and m["engine"]["engine"] == "serial"
    # the headline drivers: traders' tolerance moves collection, not the campaign's closures
    coll = ind[ind["metric"] == "collection_change"].set_index("parameter")["mu_star"]
    assert coll["regions.hebei.traders.risk_tolerance"] > coll["campaigns.0.rectify_failure"]
    files = set(os.listdir(res.folder))
    assert {"indices.csv", "samples.csv", "manifest.json", "params.yaml", "scenario.yaml",
            "indices.png", "indices.svg", "runs.csv", "runs.jsonl"} <= files
    assert (res.folder / "params.yaml").read_bytes() == HEBEI_PARAMS.read_bytes()
    svg = (res.folder / "indices.svg").read_text(encoding="utf-8")    # titled for a reader
    assert all(w in svg for w in ("hebei", "morris", f"{m['reps']} replications", "replications",
                                  "campaign", "windows"))
    teams = pd.read_csv(res.folder / "samples.csv")["campaigns.0.teams"]
    assert teams.dtype.kind == "i" and teams.between(7, 21).all()


def test_same_seed_same_bytes_with_one_or_two_workers(hebei: dict[str, Any]) -> None:
    one, two = hebei["one"].folder, hebei["two"].folder
    assert hebei["two"].manifest["engine"]["engine"] == "processes"
    for name in ("indices.csv", "samples.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_report_includes_the_sensitivity_section(hebei: dict[str, Any]) -> None:
    from scrapsim.report.build import build_report

    out = hebei["root"] / "report"
    build_report([hebei["one"].folder], out, ("html",))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="kind sensitivity"' in html and "collection_change: Morris indices" in html
    for key in ("regions.hebei.traders.risk_tolerance", "campaigns.0.teams", "recovery_days"):
        assert key in html
    assert html.count("<img") == 1
    info = json.loads((out / "report.json").read_text())
    assert [i["kind"] for i in info["inputs"]] == ["sensitivity"]


# --- resume ----------------------------------------------------------------------------------------

def stopping_ishigami(scenario: Scenario, seed: int) -> dict[str, float]:
    """Ishigami, but Ctrl-C (KeyboardInterrupt) once SCRAPSIM_TEST_STOP_AT runs are done."""
    counter = Path(os.environ["SCRAPSIM_TEST_COUNTER"])
    done = int(counter.read_text()) if counter.exists() else 0
    if done >= int(os.environ.get("SCRAPSIM_TEST_STOP_AT", "-1")) >= 0:
        raise KeyboardInterrupt
    counter.write_text(str(done + 1))
    return ishigami(scenario, seed)


def test_interrupted_analysis_resumes_and_reruns_nothing_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = run_ishigami(tmp_path / "whole", "sobol", 64)           # 320 runs
    monkeypatch.setenv("SCRAPSIM_TEST_COUNTER", str(tmp_path / "count"))
    monkeypatch.setenv("SCRAPSIM_TEST_STOP_AT", "100")
    out = tmp_path / "cut"
    stop = f"{__name__}:stopping_ishigami"
    with pytest.raises(KeyboardInterrupt) as stopped:
        run_ishigami(out, "sobol", 64, run_fn=stop)
    assert not out.exists()
    journal = tmp_path / "cut.partial" / "runs.jsonl"
    assert len(journal.read_text().splitlines()) == 100
    assert stopped.value.stored == 100     # what the command's message says is kept
    assert _interrupted(stopped.value.stored) == (
        "interrupted; 100 finished runs are stored: run the same command again to resume")
    monkeypatch.delenv("SCRAPSIM_TEST_STOP_AT")
    resumed = run_ishigami(out, "sobol", 64, run_fn=stop)
    assert resumed.manifest["session"]["resumed"] == 100
    assert resumed.manifest["session"]["ran"] == 220
    assert (out / "indices.csv").read_bytes() == (whole.folder / "indices.csv").read_bytes()
    again = run_ishigami(out, "sobol", 64, run_fn=stop)
    assert again.manifest["session"]["ran"] == 0
    assert again.indices.equals(pd.read_csv(out / "indices.csv"))


def test_interrupted_before_any_run_says_nothing_was_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not "the finished runs are stored" when none finished (and no folder is left)."""
    monkeypatch.setenv("SCRAPSIM_TEST_COUNTER", str(tmp_path / "count"))
    monkeypatch.setenv("SCRAPSIM_TEST_STOP_AT", "0")
    with pytest.raises(KeyboardInterrupt) as stopped:
        run_ishigami(tmp_path / "cut", "sobol", 8, run_fn=f"{__name__}:stopping_ishigami")
    assert stopped.value.stored == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert _interrupted(0) == "interrupted before any run finished; nothing was kept"
    assert _interrupted(1) == ("interrupted; 1 finished run is stored: run the same command "
                               "again to resume")


def test_killed_after_the_runs_finishes_without_running(tmp_path: Path) -> None:
    whole = run_ishigami(tmp_path / "whole", "morris", 10)
    (tmp_path / "cut.partial").mkdir()
    shutil.copyfile(whole.folder / "runs.jsonl", tmp_path / "cut.partial" / "runs.jsonl")
    res = run_ishigami(tmp_path / "cut", "morris", 10)
    session = res.manifest["session"]
    assert (session["ran"], session["resumed"], session["failed"]) == (0, whole.manifest["runs"], 0)
    assert res.manifest["engine"]["engine"].startswith("none")
    assert (res.folder / "indices.csv").read_bytes() == (whole.folder / "indices.csv").read_bytes()


def test_out_holding_another_analysis_is_refused(tmp_path: Path) -> None:
    first = run_ishigami(tmp_path / "a", "morris", 4)
    with pytest.raises(ScenarioError, match="holds another sensitivity"):
        run_ishigami(first.folder, "morris", 6)


# --- bad parameter files ---------------------------------------------------------------------------

GOOD = """\
parameters:
  campaigns.0.rectify_failure: {low: 0.0, high: 0.3, source: "audit of closures"}
  campaigns.0.teams: {low: 7, high: 21, source: "half to 1.5 times the assumed 14"}
metrics: [collection_change, recovery_days]
"""


def variant(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


BAD_PARAMS = {
    "unknown-field": (variant("rectify_failure", "rectify_failur"),
                      [":2:", "parameters[campaigns.0.rectify_failur]", "did you mean "
                       "'rectify_failure'"]),
    "out-of-range": (variant("high: 0.3", "high: 1.3"),
                     [":2:", "parameters[campaigns.0.rectify_failure].high", "got 1.3",
                      "<= 1"]),
    "empty-range": (variant("low: 0.0, high: 0.3", "low: 0.3, high: 0.3"),
                    ["empty range", "parameters[campaigns.0.rectify_failure].high"]),
    "no-source": (variant(', source: "audit of closures"', ""),
                  ["needs a source", "parameters[campaigns.0.rectify_failure].source"]),
    "not-a-number": (variant("campaigns.0.teams", "campaigns.0.name"),
                     ["parameters[campaigns.0.name]", "is not a number", "'hebei-inspection"]),
    "fractional-count": (variant("low: 7,", "low: 7.5,"),
                         ["parameters[campaigns.0.teams].low", "got 7.5", "a whole number"]),
    "text-bound": (variant("low: 7,", "low: seven,"),
                   ["parameters[campaigns.0.teams].low", "got 'seven'", "a number"]),
    "unknown-entry-key": (variant("high: 21,", "hihg: 21,"),
                          ["parameters[campaigns.0.teams].hihg", "did you mean 'high'"]),
    "same-field-twice": (variant("campaigns.0.teams: {low: 7, high: 21",
                                 "campaigns.hebei-inspection-2017.rectify_failure: "
                                 "{low: 0, high: 0.2"),
                         ["names the same field as 'campaigns.0.rectify_failure'"]),
    "seed": (variant("campaigns.0.teams", "seed"), ["cannot vary 'seed'", "--seed"]),
    "unknown-metric": (variant("recovery_days]", "recovery_day]"),
                       [":4:", "metrics.1", "did you mean 'recovery_days'"]),
    "unknown-top-key": (variant("metrics:", "metric:"),
                        ["unknown key 'metric'", "did you mean 'metrics'"]),
    "no-parameters": ("metrics: [shut_share]\n", ["parameters: missing"]),
    "a-list": ("- campaigns.0.teams\n", ["the document is a list, not a mapping"]),
    "python-tag": ("parameters: !!python/object/apply:os.system ['true']\n",
                   ["YAML error", "could not determine a constructor"]),
    "duplicate-key": (GOOD + "metrics: [shut_share]\n", [":5:", "duplicate key 'metrics'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMS))
def test_bad_params_file_names_file_path_and_value(case: str, tmp_path: Path) -> None:
    text, expected = BAD_PARAMS[case]
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(path, load_scenario(HEBEI), ["collection_change", "recovery_days",
                                                  "shut_share"])
    message = str(info.value)
    assert message.startswith(str(path)), message
    for part in expected:
        assert part in message, (part, message)


def test_shipped_hebei_params_are_valid_and_sourced() -> None:
    spec = load_params(HEBEI_PARAMS, load_scenario(HEBEI))
    assert 4 <= len(spec.parameters) <= 6
    assert all(len(p.source) > 40 for p in spec.parameters)
    assert [p.key for p in spec.parameters if p.integer] == ["campaigns.0.teams"]


# --- the command line ------------------------------------------------------------------------------

def cli(*args: str | Path) -> int:
    from scrapsim.cli.main import main

    return main(["sensitivity", *(str(a) for a in args)])


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def subprocess_scrapsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "scrapsim", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_help_is_registered_and_imports_nothing_heavy(tmp_path: Path) -> None:
    top = subprocess_scrapsim("--help", cwd=tmp_path)
    assert top.returncode == 0 and "sensitivity" in top.stdout
    assert "scrapsim.cli.sensitivity" not in top.stderr
    proc = subprocess_scrapsim("sensitivity", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: scrapsim sensitivity")
    for option in ("--params", "--method", "--samples", "--trajectories", "--levels", "--reps",
                   "--seed", "--workers", "--scheduler", "--out", "--second-order"):
        assert option in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    assert "scrapsim.cli.sensitivity" in imported
    for heavy in ("SALib", "numpy", "pandas", "matplotlib", "scrapsim.experiments.sensitivity.analysis"):
        assert heavy not in imported, heavy
    assert tree(tmp_path) == set()


def test_without_salib_the_command_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    for name in [m for m in sys.modules if m == "SALib" or m.startswith("SALib.")] + ["SALib"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.chdir(tmp_path)
    assert cli(HEBEI, "--params", HEBEI_PARAMS) == 2
    err = capsys.readouterr().err
    assert "pip install 'scrapsim[sensitivity]'" in err and "Traceback" not in err
    assert tree(tmp_path) == set()


BAD_CLI = {
    "unknown-field": (["--params", "p.yaml"], ["p.yaml:2:", "parameters[campaigns.0.detectoin]",
                                              "did you mean 'detection'"]),
    "missing-params": (["--params", "nope.yaml"], ["nope.yaml: no such file"]),
    "sobol-not-power-of-2": (["--params", HEBEI_PARAMS, "--method", "sobol", "--samples", "100"],
                             ["--samples", "power of 2", "got 100", "64 or 128"]),
    "odd-levels": (["--params", HEBEI_PARAMS, "--levels", "3"], ["--levels", "even", "got 3"]),
    "no-reps": (["--params", HEBEI_PARAMS, "--reps", "0"], ["--reps", "got 0"]),
    "bad-set": (["--params", HEBEI_PARAMS, "--set", "campaigns.0.detection=2"],
                ["campaigns.0.detection", "got 2"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CLI))
def test_bad_input_exits_2_naming_the_problem_and_writes_nothing(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    args, expected = BAD_CLI[case]
    (tmp_path / "p.yaml").write_text("parameters:\n  campaigns.0.detectoin: {low: 0.7, high: 1, "
                                     "source: x}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    assert cli(HEBEI, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("scrapsim sensitivity: error: ") and "Traceback" not in err
    for part in expected:
        assert part in err, (part, err)
    assert tree(tmp_path) == before


def test_bad_params_in_a_fresh_process_exit_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("parameters:\n  campaigns.0.detection: {low: 0.7, "
                                     "high: 1.2, source: x}\n", encoding="utf-8")
    proc = subprocess_scrapsim("sensitivity", str(HEBEI), "--params", "p.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "p.yaml:2: parameters[campaigns.0.detection].high" in proc.stderr
    assert "got 1.2" in proc.stderr and "Traceback" not in proc.stderr
    assert tree(tmp_path) == {"p.yaml"}


def test_cli_prints_the_table_and_the_folder(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sens"
    args = (HEBEI, "--params", HEBEI_PARAMS, "--samples", "2", "--reps", "1", "--workers", "1",
            "--out", out, "--no-plot", "-q")
    assert cli(*args[:-1]) == 0
    text = capsys.readouterr().out
    assert text.startswith("sensitivity hebei: morris, 2 trajectories on 4 levels, 14 points")
    assert "mu* ± 95% CI" in text and f"-> {out}" in text
    lines = [line for line in text.splitlines() if line.startswith("recovery_days ")]
    assert len(lines) == 6
    assert not (out / "indices.png").exists()
    assert cli(*args) == 0 and capsys.readouterr().out == ""
    again = sensitivity(HEBEI, HEBEI_PARAMS, samples=2, reps=1, workers=1, out=out, quiet=True)
    assert again.manifest["session"]["note"] == "already complete"


def test_public_api_exports_sensitivity() -> None:
    import scrapsim
    import scrapsim.experiments.sensitivity.analysis as module

    assert "sensitivity" in scrapsim.__all__
    assert scrapsim.sensitivity is module.sensitivity


def ishigami_and_a_constant(scenario: Scenario, seed: int) -> dict[str, float]:
    return {**ishigami(scenario, seed), "flat": 2.0}


def test_a_constant_metric_has_no_sobol_indices(tmp_path: Path,
                                                recwarn: pytest.WarningsRecorder) -> None:
    """Its variance is 0, so there is none to split: the indices are undefined (NaN) and the
    table says so in one row (SALib warned and gave 0 ± 0 for every parameter)."""
    from scrapsim.cli.sensitivity import format_table

    params = {**ISHIGAMI_PARAMS, "metrics": ["ishigami", "flat"]}
    res = sensitivity(ishigami_base(), params, method="sobol", samples=16, reps=1, workers=1,
                      out=tmp_path / "s", quiet=True, figures=False,
                      run_fn=f"{__name__}:ishigami_and_a_constant")
    flat = res.indices[res.indices["metric"] == "flat"]
    assert len(flat) == 3 and flat[["S1", "S1_conf", "ST", "ST_conf"]].isna().all().all()
    assert res.indices[res.indices["metric"] == "ishigami"]["ST"].notna().all()
    said = [line for line in format_table(res).splitlines() if line.startswith("flat ")]
    assert len(said) == 1 and "(constant over the samples: no variance to split, indices " \
        "undefined)" in said[0]
    assert not [w for w in recwarn if "Constant values" in str(w.message)]


@pytest.mark.parametrize(("method", "samples", "said"),
                         [("sobol", 8, True), ("sobol", 256, False), ("morris", 16, False)])
def test_too_few_samples_are_said(tmp_path: Path, method: str, samples: int,
                                  said: bool) -> None:
    """When most indices' intervals are wider than the indices (Ishigami at N = 8: 5 of 6),
    the table ends with a note naming the samples and the default; at N = 256 (1 of 6, x3's
    true S1 of 0) it does not."""
    from scrapsim.cli.sensitivity import format_table

    res = run_ishigami(tmp_path / "s", method, samples)
    notes = [line for line in format_table(res).splitlines() if line.startswith("note: ")]
    if said:
        assert len(notes) == 1 and f"--samples {samples}; the default is 128" in notes[0]
    else:
        assert notes == []


def test_every_problem_of_a_params_file_is_reported_at_once(tmp_path: Path) -> None:
    """Three mistakes, three lines (it took three runs to find them, one a run); a misspelt
    section name does not make a second problem of its section being missing."""
    text = GOOD.replace("rectify_failure", "rectify_failur").replace("high: 21", "high: 2") \
        .replace("recovery_days]", "recovery_day]") + "descripton: x\n"
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(path, load_scenario(HEBEI), ["collection_change", "recovery_days"])
    lines = str(info.value).splitlines()
    assert lines[0] == f"4 problems in {path}:"
    for words in ("unknown key 'descripton' (did you mean 'description'?)",
                  "parameters[campaigns.0.rectify_failur]", "parameters[campaigns.0.teams]",
                  "metrics.1: unknown metric 'recovery_day'"):
        assert sum(words in line for line in lines[1:]) == 1, (words, lines)
    path.write_text(GOOD.replace("metrics:", "metric:"), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(path, load_scenario(HEBEI), ["collection_change"])
    assert len(info.value.problems) == 1 and "unknown key 'metric'" in str(info.value)


def test_the_wall_time_is_said_on_the_terminal_and_in_the_report(tmp_path: Path) -> None:
    """Both read the manifest's top-level wall_s, which is under session: the terminal line
    had no time and the report said 0.0 s."""
    from scrapsim.cli.sensitivity import format_table
    from scrapsim.report.sensitivity import _facts

    res = run_ishigami(tmp_path / "s", "morris", 4)
    wall = res.manifest["session"]["wall_s"]
    assert wall > 0
    assert f"ran now in {wall:.1f} s -> " in format_table(res).splitlines()[-1]
    assert dict(_facts(res.manifest))["wall time"] == f"{wall:.1f} s"
