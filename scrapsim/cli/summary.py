"""The few lines a run prints on the terminal (:func:`format_summary`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["format_summary"]


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * float(x):+.1f}%"


def format_summary(result: Any, folder: Path | None = None) -> str:
    """A few lines for the terminal: what ran, what enforcement did, where the files are."""
    sc = result.scenario
    lines = [f"scenario   {sc.name}  (seed {result.seed}, {sc.days} days, "
             f"{sc.start} to {sc.end})",
             f"regions    {', '.join(r.name for r in sc.regions)}"]
    s = result.summary
    note = sc.enforcement_note()
    if s is None:
        lines.append("summary    none (run without the intensity-0 baseline)")
    elif note is not None:
        lines.append(f"no enforcement in this run ({note}): it equals its "
                     "no-enforcement baseline, so there is nothing to compare")
    else:
        lines += [
            "vs. no enforcement, over the campaign windows:",
            f"  collection {_pct(s.get('collection_change'))}   smelting "
            f"{_pct(s.get('smelting_change'))}   scrap price {_pct(s.get('price_change'))}",
            f"  mean price pressure {_num(s.get('mean_price_pressure'), '+.3f')}",
            f"  smelters shut at peak {s.get('shut_count')} of {s.get('smelters_start')} "
            f"({_pct(s.get('shut_share')).lstrip('+')}); closed at the end "
            f"{_pct(s.get('closed_share')).lstrip('+')}",
            f"  recovery   {_recovery(s.get('recovery_days'), _days_after(result))}"]
    wall, n = float(result.wall_time), int(result.n_events)
    rate = f", {n / wall:,.0f} events/s" if wall > 0 else ""
    base = getattr(result, "baseline", None)
    twin = f"; baseline {float(base.wall_time):.3f} s" if base is not None else ""
    lines.append(f"wall time  {wall:.3f} s ({n:,} timeline events{rate}{twin})")
    lines += _compile_note()
    if folder is not None:
        lines.append(f"results    {folder}")
    return "\n".join(lines)


def _compile_note() -> list[str]:
    """A line on the start-up cost, saying "compiling" only when numba compiled a loop in
    this process (a cache miss), not when it loaded them from its disk cache; nothing for the
    loops built ahead of time (:mod:`scrapsim.model.loops`), which need neither."""
    from scrapsim.model import loops

    if loops.BACKEND == "ahead-of-time":
        return []
    from numba.core.registry import CPUDispatcher

    from scrapsim.model import kernels, market
    from scrapsim.model.simulation import compile_time

    compiled = any(sum(v.stats.cache_misses.values()) for mod in (kernels, market)
                   for v in vars(mod).values() if isinstance(v, CPUDispatcher))
    if compiled:
        return [f"           plus {compile_time():.1f} s compiling the model's loops "
                "(first run of this install; cached from now on)"]
    if compile_time() > 1.0:
        return [f"           plus {compile_time():.1f} s loading the model's compiled loops "
                "from the cache"]
    return []


def _num(x: Any, spec: str) -> str:
    return "n/a" if x is None else format(float(x), spec)


def _days_after(result: Any) -> int | None:
    """Days of the run after its last campaign window (None: no window)."""
    sc = result.scenario
    ends = [min(w[3], sc.end) for w in (getattr(result, "windows", None) or [])]
    return (sc.end - max(ends)).days if ends else None


def _recovery(days: Any, after: int | None = None) -> str:
    if days is None and after == 0:
        return "none to measure: the last window ends on the run's last day"
    if days is None:
        tail = "" if after is None else f" ({after} day{'' if after == 1 else 's'} after it)"
        return f"smelting not back within 5% of the baseline by the end of the run{tail}"
    return f"{int(days)} day{'' if int(days) == 1 else 's'} after the last window"
