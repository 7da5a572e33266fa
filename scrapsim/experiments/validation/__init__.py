"""``scrapsim validate``: FACTS.md's patterns as checks (:mod:`.checks`), run with replications
on the experiment engine into one table and a result folder (:mod:`.run`)."""

from scrapsim.experiments.validation.checks import CHECKS, COLUMNS, Check, Row, Target
from scrapsim.experiments.validation.run import (
           TABLE,
           Validation,
           ValidationResult,
           format_table,
           run_checks,
           validate,
           write_csv,
)

__all__ = ["CHECKS", "COLUMNS", "TABLE", "Check", "Row", "Target", "Validation", "ValidationResult",
           "format_table", "run_checks", "validate", "write_csv"]
