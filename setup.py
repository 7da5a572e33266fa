"""Build hook: the model's loops compiled ahead of time into ``scrapsim.model._loops``
(:mod:`scrapsim.model.aot`), so an installed scrapsim has nothing to compile on its first run.

Everything else is in pyproject.toml. Without a C compiler (or with numba unable to build)
the install still succeeds, says so, and numba compiles the loops on first use instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _copy_into_source_tree(built: Path) -> None:
    """Also leave the extension beside the sources being built (a clone, for ``pip install .``),
    so ``python -m scrapsim`` run there, which imports the clone rather than the installed copy,
    has nothing to compile either; :mod:`scrapsim.model.loops` ignores it once the kernels'
    sources change. Not copied where the folder is not writable."""
    here = Path(__file__).resolve().parent / "scrapsim" / "model" / built.name
    if built.exists() and here.resolve() != built.resolve():
        from scrapsim.model.aot import replace_file

        with contextlib.suppress(OSError):
            replace_file(built, here)


def _reuse_from_source_tree(target: Path) -> bool:
    """Take the extension beside the sources when it was built from these very sources (its
    stamp is theirs: a second ``pip install .`` of a clone, or a wheel built after an install)
    instead of compiling the same code again; False when there is none or it is stale."""
    from scrapsim.model.aot import replace_file, up_to_date

    here = Path(__file__).resolve().parent / "scrapsim" / "model" / target.name
    if not up_to_date(here):
        return False
    if here.resolve() != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_file(here, target)
    print(f"scrapsim: the model's loops were built from these sources already ({here.name}): "
          "reused, not compiled again", file=sys.stderr)
    return True


class BuildLoops(build_ext):
    """``build_ext`` whose one extension is compiled by numba.pycc, not from C sources."""

    def build_extension(self, ext: Extension) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        # The build must not load an extension an earlier build left in the tree: it may be
        # the file this build replaces.
        os.environ["SCRAPSIM_JIT"] = "1"
        try:
            from scrapsim.model.aot import build

            target = Path(self.get_ext_fullpath(ext.name))
            if not _reuse_from_source_tree(target):
                build(str(target), verbose=bool(self.verbose > 1))
                _copy_into_source_tree(target)
        except Exception as exc:  # the JIT build is the fallback, never a failed install
            print(f"scrapsim: the model's loops were not compiled ahead of time ({exc!r}); "
                  "numba compiles them on the first run instead", file=sys.stderr)
        finally:
            sys.path.pop(0)


setup(ext_modules=[Extension("scrapsim.model._loops", sources=[])],
      cmdclass={"build_ext": BuildLoops})
