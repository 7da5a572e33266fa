"""Result folders on disk: one way to publish a folder atomically, one way to recognise a
folder scrapsim wrote, and file writes that a reader never sees half-done.

Every command writes into a working folder beside its final one and renames it into place
when complete (:func:`publish`): a run into a hidden ``.<name>.tmp-<pid>-<hex>`` (nothing to
resume), an experiment into ``<name>.partial`` (its journal lets the same command resume).
A folder is recognised by its manifest's ``kind`` and ``id`` (:func:`check_out`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from scrapsim.errors import ScenarioError, SweepSpecError

__all__ = ["MANIFEST", "check_out", "folder_id", "make_parents", "partial_path", "publish",
           "read_manifest", "remove_empty", "write_json", "write_text"]

MANIFEST = "manifest.json"


def partial_path(final: Path) -> Path:
    """The working folder of an experiment whose finished folder will be ``final``."""
    return final.with_name(final.name + ".partial")


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a result folder; a clear input error when it is not JSON."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"is not a manifest scrapsim wrote ({exc})", file=str(path),
                            expected="the manifest.json of a scrapsim result folder") from None
    if not isinstance(data, dict):
        raise ScenarioError("is not a manifest scrapsim wrote", file=str(path),
                            expected="a JSON object")
    return data


def folder_id(manifest: dict[str, Any], kind: str) -> str | None:
    """The id a manifest records for ``kind`` (``id``; ``<kind>_id`` in earlier versions)."""
    found = manifest.get("id") if manifest.get("kind") == kind else None
    return found or manifest.get(f"{kind}_id")


def check_out(final: Path, kind: str, ident: str) -> bool:
    """True when ``final`` already holds this finished ``kind`` with this ``ident``; False when
    it is free (missing or empty); an input error when it holds anything else."""
    if not final.exists():
        return False
    if not final.is_dir():
        raise SweepSpecError("exists and is not a folder", file=str(final), value=str(final),
                             expected="a new or empty folder for --out")
    if (final / MANIFEST).exists():
        found = folder_id(read_manifest(final), kind)
        if found == ident:
            return True
        raise SweepSpecError(f"holds another {kind} (id {found}, this one is {ident})" if found
                             else "holds another result folder", file=str(final),
                             expected="a new or empty folder for --out")
    if any(final.iterdir()):
        raise SweepSpecError("exists and is not empty", file=str(final), value=str(final),
                             expected="a new or empty folder for --out")
    return False


def publish(work: Path, final: Path, *, replace: bool = False) -> Path:
    """Rename the completed working folder ``work`` to ``final`` and make it durable.

    An empty ``final`` is taken over. With ``replace``, an existing ``final`` (a result of the
    same kind, checked by the caller) is moved aside, the new folder renamed in, and the old
    one removed, so ``final`` never stands half-written.
    """
    old = None
    if final.is_dir() and not any(final.iterdir()):
        final.rmdir()
    elif final.exists() and replace:
        old = final.parent / f".{final.name}.old-{os.getpid()}-{secrets.token_hex(3)}"
        final.rename(old)
    os.replace(work, final)
    _fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_parents(folder: Path) -> list[Path]:
    """``mkdir -p folder``; the folders it created (outermost first), so a failure can undo
    them with :func:`remove_empty`."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    for p in missing:
        p.mkdir(exist_ok=True)
    return missing


def remove_empty(created: list[Path]) -> None:
    """Remove the folders :func:`make_parents` created, innermost first, while they are empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return


def write_text(path: Path, text: str) -> None:
    """Write a file through a temporary name, so a reader never sees half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON (NaN refused) through :func:`write_text`."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
