"""Result folders on disk: one way to publish a folder atomically, one way to recognise a
folder scrapsim wrote, and file writes that a reader never sees half-done.

Every command writes into a working folder beside its final one and renames it into place
when complete (:func:`publish`): a run into a hidden ``.<name>.tmp-<pid>-<hex>`` (nothing to
resume), an experiment into ``<name>.partial`` (its journal lets the same command resume).
A folder is recognised by its manifest's ``kind`` and ``id`` (:func:`check_out`); a working
folder by the same two in its ``experiment.json`` until the manifest is written
(:func:`check_partial`), so an experiment never takes over another's unfinished runs, or a
folder of the user's that happens to bear the name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from scrapsim.errors import OutputFolderError, ScenarioError
from scrapsim.results.journal import JOURNAL, REJECTED

__all__ = ["MANIFEST", "PARTIAL_MARK", "check_out", "check_partial", "check_replace",
           "clean_stale", "folder_id", "foreign", "make_parents", "mark_partial", "os_problem",
           "partial_path", "publish", "read_manifest", "remove_empty", "work_path", "write_json",
           "write_text"]

MANIFEST = "manifest.json"
_WORK = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-[0-9a-f]{6}$")


def partial_path(final: Path) -> Path:
    """The working folder of an experiment whose finished folder will be ``final``."""
    return final.with_name(final.name + ".partial")


PARTIAL_MARK = "experiment.json"
"""Names the experiment a working folder belongs to (``kind``, ``id``) until its manifest does:
written when the folder is made, removed once the manifest is in it."""
_JOURNAL_FILES = frozenset({JOURNAL, REJECTED})


def _partial_owner(partial: Path) -> tuple[Any, Any] | None:
    """``(kind, id)`` of the experiment whose working folder ``partial`` is, from its mark or,
    once that is gone, its manifest; None when it has neither (or they are not JSON)."""
    for name in (PARTIAL_MARK, MANIFEST):
        try:
            data = json.loads((partial / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and "kind" in data and "id" in data:
            return data["kind"], data["id"]
    return None


def check_partial(partial: Path, kind: str, ident: str, *also: str) -> None:
    """Refuse a working folder this experiment did not start: one that names another
    experiment (its unfinished runs stay there for the command that started it), or an unmarked
    one holding anything but a journal (a folder of the user's bearing the name). An unmarked
    journal alone is resumed from, as an earlier scrapsim left it. ``ident``: the id the
    experiment marks its working folder with; ``also``: ids its manifest may record there.
    Nothing is moved or deleted."""
    if not partial.exists() and not partial.is_symlink():
        return
    if not partial.is_dir() or partial.is_symlink():
        raise OutputFolderError("exists and is not a folder scrapsim is working in",
                                file=str(partial), expected="a new --out, or this path removed")
    owner = _partial_owner(partial)
    if owner is not None and owner not in {(kind, i) for i in (ident, *also)}:
        raise OutputFolderError(
            f"holds the unfinished runs of another {owner[0]} (id {owner[1]}; this {kind} is "
            f"{ident})", file=str(partial), expected="the command that started it (to resume "
            "it), or another --out for this one")
    if owner is None:
        extra = sorted(p.name for p in partial.iterdir() if p.name not in _JOURNAL_FILES)
        if extra:
            raise OutputFolderError(f"holds files scrapsim did not write ({_first_three(extra)})",
                                    file=str(partial), expected="a working folder scrapsim "
                                    "started, or another --out")


def mark_partial(partial: Path, kind: str, ident: str) -> None:
    """Name the experiment ``partial`` belongs to (:data:`PARTIAL_MARK`), unless it does."""
    if _partial_owner(partial) is None:
        write_json(partial / PARTIAL_MARK, {"kind": kind, "id": ident})


def read_manifest(folder: Path, name: str = MANIFEST) -> dict[str, Any]:
    """The manifest of a result folder; a clear input error when it is not JSON."""
    path = folder / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
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


def foreign(folder: Path, listed: Any, manifest_name: str = MANIFEST) -> list[str]:
    """What ``folder`` holds that its manifest does not list (``listed``: the manifest's
    ``files``), as paths relative to it: the files scrapsim did not write there."""
    names = {str(n) for n in listed} if isinstance(listed, list) else set()
    names.add(manifest_name)
    extra = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(n.startswith(rel + "/") for n in names):
                extra.append(rel + "/")
        elif rel not in names and not any(rel.startswith(e) for e in extra):
            extra.append(rel)
    return [e for e in extra if not any(e != o and e.startswith(o) for o in extra)]


def _first_three(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def digests(folder: Path, names: Any) -> dict[str, str]:
    """SHA-256 of each listed file of ``folder`` (the manifest and the journal, which are
    checked otherwise, left out): recorded in the manifest, checked when it is read back."""
    out = {}
    for name in sorted(str(n) for n in names):
        path = folder / name
        if name in (MANIFEST, "runs.jsonl") or not path.is_file():
            continue
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def changed(folder: Path, manifest: dict[str, Any], figures_may_go: bool = False) -> list[str]:
    """The files whose digests ``manifest`` recorded (:func:`digests`) that are not as
    scrapsim wrote them (edited, truncated or gone); none for a folder that recorded none.
    ``figures_may_go``: a figure (PNG, SVG) deleted is not counted (what only reads the
    tables, as a report does, needs none of them)."""
    recorded = manifest.get("digests")
    if not isinstance(recorded, dict):
        return []
    now = digests(folder, list(recorded))
    return [str(name) for name, value in recorded.items() if now.get(name) != value and not (
        figures_may_go and name not in now and str(name).endswith((".png", ".svg")))]


def damage(folder: Path, manifest: dict[str, Any], figures_may_go: bool = False) -> str | None:
    """What of ``folder`` is not as scrapsim wrote it (:func:`changed`), in words ("runs.csv
    changed since it was written; events.csv is gone"); None when nothing is."""
    names = changed(folder, manifest, figures_may_go)
    gone = [n for n in names if not (folder / n).exists()]
    edited = [n for n in names if n not in gone]
    parts = [f"{', '.join(edited[:5])} changed since it was written"] if edited else []
    parts += [f"{', '.join(gone[:5])} {'is' if len(gone) == 1 else 'are'} gone"] if gone else []
    return "; ".join(parts) or None


def check_replace(final: Path, kind: str, ident: str, *,
                  manifest_name: str = MANIFEST) -> bool:
    """May ``final`` be replaced by a new ``kind`` folder with id ``ident``? False when it is
    free (missing or empty), True when it is a folder scrapsim wrote for this same kind and id
    and holds nothing else, none of it changed since (where its manifest records the files'
    ``digests``); an input error naming the folder otherwise (nothing is deleted).
    """
    expected = f"a new or empty folder, or an earlier {kind} folder with the same id"
    for parent in final.parents:        # the nearest existing one must be a folder
        if parent.exists():
            if not parent.is_dir():
                raise OutputFolderError(f"is inside {parent}, which is a file, not a folder",
                                     file=str(final), value=str(final), expected=expected)
            break
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise OutputFolderError("exists and is not a folder", file=str(final), value=str(final),
                             expected=expected)
    if not final.exists() or not any(final.iterdir()):
        return False
    if not (final / manifest_name).is_file():
        raise OutputFolderError(f"is a non-empty folder that is not a scrapsim {kind}; not "
                             f"overwriting (it has no {manifest_name})", file=str(final),
                             expected=expected)
    found = read_manifest(final, manifest_name)
    got = folder_id(found, kind) if found.get("kind") == kind else None
    if got != ident:
        what = f"another {kind} (id {got}, this one is {ident}; --out another folder keeps " \
            "both)" if got else f"a result of another kind ({found.get('kind')!r})"
        raise OutputFolderError(f"holds {what}; not replacing it", file=str(final),
                             expected=expected)
    extra = foreign(final, found.get("files"), manifest_name)
    if extra:
        raise OutputFolderError(f"holds files scrapsim did not write ({_first_three(extra)}); "
                             "not replacing it",
                             file=str(final), expected=expected)
    recorded = found.get("digests")
    if isinstance(recorded, dict):      # folders written before digests were kept have none
        now = digests(final, list(recorded))
        changed = sorted(name for name, sha in recorded.items()
                         if name in now and now[name] != sha)
        if changed:
            raise OutputFolderError(f"holds {_first_three(changed)}, changed since scrapsim wrote "
                                 "them; not replacing it", file=str(final), expected=expected)
    return True


def work_path(final: Path, tag: str = "tmp") -> Path:
    """A hidden working sibling of ``final``: ``.<name>.<tag>-<pid>-<hex>`` (removed by
    :func:`clean_stale` once its process is gone)."""
    return final.parent / f".{final.name}.{tag}-{os.getpid()}-{secrets.token_hex(3)}"


def os_problem(exc: BaseException) -> str:
    """An error's line for the user; an OS error on the way to a result folder names the folder
    meant (not the working one, :func:`work_path` or ``<name>.partial``), the system's reason
    and what would do. Any other error is its own text."""
    name = getattr(exc, "filename", None) if isinstance(exc, OSError) else None
    if not isinstance(name, str):
        return str(exc)
    path = Path(name)
    found = _WORK.match(path.name)
    if found:
        path = path.parent / found["name"]
    elif path.name.endswith(".partial"):
        path = path.with_name(path.name.removesuffix(".partial"))
    else:
        return str(exc)
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return (f"{path}: cannot be written ({reason}) (expected a folder you may write to, or "
            "another --out)")


def clean_stale(final: Path) -> list[Path]:
    """Remove the working folders beside ``final`` (``.<name>.tmp-<pid>-<hex>``, see
    :func:`work_path`, whatever their name) left by processes that no longer run (a SIGKILL,
    a power cut); the folders removed. A live process's are left alone."""
    removed: list[Path] = []
    try:
        entries = list(final.parent.iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _WORK.match(path.name)
        if match is None or _alive(int(match["pid"])):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def check_out(final: Path, kind: str, ident: str) -> bool:
    """True when ``final`` already holds this finished ``kind`` with this ``ident`` and only
    the files its manifest lists; False when it is free (missing or empty); an input error when
    it holds anything else (nothing is deleted)."""
    if not final.exists():
        return False
    if not final.is_dir():
        raise OutputFolderError("exists and is not a folder", file=str(final), value=str(final),
                             expected="a new or empty folder for --out")
    if (final / MANIFEST).exists():
        manifest = read_manifest(final)
        found = folder_id(manifest, kind)
        if found == ident:
            listed = manifest.get("files")     # none: damaged, reported when read back
            extra = foreign(final, listed) if isinstance(listed, list) else []
            if extra:
                raise OutputFolderError(f"holds this {kind} and files scrapsim did not write "
                                     f"({_first_three(extra)}); not reading it back",
                                     file=str(final),
                                     expected="a new or empty folder for --out, or the "
                                     f"{kind} folder with only the files its manifest lists")
            return True
        raise OutputFolderError(f"holds another {kind} (id {found}, this one is {ident}; --out "
                             "another folder keeps both)" if found else
                             f"holds a {manifest.get('kind') or 'result'} folder, not a {kind}",
                             file=str(final), expected="a new or empty folder for --out")
    if any(final.iterdir()):
        raise OutputFolderError("exists and is not empty", file=str(final), value=str(final),
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
        old = work_path(final, "old")
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
