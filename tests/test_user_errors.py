"""Every bad input a new user met (issue 15) as the command line answers it: exit status 2, one
``scrapsim: error:`` naming the file, the line, the dotted path, the value and what was
expected, no traceback, nothing written. Run as subprocesses from an empty folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEBEI = REPO / "scenarios" / "hebei.yaml"


def scrapsim(*args: str, cwd: Path, env: dict[str, str] | None = None,
             path: str | None = None) -> subprocess.CompletedProcess:
    """``python -m scrapsim ARGS`` in ``cwd`` with this checkout (or ``path``) first."""
    full = dict(os.environ if env is None else env)
    full["PYTHONPATH"] = path or str(REPO)
    return subprocess.run([sys.executable, "-m", "scrapsim", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300, check=False)


def bad(proc: subprocess.CompletedProcess, *parts: str) -> str:
    """Assert a bad-input exit (2, one error, no traceback) whose message has ``parts``."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("scrapsim"), proc.stderr
    for part in parts:
        assert part in proc.stderr, (part, proc.stderr)
    return proc.stderr


def hebei_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = HEBEI.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "edited.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_impossible_date_in_a_file_names_file_line_path_and_value(tmp_path: Path) -> None:
    path = hebei_with(tmp_path, ("start: 2017-01-01", "start: 2017-15-02"))
    err = bad(scrapsim(str(path), cwd=tmp_path), f"{path}:{line_of(path, '2017-15-02')}: start:",
              "'2017-15-02'", "month value is outside", "expected a date (YYYY-MM-DD)")
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == [path]                        # nothing written


def test_impossible_date_in_a_dated_series(tmp_path: Path) -> None:
    path = hebei_with(tmp_path, ("generation: 2950 ", "generation: {2017-01-01: 2950, "
                                 "2017-02-30: 3000} "))
    bad(scrapsim(str(path), cwd=tmp_path), f"{path}:{line_of(path, '2017-02-30')}:",
        "regions.0.generation.2017-02-30", "'2017-02-30'", "day value is outside")


def test_impossible_date_through_set_says_which_override(tmp_path: Path) -> None:
    err = bad(scrapsim(str(HEBEI), "--set", "start=2017-02-30", cwd=tmp_path),
              "start:", "'2017-02-30'", "expected a date (YYYY-MM-DD)",
              "[from the override start='2017-02-30']")
    assert "invalid _override value" not in err


def test_a_bound_an_override_breaks_names_the_file_and_the_override(tmp_path: Path) -> None:
    """Past the model's bounds (not the schema's): the library file, and which --set did it."""
    bad(scrapsim("hebei", "--set", "enforcement.intensity=1e9", "--no-plot", cwd=tmp_path),
        "library/scenarios/hebei.yaml: enforcement.intensity: value out of range",
        "[from the override enforcement.intensity=1000000000.0]")
    assert not (tmp_path / "results").exists()


def test_a_malformed_set_says_what_is_wrong_once(tmp_path: Path) -> None:
    """argparse's usage, then one line: the argument and what is wrong with it."""
    def last_line(*args: str) -> str:
        proc = scrapsim("hebei", *args, cwd=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        return proc.stderr.strip().splitlines()[-1]

    line = last_line("--set", "campaigns.0.teams")
    assert line.startswith("scrapsim run: error: argument --set: 'campaigns.0.teams': "
                           "expected KEY=VALUE"), line
    assert "<scenario>" not in line and line.count("expected") == 2, line
    line = last_line("--set", "campaigns.0.teams=[")
    assert "'campaigns.0.teams=[': cannot read the value as YAML: " in line, line
    assert len(line) < 200, line


def test_load_scenario_raises_a_scenario_error_for_an_impossible_date(tmp_path: Path) -> None:
    from scrapsim.scenario import ScenarioError, load_scenario

    path = hebei_with(tmp_path, ("end: 2017-12-31", "end: 2017-12-32"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.path == "end" and info.value.line == line_of(path, "2017-12-32")


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = hebei_with(tmp_path, ("      count: 2000 ", "      cuont: 2000 "),
                      ("    teams: 14 ", "    teamz: 14 "),
                      ("detection: 0.95 ", "detection: 1.95 "))
    err = bad(scrapsim(str(path), cwd=tmp_path), f"3 problems in {path}:",
              f"{path}:{line_of(path, 'cuont')}: regions.0.traders.cuont: unknown key 'cuont' "
              "(did you mean 'count'?)",
              f"{path}:{line_of(path, 'teamz')}: campaigns.0.teamz: unknown key 'teamz' "
              "(did you mean 'teams'?)",
              f"{path}:{line_of(path, '1.95')}: campaigns.0.detection:", "got 1.95",
              "expected a number <= 1")
    assert "required" not in err          # the typo explains the missing field; said once


def test_a_sum_of_sanctions_blames_the_sanctions_with_their_values(tmp_path: Path) -> None:
    path = hebei_with(tmp_path, ("{close: 0.1, suspend: 0.8, upgrade: 0.1, fine: 0.0}",
                                 "{close: 0.2, suspend: 0.8, upgrade: 0.1, fine: 0.0}"))
    err = bad(scrapsim(str(path), cwd=tmp_path),
              f"{path}:{line_of(path, 'close: 0.2')}: campaigns.0.sanctions: sanction shares "
              "must sum to 1, got close 0.2 + suspend 0.8 + upgrade 0.1 + fine 0 = 1.1")
    assert "sanctions.fine" not in err


def test_1e3_is_a_whole_count_in_files_and_in_set(tmp_path: Path) -> None:
    path = hebei_with(tmp_path, ("      count: 2000 ", "      count: 2e3 "))
    proc = scrapsim(str(path), "--set", "regions.0.smelters.small.count=4.5e1", "--out",
                    str(tmp_path / "run"), "--no-plot", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import json

    scenario = json.loads((tmp_path / "run" / "manifest.json").read_text())["resolved_scenario"]
    region = scenario["regions"][0]
    assert region["traders"]["count"] == 2000 and region["smelters"]["small"]["count"] == 45
    bad(scrapsim(str(HEBEI), "--set", "regions.0.traders.count=1.5e0", cwd=tmp_path),
        "regions.0.traders.count:", "fractional part", "got 1.5")


def test_a_one_point_range_in_vary_is_refused(tmp_path: Path) -> None:
    bad(scrapsim("sweep", str(HEBEI), "--vary", "enforcement.intensity=0:2:1", "--reps", "1",
                 cwd=tmp_path),
        "enforcement.intensity=0:2:1", "one point, so only 0 would run", "N >= 2")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(("typo", "meant"), [("sweeep", "sweep"), ("valdate", "validate"),
                                             ("calibrat", "calibrate"), ("lsit", "list")])
def test_a_mistyped_command_gets_did_you_mean(tmp_path: Path, typo: str, meant: str) -> None:
    bad(scrapsim(typo, str(HEBEI), cwd=tmp_path),
        f"unknown command {typo!r} (did you mean {meant!r}?)")


def test_a_mistyped_library_name_gets_did_you_mean(tmp_path: Path) -> None:
    bad(scrapsim("heebei", cwd=tmp_path), "heebei: no such file (did you mean the library's "
        "'hebei'?)")


@pytest.mark.parametrize("args", [("",), ("run", " ")])
def test_an_empty_scenario_name_is_said_not_taken_for_this_folder(tmp_path: Path,
                                                                  args: tuple[str, ...]) -> None:
    message = bad(scrapsim(*args, cwd=tmp_path), "empty: no scenario named", "library name")
    assert "directory" not in message
    assert not any(tmp_path.iterdir())


def _without(module: str, tmp_path: Path) -> str:
    """A PYTHONPATH that hides ``module`` (a stub package that fails to import) before this
    checkout, as if the extra were not installed."""
    stub = tmp_path / "hide" / module
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(f"raise ImportError('{module} hidden by the test')\n")
    (tmp_path / "hide" / "sitecustomize.py").write_text(
        "import importlib.util, sys\n"
        "_find = importlib.util.find_spec\n"
        f"def find_spec(name, package=None):\n"
        f"    return None if name.split('.')[0] == {module!r} else _find(name, package)\n"
        "importlib.util.find_spec = find_spec\n")
    return os.pathsep.join([str(tmp_path / "hide"), str(REPO)])


@pytest.mark.parametrize(("args", "module", "extra"), [
    (("sweep", "HEBEI", "--vary", "enforcement.intensity=0,1", "--reps", "1", "--scheduler",
      "tcp://127.0.0.1:9"), "distributed", "dask"),
    (("validate", "--check", "relapse", "--reps", "1", "--scheduler", "tcp://127.0.0.1:9"),
     "distributed", "dask"),
    (("sensitivity", "HEBEI", "--params", "PARAMS"), "SALib", "sensitivity"),
])
def test_a_missing_extra_exits_2_with_the_pip_line(tmp_path: Path, args: tuple[str, ...],
                                                   module: str, extra: str) -> None:
    args = tuple(str(HEBEI) if a == "HEBEI" else str(REPO / "params" / "hebei.yaml")
                 if a == "PARAMS" else a for a in args)
    proc = scrapsim(*args, cwd=tmp_path, path=_without(module, tmp_path))
    bad(proc, f"pip install 'scrapsim[{extra}]'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hide"]   # nothing written


# --- hostile inputs: each fails fast, small and clear ---------------------------------------

LAUGHS = "".join(f"{k}: &{k} [{', '.join(['*' + p] * 9 if p else ['lol'] * 9)}]\n"
                 for p, k in zip([None, *"abcdefgh"], "abcdefghi", strict=True))


def test_an_alias_bomb_is_not_expanded_into_the_message(tmp_path: Path) -> None:
    """A billion laughs in a text field: the value is shown cut short (it printed 35 MB, and
    with one more level used up 11 GB)."""
    path = hebei_with(tmp_path, ("description: ", LAUGHS + "description: *i\nold: "))
    err = bad(scrapsim(str(path), cwd=tmp_path), "description: Input should be a valid string")
    assert len(err) < 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edited.yaml"]


@pytest.mark.parametrize("kind", ["device", "fifo", "huge"])
def test_a_file_that_is_not_a_small_regular_file_is_refused_unread(tmp_path: Path,
                                                                   kind: str) -> None:
    if kind == "device":
        path, expect = Path("/dev/zero"), "is not a regular file"   # read forever before
    elif kind == "fifo":
        path, expect = tmp_path / "pipe.yaml", "is not a regular file"    # blocked forever
        os.mkfifo(path)
    else:
        path, expect = tmp_path / "huge.yaml", "is 16.0 MiB, more than a YAML input may be"
        path.write_text("#" * (16 * 2**20 + 1))
    bad(scrapsim(str(path), "--out", "o", cwd=tmp_path), f"{path}: {expect}")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("insert", "expect"), [
    ("a: " + "[" * 500 + "]" * 500 + "\n", ":1: YAML error: nested deeper than 64 levels"),
    ("".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n",
     ":64: YAML error: nested deeper than 64 levels"),
    ("? [a, b]\n: 1\n", ":1: YAML error: a key must be a plain name, not a list or mapping"),
    ("? {a: 1}\n: 1\n", ":1: YAML error: a key must be a plain name, not a list or mapping"),
    ("name: a\0b\n", ":1: YAML error: unacceptable character #x0000"),
], ids=["brackets", "mappings", "list-key", "mapping-key", "nul"])
@pytest.mark.parametrize("command", ["run", "calibrate", "sensitivity"])
def test_a_hostile_yaml_structure_is_an_input_error_with_its_line(
        tmp_path: Path, insert: str, expect: str, command: str) -> None:
    """Deep nesting (a RecursionError before), a list or mapping as a key (a TypeError) and a
    NUL byte (no line) in a scenario, a targets file and a parameters file alike."""
    path = tmp_path / "bad.yaml"
    path.write_text(insert)
    args = {"run": [str(path)],
            "calibrate": [str(HEBEI), "--targets", str(path)],
            "sensitivity": [str(HEBEI), "--params", str(path)]}[command]
    if command != "run":
        args = [command, *args]
    bad(scrapsim(*args, cwd=tmp_path), f"{path}{expect}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


@pytest.mark.parametrize("command", ["check", "calibrate"])
def test_a_negative_seed_is_refused(tmp_path: Path, command: str) -> None:
    args = ["--targets", str(REPO / "targets" / "hebei.yaml")] if command == "calibrate" else []
    bad(scrapsim(command, str(HEBEI), *args, "--seed", "-1", cwd=tmp_path),
        "--seed: must not be negative (got -1; expected a whole number >= 0)")
    assert list(tmp_path.iterdir()) == []


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(f"{sys.executable} -m scrapsim list | head -1; "
                          "echo status ${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.splitlines()[-1] == "status 141", proc.stdout + proc.stderr
    assert proc.stderr == "", proc.stderr


def test_too_many_workers_for_the_memory_names_workers(tmp_path: Path) -> None:
    err = bad(scrapsim("sweep", str(HEBEI), "--vary", "enforcement.intensity=0,1",
                       "--workers", "100000", cwd=tmp_path),
              "--workers: needs about", "GiB of memory (100000 worker(s))", "(got 100000;",
              "fewer --workers or a smaller scenario (hebei)")
    assert "--set" not in err
    assert list(tmp_path.iterdir()) == []


def test_out_inside_a_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine\n")
    err = bad(scrapsim(str(HEBEI), "--out", "afile/sub", "--no-plot", cwd=tmp_path),
              "afile/sub: is inside afile, which is a file, not a folder")
    assert ".tmp-" not in err and "Errno" not in err
    assert (tmp_path / "afile").read_text() == "mine\n"


@pytest.mark.parametrize("edit, where, said", [
    (("      count: 2000 ", "      count: yes "), "regions.0.traders.count",
     "expected a number, got true"),
    (("start: 2017-01-01", "start: 0"), "start", "expected a date (YYYY-MM-DD), got the number 0"),
])
def test_what_pydantic_would_convert_quietly_is_refused(tmp_path: Path, edit: tuple[str, str],
                                                        where: str, said: str) -> None:
    """A yes/no is not a count (it counted 1 trader) and a number is not a date (0 was
    1970-01-01): both are input errors naming the line and the field."""
    path = hebei_with(tmp_path, edit)
    bad(scrapsim(str(path), cwd=tmp_path), f"edited.yaml:{line_of(path, edit[1])}: {where}: {said}")
    assert [p.name for p in tmp_path.iterdir()] == ["edited.yaml"]


@pytest.mark.parametrize("override, said", [
    ("enforcement.intensity=true", "expected a number, got true"),
    ("start=20170101", "expected a date (YYYY-MM-DD), got the number 20170101"),
])
def test_overrides_are_not_converted_quietly_either(tmp_path: Path, override: str,
                                                    said: str) -> None:
    bad(scrapsim("hebei", "--set", override, cwd=tmp_path), said, "[from the override")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("override, path", [
    ("regions.hebei.traders.count=2.5", "regions.0.traders.count"),
    ("campaigns.hebei-inspection-2017.teams=-5", "campaigns.0.teams"),
])
def test_an_override_by_an_items_name_is_blamed_too(tmp_path: Path, override: str,
                                                    path: str) -> None:
    """The error names the item by index (as validation does) and says which override set it,
    not only the file, which would read as if the file were wrong."""
    bad(scrapsim("hebei", "--set", override, cwd=tmp_path), f"{path}: ",
        f"[from the override {override}]")


@pytest.mark.parametrize("override, said", [
    ("enforcement.intensty=2", "enforcement.intensty: unknown key 'intensty' (did you mean "
     "'intensity'?)"),
    ("regions.hebai.generation=2", "regions.hebai: no item 'hebai' (did you mean 'hebei'?)"),
])
def test_an_override_into_nothing_is_blamed_too(tmp_path: Path, override: str,
                                                said: str) -> None:
    """A path that names no field or item: the file was blamed, as if it were wrong."""
    bad(scrapsim("hebei", "--set", override, cwd=tmp_path), said,
        f"[from the override {override}]")
    assert not any(tmp_path.iterdir())


def test_a_name_it_cannot_use_is_said_in_words(tmp_path: Path) -> None:
    """Not pydantic's regular expression: what a name may hold, and why."""
    path = hebei_with(tmp_path, ("name: hebei", "name: ../escape"))
    err = bad(scrapsim(str(path), cwd=tmp_path), f"{path}:{line_of(path, '../escape')}: name: "
              "is not a name scrapsim can use (got '../escape'; expected letters, digits, "
              "'_', '.' and '-', starting with a letter or digit: it names files)")
    assert "pattern" not in err and "^[" not in err
    assert list(tmp_path.iterdir()) == [path]


def test_the_errors_pattern_words_are_the_schemas_pattern() -> None:
    from scrapsim.errors import PATTERN_WORDS
    from scrapsim.scenario.fields import NAME_PATTERN

    assert NAME_PATTERN in PATTERN_WORDS


def test_validate_with_a_scenarios_folder_that_is_not_there(tmp_path: Path) -> None:
    err = bad(scrapsim("validate", "--scenarios", "nowhere", cwd=tmp_path),
              "scrapsim validate: error: --scenarios: no such folder (got 'nowhere'")
    assert "guangdong" not in err                         # not a missing file under it
    assert list(tmp_path.iterdir()) == []


def test_an_extends_loop_says_extends_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    err = bad(scrapsim("check", "a.yaml", cwd=tmp_path),
              "extends: files extend each other in a loop")
    assert err.count("extends:") == 1


@pytest.mark.parametrize("args, said", [
    (["sensitivity", "hebei", "--params", "hebie"], "hebie: no such file (did you mean the "
     "library's 'hebei'?)"),
    (["calibrate", "hebei", "--targets", "two_plus_62"], "two_plus_62: no such file (did you "
     "mean the library's 'two_plus_26'?)"),
    (["explore", "hebei", "--study", "studies/price_sig.yaml"], "studies/price_sig.yaml: no "
     "such file (did you mean the library's 'price_sign'?)"),
])
def test_a_misspelt_library_file_gets_a_did_you_mean(tmp_path: Path, args: list[str],
                                                     said: str) -> None:
    """As a misspelt scenario does (targets, parameters and study files said 'no such file')."""
    bad(scrapsim(*args, cwd=tmp_path), said)
    assert not any(tmp_path.iterdir())


def test_the_bounds_hold_in_every_entry_point(tmp_path) -> None:
    """A number the command refuses is refused by the Python API too, with the file's line (a
    new user's notebook ran ``generation: 1e300`` and intensity 200 that the command refused)."""
    from scrapsim import Scenario, load_scenario
    from scrapsim.errors import ScenarioError

    text = HEBEI.read_text(encoding="utf-8")
    assert "    generation: " in text
    head, _, rest = text.partition("    generation: ")
    path = tmp_path / "huge.yaml"
    path.write_text(head + "    generation: 1e300" + rest[rest.index("\n"):], encoding="utf-8")
    line = head.count("\n") + 1
    with pytest.raises(ScenarioError, match=rf"huge.yaml:{line}: regions.0.generation: value out "
                       r"of range \(got 1e\+300; expected a finite number of magnitude at most "
                       r"1e\+12\)"):
        load_scenario(path)
    hebei = load_scenario("hebei")
    for overrides, message in (({"enforcement.intensity": 200}, "at most 100"),
                               ({"regions.hebei.traders.count": 5e7}, "at most 1e\\+07"),
                               ({"end": "2250-12-31"}, "years 1900-2200")):
        with pytest.raises(ScenarioError, match=message):
            hebei.with_overrides(overrides)
        with pytest.raises(ScenarioError, match=message):
            load_scenario("hebei", overrides=overrides)
    data = hebei.model_dump(mode="python")
    data["campaigns"][0]["teams"] = 200_000
    with pytest.raises(ValueError, match=r"campaigns.0.teams: value out of range"):
        Scenario.model_validate(data)


@pytest.mark.parametrize("second, message", [
    ("2017-03-01: .nan", r"market.ingot_price.2017-03-01: Input should be a finite number"),
    ("2017-01-01: 15000", r"YAML error: duplicate key '2017-01-01'"),
], ids=["nan", "duplicate"])
def test_a_dated_series_error_names_the_date_as_written(tmp_path: Path, second: str,
                                                       message: str) -> None:
    """A bad point of a dated series: its line and its date as the file writes it (a new user
    saw ``market.ingot_price.datetime.date(2017, 3, 1)`` on the series' first line)."""
    from scrapsim import load_scenario
    from scrapsim.errors import ScenarioError

    text = HEBEI.read_text(encoding="utf-8")
    old = "  ingot_price: 14900        # CNY/t, ADC12 Feb 2017 (FACTS.md)\n"
    assert old in text
    path = tmp_path / "series.yaml"
    path.write_text(text.replace(old, f"  ingot_price:\n    2017-01-01: 14900\n    {second}\n"),
                    encoding="utf-8")
    line = text[:text.index(old)].count("\n") + 3
    with pytest.raises(ScenarioError, match=rf"series.yaml:{line}: {message}") as caught:
        load_scenario(path)
    assert "datetime" not in str(caught.value)


def test_a_library_name_shadowing_a_local_file_says_so(tmp_path: Path) -> None:
    """``scrapsim new hebei`` writes hebei.yaml; ``scrapsim hebei`` then runs the library's
    Hebei, and says so (a new user ran the library's thinking it was their file)."""
    assert scrapsim("new", "hebei", cwd=tmp_path).returncode == 0
    by_name = scrapsim("hebei", "--no-plot", "-q", "--out", "a", cwd=tmp_path)
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stderr == ("scrapsim: warning: 'hebei' is the library's scenario; the file "
                              "hebei.yaml here is not read (give its name, 'hebei.yaml', to "
                              "run it)\n")
    by_file = scrapsim("hebei.yaml", "--no-plot", "-q", "--out", "b", cwd=tmp_path)
    assert by_file.returncode == 0 and "warning" not in by_file.stderr, by_file.stderr
