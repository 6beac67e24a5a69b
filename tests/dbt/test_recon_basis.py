"""Reconciliation expects what the platform says it pays: an order carrying merchant_receivable (Meituan
poi_receive_detail, Eleme income) is expected to settle for exactly that, whatever the platform deducted on
the way (commission with a minimum, delivery service — not our flat rate), and the line says
`platform_stated`; an order without it falls back to the configured rate (`configured_rate`). A statement
paying less than the stated amount is still a variance, so the basis does not hide real shortfalls: with the
gross as ordered it is a fee mismatch (the platform deducted more than it stated), with a different gross an
amount mismatch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ingestion.contract import raw_schema_ddl
from tests.dbt.dbt_harness import insert_rows, money, order, run_dbt

DAY = "2026-11-26"


def _order(key: str, goods: str, paid: str, receivable: str | None) -> dict:
    row = order(key, "2026-11-26T02:00:00", goods=goods, paid=paid, payment="online")
    row.update(
        packaging_fee=money("2.00") if receivable else money("0.00"),
        delivery_fee=money("5.00") if receivable else money("0.00"),
        merchant_receivable=money(receivable) if receivable else None,
    )
    return row


def _line(order_id: str, n: int, gross: str, fee: str, net: str, channel: str = "meituan") -> dict:
    return {
        "channel": channel,
        "statement_date": dt.date(2026, 11, 26),
        "line_type": "payment",
        "channel_order_id": order_id,
        "order_key": f"{channel}:{order_id}",
        "transaction_id": f"T{n}",
        "account_id": "poi-1",
        "txn_count": 1,
        "gross_amount": money(gross),
        "fee_amount": money(fee),
        "net_amount": money(net),
        "refund_amount": money("0.00"),
        "source_file": f"settlements/{channel}/{DAY}/s.csv",
        "source_line": n,
        "raw_hash": f"h{n}",
        "batch_id": "b1",
    }


def test_expected_settlement_comes_from_the_platform_then_the_rate(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    for statement in raw_schema_ddl():
        con.execute(statement)
    # Goods 50 + packaging 2 (+ delivery 5 the platform keeps): payout base 52; the platform states 42.37,
    # i.e. it deducted 9.63 — the flat 8% would say 4.00, a fee mismatch on every real order.
    insert_rows(
        con,
        "orders",
        [
            _order("meituan:M1", "50.00", "57.00", "42.37"),
            _order("meituan:M2", "30.00", "30.00", None),
            _order("meituan:M3", "50.00", "57.00", "42.37"),
            _order("meituan:M4", "50.00", "57.00", "42.37"),
            _order("eleme:E1", "50.00", "57.00", "42.37"),
        ],
    )
    insert_rows(
        con,
        "settlement_lines",
        [
            _line("M1", 1, "57.00", "9.63", "42.37"),
            _line("M2", 2, "30.00", "2.40", "27.60"),
            # M3 and E1: paid as ordered, 2.37 more deducted than stated (Eleme itemises only its commission, so
            # the statement's fee column is not comparable to the stated deductions; the net is).
            _line("M3", 3, "57.00", "12.00", "40.00"),
            _line("E1", 4, "57.00", "4.63", "40.00", channel="eleme"),
            # M4: a different gross is an amount mismatch even though the net is short too.
            _line("M4", 5, "55.00", "9.63", "40.37"),
        ],
    )
    con.close()
    result = run_dbt(["run", "--select", "+fct_reconciliation_lines"], warehouse, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select channel_order_id, category, expected_basis, expected_fee, expected_net, variance_amount "
        "from marts.fct_reconciliation_lines where item_type = 'statement_line' order by channel_order_id"
    ).fetchall()
    explained = con.execute(
        "select explanation from marts.fct_reconciliation_lines where channel_order_id = 'M3'"
    ).fetchone()
    con.close()
    assert rows == [
        ("E1", "fee_mismatch", "platform_stated", money("14.63"), money("42.37"), money("-2.37")),
        ("M1", "matched", "platform_stated", money("9.63"), money("42.37"), money("0.00")),
        ("M2", "matched", "configured_rate", money("2.40"), money("27.60"), money("0.00")),
        ("M3", "fee_mismatch", "platform_stated", money("9.63"), money("42.37"), money("-2.37")),
        ("M4", "amount_mismatch", "platform_stated", money("9.63"), money("42.37"), money("-2.00")),
    ]
    assert explained == (
        "gross 57.00 as ordered; paid 40.00 where the order states 42.37: deductions 12.00 instead of 9.63",
    )
