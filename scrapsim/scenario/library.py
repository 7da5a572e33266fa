"""The scenario library shipped inside the package, in ``scrapsim/library/``: ``scenarios/``,
``targets/``, ``params/`` and ``studies/`` (read with :mod:`importlib.resources`, so they are
there after any install).

A library scenario is addressed by its name (``hebei``) or by its path in the repo
(``scenarios/hebei.yaml``) wherever a scenario file is expected; a file of that name in the
working folder wins. Targets, parameters and study files likewise (``targets/hebei.yaml``,
``studies/price_sign.yaml``). At the repo root, ``scenarios``, ``targets``, ``params`` and
``studies`` are links to these folders.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["close_name", "find_scenario", "folder", "resolve", "scenario_names", "shadowed"]

KINDS = ("scenarios", "targets", "params", "studies")


def folder(kind: str = "scenarios") -> Path:
    """The library folder of ``kind`` (scenarios, targets, params or studies) as a real
    path."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return Path(str(resources.files("scrapsim") / "library" / kind))


def scenario_names(kind: str = "scenarios") -> list[str]:
    """The names (file stems) in a library folder, sorted."""
    return sorted(p.stem for p in folder(kind).glob("*.yaml"))


def find_scenario(name: str, kind: str = "scenarios") -> Path | None:
    """The library file called ``name`` (with or without ``.yaml``), or None."""
    stem = name.removesuffix(".yaml")
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        return None
    path = folder(kind) / f"{stem}.yaml"
    return path if path.is_file() else None


def resolve(ref: str | Path, kind: str = "scenarios") -> Path:
    """``ref`` itself when it exists; else the library file it names, by name (``hebei``) or
    by the repo's relative path (``scenarios/hebei.yaml``, ``targets/hebei.yaml``), so the
    README's commands work from any folder; else ``ref`` unchanged (the caller reports it
    missing)."""
    path = Path(ref)
    if path.exists():
        return path
    name = path.name if len(path.parts) == 2 and path.parts[0] == kind else str(ref)
    found = find_scenario(name, kind)
    return found if found is not None else path


def close_name(ref: str | Path, kind: str = "scenarios") -> str:
    """`` (did you mean the library's 'NAME'?)`` for a missing file whose name is close to a
    library file of ``kind`` (``hebie`` for ``hebei``); empty when none is."""
    import difflib

    stem = Path(ref).name.removesuffix(".yaml")
    hint = difflib.get_close_matches(stem, scenario_names(kind), n=1)
    return f" (did you mean the library's {hint[0]!r}?)" if hint else ""


def shadowed(ref: str | Path, kind: str = "scenarios") -> str | None:
    """A note when ``ref``, a bare name (``hebei``), reads the library's file while the
    working folder has ``<name>.yaml`` (which ``scrapsim new hebei`` writes): the command
    runs the library's; None otherwise."""
    path = Path(ref)
    if path.suffix or len(path.parts) != 1 or path.exists():
        return None
    local = path.with_name(path.name + ".yaml")
    found = find_scenario(path.name, kind)
    if found is None or not local.is_file():
        return None
    return (f"{path.name!r} is the library's {kind.removesuffix('s')}; the file {local} here is "
            f"not read (give its name, '{local}', to run it)")
