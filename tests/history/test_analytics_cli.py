"""`orderhub analytics` through typer's CliRunner: the warehouse without a DSN, ClickHouse (chdb) with one, and
the errors a user can cause."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest
from chdb_copy import ORDER_CUSTOMERS, copy_warehouse
from test_analytics_known import _build
from typer.testing import CliRunner

from orchestration.cli import app

DSN_ENV = "ORDERHUB_CLICKHOUSE_DSN"
KNOWN = {
    "fct_orders": ("marts.fct_orders", "order_key"),
    "fct_parcels": ("marts.fct_parcels", "parcel_id"),
    "fct_exceptions": ("marts.fct_exceptions", "exception_id"),
    **ORDER_CUSTOMERS,
}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """The hand-built warehouse of test_analytics_known, and a chdb DSN holding the same marts."""
    from history.client import connect

    workdir = tmp_path_factory.mktemp("analytics_cli")
    warehouse = workdir / "known.duckdb"
    _build(warehouse)
    dsn = f"chdb://{workdir / 'ch'}?database=analytics_cli"
    client = connect(dsn)
    duck = duckdb.connect(str(warehouse), read_only=True)
    try:
        copy_warehouse(duck, client, "analytics_cli", workdir, tables=KNOWN)
    finally:
        duck.close()
    try:
        yield warehouse, dsn
    finally:
        client.close()


def _run(args, dsn=None):
    env = {DSN_ENV: dsn or ""}
    return CliRunner().invoke(app, ["analytics", *args], env=env)


def test_list_names_every_question(known):
    result = _run(["list"])
    assert result.exit_code == 0, result.output
    for name in ("volume", "basket", "repeat", "cancellations", "exceptions", "cross-channel", "merges"):
        assert name in result.output


def test_warehouse_and_clickhouse_print_the_same_csv(known):
    warehouse, dsn = known
    args = ["repeat", "--by", "channel", "--from", "2026-11-20", "--format", "csv", "--warehouse", str(warehouse)]
    on_duckdb = _run(args)
    on_clickhouse = _run(args, dsn=dsn)
    assert on_duckdb.exit_code == 0, on_duckdb.output
    assert on_clickhouse.exit_code == 0, on_clickhouse.output
    assert on_duckdb.output == on_clickhouse.output
    rows = list(csv.DictReader(io.StringIO(on_duckdb.output)))
    assert rows[0] == {
        "channel": "app",
        "orders": "3",
        "identified_orders": "3",
        "repeat_orders": "2",
        "repeat_order_pct": "66.67",
        "customers": "1",
        "repeat_customers": "1",
        "repeat_customer_pct": "100.0",
    }


def test_json_and_table(known):
    warehouse, dsn = known
    result = _run(["volume", "--by", "store", "--format", "json"], dsn=dsn)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0] == {
        "store_id": "S1",
        "orders": 5,
        "pct_of_orders": 62.5,
        "kept_orders": 4,
        "revenue": 220.0,
    }
    table = _run(["merges", "--by", "hour", "--warehouse", str(warehouse)])
    assert table.exit_code == 0, table.output
    assert "merges, by hour, all days (duckdb)" in table.output


def test_bad_input_is_refused_with_a_reason(known, tmp_path):
    warehouse, _ = known
    bad_date = _run(["volume", "--from", "2026-11-31", "--warehouse", str(warehouse)])
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output
    reversed_range = _run(["volume", "--from", "2026-11-22", "--to", "2026-11-20", "--warehouse", str(warehouse)])
    assert reversed_range.exit_code == 2 and "after --to" in reversed_range.output
    missing = _run(["volume", "--warehouse", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 1 and "no warehouse" in missing.output
    bad_dsn = _run(["volume"], dsn="clickhouse://somewhere")
    assert bad_dsn.exit_code == 2 and "scheme must be one of" in bad_dsn.output


def test_a_store_without_the_marts_says_what_to_run(known, tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = _run(["volume", "--warehouse", str(empty)])
    assert result.exit_code == 1
    assert "run the pipeline first" in result.output
    _, dsn = known
    other_db = dsn.replace("?database=analytics_cli", "?database=analytics_cli_empty")
    result = _run(["volume"], dsn=other_db)
    assert result.exit_code == 1
    assert "has no fct_orders" in result.output


def test_a_warehouse_being_written_is_named_not_crashed_on(known, tmp_path):
    """DuckDB lets no reader in while another process writes: the command says so (a second process holds the
    write lock here, as a run would)."""
    import subprocess
    import sys

    warehouse = tmp_path / "busy.duckdb"
    _build(warehouse)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(warehouse)!r}); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = _run(["volume", "--warehouse", str(warehouse)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "being written by a run" in result.output
