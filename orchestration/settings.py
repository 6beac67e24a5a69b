"""Where things live: every path and switch comes from here, environment first, embedded defaults second."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    serving: Path
    rules: Path
    dbt_project: Path
    clickhouse_dsn: str | None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            landing=Path(env.get("ORDERHUB_LANDING", "landing")).resolve(),
            warehouse=Path(env.get("ORDERHUB_WAREHOUSE", "warehouse/orderhub.duckdb")).resolve(),
            serving=Path(env.get("ORDERHUB_SERVING", "warehouse/serving.duckdb")).resolve(),
            rules=Path(env.get("ORDERHUB_RULES", PROJECT_ROOT / "config" / "rules.yml")).resolve(),
            dbt_project=PROJECT_ROOT / "dbt_project",
            clickhouse_dsn=env.get("ORDERHUB_CLICKHOUSE_DSN") or None,
        )

    def export(self) -> None:
        """Make these settings visible to child processes (dbt reads the warehouse path from env)."""
        os.environ["ORDERHUB_LANDING"] = str(self.landing)
        os.environ["ORDERHUB_WAREHOUSE"] = str(self.warehouse)
        os.environ["ORDERHUB_SERVING"] = str(self.serving)
        os.environ["ORDERHUB_RULES"] = str(self.rules)
