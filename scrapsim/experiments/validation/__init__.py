"""``scrapsim validate``: FACTS.md's patterns as checks (:mod:`.checks`), run with replications
on the experiment engine into one table (:mod:`.run`)."""

from scrapsim.experiments.validation.checks import CHECKS, COLUMNS, Check, Row, Target
from scrapsim.experiments.validation.run import format_table, run_checks, write_csv

__all__ = ["CHECKS", "COLUMNS", "Check", "Row", "Target", "format_table", "run_checks",
           "write_csv"]
