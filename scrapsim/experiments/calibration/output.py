"""A calibration's folder: fitted scenario, tables, figure and manifest.

``results/<scenario>/calibration-<id>/`` (``<id>`` fixed by scenario, targets, settings and
seeds) holds ``fitted.yaml`` (the scenario with the fitted values, runnable as it is),
``parameters.csv`` (start, fitted value, standard error, 95% interval, identified),
``fit.csv`` (per target: value ± sd, the model's mean with its 95% interval over replications,
z = (model − value)/sd), ``history.csv`` (best point per generation), ``evaluations.csv`` (every
point tried, its objective), ``targets.yaml`` (the file as given), ``fit.png``/``fit.svg``,
``runs.jsonl`` (every run's moments: the resume journal) and ``manifest.json``. Everything is
written into ``<folder>.partial`` and renamed when complete.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scrapsim.results.folders import read_manifest, write_text
from scrapsim.scenario import Scenario

__all__ = ["Calibration", "fit_figure", "format_fit", "load_calibration", "save_fit_figure",
           "write_tables"]


@dataclass
class Calibration:
    """What a calibration produced (pandas tables) and where it is on disk."""

    parameters: Any
    fit: Any
    history: Any
    scenario: Scenario
    objective: float
    folder: Path
    manifest: dict[str, Any] = field(repr=False)


def _fitted_yaml(base: Scenario, params: Any, cal_id: str,
                 targets_file: str) -> tuple[str, Scenario]:
    """The text of ``fitted.yaml`` and the scenario it holds: the base scenario with the fitted
    values, rounded to two significant digits of their standard errors
    (:func:`scrapsim.scenario.round_to_se`), named ``<base>-fitted``, the fit among its
    sources."""
    from scrapsim.scenario import round_to_se

    rows = list(params.itertuples())
    values = {r.parameter: round_to_se(float(r.fitted), float(r.se), base.get(r.parameter))
              for r in rows}
    shown = "; ".join(f"{r.parameter} = {values[r.parameter]:g} (95% CI {r.ci_low:.4g}.."
                      f"{r.ci_high:.4g})" for r in rows)
    source = f"scrapsim calibrate {cal_id}: {shown}; targets {targets_file}"
    out = base.with_overrides({**values, "name": f"{base.name}-fitted",
                               "sources": [*base.sources, source]})
    head = [f"# {base.name} fitted by scrapsim calibrate (id {cal_id}) to {targets_file}."]
    head += [f"#   {r.parameter}: {r.start:.4g} -> {values[r.parameter]:g} "
             f"(fitted {r.fitted:.4g}, se {r.se:.2g}, 95% CI {r.ci_low:.4g}..{r.ci_high:.4g})"
             for r in rows]
    return "\n".join(head) + "\n" + out.to_yaml(), out


def write_tables(folder: Path, base: Scenario, targets: Any, cal_id: str,
                 params: Any, fit: Any, history: list[dict[str, Any]],
                 evaluations: list[tuple[dict[str, Any], float]]
                 ) -> tuple[list[str], Any, Scenario]:
    """Write the tables, the fitted scenario, the targets file and the figure into
    ``folder``; their names, the history table and the scenario ``fitted.yaml`` holds back
    (what reading the folder gives, so a fresh fit and a read-back are the same)."""
    import pandas as pd

    hist = pd.DataFrame(history)
    evals = pd.DataFrame([{**p, "objective": q} for p, q in evaluations])
    tables = {"parameters.csv": params, "fit.csv": fit, "history.csv": hist,
              "evaluations.csv": evals}
    for name, frame in tables.items():
        write_text(folder / name, frame.to_csv(index=False, float_format="%.10g"))
    text, fitted = _fitted_yaml(base, params, cal_id, targets.file)
    write_text(folder / "fitted.yaml", text)
    shutil.copyfile(targets.file, folder / "targets.yaml")
    figures = save_fit_figure(fit, hist, folder,
                              title=f"{base.name} calibrated to {Path(targets.file).name}")
    return [*tables, *figures, "fitted.yaml", "targets.yaml"], hist, fitted


def load_calibration(folder: Path, manifest: dict[str, Any] | None = None) -> Calibration:
    """A finished calibration folder read back (a rerun of the same command)."""
    import pandas as pd

    from scrapsim.scenario import load_scenario

    if manifest is None:
        manifest = read_manifest(folder)
        manifest["session"] = {**manifest.get("session", {}), "ran": 0, "resumed": None,
                               "wall_s": None, "note": "already complete: read from the folder"}
    return Calibration(pd.read_csv(folder / "parameters.csv"), pd.read_csv(folder / "fit.csv"),
                       pd.read_csv(folder / "history.csv"), load_scenario(folder / "fitted.yaml"),
                       manifest["objective"], folder, manifest)


def fit_figure(fit: Any, history: Any, title: str = "") -> Any:
    """Fit per target in sd units with the replications' 95% band, and the search's best
    objective per generation (a matplotlib Figure, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 0.45 * len(fit) + 2.6))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(fit))[::-1]
    z = fit["z"].to_numpy(float)
    lo = ((fit["ci_low"] - fit["value"]) / fit["sd"]).to_numpy(float)
    hi = ((fit["ci_high"] - fit["value"]) / fit["sd"]).to_numpy(float)
    left.axvspan(-2, 2, color="0.92", label="target ± 2 sd")
    left.axvline(0, color="0.4", lw=0.8)
    # fit.csv keeps z to ten digits: where the replications agree (lo = z = hi) the rounded z
    # can sit a hair outside its own interval, so the bars are clipped at 0
    below, above = (np.maximum(np.nan_to_num(d), 0.0) for d in (z - lo, hi - z))
    left.errorbar(z, y, xerr=[below, above], fmt="o",
                  color="C0", capsize=3, label="model (95% interval over replications)")
    left.set_yticks(y, [f"{t}\n{v:.4g} ± {s:.3g}" for t, v, s in
                        zip(fit["target"], fit["value"], fit["sd"], strict=True)], fontsize=8)
    left.set_xlabel("(model − target) / sd")
    left.set_title("Fit against each target")
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
                frameon=False)
    if len(history):
        right.plot(history["generation"], history["best_objective"], marker="o", color="C1")
    right.set_xlabel("generation")
    right.set_ylabel("best objective Q = Σ z²")
    right.set_title("Search")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    fig.tight_layout()
    return fig


def save_fit_figure(fit: Any, history: Any, folder: Path, title: str = "") -> list[str]:
    """The fit figure as ``fit.png`` and ``fit.svg`` in ``folder`` (``title``: the scenario and
    targets it shows), through the one deterministic figure writer."""
    from scrapsim.plots.timeseries import save

    fig = fit_figure(fit, history, title)
    return [p.name for p in save(fig, folder / "fit.png", ("png", "svg"))]


def format_fit(cal: Any) -> str:
    """The parameter and target tables for the terminal."""
    lines = [f"{'parameter':<34} {'start':>9} {'fitted':>9} {'se':>9} {'95% CI in range':>21}"
             f"  identified"]
    for r in cal.parameters.itertuples():
        ci = f"{r.ci_low:.4g}..{r.ci_high:.4g}"
        lines.append(f"{r.parameter:<34} {r.start:>9.4g} {r.fitted:>9.4g} {r.se:>9.3g} "
                     f"{ci:>21}  {'yes' if r.identified else 'no'}")
    lines.append("(identified: fitted ± 1.96 se is narrower than the search range; the interval "
                 "shown is clipped to the range)")
    if not np.isfinite(cal.parameters["se"].to_numpy(float)).all():
        lines.append("(se inf: the targets do not fix that parameter apart from the others, "
                     "because there are fewer targets than parameters or some move the "
                     "moments alike; its fitted value is one point of a ridge)")
    lines += ["", f"{'target':<26} {'target':>14} {'model (95% CI)':>28} {'z':>6}"]
    for r in cal.fit.itertuples():
        tgt = f"{r.value:.4g} ± {r.sd:.3g}"
        model = f"{r.model:.4g} ({r.ci_low:.4g}..{r.ci_high:.4g})"
        lines.append(f"{r.target:<26} {tgt:>14} {model:>28} {r.z:>6.2f}")
    m = cal.manifest
    s = m["session"]
    runs = (f"{s['runs_search']} runs in the search and {s['runs_uncertainty']} around the "
            f"optimum for the uncertainty" if "runs_search" in s else "")
    lines.append(f"\nobjective Q = {cal.objective:.4g} with {m['degrees_of_freedom']} degrees "
                 f"of freedom; {m['optimizer']['nit']} generation"
                 f"{'s' * (m['optimizer']['nit'] != 1)}, "
                 f"{m['optimizer']['points']} points; {runs}")
    return "\n".join(lines)
