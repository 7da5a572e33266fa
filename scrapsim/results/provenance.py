"""Where the running scrapsim comes from, for manifests: the package version, the folder it
is imported from, how it is installed, and the git commit when that folder is a checkout.

:func:`provenance` is the one helper every manifest header calls (run folders, sweeps,
calibrations, sensitivity analyses) through :func:`scrapsim.results.manifest.header`.
"""

from __future__ import annotations

import functools
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from scrapsim.results.identity import package_version

__all__ = ["provenance"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The folder of the scrapsim package that is running."""


def _install() -> str:
    """"editable", "installed" (a wheel or ``pip install .``), or "source tree" (imported
    from a folder pip does not know, e.g. through PYTHONPATH or the working folder)."""
    # pip's installs say who installed them; a checkout's own scrapsim.egg-info (left by
    # ``pip install .``) found first on the path when running from the repo root does not
    dists = [d for d in metadata.distributions(name="scrapsim") if d.read_text("INSTALLER")]
    if not dists:
        return "source tree (not installed)"
    dist = dists[0]
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable"):
        where = Path(str(direct.get("url", "")).removeprefix("file://"))
        if where.resolve() == PACKAGE_DIR.parent:
            return "editable"
        return f"source tree (the editable install points at {where})"
    files = [Path(str(dist.locate_file(f))).resolve().parents[1] for f in (dist.files or [])
             if f.name == "provenance.py"]
    if files and files[0] != PACKAGE_DIR:
        return f"source tree (an installed copy is at {files[0]})"
    return "installed"


def _git(args: list[str]) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(PACKAGE_DIR), *args], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@functools.cache
def provenance() -> dict[str, Any]:
    """``{"version", "path", "install", "git_commit", "git_dirty"}``; the git fields are None
    outside a checkout (``git_dirty``: files of the checkout changed since that commit)."""
    # a checkout's commit only for the package the checkout tracks: not for an installed copy
    # that happens to sit inside one (a virtualenv in the clone)
    tracked = _git(["ls-files", "--error-unmatch", "results/provenance.py"]) is not None
    commit = _git(["rev-parse", "HEAD"]) if tracked else None
    dirty = None
    if commit is not None:
        status = _git(["status", "--porcelain", "--untracked-files=no"])
        dirty = None if status is None else bool(status)
    return {"version": package_version(), "path": str(PACKAGE_DIR), "install": _install(),
            "git_commit": commit, "git_dirty": dirty}
