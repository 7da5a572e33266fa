"""Inspection lists: which sites a campaign visits, in rounds, as the 2017 campaigns worked.

A campaign works from lists of the sites in its regions (the "base number of scattered
pollution enterprises", the licensed plants, the traders' yards): each day's visits go to sites
of the list not yet visited in the current round, and a new round starts for a list only when
every site on it has been visited. Within a list, smelters are drawn with probability
proportional to ``capacity**size_bias`` (an exponential race over the unvisited, i.e. weighted
sampling without replacement); traders uniformly. A campaign's day of visits is compiled
(:func:`scrapsim.model.campaign_kernels.campaign_day`, its draws in
:mod:`scrapsim.model.draws`); here are the rounds' arrays it works on, a list's pick as one call,
and the numpy forms of the draws the compiled ones reproduce.
"""

from __future__ import annotations

import numpy as np

from scrapsim.model import loops

__all__ = ["Rounds", "draw_uniform", "draw_weighted", "escalate"]


def draw_weighted(ids: np.ndarray, weights: np.ndarray, k: int,
                  rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct ids (all of them if fewer), each drawn with probability ∝ weight, in draw
    order (smallest exponential clock ``E/w`` first)."""
    if k >= ids.size:
        return ids[np.argsort(rng.exponential(1.0, ids.size) / weights, kind="stable")]
    clocks = rng.exponential(1.0, ids.size) / weights
    part = np.argpartition(clocks, k - 1)[:k]
    return ids[part[np.argsort(clocks[part], kind="stable")]]


def draw_uniform(ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct ids drawn uniformly (all of them, shuffled, if fewer)."""
    if k >= ids.size:
        return rng.permutation(ids)
    return rng.choice(ids, size=k, replace=False)


_UNIFORM = np.zeros(0)
"""The weights :meth:`Rounds.pick` passes for a list drawn uniformly (not read)."""


class Rounds:
    """One campaign's rounds over its lists: ``seen`` (visited this round), ``ever`` (visited
    at least once: a first visit) and ``last`` (day of the last visit, -1 never) per actor."""

    def __init__(self, n: int) -> None:
        self.seen = np.zeros(n, dtype=bool)
        self.ever = np.zeros(n, dtype=bool)
        self.last = np.full(n, -1, dtype=np.int64)

    def mark(self, ids: np.ndarray, day: int) -> None:
        """Count ``ids`` as visited this round on ``day`` (a verification visit, say)."""
        self.seen[ids] = True
        self.last[ids] = day

    def pick(self, pool: np.ndarray, k: int, rng: np.random.Generator,
             weights: np.ndarray | None = None, day: int = -2) -> np.ndarray:
        """``k`` sites of ``pool`` (a list: ids, each at most once per round, with their
        ``weights``, None for uniform) on ``day``: the unvisited first; when they run out the
        list's round ends and the rest come from a new round (no site is visited twice on one
        day). One compiled call (:func:`scrapsim.model.draws.pick_round`), drawing on ``rng``
        as :func:`draw_uniform` and :func:`draw_weighted` do."""
        if k <= 0 or pool.size == 0:
            return np.zeros(0, dtype=np.int64)
        return loops.pick_round(pool, _UNIFORM if weights is None else weights,
                                weights is not None, int(k), self.seen, self.last, int(day), rng)

    def first_visits(self, ids: np.ndarray) -> np.ndarray:
        """True where this is the actor's first visit by the campaign (and mark them visited)."""
        first = ~self.ever[ids]
        self.ever[ids] = True
        return first


def escalate(share: float, intensity: float) -> float:
    """Probability ``1 − (1 − share)**intensity``: 0 at intensity 0, ``share`` at 1, rising."""
    return 1.0 - (1.0 - share) ** intensity
