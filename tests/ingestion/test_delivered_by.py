"""Who delivers an order (`delivered_by`): Meituan's logistics_code read by the adapter, null where a channel
says nothing, the simulator's mix of codes, and a warehouse made before the column still loading."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest
from test_adapters import meituan_push, only_order, run

from ingestion import contract
from ingestion import warehouse as raw_warehouse
from simulator.render_json import logistics_code
from simulator.shape import MEITUAN_LOGISTICS_CODES


@pytest.mark.parametrize(
    ("code", "delivered_by"),
    [
        ("0000", "merchant"),  # 商家自配: our riders
        ("0", "merchant"),  # the ERP dialect's typed value
        ("1001", "platform"),  # 美团专送 (加盟)
        ("2002", "platform"),  # 快送
        ("3001", "platform"),  # 混合送
        ("30011002", "platform"),  # 混合自建
        (None, None),  # not pushed: the channel does not say
        ("n/a", None),  # not a code
    ],
)
def test_meituan_logistics_code_says_who_delivers(code, delivered_by):
    push = json.loads(meituan_push())
    if code is None:
        push.pop("logistics_code", None)
    else:
        push["logistics_code"] = code
    assert only_order(run("meituan", json.dumps(push, ensure_ascii=False)))["delivered_by"] == delivered_by


def test_channels_that_do_not_say_leave_it_null():
    from test_adapters import app_order

    assert only_order(run("app", json.dumps(app_order(), ensure_ascii=False)))["delivered_by"] is None


def test_the_simulator_writes_both_kinds_in_its_own_proportions():
    counts = Counter(logistics_code(f"MT{i:06d}") for i in range(20_000))
    assert set(counts) == set(MEITUAN_LOGISTICS_CODES)
    for code, share in MEITUAN_LOGISTICS_CODES.items():
        assert abs(counts[code] / 20_000 - share) < 0.02, (code, counts[code])
    assert logistics_code("MT000001") == logistics_code("MT000001"), "every push of an order says the same"


def test_a_warehouse_made_before_the_column_gets_it(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    columns = {k: v for k, v in contract.ORDERS.items() if k != "delivered_by"}
    con.execute(f"CREATE SCHEMA {contract.RAW_SCHEMA}")
    con.execute(contract.create_table_sql("orders", columns))
    con.close()
    con = raw_warehouse.connect(path)
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE {contract.RAW_SCHEMA}.orders").fetchall()]
    finally:
        con.close()
    assert "delivered_by" in names
