"""scrapsim installs like a package (issue 15, item 2): a wheel built from this checkout and
installed with ``pip install --target`` into a temporary folder runs ``list``, ``validate``,
a library scenario by name and the README's repo paths from an unrelated folder, and its
manifests say which copy ran. The other dependencies come from this environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check",
                           "-q"], cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding scrapsim installed from a freshly built wheel (not editable)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    # build from a copy of the tracked files, as a clean clone would have them
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_symlink():
            target.symlink_to(os.readlink(REPO / name))
        elif (REPO / name).is_file():
            shutil.copy2(REPO / name, target)
    # the loops this checkout's install built from these sources, if any: the build reuses
    # them rather than compiling the same code again (setup.py; CI's install has built them)
    fresh = _fresh_extension()
    if fresh is not None:
        shutil.copy2(fresh, src / "scrapsim" / "model" / fresh.name)
    build = _pip("wheel", ".", "--no-deps", "-w", str(root / "dist"), cwd=src)
    if build.returncode != 0:
        if "No matching distribution" in build.stderr or "Could not find a version" \
                in build.stderr:
            pytest.skip(f"no build backend to fetch: {build.stderr[-300:]}")
        raise AssertionError(build.stderr)
    wheels = list((root / "dist").glob("scrapsim-*.whl"))
    assert len(wheels) == 1, wheels
    install = _pip("install", "--no-deps", "--target", str(root / "site"), str(wheels[0]),
                   cwd=root)
    assert install.returncode == 0, install.stderr
    if fresh is not None:                          # reused: the very file, not a new build
        shipped = root / "site" / "scrapsim" / "model" / fresh.name
        assert shipped.read_bytes() == fresh.read_bytes()
    return root / "site"


def _fresh_extension() -> Path | None:
    """The extension in this checkout if it was built from its current sources."""
    from scrapsim.model.aot import up_to_date

    return next((p for p in (REPO / "scrapsim" / "model").glob("_loops*.so") if up_to_date(p)),
                None)


@pytest.fixture(scope="module")
def jit_run(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """A Hebei year of this checkout on numba's just-in-time build with an empty cache (the
    loops compile: about a minute), its output and folder, and the environment whose cache it
    filled. One compile for the two tests that need one."""
    root = tmp_path_factory.mktemp("jit")
    env = {**os.environ, "PYTHONPATH": str(REPO), "SCRAPSIM_JIT": "1",
           "NUMBA_CACHE_DIR": str(root / "numba-cache")}
    proc = subprocess.run([sys.executable, "-m", "scrapsim", "hebei", "--out", "jit",
                           "--no-plot"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc, root / "jit", env


def test_compiling_is_said_only_when_the_loops_were_compiled(jit_run: tuple,
                                                             tmp_path: Path) -> None:
    """The first run on an empty cache says it compiled; the next, loading the cache, not."""
    first, _, env = jit_run
    assert "compiling the model's loops (first run of this install" in first.stdout
    again = subprocess.run([sys.executable, "-m", "scrapsim", "hebei", "--set",
                            "end=2017-03-31", "--no-plot", "--out", "again"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr
    assert "compiling the model" not in again.stdout       # loaded from the cache


def installed(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "scrapsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_the_wheel_ships_the_library(site: Path) -> None:
    lib = site / "scrapsim" / "library"
    for kind in ("scenarios", "targets", "params", "studies"):
        shipped = sorted(p.name for p in (lib / kind).glob("*.yaml"))
        assert shipped == sorted(p.name for p in (REPO / kind).glob("*.yaml")), kind
        for name in shipped:
            assert (lib / kind / name).read_bytes() == (REPO / kind / name).read_bytes()


def test_list_names_the_installed_library(site: Path, tmp_path: Path) -> None:
    proc = installed(site, "list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"scenarios in {site / 'scrapsim' / 'library' / 'scenarios'}" in proc.stdout
    for name in ("hebei", "guangdong", "shandong", "national_2017", "no_enforcement"):
        assert f"\n  {name} " in proc.stdout


def test_the_scrapsim_command_installed_with_the_package_runs(site: Path, tmp_path: Path) -> None:
    """The console script pip installs (``scrapsim``, not ``python -m scrapsim``) runs a
    library scenario and answers --help (it pointed at a module, not a function, after the
    package was split into sub-packages)."""
    script = site / "bin" / "scrapsim"
    assert script.exists(), sorted(p.name for p in (site / "bin").iterdir())
    env = {**os.environ, "PYTHONPATH": str(site)}
    for args in (["--help"], ["hebei", "--no-plot", "-q", "--out", "run"]):
        proc = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (tmp_path / "run" / "daily.csv").exists()


def test_validate_runs_from_any_folder(site: Path, tmp_path: Path) -> None:
    proc = installed(site, "validate", "--check", "relapse", "--reps", "1", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr             # 1: a check failed, not input
    assert "relapsed_share_of_closed" in proc.stdout
    tables = list((tmp_path / "results" / "validation").glob("*/validate.csv"))
    assert len(tables) == 1
    manifest = json.loads((tables[0].parent / "manifest.json").read_text())
    assert manifest["provenance"]["path"] == str((site / "scrapsim").resolve())


def test_a_run_by_name_and_by_repo_path_records_the_installed_copy(site: Path,
                                                                   tmp_path: Path) -> None:
    for ref, out in (("hebei", "by-name"), ("scenarios/hebei.yaml", "by-path")):
        proc = installed(site, ref, "--out", out, "--no-plot", "-q", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    a, b = (json.loads((tmp_path / d / "manifest.json").read_text())
            for d in ("by-name", "by-path"))
    assert a["scenario_hash"] == b["scenario_hash"]
    prov = a["provenance"]
    assert Path(prov["path"]) == (site / "scrapsim").resolve()
    assert prov["install"] == "installed" and prov["git_commit"] is None
    assert prov["version"] == a["scrapsim"]


def test_a_checkout_with_its_build_metadata_is_not_taken_for_the_install(site: Path) -> None:
    """``pip install .`` leaves ``scrapsim.egg-info`` in the checkout; ``python -m scrapsim``
    run at its root imports the checkout, and the manifest says so (a source tree, with the
    installed copy's place), not "installed"."""
    src = site.parent / "src"
    egg = src / "scrapsim.egg-info"
    if not egg.exists():            # the build backend may not have left one: make it
        egg.mkdir()
        (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: scrapsim\nVersion: 0\n")
    proc = installed(site, "hebei", "--out", str(site.parent / "from-src"), "--no-plot",
                     "-q", cwd=src)
    assert proc.returncode == 0, proc.stderr
    prov = json.loads((site.parent / "from-src" / "manifest.json").read_text())["provenance"]
    assert Path(prov["path"]) == (src / "scrapsim").resolve()
    assert prov["install"] == f"source tree (an installed copy is at {(site / 'scrapsim')})"


def test_an_installed_copy_inside_a_checkout_has_no_commit(site: Path, tmp_path: Path) -> None:
    """A virtualenv inside a clone: the installed copy is not the checkout's files, so its
    manifest gives no commit and no dirty flag of the clone."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "tracked.txt").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "tracked.txt"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "x"], check=True)
    inner = tmp_path / ".venv" / "site"
    shutil.copytree(site, inner, symlinks=True)
    proc = installed(inner, "hebei", "--out", "run", "--no-plot", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    prov = json.loads((tmp_path / "run" / "manifest.json").read_text())["provenance"]
    assert prov["install"] == "installed"
    assert prov["git_commit"] is None and prov["git_dirty"] is None


def test_targets_params_and_studies_load_by_name(site: Path, tmp_path: Path) -> None:
    code = ("from scrapsim.scenario import load_scenario\n"
            "from scrapsim.experiments.calibration.targets import load_targets\n"
            "from scrapsim.experiments.sensitivity.params import load_params\n"
            "from scrapsim.experiments.exploration.study import load_study\n"
            "sc = load_scenario('hebei')\n"
            "print(len(load_targets('targets/hebei.yaml', sc).targets),"
            " len(load_params('hebei', sc).keys),"
            " len(load_study('studies/price_sign.yaml', sc).uncertainties))\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    n_targets, n_params, n_uncertain = map(int, proc.stdout.split())
    assert n_targets >= 1 and n_params >= 1 and n_uncertain >= 1


def test_a_checkout_records_its_commit(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "scrapsim", "hebei", "--out", "run",
                           "--no-plot", "-q"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    prov = json.loads((tmp_path / "run" / "manifest.json").read_text())["provenance"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert prov["git_commit"] == head and isinstance(prov["git_dirty"], bool)
    assert Path(prov["path"]) == REPO / "scrapsim"


def test_an_installed_run_uses_the_loops_built_at_install(site: Path, jit_run: tuple,
                                                         tmp_path: Path) -> None:
    """pip built the loops ahead of time: the installed run compiles nothing and imports no
    numba (nor scipy, nor pandas), and its tables and summary have the bytes of a run of the
    checkout on numba's just-in-time build."""
    assert list((site / "scrapsim" / "model").glob("_loops*")), "no extension in the wheel"
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "scrapsim", "hebei",
                           "--out", "aot", "-q"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    backend = subprocess.run([sys.executable, "-c", "from scrapsim.model import loops; "
                              "print(loops.BACKEND)"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
    assert backend == "ahead-of-time"
    for heavy in ("numba", "llvmlite", "scipy", "pandas", "scrapsim.model.kernels"):
        assert heavy not in imported, heavy
    jit = jit_run[1]
    for name in ("daily.csv", "baseline_daily.csv", "events.csv", "initial.csv",
                 "summary.json"):
        assert (tmp_path / "aot" / name).read_bytes() == (jit / name).read_bytes()
    manifest = json.loads((tmp_path / "aot" / "manifest.json").read_text())
    assert manifest["loops"] == "ahead-of-time" and manifest["compile_s"] < 0.5
