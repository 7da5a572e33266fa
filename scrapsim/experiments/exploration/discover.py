"""Scenario discovery: in which region of the inputs does an outcome happen?

``discover(folder, "price_change", above=0.0)`` takes the cases of an exploration (or LHS
sweep) folder (:func:`scrapsim.experiments.exploration.source.cases`: one per point, each metric
averaged over its replications), marks those whose metric is above (or below) the value as cases
of interest, and describes where they are with two well-kept implementations:

- **PRIM** (the Patient Rule Induction Method, Friedman and Fisher 1999) from EMA Workbench
  (``ema_workbench.analysis.prim``): peeling from the whole input space gives a trajectory of
  ever smaller boxes; *coverage* is the share of all cases of interest inside a box, *density*
  the share of a box's cases that are of interest, and each restricted end of a box has a
  quasi-p-value (Bryant and Lempert 2010: a one-sided binomial test of the restriction). The
  chosen box is the one with the best harmonic mean of coverage and density among the boxes
  that reach the density ``threshold`` (or the box asked for);
- **CART** (scikit-learn's ``DecisionTreeClassifier``) on the same cases, as a tree and as the
  rules of its leaves where the outcome happens.

Files (``<folder>-discover-<metric>-<above|below>-<value>`` or ``out``): ``boxes.csv`` (per box
on the trajectory and restricted input: limits, sampled range, quasi-p-values, ``chosen``),
``trajectory.csv``, ``tree.txt``, ``figures/peeling.png|svg``, ``figures/box.png|svg`` and
``manifest.json`` (``pip install 'scrapsim[discovery]'``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapsim.errors import ParamsError
from scrapsim.experiments.exploration.source import cases, publish_analysis, read_source
from scrapsim.results.folders import write_text
from scrapsim.results.identity import digest, package_version

__all__ = ["INSTALL_HINT", "DiscoverResult", "box_rules", "discover", "libraries"]

INSTALL_HINT = "pip install 'scrapsim[discovery]'"
DEFAULT_THRESHOLD = 0.8
KINDS = ("explore", "sweep")


@dataclass
class DiscoverResult:
    """PRIM's boxes and trajectory (pandas), the chosen box, the CART tree (text and the fitted
    classifier), the chosen box as a sentence, the folder and the manifest."""

    boxes: Any
    trajectory: Any
    chosen: int
    tree: str
    rules: str
    folder: Path
    manifest: dict[str, Any] = field(repr=False)
    classifier: Any = field(repr=False, default=None)

    @property
    def box(self) -> Any:
        """The chosen box's restricted inputs (rows of ``boxes``)."""
        return self.boxes[self.boxes["box"] == self.chosen].reset_index(drop=True)


def libraries() -> tuple[Any, Any]:
    """EMA Workbench's prim module and scikit-learn's tree module, or an ImportError naming
    the extra to install."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
        from sklearn import tree
    except ImportError:
        raise ImportError(f"scenario discovery needs EMA Workbench and scikit-learn: "
                          f"{INSTALL_HINT}") from None
    return prim, tree


def _condition(metric: str, above: float | None, below: float | None) -> tuple[str, float]:
    if (above is None) == (below is None):
        raise ParamsError("give exactly one of --above and --below", file="--above/--below",
                          expected="--above X or --below X")
    value = above if above is not None else below
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise ParamsError("must be a finite number", file="--above/--below", value=value,
                          expected="a number")
    return ("above" if above is not None else "below"), float(value)


def _check_options(threshold: float, peel_alpha: float, mass_min: float,
                   max_depth: int) -> None:
    for name, value in (("--threshold", threshold), ("--peel-alpha", peel_alpha),
                        ("--mass-min", mass_min)):
        if not 0 < value <= 1:
            raise ParamsError("out of range", file=name, value=value,
                              expected="a share in (0, 1]")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ParamsError("out of range", file="--max-depth", value=max_depth,
                          expected="a whole number >= 1")


def run_prim(x: Any, y: Any, threshold: float, peel_alpha: float,
             mass_min: float) -> tuple[Any, Any]:
    """PRIM's peeling trajectory and per-box restricted limits with quasi-p-values."""
    import numpy as np
    import pandas as pd

    prim, _ = libraries()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y, threshold=threshold, peel_alpha=peel_alpha,
                           mass_min=mass_min)
        found = finder.find_box()
    traj = found.peeling_trajectory.rename(columns={"id": "box"})
    traj = traj[["box", "coverage", "density", "mass", "res_dim", "n", "k"]].copy()
    rows = []
    for i, lims in enumerate(found.box_lims):
        for name, (qlo, qhi) in sorted(found.qp[i].items()):
            rows.append({"box": i, "input": name, "lower": float(lims.at[0, name]),
                         "upper": float(lims.at[1, name]),
                         "minimum": float(x[name].min()), "maximum": float(x[name].max()),
                         "qp_lower": np.nan if qlo < 0 else float(qlo),
                         "qp_upper": np.nan if qhi < 0 else float(qhi)})
    columns = ["box", "input", "lower", "upper", "minimum", "maximum", "qp_lower", "qp_upper"]
    return traj.reset_index(drop=True), pd.DataFrame(rows, columns=columns)


def choose(traj: Any, threshold: float, box: int | None) -> int:
    """The box asked for, or the best harmonic mean of coverage and density among the boxes
    dense enough (all boxes when none is); ties to fewer restrictions, then earlier."""
    if box is not None:
        if isinstance(box, bool) or not isinstance(box, int) or not 0 <= box < len(traj):
            raise ParamsError("no such box on the trajectory", file="--box", value=box,
                              expected=f"a whole number from 0 to {len(traj) - 1}")
        return box
    pool = traj[traj["density"] >= threshold]
    pool = pool if len(pool) else traj
    c, d = pool["coverage"].to_numpy(float), pool["density"].to_numpy(float)
    f = [2 * a * b / (a + b) if a + b > 0 else 0.0 for a, b in zip(c, d, strict=True)]
    order = sorted(range(len(pool)), key=lambda k: (-round(f[k], 12),
                                                    int(pool["res_dim"].iloc[k]), k))
    return int(pool["box"].iloc[order[0]])


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def box_rules(limits: Any, outcome: str, coverage: float, density: float) -> str:
    """The box as a sentence: '<outcome> when A ≥ a and B ≤ b: coverage c, density d'."""
    parts = []
    for r in limits.itertuples():
        low, high = r.lower > r.minimum, r.upper < r.maximum
        if low and high:
            parts.append(f"{r.input} between {_fmt(r.lower)} and {_fmt(r.upper)}")
        elif low:
            parts.append(f"{r.input} ≥ {_fmt(r.lower)}")
        elif high:
            parts.append(f"{r.input} ≤ {_fmt(r.upper)}")
    where = " and ".join(parts) if parts else \
        "anywhere in the sampled ranges (the box restricts no input)"
    return f"{outcome} when {where}: coverage {coverage:.2f}, density {density:.2f}"


def run_cart(x: Any, y: Any, max_depth: int, mass_min: float) -> tuple[Any, str]:
    """A classification tree of the same cases (scikit-learn), and its leaves where the
    outcome happens, as rules with coverage and density."""
    _, tree = libraries()
    leaf = max(1, math.ceil(mass_min * len(y)))
    clf = tree.DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf,
                                      random_state=0).fit(x.to_numpy(float), y)
    text = tree.export_text(clf, feature_names=list(x.columns), show_weights=True, decimals=3)
    t, total = clf.tree_, max(1, int(y.sum()))
    lines: list[str] = []

    leaves = clf.apply(x.to_numpy(float))

    def walk(node: int, bounds: dict[str, tuple[float, float]]) -> None:
        if t.children_left[node] == -1:
            members = leaves == node
            n, k = int(members.sum()), int(y[members].sum())
            if n and k / n > 0.5:
                lines.append(f"  {_leaf_rule(bounds)}: {k} of {n} cases "
                             f"(density {k / n:.2f}, coverage {k / total:.2f})")
            return
        name, cut = str(x.columns[t.feature[node]]), float(t.threshold[node])
        lo, hi = bounds.get(name, (-math.inf, math.inf))
        walk(t.children_left[node], {**bounds, name: (lo, min(hi, cut))})
        walk(t.children_right[node], {**bounds, name: (max(lo, cut), hi)})

    walk(0, {})
    return clf, text + "\nLeaves where the outcome happens:\n" + ("\n".join(lines) or
                                                                 "  none") + "\n"


def _leaf_rule(bounds: dict[str, tuple[float, float]]) -> str:
    """A leaf's path as one condition per input (the tightest bounds on its way)."""
    parts = []
    for name, (lo, hi) in bounds.items():
        if math.isfinite(lo) and math.isfinite(hi):
            parts.append(f"{_fmt(lo)} < {name} <= {_fmt(hi)}")
        elif math.isfinite(hi):
            parts.append(f"{name} <= {_fmt(hi)}")
        else:
            parts.append(f"{name} > {_fmt(lo)}")
    return " and ".join(parts) or "all cases"


_SHORT = {"threshold": ("t", DEFAULT_THRESHOLD), "peel_alpha": ("alpha", 0.05),
          "mass_min": ("mass", 0.05), "box": ("box", None), "max_depth": ("depth", 3)}
"""How the default folder's name records an option not at its default (``-t0.7``,
``-box2``), so the same analysis with other options gets its own folder."""


def discover(folder: str | Path, metric: str, *, above: float | None = None,
             below: float | None = None, threshold: float = DEFAULT_THRESHOLD,
             peel_alpha: float = 0.05, mass_min: float = 0.05, box: int | None = None,
             max_depth: int = 3, policies: Sequence[str] | None = None,
             out: str | Path | None = None, figures: bool = True,
             command: Sequence[str] | None = None) -> DiscoverResult:
    """PRIM boxes and a CART tree of where ``metric`` is above (or below) a value, over the
    cases of an exploration or sweep ``folder`` (``policies``: only these policies' cases, so
    the boxes are in the uncertainties); writes and returns them (module docstring)."""
    libraries()
    side, value = _condition(metric, above, below)
    _check_options(threshold, peel_alpha, mass_min, max_depth)
    source = read_source(folder, KINDS)
    if policies:
        source = _only(source, list(policies))
    x, v = cases(source, metric)
    y = v > value if side == "above" else v < value
    outcome = f"{metric} {'>' if side == 'above' else '<'} {value:g}"
    if y.all() or not y.any():
        raise ParamsError(f"{'every' if y.all() else 'no'} case has {outcome} ({len(y)} "
                          f"cases; {metric} from {v.min():.4g} to {v.max():.4g})",
                          file="--above" if side == "above" else "--below", value=value,
                          expected=f"a value between {v.min():.4g} and {v.max():.4g}")
    options = {"metric": metric, "side": side, "value": value, "threshold": threshold,
               "peel_alpha": peel_alpha, "mass_min": mass_min, "box": box,
               "max_depth": max_depth, "policies": list(policies or [])}
    ident = digest({"source": source.manifest.get("id"), "options": options,
                    "version": package_version()})
    slug = f"-{digest(sorted(policies), 6)}" if policies else ""
    slug += "".join(f"-{short}{options[name]:g}" for name, (short, default) in _SHORT.items()
                    if options[name] is not None and options[name] != default)
    final = Path(out) if out is not None else source.folder.with_name(
        f"{source.folder.name}-discover-{metric}-{side}-{value:g}{slug}")
    made: dict[str, Any] = {}

    def write(tmp: Path) -> tuple[list[str], dict[str, Any]]:
        made.update(_analyse(x, y, options, outcome, tmp, figures))
        return made["files"], made["body"]

    manifest, existed = publish_analysis("discover", ident, source, final, write,
                                         list(command) if command is not None else None)
    if existed:
        return load(final)
    return DiscoverResult(made["boxes"], made["trajectory"], made["chosen"], made["tree"],
                          manifest["rules"], final, manifest, made["classifier"])


def _only(source: Any, policies: list[str]) -> Any:
    """The source with only the runs of ``policies`` (each must be one of its policies)."""
    from dataclasses import replace

    if "policy" not in source.runs.columns:
        raise ParamsError("has no policies to choose from", file="--policy",
                          value=policies[0], expected="an explore folder")
    known = list(dict.fromkeys(source.runs["policy"].astype(str)))
    for name in policies:
        if name not in known:
            raise ParamsError("no such policy in the exploration", file="--policy", value=name,
                              expected=f"one of {', '.join(known)}")
    return replace(source, runs=source.runs[source.runs["policy"].astype(str).isin(policies)])


def _analyse(x: Any, y: Any, o: dict[str, Any], outcome: str, tmp: Path,
             figures: bool) -> dict[str, Any]:
    traj, boxes = run_prim(x, y, o["threshold"], o["peel_alpha"], o["mass_min"])
    chosen = choose(traj, o["threshold"], o["box"])
    boxes["chosen"] = boxes["box"] == chosen
    row = traj[traj["box"] == chosen].iloc[0]
    rules = box_rules(boxes[boxes["chosen"]], outcome, float(row["coverage"]),
                      float(row["density"]))
    clf, tree_text = run_cart(x, y, o["max_depth"], o["mass_min"])
    head = (f"CART of {outcome} over {len(y)} cases ({int(y.sum())} of interest), "
            f"max depth {o['max_depth']}; weights: [not, of interest]\n\n")
    files = ["boxes.csv", "trajectory.csv", "tree.txt"]
    write_text(tmp / "boxes.csv", boxes.to_csv(index=False, lineterminator="\n"))
    write_text(tmp / "trajectory.csv", traj.to_csv(index=False, lineterminator="\n"))
    write_text(tmp / "tree.txt", head + tree_text)
    if figures:
        from scrapsim.plots.discovery import box_figure, peeling_figure
        from scrapsim.plots.timeseries import save

        for name, fig in (("peeling", peeling_figure(traj, chosen)),
                          ("box", box_figure(boxes[boxes["chosen"]], rules))):
            files += [str(p.relative_to(tmp)) for p in
                      save(fig, tmp / "figures" / f"{name}.png", ("png", "svg"))]
    body = {"options": o, "outcome": outcome, "cases": len(y), "of_interest": int(y.sum()),
            "inputs": list(x.columns), "chosen_box": chosen, "rules": rules,
            "coverage": float(row["coverage"]), "density": float(row["density"])}
    return {"files": files, "body": body, "boxes": boxes, "trajectory": traj,
            "chosen": chosen, "tree": head + tree_text, "classifier": clf}


def load(folder: str | Path) -> DiscoverResult:
    """A finished discover folder read back (no classifier)."""
    import pandas as pd

    from scrapsim.results.folders import read_manifest

    folder = Path(folder)
    m = read_manifest(folder)
    return DiscoverResult(pd.read_csv(folder / "boxes.csv"),
                          pd.read_csv(folder / "trajectory.csv"), int(m["chosen_box"]),
                          (folder / "tree.txt").read_text(encoding="utf-8"), str(m["rules"]),
                          folder, m)
