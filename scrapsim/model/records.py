"""What a run records: the daily table, the event table, the mass-balance check.

The daily table is a preallocated ``[day, region, column]`` float array: the compiled market
day writes its row, enforcement adds its daily totals, and columns known in advance (inputs)
are filled in bulk; events are appended as array chunks. Column order and meanings
follow MODEL.md's output contract.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from scrapsim.errors import MassBalanceError
from scrapsim.model.table import Table

__all__ = [
    "DAILY_COLUMNS",
    "EXTRA_COLUMNS",
    "DailyRecorder",
    "EventLog",
    "MassBalanceError",
    "check_balance",
]

DAILY_COLUMNS = (
    "generated", "uncollected", "collected", "inflow", "outflow", "trader_stock", "offered",
    "demanded", "traded", "imports", "smelter_stock", "smelted", "ingot", "seized_traders",
    "seized_smelters", "running", "halted", "suspended", "rectifying", "closed", "inspections",
    "violations", "fines", "scrap_price", "ingot_price", "price_pressure",
)
EXTRA_COLUMNS = (
    "primary_price", "risk", "smelted_large", "smelted_small", "smelted_workshop",
    "running_large", "running_small", "running_workshop", "traders_active",
    "smelted_violating", "to_outside", "from_outside", "first_visits", "verifications",
    "audits", "violation_rate",
)
ACTORS = ("trader", "smelter")


class EventLog:
    """Every inspection, sanction and state change, appended in chunks of arrays."""

    def __init__(self) -> None:
        self._chunks: list[tuple] = []
        self.count = 0

    def add(self, time: float | np.ndarray, region: np.ndarray, kind: int, ids: np.ndarray,
            campaign: int, event: str, value: float | np.ndarray = 0.0) -> None:
        """Record one event per id (``kind``: 0 trader, 1 smelter; ``campaign`` -1 for none)."""
        n = len(ids)
        if n == 0:
            return
        self._chunks.append((time, region, kind, ids, campaign, event, value, None))
        self.count += n

    def add_rows(self, floats: np.ndarray, ints: np.ndarray, names: tuple[str, ...]) -> None:
        """Record rows of events written by compiled code: ``floats`` [time, value] and
        ``ints`` [region, actor kind, id, campaign, event code] per row, the codes indexing
        ``names``. The codes are kept as they are (the names are looked up only when the
        table is built, :meth:`table`; :meth:`coded` maps codes to codes)."""
        n = len(floats)
        if n == 0:
            return
        self._chunks.append((floats[:, 0], ints[:, 0], ints[:, 1], ints[:, 2], ints[:, 3],
                             ints[:, 4], floats[:, 1], names))
        self.count += n

    def coded(self, kinds: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """The events' (campaign, region, kind, value) in the order they were added, without
        building the table: campaign and region as indices (campaign -1 for none), kind as the
        index of the event's name in ``kinds`` (-1 for an event not among them)."""
        if not self._chunks:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, np.zeros(0)
        chunks = self._chunks
        sizes = np.array([len(c[3]) for c in chunks])
        where = {e: k for k, e in enumerate(kinds)}
        recoded: dict[tuple[str, ...], np.ndarray] = {}

        def code(chunk: tuple) -> int | np.ndarray:
            names = chunk[7]
            if names is None:
                return where.get(chunk[5], -1)
            if names not in recoded:    # each code of ``names`` as an index in ``kinds``
                recoded[names] = np.array([where.get(e, -1) for e in names], dtype=np.int64)
            return recoded[names][chunk[5]]

        camp = _spread([c[4] for c in chunks], sizes).astype(np.int64)
        region = np.concatenate([c[1] for c in chunks])
        kind = _spread([code(c) for c in chunks], sizes).astype(np.int64)
        return camp, region.astype(np.int64), kind, _spread([c[6] for c in chunks], sizes)

    def table(self, start: date, regions: list[str], campaigns: list[str]) -> Table:
        """The event table, sorted by time (stable: same-time events keep their order)."""
        if not self._chunks:
            empty = np.zeros(0)
            return Table({"time": empty, "date": empty.astype("datetime64[D]"),
                          "region": empty.astype(str), "actor": empty.astype(str),
                          "actor_id": empty.astype(np.int64), "campaign": empty.astype(str),
                          "event": empty.astype(str), "value": empty})
        chunks = self._chunks
        sizes = np.array([len(c[3]) for c in chunks])
        time = _spread([c[0] for c in chunks], sizes)
        order = np.argsort(time, kind="stable")
        names = sorted({c[5] for c in chunks if c[7] is None}
                       | {c[7][k] for c in chunks if c[7] is not None
                          for k in np.unique(c[5]).tolist()})
        code = {e: k for k, e in enumerate(names)}
        lookup = np.asarray(names)
        event = _spread([code[c[5]] if c[7] is None
                         else np.array([code.get(e, -1) for e in c[7]])[c[5]] for c in chunks],
                        sizes)
        kind, camp = (_spread([c[k] for c in chunks], sizes).astype(np.int64) for k in (2, 4))
        cols = {
            "time": time,
            "date": np.datetime64(start, "D") + np.floor(time).astype(np.int64),
            "region": np.asarray(regions)[np.concatenate([c[1] for c in chunks]).astype(np.int64)],
            "actor": np.asarray(ACTORS)[kind],
            "actor_id": np.concatenate([c[3] for c in chunks]).astype(np.int64),
            "campaign": np.asarray(campaigns + [""])[camp],
            "event": lookup[event.astype(np.int64)],
            "value": _spread([c[6] for c in chunks], sizes),
        }
        return Table({k: v[order] for k, v in cols.items()})


def _spread(items: list, sizes: np.ndarray) -> np.ndarray:
    """Concatenate per-chunk values as floats, each a scalar (repeated) or an array of the
    chunk's size."""
    out = np.empty(int(sizes.sum()))
    at = 0
    for x, n in zip(items, sizes.tolist(), strict=True):
        out[at:at + n] = x
        at += n
    return out


class DailyRecorder:
    """Preallocated daily rows: ``values[day, region, column]``."""

    def __init__(self, n_days: int, n_regions: int) -> None:
        self.columns = DAILY_COLUMNS + EXTRA_COLUMNS
        self.index = {c: i for i, c in enumerate(self.columns)}
        self.values = np.zeros((n_days, n_regions, len(self.columns)))

    def put_inputs(self, **columns: np.ndarray) -> None:
        """Fill whole columns known before the run (``[day, region]`` or ``[day]`` arrays)."""
        for name, value in columns.items():
            value = np.asarray(value, float)
            self.values[:, :, self.index[name]] = value if value.ndim == 2 else value[:, None]

    def table(self, dates: np.ndarray, regions: list[str]) -> Table:
        n_days, n_regions, _ = self.values.shape
        cols: dict[str, np.ndarray] = {
            "date": np.repeat(dates, n_regions),
            "region": np.tile(np.asarray(regions), n_days),
        }
        flat = self.values.reshape(n_days * n_regions, -1)
        for name, i in self.index.items():
            cols[name] = flat[:, i].copy()
        done, found = cols["inspections"], cols["violations"]
        cols["violation_rate"] = np.divide(found, done, out=np.full(done.size, np.nan),
                                           where=done > 0)
        return Table(cols)



UNDEFINED_ALLOWED = frozenset({"price_pressure", "violation_rate"})
"""Columns that are NaN where they are undefined: the pressure on a day without clearing, the
violation rate on a day without inspections. Every other number must be finite."""


def _check_finite(daily: Table, regions: list[str]) -> None:
    """Raise :class:`MassBalanceError` at the first NaN or infinite number of ``daily`` (an
    infinite one only, in :data:`UNDEFINED_ALLOWED`), naming its column, day (from 0) and
    region."""
    n_reg = max(1, len(regions))
    for name in daily:
        values = np.asarray(daily[name])
        if values.dtype.kind != "f":
            continue  # dates, names, counts
        bad = np.flatnonzero(np.isinf(values) if name in UNDEFINED_ALLOWED
                             else ~np.isfinite(values))
        if bad.size:
            day, reg = divmod(int(bad[0]), n_reg)
            raise MassBalanceError(f"{name} is {values[bad[0]]} on day {day} in "
                                   f"{regions[reg] if regions else '?'} (a non-finite result: "
                                   "a scenario number too large for the model?)")


def check_balance(daily: Table, initial: Table, tol: float = 1e-9) -> None:
    """Raise :class:`MassBalanceError` unless every row balances to ``tol`` of its volumes."""
    regions = list(initial["region"])
    n_reg = len(regions)
    d = {k: np.asarray(daily[k], float).reshape(-1, n_reg) for k in
         ("generated", "uncollected", "collected", "inflow", "outflow", "trader_stock", "traded",
          "to_outside", "from_outside", "seized_traders", "imports", "smelter_stock", "smelted",
          "seized_smelters", "ingot")}
    _check_finite(daily, regions)
    prev = {k: np.vstack([np.asarray(initial[k], float)[None, :], d[k][:-1]])
            for k in ("uncollected", "trader_stock", "smelter_stock")}
    checks = {
        "uncollected": (d["uncollected"], prev["uncollected"] + d["generated"] - d["collected"],
                        prev["uncollected"] + d["generated"]),
        "trader_stock": (d["trader_stock"], prev["trader_stock"] + d["collected"] + d["inflow"]
                         + d["from_outside"] - d["outflow"] - d["to_outside"] - d["traded"]
                         - d["seized_traders"],
                         prev["trader_stock"] + d["collected"] + d["inflow"] + d["outflow"]
                         + d["from_outside"] + d["to_outside"]),
        "smelter_stock": (d["smelter_stock"], prev["smelter_stock"] + d["traded"] + d["imports"]
                          - d["smelted"] - d["seized_smelters"],
                          prev["smelter_stock"] + d["traded"] + d["imports"]),
    }
    for name, (got, want, scale) in checks.items():
        err = np.abs(got - want) - tol * np.maximum(np.abs(scale), 1.0)
        if not (err <= 0).all():  # NaN compares false: it fails too
            day, reg = np.argwhere(~(err <= 0))[0]
            raise MassBalanceError(f"{name} off by {abs(got - want)[day, reg]:.3g} t on day "
                                   f"{day} in {regions[reg]}")
    if (d["ingot"] > d["smelted"] * (1 + tol) + tol).any():
        raise MassBalanceError("ingot exceeds smelted")
    gap = np.abs(d["inflow"].sum(axis=1) - d["outflow"].sum(axis=1))
    if (gap > tol * np.maximum(d["outflow"].sum(axis=1), 1.0)).any():
        raise MassBalanceError("inflows and outflows differ across regions")
