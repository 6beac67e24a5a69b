"""The contract between the pipeline's serving snapshot (orchestration/defs/serving/publish.py) and the pages: every table
a page reads is published, with the columns the pages query (as in the marts' yml files)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dashboard_snapshots import DQ_TABLES, PAGE_TABLES, SERVING_DERIVED, TABLES, Snapshot, write_snapshot

from dashboards import queries

# Where each snapshot table lives in the warehouse (the serving step derives some tables itself; the
# validation results come from the data-quality suites, not from this warehouse).
SCHEMAS = (
    {table: "marts" for table in TABLES if table not in (*SERVING_DERIVED, *DQ_TABLES)}
    | {
        table: "dispatch"
        for table in ("dispatch_routes", "dispatch_stops", "dispatch_unassigned", "dispatch_exceptions")
    }
    | {"stores": "raw", "riders": "raw"}
)
RAW_EXTRA = {"stores": ("city VARCHAR", "address VARCHAR"), "riders": ("capacity_kg DOUBLE", "shift_start VARCHAR")}


# fct_orders with the columns the serving step reads (the snapshot's stamp; the fulfilment aggregate). Published
# at the run's clock AS_OF, 02:59:30 UTC (the newest order's time). Delivery orders with a promise on 2026-11-26: d1 on time, d2 late, d3 overdue (promised 02:30,
# not delivered), d4 not due yet (promised 03:30), d5 delivered early before its 03:30 promise (due and on
# time); not counted: d6 cancelled, d7 ASAP (no promise), p1 a self-pickup order; d0 is the day before.
AS_OF = datetime(2026, 11, 26, 2, 59, 30)
FCT_ORDERS = """
CREATE TABLE marts.fct_orders AS
SELECT * FROM (VALUES
    ('app:d0', 'app', DATE '2026-11-25', 'delivery', false, TIMESTAMP '2026-11-25 03:00:00', TIMESTAMP '2026-11-25 02:00:00', TIMESTAMP '2026-11-25 02:30:00'),
    ('app:d1', 'app', DATE '2026-11-26', 'delivery', false, TIMESTAMP '2026-11-26 02:00:00', TIMESTAMP '2026-11-26 01:50:00', TIMESTAMP '2026-11-26 01:00:00'),
    ('app:d2', 'app', DATE '2026-11-26', 'delivery', false, TIMESTAMP '2026-11-26 02:00:00', TIMESTAMP '2026-11-26 02:10:00', TIMESTAMP '2026-11-26 01:00:00'),
    ('meituan:d3', 'meituan', DATE '2026-11-26', 'delivery', false, TIMESTAMP '2026-11-26 02:30:00', NULL, TIMESTAMP '2026-11-26 01:30:00'),
    ('meituan:d4', 'meituan', DATE '2026-11-26', 'delivery', false, TIMESTAMP '2026-11-26 03:30:00', NULL, TIMESTAMP '2026-11-26 02:40:00'),
    ('meituan:d5', 'meituan', DATE '2026-11-26', 'delivery', false, TIMESTAMP '2026-11-26 03:30:00', TIMESTAMP '2026-11-26 02:50:00', TIMESTAMP '2026-11-26 02:20:00'),
    ('meituan:d6', 'meituan', DATE '2026-11-26', 'delivery', true, TIMESTAMP '2026-11-26 02:00:00', NULL, TIMESTAMP '2026-11-26 01:00:00'),
    ('app:d7', 'app', DATE '2026-11-26', 'delivery', false, NULL, TIMESTAMP '2026-11-26 02:00:00', TIMESTAMP '2026-11-26 01:20:00'),
    ('app:p1', 'app', DATE '2026-11-26', 'self_pickup', false, TIMESTAMP '2026-11-26 02:00:00', NULL, TIMESTAMP '2026-11-26 02:59:30')
) AS t(order_key, channel, business_date, fulfilment_type, is_cancelled, promised_to, delivered_at, created_at)
"""


def build_warehouse(path: Path, without: tuple[str, ...] = ()) -> None:
    """A warehouse holding, in their schemas, the tables of the default test snapshot (raw reference tables
    with extra columns the snapshot must not copy), plus fct_orders for the snapshot's stamp."""
    rows = Snapshot()
    scratch = path.with_name("rows.duckdb")
    write_snapshot(scratch, rows)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"ATTACH '{scratch}' AS rows (READ_ONLY)")
        for schema in ("marts", "dispatch", "raw"):
            con.execute(f"CREATE SCHEMA {schema}")
        for table, schema in SCHEMAS.items():
            if table in without:
                continue
            con.execute(f"CREATE TABLE {schema}.{table} AS SELECT * FROM rows.main.{table}")
            for column in RAW_EXTRA.get(table, ()):
                con.execute(f"ALTER TABLE {schema}.{table} ADD COLUMN {column}")
        con.execute(FCT_ORDERS)
        # The rest of the raw schema, empty, as ingestion creates it (the serving step also reads raw tables,
        # e.g. the quarantine for the quarantine status summary).
        from ingestion.contract import raw_schema_ddl

        for statement in raw_schema_ddl():
            con.execute(statement)
        con.execute("DETACH rows")
    finally:
        con.close()


@pytest.fixture
def publish_from_warehouse(tmp_path: Path):
    from orchestration.defs.serving import publish as serving_module

    def run(without: tuple[str, ...] = ()) -> Path:
        warehouse = tmp_path / "warehouse.duckdb"
        build_warehouse(warehouse, without)
        serving = tmp_path / "serving.duckdb"
        serving_module.publish(warehouse, serving, "run-contract", as_of=AS_OF)
        return serving

    return run


def test_every_page_finds_its_tables_in_the_published_snapshot(publish_from_warehouse):
    """A warehouse with every mart and the dispatch plan published by the pipeline's serving step: no page
    reports a missing table, and the pages' queries run on it (so their columns exist)."""
    serving = publish_from_warehouse()
    for page in queries.PAGE_FETCHERS:
        data = queries.read_page(serving, page)
        assert data.missing == (), page
        assert data.meta is not None and data.meta.run_id == "run-contract"
    recon = queries.read_page(serving, "reconciliation")
    assert [r["category"] for r in recon.variances][0] == "amount_mismatch"


def test_snapshot_keeps_only_what_the_pages_need(publish_from_warehouse):
    """Reference tables are copied without their other columns (no rider shifts or store addresses), and
    only variance lines of the reconciliation (the matched line stays in the warehouse)."""
    serving = publish_from_warehouse()
    con = duckdb.connect(str(serving), read_only=True)
    try:
        rider_columns = [r[0] for r in con.execute("DESCRIBE riders").fetchall()]
        statuses = {r[0] for r in con.execute("SELECT DISTINCT recon_status FROM fct_reconciliation_lines").fetchall()}
    finally:
        con.close()
    assert rider_columns == ["rider_id", "store_id", "name", "vehicle", "cold_box"]
    assert statuses == {"variance"}


def test_publish_without_reconciliation_marts(publish_from_warehouse):
    """Before the first daily reconciliation the finance marts do not exist: the snapshot is still published
    and the reconciliation page reports them missing."""
    serving = publish_from_warehouse(without=PAGE_TABLES["reconciliation"])
    assert queries.read_page(serving, "reconciliation").missing == PAGE_TABLES["reconciliation"]
    assert queries.read_page(serving, "stock").missing == ()


def test_serving_derives_fulfilment_and_the_recent_recon_lines(publish_from_warehouse):
    """The serving step derives the live page's fulfilment figures from fct_orders (see FCT_ORDERS: per day and
    channel, delivery orders with a promise, not cancelled; due = promise passed or delivered; on time =
    delivered by the promise) and copies every line of the latest recon days for the workbook, which the
    variance-only fct_reconciliation_lines copy does not have; the live page reads them."""
    serving = publish_from_warehouse()
    con = duckdb.connect(str(serving), read_only=True)
    try:
        fulfilment = con.execute(
            "SELECT business_date::VARCHAR, channel, promised_orders, due_orders, on_time_orders,"
            " late_delivered_orders, overdue_orders FROM fulfilment_daily ORDER BY ALL"
        ).fetchall()
        recent = {r[0] for r in con.execute("SELECT DISTINCT recon_status FROM reconciliation_lines_recent").fetchall()}
    finally:
        con.close()
    assert fulfilment == [
        ("2026-11-25", "app", 1, 1, 1, 0, 0),
        ("2026-11-26", "app", 2, 2, 1, 1, 0),
        ("2026-11-26", "meituan", 3, 2, 1, 0, 1),
    ]
    assert recent == {"variance", "matched", "open"}
    headline = queries.read_live(serving).headline
    assert (headline.due_orders, headline.on_time_orders, headline.overdue_orders) == (4, 2, 1)


def publish_altered(tmp_path: Path, alter) -> Path:
    """The contract warehouse, changed by `alter(connection)`, published; the snapshot's path."""
    from orchestration.defs.serving import publish as serving_module

    warehouse = tmp_path / "warehouse.duckdb"
    build_warehouse(warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        alter(con)
    finally:
        con.close()
    serving = tmp_path / "serving.duckdb"
    serving_module.publish(warehouse, serving, "run-contract", as_of=AS_OF)
    return serving


def column_values(serving: Path, sql: str) -> set:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return {r[0] for r in con.execute(sql).fetchall()}
    finally:
        con.close()


def test_recent_recon_lines_keep_the_latest_seven_days(tmp_path: Path):
    """Only the lines of the latest 7 recon days are copied whole (the snapshot is republished every
    micro-batch): a line 15 days older stays in the warehouse."""
    serving = publish_altered(
        tmp_path,
        lambda con: con.execute(
            "INSERT INTO marts.fct_reconciliation_lines SELECT * REPLACE (DATE '2026-11-10' AS recon_date,"
            " 'L-old' AS recon_line_id) FROM marts.fct_reconciliation_lines WHERE recon_line_id = 'L5'"
        ),
    )
    ids = column_values(serving, "SELECT recon_line_id FROM reconciliation_lines_recent")
    assert "L-old" not in ids and {"L1", "L5", "L6"} <= ids


def test_what_grows_with_history_is_cut_to_what_the_pages_read(tmp_path: Path):
    """The snapshot is republished every micro-batch: exceptions closed more than 14 days before the newest one
    and minutes of business days before yesterday stay in the warehouse; an old exception still open is
    copied (the exceptions page lists every open one)."""
    seen: dict[str, object] = {}

    def add_old_rows(con) -> None:
        newest = con.execute("SELECT max(raised_at) FROM marts.fct_exceptions").fetchone()[0]
        template = (
            "SELECT * REPLACE (? AS exception_id, ? AS raised_at, ? AS resolved_at) FROM marts.fct_exceptions LIMIT 1"
        )
        old = newest.replace(year=newest.year - 1)
        for exception_id, resolved in (("X-old-closed", old), ("X-old-open", None)):
            con.execute(f"INSERT INTO marts.fct_exceptions {template}", [exception_id, old, resolved])
        seen["last_day"] = con.execute("SELECT max(business_date) FROM marts.fct_channel_orders_minutely").fetchone()[0]
        con.execute(
            "INSERT INTO marts.fct_channel_orders_minutely SELECT * REPLACE (business_date - 30 AS business_date) "
            "FROM marts.fct_channel_orders_minutely"
        )

    serving = publish_altered(tmp_path, add_old_rows)
    ids = column_values(serving, "SELECT exception_id FROM fct_exceptions")
    days = column_values(serving, "SELECT DISTINCT business_date FROM fct_channel_orders_minutely")
    assert "X-old-open" in ids and "X-old-closed" not in ids
    assert days and min(days) >= seen["last_day"] - timedelta(days=1)
