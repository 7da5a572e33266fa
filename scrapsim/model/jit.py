"""numba's ``njit`` for the model's kernels, with their disk cache in a folder named by the
kernels' sources: code compiled from other sources is never loaded.

numba checks a cached function against its own file only. A kernel that calls a kernel of
another file (``market_day`` in ``kernels.py`` calls the trader passes of
``trader_kernels.py``) is cached with its callees compiled into it, so after an edit of the
callee's file numba loads the caller, old callee included, from the cache: the just-in-time
build runs the old code, and so does an ahead-of-time build (:mod:`scrapsim.model.aot`),
which links the cached callers' code (measured: an edit of ``trader_kernels.py`` changed
neither build until the cache was emptied). Here every kernel's cache lives in a folder named
by :func:`source_stamp`, a digest of all :data:`SOURCES`: an edit of any of them starts an
empty folder, and the same sources find theirs again (a second build of the extension takes
about half the time of the first).

The folder is ``numba-<stamp>`` under ``$NUMBA_CACHE_DIR`` when that is set, else in this
package's ``__pycache__`` where it is writable, else in the user's cache folder
(``$XDG_CACHE_HOME`` or ``~/.cache``, ``scrapsim/``). Only the kernels' dispatchers are
given it (numba reads the setting when a function is decorated); other numba code in the same
process keeps numba's own cache places. Folders of older sources are left where they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["SOURCES", "cache_dir", "folder_for", "njit", "source_stamp"]

HERE = Path(__file__).parent
SOURCES = ("kernels.py", "trader_kernels.py", "smelter_kernels.py", "market.py", "packing.py",
           "draws.py", "campaign_kernels.py", "sanction_kernels.py", "clearing_kernels.py",
           "jit.py")
"""The modules the compiled loops are built from (in :mod:`scrapsim.model`)."""


def source_stamp() -> int:
    """A 56-bit digest of :data:`SOURCES`, as they are on disk now."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((HERE / name).read_bytes())
    return int.from_bytes(digest.digest()[:7], "big")


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


@cache
def cache_dir() -> Path:
    """Where the kernels' numba cache is: a folder named by :func:`source_stamp` when this
    process first asked (every kernel of a process caches in the same folder)."""
    return folder_for(source_stamp())


def folder_for(stamp: int) -> Path:
    """The cache folder of kernels whose sources have ``stamp``."""
    name = f"numba-{stamp:014x}"
    given = os.environ.get("NUMBA_CACHE_DIR", "")
    if given:
        return Path(given) / f"scrapsim-{name}"
    here = HERE / "__pycache__" / name
    if _writable(here):
        return here
    user = Path(os.environ.get("XDG_CACHE_HOME", "") or Path.home() / ".cache")
    return user / "scrapsim" / name


@contextlib.contextmanager
def _kernels_cache() -> Iterator[None]:
    from numba.core import config as numba_config

    config: Any = numba_config      # its settings are set at import, unknown to a type checker
    before = config.CACHE_DIR
    config.CACHE_DIR = str(cache_dir())
    try:
        yield
    finally:
        config.CACHE_DIR = before


def njit(**options: Any) -> Any:
    """``numba.njit(**options)`` as a decorator, its ``cache=True`` caching in
    :func:`cache_dir` (every kernel is decorated ``@njit(cache=True, ...)``)."""
    import numba

    def decorate(func: Callable) -> Any:
        with _kernels_cache():
            return numba.njit(**options)(func)

    return decorate
