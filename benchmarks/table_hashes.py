"""The bytes a speed change must keep: a digest of every shipped scenario's tables.

    python benchmarks/table_hashes.py > before.txt     # on the old code
    python benchmarks/table_hashes.py --check before.txt

For each scenario in ``scenarios/`` (seeds 0 and 1; national_2017 seed 0) the enforcement run
and its intensity-0 twin, plus national_2017 with ``market.outside`` (several regions and the
rest of the country at once): sha256 of the daily, event and initial tables as CSV, 16 hex
digits each. ``--check`` compares with a file written before and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # this checkout's scrapsim, not an installed one


def digests() -> list[str]:
    import scrapsim
    from scrapsim.model.simulation import Model, baseline_of

    def one(scenario: object, seed: int) -> str:
        r = Model(scenario, seed).run()  # type: ignore[arg-type]
        text = r.daily.to_csv() + r.events.to_csv() + r.initial.to_csv()
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    out = []
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = scrapsim.load_scenario(path)
        for seed in ([0] if path.stem == "national_2017" else [0, 1]):
            for label, x in (("enf", sc), ("i0", baseline_of(sc))):
                out.append(f"{path.stem} {seed} {label} {one(x, seed)}")
    sc = scrapsim.load_scenario(ROOT / "scenarios" / "national_2017.yaml")
    sc = sc.model_copy(update={"market": sc.market.model_copy(update={"outside": True})})
    out.append(f"national_2017+outside 3 enf {one(sc, 3)}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, help="a file this script wrote before")
    args = parser.parse_args()
    lines = digests()
    if args.check is None:
        print("\n".join(lines))
        return 0
    before = args.check.read_text().splitlines()
    differ = [f"{a}  !=  {b}" for a, b in zip(before, lines, strict=False) if a != b]
    if len(before) != len(lines):
        differ.append(f"{len(before)} lines before, {len(lines)} now")
    print("\n".join(differ) if differ else f"same bytes: {len(lines)} tables")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
