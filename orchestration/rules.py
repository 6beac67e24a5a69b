"""The rules file (config/rules.yml): read once here, handed to Python code and to dbt as vars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REQUIRED = ("local_timezone", "merge_window_minutes", "late_risk_minutes")


class RulesError(ValueError):
    pass


def load(path: Path) -> dict[str, Any]:
    try:
        rules = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RulesError(f"rules file {path} not found: set ORDERHUB_RULES or restore config/rules.yml") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"rules file {path} is not valid YAML: {exc}") from exc
    if not isinstance(rules, dict):
        raise RulesError(f"rules file {path} must be a mapping of rule names to values")
    missing = [key for key in REQUIRED if key not in rules]
    if missing:
        raise RulesError(f"rules file {path} lacks {', '.join(missing)}")
    return rules


def dbt_vars(path: Path, **extra: Any) -> str:
    """The rules file as dbt --vars, plus run-specific vars (the run's clock, `as_of`)."""
    return json.dumps({**load(path), **extra}, ensure_ascii=False)
