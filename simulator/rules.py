"""The simulated world's own business definitions, independent of the pipeline's config/rules.yml.

The simulator must not read the pipeline's rules: if both sides took their numbers from one file, a wrong
number would agree with itself. These constants describe the world and the business's definitions as the
retailer states them; they mirror the business definition, not the pipeline's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .problems import ProblemRules

# Business definition of one parcel: the same customer at the same door, ordering within 30 minutes of the
# group's first order (the seed's practice). Mirrors the business definition, not the pipeline's code.
BUSINESS_MERGE_WINDOW_MINUTES = 30
DEFAULT_MERGE_WINDOW_MINUTES = BUSINESS_MERGE_WINDOW_MINUTES


def merge_window_from_rules(path: Path | None = None) -> int:
    """The business merge window (kept under this name for callers; it reads no file)."""
    return BUSINESS_MERGE_WINDOW_MINUTES


def problem_rules_from_rules(path: Path | None = None) -> ProblemRules:
    """The business's own thresholds for judging problems (see ProblemRules); reads no file."""
    from .problems import ProblemRules

    return ProblemRules()
