"""A partial refund re-pushed by Meituan reaches every mart through the real loader and real dbt: the order
is first pushed with spinach ×2 and rice ×1 (¥40, Meituan states ¥36 for the merchant), then re-pushed with
the rice out of stock and removed (¥20, ¥18). After the second batch fct_orders shows the refunded amounts and
basket (incrementally rebuilt), stock releases the rice, and reconciliation expects ¥18 — so Meituan's ¥18
payout matches instead of being a shortfall against the first version. A third batch brings a push older than
the refund, delivered late: it is kept in the history, the order stays as the refund made it, and its rebuild
still finds the order's lines, which an earlier batch wrote (the micro-batch reads an order's lines bounded by
the batch of its current version, not by the batches it is rebuilding)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingestion import warehouse
from ingestion.loader import run_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingestion"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dbt_harness import run_dbt  # noqa: E402
from test_versions import CTIME, DAY, RICE, SPINACH, meituan_push, write_jsonl, write_reference  # noqa: E402

pytestmark = pytest.mark.slow
SELECT = ["--select", "+fct_orders", "+fct_stock_positions", "+fct_reconciliation_lines"]


def settlement(order_id: str, receive_cents: int, paid_cents: int) -> dict:
    """One Meituan per-order settlement record paying what the platform says the merchant receives."""
    return {
        "bill_date": DAY,
        "settle_type": "1",
        "order_id": order_id,
        "settle_bill_id": f"SB{order_id}",
        "app_poi_code": "SH001",
        "settle_time": str(CTIME + 3600),
        "poi_receive_detail": json.dumps(
            {
                "onlinePayment": paid_cents,
                "wmPoiReceiveCent": receive_cents,
                "foodShareFeeChargeByPoi": paid_cents - receive_cents,
            }
        ),
    }


def marts(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            "order": con.execute(
                "select paid_amount, goods_amount, line_count, items_quantity, total_weight_g "
                "from marts.fct_orders where order_key = 'meituan:MT1'"
            ).fetchall(),
            "stock": con.execute(
                "select sku_id, reserved_units, available_units from marts.fct_stock_positions order by sku_id"
            ).fetchall(),
            "recon": con.execute(
                "select category, expected_net, variance_amount from marts.fct_reconciliation_lines "
                "where item_type = 'statement_line' and channel_order_id = 'MT1'"
            ).fetchall(),
        }


def test_partial_refund_repush_shows_in_orders_stock_and_reconciliation(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_reference(landing)
    write_jsonl(
        landing / "reference" / "stock_snapshots" / DAY / "stock_snapshots.jsonl",
        [
            {"snapshot_at": f"{DAY}T06:00:00+08:00", "store_id": "SH001", "sku_id": sku, "on_hand": 10}
            for sku in ("SKU0001", "SKU0002")
        ],
    )
    write_jsonl(
        landing / "orders" / "meituan" / DAY / "meituan-114300-00001.jsonl",
        [meituan_push("MT1", [SPINACH, RICE], CTIME)],
    )
    path = tmp_path / "wh.duckdb"
    con = warehouse.connect(path)
    run_batch(con, landing)
    con.close()
    first = run_dbt(["run", *SELECT], path, tmp_path)
    assert first.returncode == 0, first.stdout[-4000:]
    before = marts(path)
    assert before["order"] == [(Decimal("40.00"), Decimal("40.00"), 2, 3, 1600)]
    assert before["stock"] == [("SKU0001", 2, 8), ("SKU0002", 1, 9)]

    write_jsonl(
        landing / "orders" / "meituan" / DAY / "meituan-120000-00002.jsonl",
        [meituan_push("MT1", [SPINACH], CTIME + 600)],
    )
    write_jsonl(landing / "settlements" / "meituan" / DAY / "meituan-settlement.jsonl", [settlement("MT1", 1800, 2000)])
    con = warehouse.connect(path)
    result = run_batch(con, landing)
    assert (result.counts["meituan"].loaded, result.counts["meituan"].duplicate) == (1, 0)
    assert con.execute("select count(*) from raw.order_history where order_key = 'meituan:MT1'").fetchone() == (2,)
    con.close()
    second = run_dbt(["run", *SELECT], path, tmp_path)
    assert second.returncode == 0, second.stdout[-4000:]
    after = marts(path)
    assert after["order"] == [(Decimal("20.00"), Decimal("20.00"), 1, 2, 600)]
    assert after["stock"] == [("SKU0001", 2, 8), ("SKU0002", 0, 10)]
    assert after["recon"] == [("matched", Decimal("18.00"), Decimal("0.00"))]

    write_jsonl(
        landing / "orders" / "meituan" / DAY / "meituan-121000-00003.jsonl",
        [meituan_push("MT1", [SPINACH, RICE], CTIME + 300, status="4")],
    )
    con = warehouse.connect(path)
    result = run_batch(con, landing)
    assert (result.counts["meituan"].loaded, result.counts["meituan"].duplicate) == (1, 0)
    assert con.execute("select count(*) from raw.order_history where order_key = 'meituan:MT1'").fetchone() == (3,)
    con.close()
    third = run_dbt(["run", *SELECT], path, tmp_path)
    assert third.returncode == 0, third.stdout[-4000:]
    assert marts(path)["order"] == after["order"]
    # Its events are read bounded by the batches of every version of the order (macros/batch_keys.sql): all
    # three pushes' events count, not only the late one's.
    with duckdb.connect(str(path), read_only=True) as con:
        assert (
            con.execute(
                "select event_count, created_event_at from intermediate.int_orders__current_status "
                "where order_key = 'meituan:MT1'"
            ).fetchall()
            == con.execute(
                "select count(*), min(event_time) filter (where status = 'created') from raw.order_events "
                "where order_key = 'meituan:MT1'"
            ).fetchall()
        )
