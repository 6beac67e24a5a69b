"""Stock between WMS counts: goods receipts, transfers and write-offs from the
stock_movements feed move the ledger, so a delivery into the store at 10:00 after the 06:00 count is stock the
orders may take, not an oversell; goods that arrive after an order, or leave through a write-off or transfer
out, do not hide a real one. Real dbt on a hand-written raw warehouse.

Times are UTC; the count is at 2026-11-25 22:00 (06:00 local on the 26th):

    SKU  count  goods moved (UTC)                                 order (03:00 UTC)   truly short?
    S1   2      receipt +10 at 02:00 (10:00 local)                 app:R1 takes 5      no: 12 there
    S2   2      receipt +6 at 05:00, after the order               app:R2 takes 4      yes, by 2
    S3   6      write-off −3 01:00, transfer out −2 01:30,         app:R3 takes 3      yes, by 1
                transfer in +1 02:30
    S4   4      receipt +5 at 21:00 on the 25th, before the count  app:R4 takes 4      no (and the receipt
                (the count already holds it)                                           is not counted twice)
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt_harness import insert_rows, line, money, order, run_dbt, ts

from ingestion.contract import raw_schema_ddl

pytestmark = pytest.mark.slow

COUNT_AT = ts("2026-11-25 22:00:00")
COUNTS = {"S1": 2, "S2": 2, "S3": 6, "S4": 4}
MOVEMENTS = [
    ("GR-1", "S1", "receipt", 10, "2026-11-26 02:00:00"),
    ("GR-2", "S2", "receipt", 6, "2026-11-26 05:00:00"),
    ("WO-1", "S3", "write_off", 3, "2026-11-26 01:00:00"),
    ("TO-1", "S3", "transfer_out", 2, "2026-11-26 01:30:00"),
    ("TI-1", "S3", "transfer_in", 1, "2026-11-26 02:30:00"),
    ("GR-0", "S4", "receipt", 5, "2026-11-25 21:00:00"),
]
ORDERS = {"app:R1": ("S1", 5), "app:R2": ("S2", 4), "app:R3": ("S3", 3), "app:R4": ("S4", 4)}


def build(workdir: Path, with_movements: bool) -> Path:
    warehouse = workdir / "orderhub.duckdb"
    con = duckdb.connect(str(warehouse))
    for statement in raw_schema_ddl():
        con.execute(statement)
    insert_rows(
        con,
        "stores",
        [
            {
                "store_id": "SH001",
                "name": "张江店",
                "kind": "dark_store",
                "city": "上海市",
                "district": "浦东新区",
                "address": "碧波路690号",
                "lat": 31.2035,
                "lng": 121.5903,
            }
        ],
    )
    insert_rows(
        con,
        "products",
        [
            {
                "sku_id": s,
                "name": s,
                "category": "粮油调味",
                "unit_price": money("5.00"),
                "weight_g": 500,
                "volume_ml": 600,
                "temp_zone": "ambient",
            }
            for s in COUNTS
        ],
    )
    insert_rows(
        con,
        "stock_snapshots",
        [{"snapshot_at": COUNT_AT, "store_id": "SH001", "sku_id": s, "on_hand": n} for s, n in COUNTS.items()],
    )
    insert_rows(
        con,
        "orders",
        [
            order(k, "2026-11-26 03:00:00", goods=f"{5 * q}.00", paid=f"{5 * q}.00", paid_at="2026-11-26 03:00:00")
            for k, (_, q) in ORDERS.items()
        ],
    )
    insert_rows(con, "order_lines", [line(k, 1, s, q, 500, 600, "ambient") for k, (s, q) in ORDERS.items()])
    if with_movements:
        insert_rows(
            con,
            "stock_movements",
            [
                {
                    "movement_id": mid,
                    "store_id": "SH001",
                    "sku_id": sku,
                    "movement_type": kind,
                    "quantity": qty,
                    "moved_at": ts(at),
                    "reference": f"doc {mid}",
                }
                for mid, sku, kind, qty, at in MOVEMENTS
            ],
        )
    con.close()
    result = run_dbt(
        [
            "build",
            "--select",
            "+fct_exceptions",
            "+fct_stock_positions",
            "assert_stock_conservation",
            "--indirect-selection",
            "cautious",
        ],
        warehouse,
        workdir,
        as_of="2026-11-26 06:00:00",
    )
    assert result.returncode == 0, result.stdout[-5000:]
    ran = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in result.run_results()}
    assert ran["assert_stock_conservation"] == "pass"
    assert ran["stock_movements_period_and_release"] == "pass"
    return warehouse


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def with_feed(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("movements"), with_movements=True)


def test_a_delivery_between_counts_is_stock_not_an_oversell(with_feed: Path, tmp_path: Path) -> None:
    """Only the orders that took stock truly not there at the time are oversells: S2 (the receipt came later)
    and S3 (written off and transferred away). Without the feed, S1's 10:00 delivery is missed and R1 looks
    oversold: the same data proves the feed is what prevents the false oversell."""
    oversells = query(
        with_feed,
        """select order_key, sku_id, quantity, available_before, shortfall_units
                                    from marts.fct_oversell_events order by order_key""",
    )
    assert oversells == [("app:R2", "S2", 4, 2, 2), ("app:R3", "S3", 3, 2, 1)]
    exceptions = query(
        with_feed, "select order_key from marts.fct_exceptions where exception_type = 'out_of_stock' order by order_key"
    )
    assert exceptions == [("app:R2",), ("app:R3",)]

    without = build(tmp_path, with_movements=False)
    blind = query(without, "select order_key, shortfall_units from marts.fct_oversell_events order by order_key")
    assert ("app:R1", 3) in blind


def test_positions_count_goods_moved_since_the_count(with_feed: Path) -> None:
    """available = on hand + moved in − moved out − reserved + released, per SKU; the receipt before the count
    is in the count and not added again."""
    rows = query(
        with_feed,
        """select sku_id, on_hand, moved_in_units, moved_out_units, reserved_units,
                                      available_units, oversold_units
                               from marts.fct_stock_positions order by sku_id""",
    )
    assert rows == [
        ("S1", 2, 10, 0, 5, 7, 0),
        ("S2", 2, 6, 0, 4, 4, 0),
        ("S3", 6, 1, 5, 3, -1, 1),
        ("S4", 4, 0, 0, 4, 0, 0),
    ]


def test_the_history_shows_each_goods_movement_with_its_document(with_feed: Path) -> None:
    """S3's time series: the count, the write-off, the transfer out and in (each with its WMS id), then R3."""
    series = query(
        with_feed,
        """select movement_kind, stock_movement_id, order_key, balance_after, shortfall_units
                                 from marts.fct_stock_position_history where sku_id = 'S3' order by movement_no""",
    )
    assert series == [
        ("snapshot", None, None, 6, 0),
        ("write_off", "WO-1", None, 3, 0),
        ("transfer_out", "TO-1", None, 1, 0),
        ("transfer_in", "TI-1", None, 2, 0),
        ("reserve", None, "app:R3", -1, 1),
    ]
    assert query(with_feed, "select sum(shortfall_units) from marts.fct_stock_position_history") == [(3,)]
