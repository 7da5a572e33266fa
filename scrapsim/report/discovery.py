"""The report sections of exploratory modelling: an exploration (its study, the uncertainties
with their sources, the policies, the robustness table and the trade-off figure), a scenario
discovery (the chosen PRIM box as rules, its limits with quasi-p-values, the peeling trajectory,
the CART leaves, the figures) and a robust comparison (as an exploration's, for other goals).

Folders are told apart by their manifest's ``kind`` (``explore``, ``discover``, ``robust``);
figures are drawn again from the tables on disk (:mod:`scrapsim.plots.discovery`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapsim.errors import ScenarioError
from scrapsim.report.page import FigureBlock, Section, TableBlock
from scrapsim.report.readers import read_csv, read_json

__all__ = ["DiscoverInput", "ExploreInput", "discovery_section", "load_discover",
           "load_explore", "load_robust"]

GAIN, SUPPLY, PRICE = "violating_smelting_change", "smelting_change", "price_change"


@dataclass
class ExploreInput:
    """An explore (or robust) folder: manifest, scenario (dict), robustness and dominance
    tables, and the study as the manifest records it."""

    folder: Path
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    robust: Any
    dominance: Any
    study: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    kind: str = "explore"


@dataclass
class DiscoverInput:
    """A discover folder: manifest, PRIM boxes and trajectory, the CART tree's text."""

    folder: Path
    manifest: dict[str, Any]
    boxes: Any
    trajectory: Any
    tree: str
    scenario: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    kind: str = "discover"


def _scenario(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    import yaml

    scenario: Any = {}
    if (folder / "scenario.yaml").is_file():
        try:
            scenario = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ScenarioError(f"cannot read ({exc})", file=str(folder / "scenario.yaml"),
                                expected="the scenario written by scrapsim") from None
    scenario = scenario if isinstance(scenario, dict) else {}
    scenario.setdefault("name", (manifest.get("scenario") or {}).get("name") or folder.name)
    return scenario


def _need(table: Any, columns: set[str], path: Path, what: str) -> None:
    if not columns <= set(table.columns):
        raise ScenarioError(f"is not the {what} scrapsim wrote", file=str(path),
                            expected=f"columns {', '.join(sorted(columns))}")


def load_explore(folder: Path) -> ExploreInput:
    """Read an explore folder."""
    manifest = read_json(folder / "manifest.json")
    robust = read_csv(folder / "robust.csv")
    _need(robust, {"policy", "metric", "mean", "p10", "p90"}, folder / "robust.csv",
          "robustness table")
    dominance = read_csv(folder / "dominance.csv")
    return ExploreInput(folder, manifest, _scenario(folder, manifest), robust, dominance,
                        manifest.get("study") or {})


def load_robust(folder: Path) -> ExploreInput:
    """Read a robust folder (its study and scenario from the exploration it compares)."""
    manifest = read_json(folder / "manifest.json")
    source = Path((manifest.get("source") or {}).get("folder") or folder)
    study: dict[str, Any] = {}
    if (source / "manifest.json").is_file():
        study = read_json(source / "manifest.json").get("study") or {}
    robust = read_csv(folder / "robust.csv")
    _need(robust, {"policy", "metric", "mean", "p10", "p90"}, folder / "robust.csv",
          "robustness table")
    return ExploreInput(folder, manifest, _scenario(source, manifest), robust,
                        read_csv(folder / "dominance.csv"), study, kind="robust")


def load_discover(folder: Path) -> DiscoverInput:
    """Read a discover folder."""
    manifest = read_json(folder / "manifest.json")
    boxes, traj = read_csv(folder / "boxes.csv"), read_csv(folder / "trajectory.csv")
    _need(boxes, {"box", "input", "lower", "upper", "qp_lower", "qp_upper"},
          folder / "boxes.csv", "PRIM boxes table")
    _need(traj, {"box", "coverage", "density", "res_dim"}, folder / "trajectory.csv",
          "PRIM trajectory")
    try:
        tree = (folder / "tree.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read ({exc})", file=str(folder / "tree.txt"),
                            expected="the tree scrapsim discover wrote") from None
    source = Path((manifest.get("source") or {}).get("folder") or folder)
    return DiscoverInput(folder, manifest, boxes, traj, tree, _scenario(source, manifest))


def _num(x: Any, sign: bool = True) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if not math.isfinite(x) else (f"{x:+.3f}" if sign else f"{x:.3g}")


def _study_facts(study: dict[str, Any]) -> list[tuple[str, str]]:
    facts = []
    for p in study.get("uncertainties") or []:
        facts.append((str(p.get("key")), f"{p.get('low'):g} to {p.get('high'):g}"
                      + (" (a count, rounded)" if p.get("integer") else "")
                      + f": {p.get('source', '')}"))
    return facts


def explore_section(item: ExploreInput) -> Section:
    """An exploration (or a robust comparison of one): study, policies, robustness, figure."""
    from scrapsim.plots.discovery import tradeoff_figure

    m, study, sc = item.manifest, item.study, item.scenario
    section = Section(item.label, item.kind)
    if study.get("description"):
        section.paragraphs.append(str(study["description"]))
    section.paragraphs.append(
        "Every policy ran in every sampled uncertainty scenario with the same seeds (common "
        "random numbers); each metric is against the same scenario without enforcement and is "
        "averaged over the replications of a policy in a scenario before the statistics across "
        "scenarios. Regret: how far a policy is from the best policy in the same scenario.")
    section.sources = [" ".join(str(x).split()) for x in sc.get("sources") or []]
    facts = [("design", f"{study.get('sampler', '?')}, {study.get('samples', '?')} scenarios "
                        f"x {study.get('reps', '?')} replication"
                        f"{'' if study.get('reps') == 1 else 's'}"),
             ("goals", ", ".join(f"{k}: {v} is better" for k, v in
                                 (m.get("goals") or study.get("goals") or {}).items())
              or "none"),
             ("non-dominated", ", ".join(m.get("non_dominated") or []) or "none"),
             ("folder", str(item.folder))]
    if "runs" in m:
        facts.insert(1, ("runs", f"{m.get('policies')} policies x {m.get('scenarios')} "
                                 f"scenarios x {m.get('reps')} reps = {m.get('runs')}, "
                                 f"{m.get('failed')} failed"))
    section.facts = facts + _study_facts(study)
    rows = [[str(r.policy), str(r.metric), r.goal if isinstance(r.goal, str) else "",
             _num(r.mean), _num(r.p10), _num(r.p90), _num(r.regret_mean),
             _num(r.regret_max)] for r in item.robust.itertuples()]
    section.tables.append(TableBlock("Per policy and metric, across the uncertainty scenarios",
                                     ["policy", "metric", "goal", "mean", "P10", "P90",
                                      "mean regret", "max regret"], rows))
    section.tables.append(TableBlock("Dominance on the means of the goal metrics",
                                     ["policy", "non-dominated", "dominated by"],
                                     [[str(r.policy), "yes" if r.non_dominated else "no",
                                       str(r.dominated_by) if isinstance(r.dominated_by, str)
                                       else ""] for r in item.dominance.itertuples()]))
    nd = [str(p) for p, k in zip(item.dominance["policy"], item.dominance["non_dominated"],
                                 strict=True) if k]
    fig = tradeoff_figure(item.robust, nd, GAIN, SUPPLY, PRICE)
    if fig is not None:
        section.figures.append(FigureBlock(
            "Environmental gain (less scrap smelted by violating sites) against supply loss "
            "and scrap price change, per policy: mean across scenarios, bars from the 10th to "
            "the 90th percentile; filled: non-dominated.", fig))
    return section


def discover_section(item: DiscoverInput) -> Section:
    """A scenario discovery: the rules, the chosen box, the trajectory, CART, figures."""
    from scrapsim.plots.discovery import box_figure, peeling_figure

    m = item.manifest
    chosen = int(m.get("chosen_box", 0))
    section = Section(item.label, "discover")
    section.paragraphs.append(str(m.get("rules", "")))
    section.paragraphs.append(
        f"PRIM (EMA Workbench) over {m.get('cases')} cases, {m.get('of_interest')} with "
        f"{m.get('outcome')}. Coverage: share of the cases of interest inside the box; "
        "density: share of the box's cases that are of interest; quasi-p: a one-sided "
        "binomial test of each restricted end (Bryant and Lempert 2010).")
    section.sources = [" ".join(str(x).split()) for x in item.scenario.get("sources") or []]
    o = m.get("options") or {}
    section.facts = [("source folder", str((m.get("source") or {}).get("folder"))),
                     ("chosen box", f"{chosen} of {len(item.trajectory)}"),
                     ("PRIM", f"density threshold {o.get('threshold')}, peel alpha "
                              f"{o.get('peel_alpha')}, smallest box {o.get('mass_min')}"),
                     ("folder", str(item.folder))]
    box = item.boxes[item.boxes["box"] == chosen]
    section.tables.append(TableBlock(
        f"Box {chosen}: limits of the restricted inputs", ["input", "lower", "upper",
                                                           "sampled from", "to", "qp lower",
                                                           "qp upper"],
        [[str(r.input), _num(r.lower, False), _num(r.upper, False), _num(r.minimum, False),
          _num(r.maximum, False), _num(r.qp_lower, False), _num(r.qp_upper, False)]
         for r in box.itertuples()]))
    section.tables.append(TableBlock(
        "Peeling trajectory", ["box", "coverage", "density", "mass", "restricted inputs"],
        [[str(r.box) + (" (chosen)" if r.box == chosen else ""), f"{r.coverage:.3f}",
          f"{r.density:.3f}", f"{r.mass:.3f}", str(r.res_dim)]
         for r in item.trajectory.itertuples()]))
    leaves = item.tree.split("Leaves where the outcome happens:")[-1].strip().splitlines()
    section.tables.append(TableBlock("CART (scikit-learn): leaves where the outcome happens",
                                     ["rule"], [[x.strip()] for x in leaves if x.strip()]))
    section.figures.append(FigureBlock("PRIM peeling trajectory: density against coverage "
                                       "per box; ringed: the chosen box.",
                                       peeling_figure(item.trajectory, chosen)))
    if len(box):
        section.figures.append(FigureBlock("The chosen box on each restricted input's sampled "
                                           "range, with quasi-p-values.",
                                           box_figure(box, str(m.get("rules", "")))))
    return section


def discovery_section(item: ExploreInput | DiscoverInput) -> Section:
    """The section of an explore, robust or discover folder."""
    return discover_section(item) if isinstance(item, DiscoverInput) else explore_section(item)
