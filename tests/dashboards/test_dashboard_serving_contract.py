"""The contract between the pipeline's serving snapshot (orchestration/serving.py) and the pages: every table
a page reads is published, with the columns the pages query (as in the marts' yml files)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dashboard_snapshots import PAGE_TABLES, TABLES, Snapshot, write_snapshot

from dashboards import queries

# Where each snapshot table lives in the warehouse.
SCHEMAS = {table: "marts" for table in TABLES} | {
    table: "dispatch" for table in ("dispatch_routes", "dispatch_stops", "dispatch_unassigned", "dispatch_exceptions")
} | {"stores": "raw", "riders": "raw"}
RAW_EXTRA = {"stores": ("city VARCHAR", "address VARCHAR"), "riders": ("capacity_kg DOUBLE", "shift_start VARCHAR")}


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
        con.execute("CREATE TABLE marts.fct_orders AS SELECT TIMESTAMP '2026-11-26 02:59:30' AS created_at")
        con.execute("DETACH rows")
    finally:
        con.close()


@pytest.fixture
def publish_from_warehouse(tmp_path: Path):
    serving_module = pytest.importorskip("orchestration.serving")

    def run(without: tuple[str, ...] = ()) -> Path:
        warehouse = tmp_path / "warehouse.duckdb"
        build_warehouse(warehouse, without)
        serving = tmp_path / "serving.duckdb"
        serving_module.publish(warehouse, serving, "run-contract")
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
