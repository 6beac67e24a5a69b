"""Where things live: every path and switch of a run, built once and passed down.

The CLI builds a Settings from its arguments (`Settings.from_env(landing=..., warehouse=...)`: what the user
typed, the environment for the rest, embedded defaults last) and hands it to `build_definitions` and
`run_once`. Nothing writes the settings back into `os.environ`: a child process that needs them (the Dagster
webserver, Streamlit) gets them through `child_env()`, and the dbt subprocess through its vars
(orchestration/defs/transform/dbt.py). The one place definitions are built from the environment alone is the
code location `dagster dev` loads (orchestration/definitions.py, `defs`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ingestion.warehouse import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, checked_memory_limit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    serving: Path
    rules: Path
    dbt_project: Path
    clickhouse_dsn: str | None
    # How often the sensors look for new work (the landing folder, failed runs to publish for).
    sensor_seconds: int = 5
    # How often micro-batches merge the warehouse's small row groups (orchestration/compaction.py).
    compact_every_seconds: int = 600
    # The Dagster instance runs in this process are recorded in (`orderhub run`, `make demo`); None: ephemeral.
    dagster_home: Path | None = None
    # DuckDB's memory_limit for the pipeline's connections and dbt's (ingestion/warehouse.py says why).
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        landing: Path | None = None,
        warehouse: Path | None = None,
        serving: Path | None = None,
    ) -> Settings:
        """Arguments given win, then the environment, then the defaults. The serving snapshot defaults to
        serving.duckdb beside the warehouse when the warehouse is given and the snapshot is not."""
        env = os.environ if env is None else env
        if serving is None and warehouse is not None:
            serving = (
                Path(env["ORDERHUB_SERVING"])
                if env.get("ORDERHUB_SERVING")
                else warehouse.resolve().with_name("serving.duckdb")
            )
        home = env.get("DAGSTER_HOME")
        return cls(
            landing=Path(landing or env.get("ORDERHUB_LANDING", "landing")).resolve(),
            warehouse=Path(warehouse or env.get("ORDERHUB_WAREHOUSE", "warehouse/orderhub.duckdb")).resolve(),
            serving=Path(serving or env.get("ORDERHUB_SERVING", "warehouse/serving.duckdb")).resolve(),
            rules=Path(env.get("ORDERHUB_RULES", PROJECT_ROOT / "config" / "rules.yml")).resolve(),
            dbt_project=PROJECT_ROOT / "dbt_project",
            clickhouse_dsn=_absolute_chdb(env.get("ORDERHUB_CLICKHOUSE_DSN") or None),
            sensor_seconds=int(env.get("ORDERHUB_SENSOR_SECONDS", "5")),
            compact_every_seconds=int(env.get("ORDERHUB_COMPACT_EVERY_SECONDS", "600")),
            dagster_home=Path(home) if home else None,
            duckdb_memory_limit=checked_memory_limit(env.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT),
        )

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for a child process that builds its own Settings (the Dagster code location, the
        dashboard): `base` (default: this process's environment) with these settings on top."""
        env = dict(os.environ if base is None else base)
        env.update(
            ORDERHUB_LANDING=str(self.landing),
            ORDERHUB_WAREHOUSE=str(self.warehouse),
            ORDERHUB_SERVING=str(self.serving),
            ORDERHUB_RULES=str(self.rules),
            ORDERHUB_SENSOR_SECONDS=str(self.sensor_seconds),
            ORDERHUB_COMPACT_EVERY_SECONDS=str(self.compact_every_seconds),
            **{MEMORY_LIMIT_ENV: self.duckdb_memory_limit},
        )
        if self.dagster_home is not None:
            env["DAGSTER_HOME"] = str(self.dagster_home)
        if self.clickhouse_dsn:
            env["ORDERHUB_CLICKHOUSE_DSN"] = self.clickhouse_dsn
        else:
            # Unset means "no ClickHouse": a DSN left in the parent's environment must not switch it on.
            env.pop("ORDERHUB_CLICKHOUSE_DSN", None)
        return env


def _absolute_chdb(dsn: str | None) -> str | None:
    """A `chdb://` DSN's folder made absolute, like the other paths here: the Dagster code location and the
    dashboard run in other working directories, and must open the same folder."""
    prefix = "chdb://"
    if not dsn or not dsn.startswith(prefix):
        return dsn
    location, mark, query = dsn[len(prefix) :].partition("?")
    if not location or location.startswith(":memory:"):
        return dsn
    return f"{prefix}{Path(location).resolve()}{mark}{query}"
