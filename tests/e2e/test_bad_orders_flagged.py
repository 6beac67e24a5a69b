"""One bad order never stops a batch: a batch in the channels' real formats mixing good orders
with every kind of broken one goes through `orderhub run` (the Dagster pipeline job, in process) and succeeds.
Every good order is in fct_orders; an order whose amounts do not add up (paid ≠ goods − discounts + fees, Σ
lines ≠ goods) is loaded too and flagged with its rule and values (dq.dq_order_findings, fct_order_amount_checks,
an amounts_inconsistent exception); a record that cannot be an order (a negative amount or price, a missing
store code, items or address) is quarantined with its reason and values. A channel whose every order breaks the
money rules is a broken batch: the run fails, and its message names the check, the orders and the values."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import duckdb
import pytest
from pipeline_days import orderhub
from test_seed_example import APP_ORDER, DAY, PRODUCTS, STORE, meituan_push, write

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def app_order(order_no: str, member: str, door: str, **changes) -> dict:
    order = copy.deepcopy(APP_ORDER)
    order["order_no"], order["member_id"] = order_no, member
    order["receiver"]["address"] = f"上海市浦东新区张江镇碧波路690号{door}"
    for path, value in changes.items():
        target = order
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return order


GOOD_APP = [app_order(f"APPGOOD{i}", f"M10{i}", f"{i}号楼101室") for i in range(1, 4)]
FLAGGED_APP = {
    # Paid 30.00 for goods 25.00 + delivery 3.00: the customer paid 2.00 more than the order adds up to.
    "app:APPBADPAID": app_order("APPBADPAID", "M201", "8号楼101室", amounts__paid=30.0),
    # The goods amount says 30.00 but the only line is 2 × 12.50 = 25.00 (paid follows goods: 33.00).
    "app:APPBADLINES": app_order("APPBADLINES", "M202", "9号楼101室", amounts__goods=30.0, amounts__paid=33.0),
}
QUARANTINED_APP = {
    "APPNEGFEE": (
        "bad_value",
        "-3",
        app_order("APPNEGFEE", "M301", "10号楼101室", amounts__delivery_fee=-3.0, amounts__paid=22.0),
    ),
    "APPNEGPRICE": (
        "bad_value",
        "-12.5",
        app_order(
            "APPNEGPRICE",
            "M302",
            "11号楼101室",
            items=[
                {
                    "sku": "SKU0002",
                    "name": "五常大米 1kg",
                    "qty": 2,
                    "unit_price": -12.5,
                    "original_price": 12.5,
                    "discount": 0,
                }
            ],
        ),
    ),
    "APPNOSTORE": ("missing_field", "store code", app_order("APPNOSTORE", "M303", "12号楼101室", store_code=None)),
    "APPNOITEMS": ("missing_field", "no items", app_order("APPNOITEMS", "M304", "13号楼101室", items=[])),
    "APPNOADDR": ("missing_field", "address", app_order("APPNOADDR", "M305", "", receiver__address=None)),
}


def meituan_flagged() -> dict[str, str]:
    """Meituan's total (what the customer paid) 12.90 against an original price of 10.90 with no discount."""
    push = meituan_push()
    push.update(
        order_id="27012611260000888",
        wm_order_id_view="27012611260000888",
        total="12.9",
        recipient_phone="139****4321",
        recipient_address="浦东新区碧波路700号1号楼101室@#上海市浦东新区碧波路700号",
    )
    return push


def run(landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return orderhub("run", "--landing", str(landing), "--warehouse", str(warehouse))


def reference(landing: Path) -> None:
    write(landing / "reference" / "stores" / DAY / "stores.jsonl", [STORE])
    write(landing / "reference" / "products" / DAY / "products.jsonl", PRODUCTS)


def test_mixed_batch_loads_every_good_order_and_flags_or_quarantines_each_bad_one(tmp_path):
    landing = tmp_path / "landing"
    reference(landing)
    app_rows = GOOD_APP + list(FLAGGED_APP.values()) + [order for *_, order in QUARANTINED_APP.values()]
    write(landing / "orders" / "app" / DAY / "app-120000-00001.jsonl", app_rows)
    write(landing / "orders" / "meituan" / DAY / "meituan-120000-00001.jsonl", [meituan_push(), meituan_flagged()])
    warehouse = tmp_path / "orderhub.duckdb"

    result = run(landing, warehouse)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    good = {f"app:{o['order_no']}" for o in GOOD_APP} | {"meituan:27012611260000777"}
    flagged = set(FLAGGED_APP) | {"meituan:27012611260000888"}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        in_marts = {k for (k,) in con.execute("SELECT order_key FROM marts.fct_orders").fetchall()}
        in_parcels = {
            k for (keys,) in con.execute("SELECT order_keys FROM marts.fct_parcels").fetchall() for k in keys.split(",")
        }
        quarantined = {
            json.loads(raw)["order_no"]: (code, message)
            for raw, code, message in con.execute(
                "SELECT raw, error_code, message FROM raw.quarantine WHERE channel = 'app'"
            ).fetchall()
        }
        findings = {
            (k, r): d
            for k, r, d in con.execute(
                "SELECT order_key, rule_id, detail FROM dq.dq_order_findings WHERE suite = 'orders'"
            ).fetchall()
        }
        checks = {
            (k, r): d
            for k, r, d in con.execute(
                "SELECT order_key, rule_id, detail FROM marts.fct_order_amount_checks"
            ).fetchall()
        }
        exceptions = dict(
            con.execute(
                "SELECT order_key, detail FROM marts.fct_exceptions WHERE exception_type = 'amounts_inconsistent'"
            ).fetchall()
        )
        critical = con.execute("SELECT sum(critical_failed) FROM dq.dq_validations WHERE suite = 'orders'").fetchone()[
            0
        ]
    finally:
        con.close()

    # Every good order and every flagged one is loaded and goes out for delivery; nothing else is.
    assert in_marts == good | flagged
    assert good | flagged <= in_parcels
    # Each record that cannot be an order is quarantined with its reason and the value that broke it.
    assert set(quarantined) == set(QUARANTINED_APP)
    for order_no, (code, words, _) in QUARANTINED_APP.items():
        assert quarantined[order_no][0] == code, (order_no, quarantined[order_no])
        assert words in quarantined[order_no][1], (order_no, quarantined[order_no])
    # Each flagged order names the rule and the values, in the quality results and in the marts.
    assert critical == 0
    assert "paid 30.00 ≠ goods 25.00" in findings[("app:APPBADPAID", "amount_identity")]
    assert "gap 2.00" in findings[("app:APPBADPAID", "amount_identity")]
    assert "goods 30.00 ≠ Σ lines 25.00 (gap 5.00)" == findings[("app:APPBADLINES", "lines_sum_to_goods")]
    assert "paid 12.90" in findings[("meituan:27012611260000888", "amount_identity")]
    assert {k for k, _ in findings} == flagged
    assert set(checks) == set(findings)
    assert "paid 30.00 ≠ goods 25.00" in checks[("app:APPBADPAID", "amount_identity")]
    assert "(gap 5.00)" in checks[("app:APPBADLINES", "lines_sum_to_goods")]
    assert set(exceptions) == flagged and "gap 2.00" in exceptions["meituan:27012611260000888"]
    assert (tmp_path / "serving.duckdb").exists(), "the snapshot was published"


def test_a_channel_whose_every_order_breaks_the_money_rules_fails_the_run_and_says_where(tmp_path):
    landing = tmp_path / "landing"
    reference(landing)
    broken = [app_order(f"APPSHIFT{i}", f"M40{i}", f"{i}号楼202室", amounts__paid=25.0 + 3.0 + i) for i in range(1, 7)]
    write(landing / "orders" / "app" / DAY / "app-120000-00001.jsonl", broken)
    write(landing / "orders" / "meituan" / DAY / "meituan-120000-00001.jsonl", [meituan_push()])

    result = run(landing, tmp_path / "orderhub.duckdb")
    assert result.returncode != 0
    message = result.stderr
    assert "check orders_batch_quality on raw/orders failed" in message, message[-3000:]
    assert "a channel's batch is not broken" in message and "[app]" in message
    assert "app:APPSHIFT1" in message and "paid 29.00 ≠ goods 25.00" in message and "(gap 1.00)" in message

    # The broken channel's orders are loaded and flagged (Dagster does not gate dbt on the raw-table check), and
    # the snapshot published for the failed run says it failed and why, though every part was refreshed.
    snapshot = duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True)
    try:
        ok, problems = snapshot.execute("SELECT pipeline_ok, run_problems FROM snapshot_meta").fetchone()
        flagged = {
            k
            for (k,) in snapshot.execute(
                "SELECT order_key FROM fct_exceptions WHERE exception_type = 'amounts_inconsistent'"
            ).fetchall()
        }
    finally:
        snapshot.close()
    assert ok is False
    assert "orders_batch_quality" in problems and "a channel's batch is not broken" in problems, problems
    shifted = {f"app:APPSHIFT{i}" for i in range(1, 7)}
    assert shifted <= flagged
    con = duckdb.connect(str(tmp_path / "orderhub.duckdb"), read_only=True)
    try:
        in_marts = {k for (k,) in con.execute("SELECT order_key FROM marts.fct_orders").fetchall()}
    finally:
        con.close()
    assert shifted | {"meituan:27012611260000777"} <= in_marts
