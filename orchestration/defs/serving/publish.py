"""Publishing the serving snapshot: the only thing dashboards read.

The snapshot is a separate DuckDB file built under a temporary name and moved into place with
os.replace, which is atomic on POSIX: a reader sees the previous snapshot or the new one, never half.

It is published after every pipeline run, also one whose dispatch, dbt or quality step failed: what is in the
warehouse is copied as it is, and `serving_status` says per part (marts, dispatch) which run and clock it is
as of, and whether it is stale for the run published for, with what failed. The dashboards show that.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from data_quality.quarantine import status_summary_sql
from data_quality.results import SCHEMA as DQ_SCHEMA
from data_quality.results import serving_queries as dq_serving_queries
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.faults import crash_point
from orchestration import refreshes
from orchestration.defs.dispatch.write import SCHEMA as DISPATCH_SCHEMA
from orchestration.defs.dispatch.write import TABLES as DISPATCH_TABLES

MARTS_SCHEMA = "marts"
# The marts the dashboards need, each with the rows they read: the snapshot is republished every micro-batch,
# so what grows with history is cut to what a page shows (most are aggregates, copied whole).
# - fct_channel_orders_minutely: the live page's recent minutes of the latest business day; the day before
#   too, for a page opened just after midnight.
# - fct_exceptions: the open ones (the exceptions page, the map) and those raised in the last 14 days (the
#   live page's day counts and newest list); a month of closed exceptions is not shown anywhere.
SERVING_TABLES: dict[str, str] = {
    "fct_channel_kpis_hourly": "true",
    "fct_channel_orders_minutely": (
        f"business_date >= (SELECT max(business_date) FROM warehouse.{MARTS_SCHEMA}.fct_channel_orders_minutely) - 1"
    ),
    "fct_daily_channel_summary": "true",
    "fct_ingest_accounting": "true",
    "fct_quarantine_summary": "true",
    "fct_exceptions": (
        "resolved_at IS NULL "
        f"OR raised_at >= (SELECT max(raised_at) FROM warehouse.{MARTS_SCHEMA}.fct_exceptions) - INTERVAL 14 DAY"
    ),
    # Stock: positions per store and SKU, oversells, and what each channel may sell.
    "fct_stock_positions": "true",
    "fct_oversell_events": "true",
    "fct_channel_stock_feed": "true",
    "fct_merge_savings_daily": "true",
}
# The dispatch asset's tables (not dbt's) are copied when present: a warehouse that never planned has none.
# For the dashboards: marts built outside the micro-batch job (the daily reconciliation), copied when present,
# each with a row filter that keeps it bounded: the snapshot is republished every micro-batch.
OPTIONAL_MART_TABLES: dict[str, str] = {
    "fct_reconciliation_daily": "true",
    "fct_settlement_t1": "true",
    "fct_reconciliation_lines": "recon_status = 'variance'",  # what finance acts on, not every matched line
}
# Reference data the dashboards show (store locations for the dispatch map; riders without contact data),
# copied when present: (schema, columns).
REFERENCE_TABLES: dict[str, tuple[str, str]] = {
    "stores": ("raw", "store_id, name, kind, district, lat, lng"),
    "riders": ("raw", "rider_id, store_id, name, vehicle, cold_box"),
}
# For the dashboards: tables derived while publishing, for figures no mart holds, each bounded; built when
# their source mart is present: (source, SQL over the attached warehouse).
# - fulfilment_daily: per business day (the latest 14) and channel, the delivery orders with a promised time,
#   not cancelled, against their promise at the run's clock ({as_of}, as fct_exceptions has it): due =
#   promise passed or already delivered; on time = delivered by the promise; late = delivered after it;
#   overdue = promise passed, not delivered. ASAP orders have no promise to keep. The live page's tile.
# - reconciliation_lines_recent: every line (all statuses) of the latest 7 recon days, for the workbook the
#   reconciliation page exports (fct_reconciliation_lines above keeps only the variance lines).
DERIVED_TABLES: dict[str, tuple[tuple[str, str], str]] = {
    "fulfilment_daily": (
        (MARTS_SCHEMA, "fct_orders"),
        f"""
        WITH now_ AS (SELECT '{{as_of}}'::TIMESTAMP AS now_at, '{{as_of_day}}'::DATE AS last_day)
        SELECT o.business_date, o.channel,
               count(*)::BIGINT AS promised_orders,
               count(*) FILTER (WHERE o.delivered_at IS NOT NULL OR o.promised_to <= now_.now_at)::BIGINT AS due_orders,
               count(*) FILTER (WHERE o.delivered_at <= o.promised_to)::BIGINT AS on_time_orders,
               count(*) FILTER (WHERE o.delivered_at > o.promised_to)::BIGINT AS late_delivered_orders,
               count(*) FILTER (WHERE o.delivered_at IS NULL AND o.promised_to <= now_.now_at)::BIGINT AS overdue_orders,
               any_value(now_.now_at) AS as_of
        FROM warehouse.{MARTS_SCHEMA}.fct_orders AS o CROSS JOIN now_
        WHERE o.fulfilment_type = 'delivery' AND NOT o.is_cancelled AND o.promised_to IS NOT NULL
          AND o.business_date > now_.last_day - 14
        GROUP BY o.business_date, o.channel""",
    ),
    "reconciliation_lines_recent": (
        (MARTS_SCHEMA, "fct_reconciliation_lines"),
        f"""
        SELECT * FROM warehouse.{MARTS_SCHEMA}.fct_reconciliation_lines
        WHERE recon_date > (SELECT max(recon_date) FROM warehouse.{MARTS_SCHEMA}.fct_reconciliation_lines) - 7""",
    ),
}


def publish(
    warehouse: Path,
    serving: Path,
    run_id: str,
    *,
    as_of: datetime | None = None,
    for_run: str | None = None,
    failures: Sequence[str] = (),
    local_timezone: str = LOCAL_TIMEZONE,
) -> dict[str, int]:
    """Copy what the dashboards need into a new snapshot. `run_id` publishes it, for the pipeline run `for_run`
    (the same run unless a failed run is published by a later one), whose clock is `as_of` (naive UTC; the wall
    clock when not given) and whose failed steps and checks are `failures`, one line each."""
    as_of = as_of or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    problems = failures_text(failures)
    for_run = for_run or run_id
    as_of_day = as_of.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(local_timezone)).date()
    serving.parent.mkdir(parents=True, exist_ok=True)
    temporary = serving.with_name(f".{serving.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(temporary))
    try:
        con.execute(f"ATTACH '{warehouse}' AS warehouse (READ_ONLY)")
        built_marts = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse' AND schema_name = ?",
                [MARTS_SCHEMA],
            ).fetchall()
        }
        for number, (table, where) in enumerate(SERVING_TABLES.items()):
            # A mart is missing only when dbt never built it (the first run failed): the pages say so, and the
            # snapshot still tells what failed.
            if table not in built_marts:
                continue
            con.execute(f"CREATE TABLE main.{table} AS SELECT * FROM warehouse.{MARTS_SCHEMA}.{table} WHERE {where}")
            counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
            if number == 0:
                crash_point("serving.during_write")
        present = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse' AND schema_name = ?",
                [DISPATCH_SCHEMA],
            ).fetchall()
        }
        for table in DISPATCH_TABLES:
            if table in present:
                con.execute(f"CREATE TABLE main.{table} AS SELECT * FROM warehouse.{DISPATCH_SCHEMA}.{table}")
                counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        present_in = {
            (row[0], row[1])
            for row in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'warehouse'"
            ).fetchall()
        }
        for table, where in OPTIONAL_MART_TABLES.items():
            if (MARTS_SCHEMA, table) in present_in:
                con.execute(
                    f"CREATE TABLE main.{table} AS SELECT * FROM warehouse.{MARTS_SCHEMA}.{table} WHERE {where}"
                )
                counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        for table, (schema, columns) in REFERENCE_TABLES.items():
            if (schema, table) in present_in:
                con.execute(f"CREATE TABLE main.{table} AS SELECT {columns} FROM warehouse.{schema}.{table}")
                counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        for table, (source, sql) in DERIVED_TABLES.items():
            if source in present_in:
                con.execute(f"CREATE TABLE main.{table} AS {sql.format(as_of=as_of, as_of_day=as_of_day)}")
                counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        # Data quality: latest GX results per expectation, recent validations, quarantine open/resolved.
        dq_tables = dict(dq_serving_queries("warehouse")) if (DQ_SCHEMA, "dq_validations") in present_in else {}
        dq_tables["dq_quarantine_status"] = status_summary_sql("warehouse")
        for table, sql in dq_tables.items():
            con.execute(f"CREATE TABLE main.{table} AS {sql}")
            counts[table] = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        counts["serving_status"] = _status_table(con, present_in, as_of, for_run, problems)
        latest_order = (
            f"(SELECT max(created_at) FROM warehouse.{MARTS_SCHEMA}.fct_orders)"
            if "fct_orders" in built_marts
            else "NULL::TIMESTAMP"
        )
        con.execute(
            "CREATE TABLE main.snapshot_meta AS SELECT ?::TIMESTAMP AS published_at, "
            f"{latest_order} AS latest_order_at, "
            "?::VARCHAR AS run_id, ?::TIMESTAMP AS as_of, ?::VARCHAR AS pipeline_run_id, ?::BOOLEAN AS pipeline_ok, "
            # What failed, even when every part was refreshed (an ERROR check on the batch fails the run after
            # dbt and dispatch ran): the pages say the run failed and why.
            "?::VARCHAR AS run_problems",
            [
                datetime.now(UTC).replace(tzinfo=None),
                run_id,
                as_of,
                for_run,
                not failures,
                problems,
            ],
        )
        con.execute("DETACH warehouse")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    crash_point("serving.before_replace")
    os.replace(temporary, serving)
    return counts


def failures_text(failures: Sequence[str]) -> str | None:
    """A run's failures as one bounded text (what the snapshot and the run's metadata carry), None if none."""
    return "; ".join(failures)[:2000] or None


def _status_table(
    con: duckdb.DuckDBPyConnection,
    present_in: set[tuple[str, str]],
    as_of: datetime,
    for_run: str,
    problem: str | None,
) -> int:
    """serving_status: one row per part, fresh when the run published for refreshed it or judged it current
    (dispatch keeps a recent plan), else stale (as of the run that last refreshed it, if any) with what failed
    (`problem`). A part never refreshed is stale with no as_of."""
    refreshed: dict[str, tuple] = {}
    schema, table = refreshes.TABLE.split(".")
    if (schema, table) in present_in:
        columns = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'warehouse' AND schema_name = ? "
                "AND table_name = ?",
                [schema, table],
            ).fetchall()
        }
        # A warehouse last written before parts could be confirmed has no such column.
        confirmed = "confirmed_run_id" if "confirmed_run_id" in columns else "NULL"
        refreshed = {
            row[0]: row[1:]
            for row in con.execute(
                f"SELECT part, run_id, as_of, refreshed_at, {confirmed} FROM warehouse.{refreshes.TABLE}"
            ).fetchall()
        }
    rows = []
    for part in refreshes.PARTS:
        part_run, part_as_of, refreshed_at, confirmed_run = refreshed.get(part, (None, None, None, None))
        stale = for_run not in (part_run, confirmed_run)
        rows.append(
            (
                part,
                part_as_of,
                part_run,
                refreshed_at,
                stale,
                (problem or "not refreshed by this run") if stale else None,
                as_of,
            )
        )
    con.execute("""CREATE TABLE main.serving_status (part VARCHAR, as_of TIMESTAMP, run_id VARCHAR,
                   refreshed_at TIMESTAMP, is_stale BOOLEAN, problem VARCHAR, snapshot_as_of TIMESTAMP)""")
    con.executemany("INSERT INTO main.serving_status VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
