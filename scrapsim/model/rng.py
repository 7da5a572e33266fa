"""One root seed, one independent numpy Generator per role.

Each role's stream is spawned from the root :class:`numpy.random.SeedSequence` by a fixed key,
so a run and its intensity-0 baseline draw identical numbers for everything enforcement does not
touch (common random numbers), and adding a role never shifts another role's stream.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams"]


class Streams:
    """Named random streams derived from one root seed."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.root = (seed if isinstance(seed, np.random.SeedSequence)
                     else np.random.SeedSequence(seed))
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, role: str) -> np.random.Generator:
        """The Generator of ``role`` (e.g. ``"traders"``, ``"campaign:3"``), created once."""
        if role not in self._cache:
            key = zlib.crc32(role.encode("utf-8"))
            child = np.random.SeedSequence(self.root.entropy, spawn_key=(*self.root.spawn_key, key))
            self._cache[role] = np.random.Generator(np.random.PCG64(child))
        return self._cache[role]
