"""The one business rule the simulator needs from config/rules.yml: the parcel-merge window."""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULT_MERGE_WINDOW_MINUTES = 30
RULES_PATH = Path(__file__).resolve().parents[2] / "config" / "rules.yml"


def merge_window_from_rules(path: Path | None = None) -> int:
    """`merge_window_minutes` from rules.yml (the same file dbt and orchestration read), so ground truth
    is computed with the window the pipeline will actually use."""
    path = RULES_PATH if path is None else path
    if not path.exists():
        return DEFAULT_MERGE_WINDOW_MINUTES
    rules = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return int(rules.get("merge_window_minutes", DEFAULT_MERGE_WINDOW_MINUTES))


def problem_rules_from_rules(path: Path | None = None) -> "ProblemRules":
    """The rules ground truth judges injected problems by (late-risk margin, price tolerances, channel
    price factors), from the same rules.yml dbt reads, so truth and pipeline apply the same numbers.
    Keys missing from the file keep the defaults of ProblemRules."""
    from .problems import ProblemRules

    path = RULES_PATH if path is None else path
    rules = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    defaults = ProblemRules()
    return ProblemRules(
        late_risk_minutes=int(rules.get("late_risk_minutes", defaults.late_risk_minutes)),
        price_tolerance_yuan=float(rules.get("price_tolerance_yuan", defaults.price_tolerance_yuan)),
        cross_channel_price_tolerance_pct=float(
            rules.get("cross_channel_price_tolerance_pct", defaults.cross_channel_price_tolerance_pct)),
        channel_price_factor={k: float(v) for k, v in
                              (rules.get("channel_price_factor", defaults.channel_price_factor) or {}).items()},
        channel_price_rounding_yuan=float(
            rules.get("channel_price_rounding_yuan", defaults.channel_price_rounding_yuan)),
    )
