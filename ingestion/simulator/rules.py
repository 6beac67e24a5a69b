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
