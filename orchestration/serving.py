"""Publishing the serving snapshot: the only thing dashboards read.

The snapshot is a separate DuckDB file built under a temporary name and moved into place with
os.replace, which is atomic on POSIX: a reader sees the previous snapshot or the new one, never half.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.faults import crash_point

MARTS_SCHEMA = "marts"
# The marts the dashboards need; each is copied whole (they are aggregates or bounded lists).
SERVING_TABLES = (
    "fct_channel_kpis_hourly",
    "fct_channel_orders_minutely",
    "fct_daily_channel_summary",
    "fct_ingest_accounting",
    "fct_quarantine_summary",
    "fct_exceptions",
)


def publish(warehouse: Path, serving: Path, run_id: str) -> dict[str, int]:
    serving.parent.mkdir(parents=True, exist_ok=True)
    temporary = serving.with_name(f".{serving.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(temporary))
    try:
        con.execute(f"ATTACH '{warehouse}' AS warehouse (READ_ONLY)")
        for table in SERVING_TABLES:
            con.execute(f"CREATE TABLE main.{table} AS SELECT * FROM warehouse.{MARTS_SCHEMA}.{table}")
            counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        con.execute(
            "CREATE TABLE main.snapshot_meta AS SELECT ?::TIMESTAMP AS published_at, "
            f"(SELECT max(created_at) FROM warehouse.{MARTS_SCHEMA}.fct_orders) AS latest_order_at, "
            "?::VARCHAR AS run_id",
            [datetime.now(UTC).replace(tzinfo=None), run_id],
        )
        con.execute("DETACH warehouse")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    crash_point("serving.before_replace")
    os.replace(temporary, serving)
    return counts
