"""The Dagster wiring of the suites: a check validates every batch not validated yet and stores the results;
a critical (money) failure reports ERROR and, the check being blocking, stops what is downstream in the run;
a warning-only failure reports WARN and lets it run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ingestion import warehouse
from ingestion.loader import run_batch
from orchestration.defs.quality.checks import (
    ORDER_LINES,
    ORDERS,
    SETTLEMENT_LINES,
    orders_batch_quality,
    settlement_lines_batch_quality,
)
from orchestration.resources import OrderhubPaths, Warehouse
from orchestration.settings import PROJECT_ROOT
from simulator import simulate_day


@dg.asset(key=SETTLEMENT_LINES)
def settlement_lines_stub() -> None:
    """Stands for the raw load (already done by run_batch in the test)."""


@dg.asset(deps=[SETTLEMENT_LINES])
def finance_numbers() -> None:
    """Stands for the finance marts built from the settlement lines."""


@pytest.fixture
def loaded(tmp_path) -> Path:
    landing = tmp_path / "landing"
    simulate_day(dt.date(2026, 11, 26), orders=150, seed=5, out=landing)
    db = tmp_path / "wh.duckdb"
    con = warehouse.connect(db)
    run_batch(con, landing)
    con.close()
    return db


def run(db: Path):
    paths = OrderhubPaths(
        landing=str(db.parent / "landing"),
        warehouse=str(db),
        serving=str(db.with_name("s.duckdb")),
        rules=str(PROJECT_ROOT / "config" / "rules.yml"),
    )
    result = dg.materialize(
        [settlement_lines_stub, finance_numbers, settlement_lines_batch_quality],
        resources={"paths": paths, "warehouse": Warehouse(path=str(db))},
        raise_on_error=False,
    )
    [check] = result.get_asset_check_evaluations()
    downstream = [e.asset_key for e in result.get_asset_materialization_events()]
    return check, dg.AssetKey("finance_numbers") in downstream


def tamper(db: Path, sql: str) -> None:
    con = warehouse.connect(db)
    try:
        con.execute(sql)
        con.execute("DELETE FROM dq.dq_validations; DELETE FROM dq.dq_results")  # validate the batch again
    finally:
        con.close()


def test_clean_batch_passes_and_is_stored_once(loaded):
    """A clean batch passes (at most the honest warning of a platform paying less than nothing for a small
    order), its results are stored, and the next run finds nothing new to validate."""
    check, downstream_ran = run(loaded)
    assert downstream_ran
    assert check.passed or (
        check.severity == dg.AssetCheckSeverity.WARN
        and check.metadata["critical_failures"].value == 0
        and "a payment usually pays us" in check.description
    ), check.description
    assert check.metadata["rows"].value > 0
    again, _ = run(loaded)
    assert again.passed and again.metadata["rows"].value == 0


def test_critical_failure_blocks_and_warning_does_not(loaded):
    """A refund paying out (positive net) is critical: ERROR, and the finance asset does not run. A line
    settled on another day than its statement is a warning: WARN, and it runs."""
    run(loaded)
    tamper(
        loaded,
        "UPDATE raw.settlement_lines SET net_amount = -net_amount "
        "WHERE rowid = (SELECT min(rowid) FROM raw.settlement_lines WHERE line_type = 'refund' AND net_amount < 0)",
    )
    check, downstream_ran = run(loaded)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert not downstream_ran
    assert "a refund takes money back" in check.description

    tamper(
        loaded,
        "UPDATE raw.settlement_lines SET net_amount = -net_amount WHERE net_amount > 0 AND line_type = 'refund';"
        "UPDATE raw.settlement_lines SET settled_at = settled_at + INTERVAL 3 DAY "
        "WHERE rowid = (SELECT min(rowid) FROM raw.settlement_lines WHERE settled_at IS NOT NULL)",
    )
    check, downstream_ran = run(loaded)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert downstream_ran


@dg.asset(key=ORDERS, deps=[ORDER_LINES])
def orders_stub() -> None:
    """Stands for the raw load of orders."""


@dg.asset(key=ORDER_LINES)
def order_lines_stub() -> None:
    """Stands for the raw load of order lines."""


def test_a_batch_check_reads_every_line_of_the_batch_orders(loaded):
    """The orders check reads the batch's lines bounded by their batch: every line is validated, and an order
    whose lines do not add up to its goods amount is named."""
    con = warehouse.connect(loaded)
    con.execute(
        "UPDATE raw.order_lines SET original_price = original_price + 1 "
        "WHERE rowid = (SELECT min(rowid) FROM raw.order_lines WHERE quantity > 0)"
    )
    [(tampered,)] = con.execute(
        "SELECT order_key FROM raw.order_lines WHERE rowid = (SELECT min(rowid) FROM raw.order_lines WHERE quantity > 0)"
    ).fetchall()
    lines = con.execute("SELECT count(*) FROM raw.order_lines").fetchall()[0][0]
    con.close()
    paths = OrderhubPaths(
        landing=str(loaded.parent / "landing"),
        warehouse=str(loaded),
        serving=str(loaded.with_name("s.duckdb")),
        rules=str(PROJECT_ROOT / "config" / "rules.yml"),
    )
    dg.materialize(
        [orders_stub, order_lines_stub, orders_batch_quality],
        resources={"paths": paths, "warehouse": Warehouse(path=str(loaded))},
        raise_on_error=False,
    )
    con = warehouse.connect(loaded)
    try:
        validated = con.execute("SELECT sum(rows) FROM dq.dq_validations WHERE suite = 'order_lines'").fetchall()
        assert validated == [(lines,)]
        named = con.execute("SELECT DISTINCT order_key FROM dq.dq_order_findings WHERE rule_id = 'lines_sum_to_goods'")
        assert (tampered,) in named.fetchall()
    finally:
        con.close()
