"""What ``discover`` and ``robust`` read and write: the cases of an exploration (or sweep)
folder, and their own small result folders.

A *case* is one point of the design (a policy in an uncertainty scenario, or a sweep point):
its inputs (the levers' and uncertainties' values, or the swept keys) and each metric's mean over
its successful replications. Inputs that hold one value in every case are dropped (nothing can
be learned from them). An analysis folder is written under a temporary hidden name and renamed
into place; the same analysis of the same folder is read back instead of redone.
"""

from __future__ import annotations

import difflib
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapsim.errors import ParamsError
from scrapsim.results import folders
from scrapsim.results.manifest import header, utc_now

__all__ = ["Source", "cases", "publish_analysis", "read_source"]

KINDS = ("explore", "sweep", "sensitivity")
NOT_METRICS = ("point", "rep", "scenario", "seed", "wall_s", "policy")
"""Numeric columns of runs.csv that say which run it was, not what came out of it."""


@dataclass
class Source:
    """A folder of many runs: its manifest, runs table (pandas) and input columns."""

    folder: Path
    manifest: dict[str, Any]
    runs: Any
    inputs: list[str]

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind"))


def read_source(folder: str | Path, kinds: tuple[str, ...] = KINDS) -> Source:
    """An exploration (or sweep) folder: manifest, runs.csv and the inputs of its cases."""
    import pandas as pd

    folder = Path(folder)
    expected = " or ".join(f"a finished {k} folder" for k in kinds)
    if not folder.is_dir():
        raise ParamsError("no such folder" if not folder.exists() else "is not a folder",
                          file=str(folder), expected=expected)
    if not (folder / folders.MANIFEST).is_file():
        raise ParamsError("has no manifest.json: not a folder scrapsim wrote", file=str(folder),
                          expected=expected)
    manifest = folders.read_manifest(folder)
    kind = manifest.get("kind")
    if kind not in kinds:
        raise ParamsError(f"is a {kind} folder", file=str(folder), value=kind,
                          expected=expected)
    if not (folder / "runs.csv").is_file():
        raise ParamsError(f"is a damaged {kind} folder (runs.csv is missing)", file=str(folder),
                          expected=expected)
    why = folders.damage(folder, manifest)     # what its results would stand on
    if why:
        raise ParamsError(f"is a damaged {kind} folder ({why})", file=str(folder),
                          expected=expected)
    try:
        runs = pd.read_csv(folder / "runs.csv")
    except (OSError, ValueError) as exc:
        raise ParamsError(f"cannot read ({exc})", file=str(folder / "runs.csv"),
                          expected="the runs.csv scrapsim wrote") from None
    if kind == "explore":
        inputs = list(manifest.get("inputs") or [])
    else:
        inputs = [a["key"] for a in (manifest.get("design") or {}).get("axes") or []]
    return Source(folder, manifest, runs, [c for c in inputs if c in runs.columns])


def cases(source: Source, metric: str) -> tuple[Any, Any]:
    """The cases (rows: points) as inputs (varying ones only; whole-number columns int64,
    others float64) and the metric's mean over each point's successful replications."""
    import numpy as np
    import pandas as pd

    runs = source.runs
    if metric not in runs.columns:
        numeric = [c for c in runs.columns if c not in source.inputs and
                   pd.api.types.is_numeric_dtype(runs[c]) and c not in NOT_METRICS]
        if not numeric:
            raise ParamsError(f"its runs give no metric at all (runs.csv holds "
                              f"{len(runs)} rows of {', '.join(map(str, runs.columns[:6]))})",
                              file=str(source.folder),
                              expected="an explore or sweep folder as scrapsim wrote it")
        more = ", ..." if len(numeric) > 12 else ""
        close = difflib.get_close_matches(metric, [str(c) for c in numeric], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParamsError(f"the runs give no metric {metric!r}{hint}", file="--metric",
                          value=metric, expected=f"one of {', '.join(numeric[:12])}{more}")
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    ok = ok.assign(_y=pd.to_numeric(ok[metric], errors="coerce"))
    grouped = ok.groupby("point", sort=True)
    x = grouped[source.inputs].first()
    y = grouped["_y"].mean()
    keep = y.notna().to_numpy()
    x, y = x[keep], y[keep]
    columns = {}
    for c in x.columns:
        v = pd.to_numeric(x[c], errors="coerce")
        if v.isna().any() or v.nunique() < 2:
            continue
        whole = bool(np.all(v == np.round(v))) and pd.api.types.is_integer_dtype(runs[c])
        columns[c] = v.to_numpy(np.int64 if whole else np.float64)
    if not columns:
        raise ParamsError("no input varies across the cases", file=str(source.folder),
                          expected="an exploration or LHS sweep with varied inputs")
    return pd.DataFrame(columns), y.to_numpy(float)


def publish_analysis(kind: str, ident: str, source: Source, out: Path,
                     write: Callable[[Path], tuple[list[str], dict[str, Any]]],
                     command: list[str] | None) -> tuple[dict[str, Any], bool]:
    """Write an analysis folder (``write(tmp)`` gives its files and manifest body) and rename
    it to ``out``; when ``out`` already holds this analysis, its manifest and True."""
    if folders.check_out(out, kind, ident):
        found = folders.read_manifest(out)
        why = folders.damage(out, found)        # its tables edited since: not read back
        if why:
            raise ParamsError(f"is a damaged {kind} folder ({why})", file=str(out),
                              expected=f"the {kind} folder as scrapsim wrote it, or a new --out")
        return found, True
    started = utc_now()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        tmp.mkdir()
        files, body = write(tmp)
        head = header(kind, ident, scenario=source.manifest.get("scenario"), seeds=[],
                      engine=None, started=started, command=command,
                      root_seed=source.manifest.get("root_seed"))
        found = {**head, "source": {"folder": str(source.folder), "kind": source.kind,
                                    "id": source.manifest.get("id")}, **body,
                 "files": sorted({*files, folders.MANIFEST}),
                 "digests": folders.digests(tmp, files)}
        folders.write_json(tmp / folders.MANIFEST, found)
        folders.publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return found, False
