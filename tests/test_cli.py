"""The command line as a user meets it: ``python -m scrapsim …`` in a fresh folder.

Bad input (issue 2, item 8) must exit 2 with ``scrapsim: error:`` naming the file, path, value
and expectation, print no traceback and leave nothing behind. Good input writes a complete run
folder. ``write_run`` is also called in-process to check that a failure mid-write leaves no folder.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scrapsim.results import run_folder as io
from scrapsim.scenario import ScenarioError, load_scenario

REPO = Path(__file__).resolve().parents[1]

MINIMAL = """\
name: tiny
start: 2017-01-01
end: 2017-02-28
regions:
  - name: hebei
    generation: 100
    traders: {count: 20, capacity: 12}
    smelters:
      large: {count: 2, capacity: 40}
      workshop: {count: 6, capacity: 5}
campaigns:
  - name: pulse
    regions: [hebei]
    start: 2017-01-20
    end: 2017-02-05
    teams: 2
"""

CONTRACT_COLUMNS = [
    "date", "region", "generated", "uncollected", "collected", "inflow", "outflow",
    "trader_stock", "offered", "demanded", "traded", "imports", "smelter_stock", "smelted",
    "ingot", "seized_traders", "seized_smelters", "running", "halted", "suspended", "rectifying",
    "closed", "inspections", "violations", "fines", "scrap_price", "ingot_price",
    "price_pressure",
]
SUMMARY_KEYS = {"collection_change", "smelting_change", "price_change", "mean_price_pressure",
                "shut_share", "shut_count", "closed_share", "smelters_start", "recovery_days",
                "windows", "regions"}


def scrapsim(*args: str, cwd: Path, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``python -m scrapsim`` with this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, *flags, "-m", "scrapsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def write(folder: Path, text: str, name: str = "scn.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- start-up, help, schema ------------------------------------------------------------------

def test_help_lists_commands_and_imports_nothing_heavy(tmp_path: Path) -> None:
    proc = scrapsim("--help", cwd=tmp_path, flags=("-X", "importtime"))
    assert proc.returncode == 0
    assert "run" in proc.stdout and "schema" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    for heavy in ("pandas", "matplotlib", "simpy", "numpy", "pydantic", "yaml"):
        assert heavy not in imported, f"--help imported {heavy}"
    assert "scrapsim.cli.main" in imported
    assert "scrapsim.cli.sweep" not in imported
    assert tree(tmp_path) == set()


def backend(cwd: Path) -> str:
    """The build of the loops a run of this checkout uses (scrapsim.model.loops.BACKEND)."""
    proc = subprocess.run([sys.executable, "-c", "from scrapsim.model import loops; "
                           "print(loops.BACKEND)"], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    return proc.stdout.strip()


def test_run_imports_only_what_it_needs(tmp_path: Path) -> None:
    """A run loads no pandas, pyplot or tqdm; without its figure no matplotlib; numba (and the
    scipy it loads) only when the loops were not built ahead of time (scrapsim.model.loops)."""
    scenario = write(tmp_path, MINIMAL)
    for extra, out in (((), "plot"), (("--no-plot",), "noplot")):
        proc = scrapsim(str(scenario), "--out", out, "-q", *extra, cwd=tmp_path,
                        flags=("-X", "importtime"))
        assert proc.returncode == 0, proc.stderr
        imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
        assert "scrapsim.model.loops" in imported
        for heavy in ("pandas", "matplotlib.pyplot", "tqdm", "pyarrow"):
            assert heavy not in imported, f"run {out} imported {heavy}"
        assert ("matplotlib" in imported) == (out == "plot")
        jit = backend(tmp_path) == "just-in-time"
        assert ("numba" in imported) == jit == ("scrapsim.model.kernels" in imported)
        assert ("scipy" in imported) <= jit  # numba's own import of scipy.linalg


def test_sweep_is_registered_and_loads_its_own_parser(tmp_path: Path) -> None:
    top = scrapsim("--help", cwd=tmp_path)
    assert re.search(r"^ +sweep +vary scenario fields", top.stdout, re.M)
    proc = scrapsim("sweep", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: scrapsim sweep")
    assert "--vary" in proc.stdout and "--reps" in proc.stdout


def test_run_help_shows_options(tmp_path: Path) -> None:
    proc = scrapsim("run", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    for option in ("--seed", "--set", "--out", "--no-plot", "--no-baseline", "--quiet"):
        assert option in proc.stdout


def test_no_arguments_prints_usage_and_exits_2(tmp_path: Path) -> None:
    proc = scrapsim(cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: scrapsim")


def test_schema_is_json_schema_of_scenarios(tmp_path: Path) -> None:
    proc = scrapsim("schema", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert {"name", "start", "end", "seed", "enforcement", "regions", "campaigns"} <= set(
        schema["properties"])
    assert set(schema["required"]) >= {"name", "start", "end", "regions"}
    campaign = schema["$defs"]["Campaign"]["properties"]
    assert campaign["detection"]["maximum"] == 1.0
    assert proc.stdout.startswith("{\n  ")


# --- bad input -------------------------------------------------------------------------------

def bad(old: str, new: str) -> str:
    assert old in MINIMAL, old
    return MINIMAL.replace(old, new, 1)


BAD_FILES = {
    "yaml-syntax": (bad("generation: 100", "generation: 100: 3"),
                    [":6: YAML error", "mapping values are not allowed"]),
    "unknown-key": (bad("campaigns:", "enforcement: {intesity: 0.5}\ncampaigns:"),
                    ["enforcement.intesity", "unknown key 'intesity'",
                     "did you mean 'intensity'?"]),
    "wrong-type": (bad("count: 20", "count: many"),
                   ["regions.0.traders.count", "'many'", "integer"]),
    "nan": (bad("capacity: 40", "capacity: .nan"),
            ["regions.0.smelters.large.capacity", "nan", "finite"]),
    "negative-capacity": (bad("capacity: 40", "capacity: -40"),
                          [":9: regions.0.smelters.large.capacity", "-40", ">= 0"]),
    "probability": (bad("    teams: 2", "    teams: 2\n    detection: 1.5"),
                    ["campaigns.0.detection", "1.5", "<= 1"]),
    "end-before-start": (bad("end: 2017-02-28", "end: 2016-12-31"),
                         ["2016-12-31", "before start 2017-01-01"]),
    "campaign-end": (bad("end: 2017-02-05", "end: 2017-01-05"),
                     ["campaigns.0", "2017-01-05", "before start 2017-01-20"]),
    "campaign-region": (bad("regions: [hebei]", "regions: [hebie]"),
                        ["campaigns.0.regions", "unknown region 'hebie'",
                         "did you mean 'hebei'?"]),
    "empty": ("", ["the file is empty"]),
    "list": ("- name: tiny\n- start: 2017-01-01\n", ["the document is a list, not a mapping"]),
    "python-tag": ('!!python/object/apply:os.system ["touch pwned"]\n',
                   [":1: YAML error", "python/object/apply:os.system"]),
    "imports-without-plants": (bad("generation: 100", "generation: 100\n    imports: 5")
                               .replace("large: {count: 2,", "large: {count: 0,"),
                               ["regions.0.imports", "large"]),
    "escaping-name": (bad("name: tiny", "name: ../../escape"),
                      ["name: is not a name scrapsim can use", "'../../escape'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file_exits_2_and_writes_nothing(tmp_path: Path, case: str) -> None:
    text, needles = BAD_FILES[case]
    write(tmp_path, text)
    before = tree(tmp_path)
    proc = scrapsim("scn.yaml", "--no-plot", cwd=tmp_path)
    assert_bad_input(proc, tmp_path, before, "scrapsim: error: scn.yaml", *needles)


@pytest.mark.parametrize(("args", "needles"), [
    (["missing.yaml"], ["missing.yaml: no such file"]),
    (["run", "sub"], ["sub: is a directory"]),
    (["scn.yaml", "--set", "regions.hebei.traders.cuont=5"],
     ["scn.yaml: regions.hebei.traders.cuont: unknown key 'cuont'", "did you mean 'count'?"]),
    (["scn.yaml", "--set", "regions.shanxi.generation=5"], ["no item 'shanxi'"]),
    (["scn.yaml", "--set", "enforcement.intensity=-1"],
     ["enforcement.intensity", "-1", ">= 0"]),
    (["scn.yaml", "--set", "name=../../escape"], ["name:", "'../../escape'"]),
    (["scn.yaml", "--seed", "-3"], ["seed", "-3", ">= 0"]),
    (["scn.yaml", "--out", "afile"], ["afile: exists and is not a folder"]),
    (["scn.yaml", "--out", "notarun"], ["notarun: is a non-empty folder that is not a "
                                        "scrapsim run"]),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path: Path, args: list[str],
                                                needles: list[str]) -> None:
    write(tmp_path, MINIMAL)
    (tmp_path / "sub").mkdir()
    (tmp_path / "afile").write_text("keep me")
    (tmp_path / "notarun").mkdir()
    (tmp_path / "notarun" / "thesis.tex").write_text("keep me too")
    before = tree(tmp_path)
    proc = scrapsim(*args, cwd=tmp_path)
    assert_bad_input(proc, tmp_path, before, *needles)
    assert (tmp_path / "afile").read_text() == "keep me"
    assert (tmp_path / "notarun" / "thesis.tex").read_text() == "keep me too"


@pytest.mark.parametrize(("args", "needles"), [
    (["scn.yaml", "--set", "no-equals-sign"], ["argument --set", "'no-equals-sign'",
                                               "dotted.key=value"]),
    (["scn.yaml", "--seed", "abc"], ["argument --seed", "invalid int value: 'abc'"]),
    (["scn.yaml", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
])
def test_argument_syntax_errors_exit_2(tmp_path: Path, args: list[str],
                                       needles: list[str]) -> None:
    write(tmp_path, MINIMAL)
    before = tree(tmp_path)
    proc = scrapsim(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert re.search(r"^scrapsim( run)?: error: ", proc.stderr, re.M)
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr
    assert tree(tmp_path) == before


@pytest.mark.parametrize("args", [["sweep", "scn.yaml", "--bogus"], ["check", "scn.yaml", "x"],
                                  ["scn.yaml", "--bogus"], ["schema", "--bogus"]])
def test_an_unknown_argument_is_said_with_its_commands_usage(tmp_path: Path,
                                                             args: list[str]) -> None:
    """Not with the top level's usage, which lists no option of the command."""
    write(tmp_path, MINIMAL)
    before = tree(tmp_path)
    proc = scrapsim(*args, cwd=tmp_path)
    command = args[0] if args[0] != "scn.yaml" else "run"
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"usage: scrapsim {command} "), proc.stderr
    assert f"scrapsim {command}: error: unrecognized arguments: {args[-1]}" in proc.stderr
    assert tree(tmp_path) == before


def test_a_misspelt_option_gets_a_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    proc = scrapsim("scn.yaml", "--no-plto", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unrecognized arguments: --no-plto (did you mean '--no-plot'?)" in proc.stderr
    proc = scrapsim("sweep", "scn.yaml", "--repz", "2", cwd=tmp_path)
    assert "unrecognized arguments: --repz 2 (did you mean '--reps'?)" in proc.stderr


def test_object_tag_is_not_executed(tmp_path: Path) -> None:
    write(tmp_path, f'!!python/object/apply:os.system ["touch {tmp_path / "pwned"}"]\n')
    proc = scrapsim("scn.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert not (tmp_path / "pwned").exists()


def assert_bad_input(proc: subprocess.CompletedProcess, cwd: Path, before: set[str],
                     *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("scrapsim: error: "), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr
    assert proc.stdout == ""
    assert tree(cwd) == before
    assert not (cwd / "results").exists()


# --- real runs -------------------------------------------------------------------------------

def test_run_writes_a_complete_folder(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    proc = scrapsim("run", "scn.yaml", "--seed", "7", "--no-plot", "--out", "out",
                    "--set", "campaigns.pulse.teams=3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "baseline_daily.csv", "daily.csv", "events.csv", "initial.csv", "manifest.json",
        "summary.json"]
    assert tree(tmp_path) - {"scn.yaml"} == {"out", *(f"out/{p.name}" for p in out.iterdir())}
    with open(out / "daily.csv", newline="") as f:
        rows = list(csv.reader(f))
    with open(out / "baseline_daily.csv", newline="") as f:
        twin = list(csv.reader(f))
    assert twin[0] == rows[0] and len(twin) == len(rows)     # same columns, days and regions
    assert [r[:2] for r in twin] == [r[:2] for r in rows]
    col = rows[0].index("inspections")
    assert {float(r[col]) for r in twin[1:]} == {0.0} < {float(r[col]) for r in rows[1:]}
    assert rows[0][: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert len(rows) == 1 + 59
    assert rows[1][:2] == ["2017-01-01", "hebei"] and rows[-1][:2] == ["2017-02-28", "hebei"]
    initial = list(csv.reader(open(out / "initial.csv", newline="")))
    assert initial[0][:4] == ["region", "uncollected", "trader_stock", "smelter_stock"]
    assert [r[0] for r in initial[1:]] == ["hebei"]
    events = list(csv.reader(open(out / "events.csv", newline="")))
    assert events[0][:8] == ["time", "date", "region", "actor", "actor_id", "campaign", "event",
                             "value"]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert set(summary["regions"]) == {"hebei"}
    manifest = json.loads((out / "manifest.json").read_text())
    check_manifest(manifest, seed=7, n_daily=59, n_events=len(events) - 1)
    assert manifest["scenario"]["file"] == "scn.yaml"       # as given, as experiments record it
    assert "scenario   tiny" in proc.stdout and "results    out" in proc.stdout


def check_manifest(manifest: dict, seed: int, n_daily: int, n_events: int) -> None:
    assert manifest["kind"] == "run" and re.fullmatch(r"[0-9a-f]{12}", manifest["id"])
    assert manifest["scenario"] == {"name": "tiny", "file": manifest["scenario"]["file"],
                                    "hash": manifest["scenario_hash"]}
    scenario = manifest["resolved_scenario"]
    assert manifest["seed"] == seed == scenario["seed"]
    assert scenario["campaigns"][0]["teams"] == 3
    assert scenario["enforcement"]["intensity"] == 1.0
    assert manifest["scenario_hash"] == io.scenario_hash(
        load_scenario_from_dump(scenario))
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["scenario_hash"])
    assert manifest["rows"] == {"daily": n_daily, "events": n_events}
    assert manifest["wall_time_s"] > 0 and manifest["n_events"] > 0
    assert manifest["events_per_s"] == pytest.approx(manifest["n_events"] / manifest["wall_time_s"])
    assert manifest["baseline"] is True and manifest["summary"] == "summary.json"
    assert manifest["python"] == ".".join(map(str, sys.version_info[:3]))
    assert manifest["command"][:2] == ["scrapsim", "run"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created"])


def load_scenario_from_dump(data: dict) -> object:
    from scrapsim.scenario import Scenario

    return Scenario.model_validate(data)


def test_default_folder_plot_and_rerun_into_out(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    proc = scrapsim("scn.yaml", "--no-baseline", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    (run,) = (tmp_path / "results" / "tiny").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-s0-{manifest['scenario_hash'][:8]}", run.name)
    assert sorted(p.name for p in run.iterdir()) == [
        "daily.csv", "events.csv", "initial.csv", "manifest.json", "timeseries.png"]
    assert (run / "timeseries.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert manifest["summary"] is None and manifest["baseline"] is False
    # --out onto an earlier run replaces it, byte-identical tables for the same seed
    again = scrapsim("scn.yaml", "--no-baseline", "--no-plot", "-q", "--out", str(run),
                     cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "timeseries.png" not in {p.name for p in run.iterdir()}
    assert [p.name for p in (tmp_path / "results" / "tiny").iterdir()] == [run.name]


def test_out_onto_a_run_whose_tables_were_edited_is_refused(tmp_path: Path) -> None:
    """The manifest records each file's SHA-256: a table edited since is the user's now, and
    rerunning into the folder refuses (exit 2, naming it) instead of replacing the edit."""
    write(tmp_path, MINIMAL)
    first = scrapsim("scn.yaml", "--no-plot", "-q", "--out", "r", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert sorted(manifest["digests"]) == ["baseline_daily.csv", "daily.csv", "events.csv",
                                           "initial.csv", "summary.json"]
    with open(tmp_path / "r" / "daily.csv", "a") as f:
        f.write("edited\n")
    edited = (tmp_path / "r" / "daily.csv").read_bytes()
    again = scrapsim("scn.yaml", "--no-plot", "-q", "--out", "r", cwd=tmp_path)
    assert again.returncode == 2 and "daily.csv, changed since scrapsim wrote" in again.stderr, \
        again.stderr
    assert "Traceback" not in again.stderr
    assert (tmp_path / "r" / "daily.csv").read_bytes() == edited


def test_set_and_seed_change_the_run(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    a = scrapsim("scn.yaml", "-q", "--no-plot", "--no-baseline", "--out", "a", cwd=tmp_path)
    b = scrapsim("scn.yaml", "-q", "--no-plot", "--no-baseline", "--out", "b",
                 "--set", "enforcement.intensity=0", cwd=tmp_path)
    c = scrapsim("scn.yaml", "-q", "--no-plot", "--no-baseline", "--out", "c", cwd=tmp_path)
    assert a.returncode == b.returncode == c.returncode == 0, a.stderr + b.stderr + c.stderr
    daily = {k: (tmp_path / k / "daily.csv").read_bytes() for k in "abc"}
    assert daily["a"] == daily["c"]
    assert daily["a"] != daily["b"]
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["resolved_scenario"]["enforcement"]["intensity"] == 0
    inspections = {k: column(tmp_path / k / "daily.csv", "inspections") for k in "ab"}
    assert sum(inspections["a"]) > 0
    assert inspections["b"] == [0.0] * 59


def column(path: Path, name: str) -> list[float]:
    with open(path, newline="") as f:
        return [float(row[name]) for row in csv.DictReader(f)]


# --- write_run in-process --------------------------------------------------------------------

@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> object:
    from scrapsim.model.simulation import run

    path = write(tmp_path_factory.mktemp("scn"), MINIMAL)
    return run(load_scenario(path), seed=3, baseline=False)


def test_scenario_hash_is_canonical(tmp_path: Path) -> None:
    a = load_scenario(write(tmp_path, MINIMAL))
    b = load_scenario(write(tmp_path, MINIMAL.replace("teams: 2", "teams: 2.0"), "b.yaml"))
    c = a.with_overrides({"seed": 1})
    assert io.scenario_hash(a) == io.scenario_hash(b)
    assert io.scenario_hash(a) != io.scenario_hash(c)
    assert re.fullmatch(r"[0-9a-f]{64}", io.scenario_hash(a))


def test_run_dir_refuses_names_outside_results(tmp_path: Path) -> None:
    good = load_scenario(write(tmp_path, MINIMAL))
    assert io.run_dir(good, tmp_path / "results") == tmp_path / "results" / "tiny"
    for name in ("../escape", "a/../../b", "/etc", "..", "a..b"):
        evil = good.model_copy(update={"name": name})
        with pytest.raises(ScenarioError) as info:
            io.run_dir(evil, tmp_path / "results")
        assert info.value.path == "name" and info.value.value == name
    assert tree(tmp_path) == {"scn.yaml"}


def test_write_run_refuses_escaping_name_and_writes_nothing(tmp_path: Path,
                                                            result: object) -> None:
    evil = result.scenario.model_copy(update={"name": "../escape"})
    bad = dataclasses.replace(result, scenario=evil)
    with pytest.raises(ScenarioError, match="outside the results folder"):
        io.write_run(bad, None, results_root=tmp_path / "results", plot=False)
    assert tree(tmp_path) == set()


@pytest.mark.parametrize("exc", [RuntimeError("plot broke"), KeyboardInterrupt()])
@pytest.mark.parametrize("out", [None, "deep/er/out"])
def test_failure_mid_write_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            result: object, exc: BaseException,
                                            out: str | None) -> None:
    import scrapsim.plots.timeseries

    calls = []

    def broken(res: object, path: Path) -> None:
        calls.append(sorted(p.name for p in path.parent.iterdir()))
        raise exc

    monkeypatch.setattr(scrapsim.plots.timeseries, "plot_run", broken)
    (tmp_path / "results").mkdir()
    with pytest.raises(type(exc)):
        io.write_run(result, tmp_path / out if out else None, results_root=tmp_path / "results")
    assert calls == [["daily.csv", "events.csv", "initial.csv"]]
    assert tree(tmp_path) == {"results"}


def test_write_run_in_process_default_folder(tmp_path: Path, result: object) -> None:
    first = io.write_run(result, None, results_root=tmp_path / "r", plot=False, command=["x"])
    second = io.write_run(result, None, results_root=tmp_path / "r", plot=False, command=["x"])
    assert first.parent == second.parent == tmp_path / "r" / "tiny"
    assert first != second
    assert (first / "daily.csv").read_bytes() == (second / "daily.csv").read_bytes()
    assert not any(p.name.startswith(".") for p in first.parent.iterdir())
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["command"] == ["x"] and manifest["seed"] == 3
    assert not (first / "summary.json").exists()
