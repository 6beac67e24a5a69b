"""Stock positions, oversells, the channel stock feed and price checks on a small hand-written dataset
: what the marts must say about it, that stock conservation is a test that fails when a position
does not add up, and that the rules file alone changes the results.

Times are UTC; the store's WMS count is at 2026-11-25 22:00 UTC (06:00 local on the 26th). The dataset:

    order         channel   SKU x qty        what it shows
    app:A1        app       S1x2, S2x2       delivered; 满50减10 applied: 60.00 is right
    eleme:E1      eleme     S1x2             used its optional 3.00 platform coupon: right
    meituan:M1    meituan   S1x2             lists S1 at 12.00 (catalogue 10.00): price mismatch, and takes
                                             2 of S1 with 1 left: oversold by 1
    groupbuy:G1   groupbuy  S3x2             group-buy price 88% of 8.00 = 7.00: right
    pos:T1        pos       S3x1             item discount 1.00, voided ticket: releases its unit
    app:A2        app       S2x3             takes 3 of S2 with 2 left (short 1), then cancelled: resolved
    eleme:E2      eleme     S2x1             paid 20.00 for 25.00 with no promotion allowing it: mismatch
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from dbt_harness import (
    GOOD_ADDRESS,
    PROJECT_DIR,
    ROOT,
    RULES_FILE,
    DbtResult,
    dbt_executable,
    event,
    insert_rows,
    line,
    money,
    order,
    ts,
)

from ingestion.contract import raw_schema_ddl

pytestmark = pytest.mark.slow
D = Decimal
MODELS = (
    "+fct_exceptions +fct_channel_stock_feed +fct_sku_channel_prices +fct_order_status_history "
    "assert_stock_conservation"
)
ISSUE4_UNIT_TESTS = {
    "stock_movements_period_and_release",
    "stock_history_running_balance_and_shortfall",
    "channel_feed_safety_stock_and_shares",
    "price_options_enumerate_optional_promotions",
    "price_check_picks_the_option_that_explains_the_order",
    "exceptions_raised_and_resolved",
    "exceptions_late_risk_window",
    "status_history_ignores_arrival_order_and_repeats",
}


def run_dbt_with_rules(args: list[str], warehouse: Path, workdir: Path, **overrides: Any) -> DbtResult:
    """dbt exactly as the orchestrator runs it, with config/rules.yml as vars, some values replaced."""
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    rules.update(overrides)
    target = workdir / "target"
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(workdir / "logs"),
        "--vars",
        json.dumps(rules),
    ]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "ORDERHUB_WAREHOUSE": str(warehouse)}
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600
    )
    return DbtResult(proc.returncode, proc.stdout, target)


def _order(key: str, created: str, paid: str, goods: str, **fields: Any) -> dict[str, Any]:
    fulfilment = fields.pop("fulfilment", "delivery")
    row = order(
        key,
        created,
        goods=goods,
        paid=paid,
        paid_at=created,
        fulfilment=fulfilment,
        address=GOOD_ADDRESS if fulfilment == "delivery" else {},
        payment=fields.pop("payment", "wechat"),
    )
    row.update(
        {k: money(v) if isinstance(v, str) and k.endswith(("discount", "fee")) else v for k, v in fields.items()}
    )
    return row


ORDERS = [
    _order("app:A1", "2026-11-26 01:00:00", "60.00", "70.00", merchant_discount="10.00", status="delivered"),
    _order("eleme:E1", "2026-11-26 01:10:00", "17.00", "20.00", platform_discount="3.00"),
    _order("meituan:M1", "2026-11-26 01:20:00", "24.00", "24.00"),
    _order("groupbuy:G1", "2026-11-26 01:30:00", "14.00", "16.00", merchant_discount="2.00", fulfilment="self_pickup"),
    _order(
        "pos:T1",
        "2026-11-26 01:40:00",
        "7.00",
        "8.00",
        merchant_discount="1.00",
        fulfilment="in_store",
        payment="cash",
        status="cancelled",
        paid_at=None,
    ),
    _order("app:A2", "2026-11-26 01:50:00", "65.00", "75.00", merchant_discount="10.00"),
    _order("eleme:E2", "2026-11-26 02:10:00", "20.00", "25.00", merchant_discount="5.00"),
]
LINES = [
    line("app:A1", 1, "S1", 2, 500, 600, "ambient", "10.00"),
    line("app:A1", 2, "S2", 2, 800, 900, "chilled", "25.00"),
    line("eleme:E1", 1, "S1", 2, 500, 600, "ambient", "10.00"),
    line("meituan:M1", 1, "S1", 2, 500, 600, "ambient", "12.00"),
    {**line("groupbuy:G1", 1, "S3", 2, 1000, 1200, "ambient", "7.00"), "original_price": money("8.00")},
    {**line("pos:T1", 1, "S3", 1, 1000, 1200, "ambient", "7.00"), "original_price": money("8.00")},
    line("app:A2", 1, "S2", 3, 800, 900, "chilled", "25.00"),
    line("eleme:E2", 1, "S2", 1, 800, 900, "chilled", "25.00"),
]
EVENTS = [
    *(
        event(o["order_key"], s, o["created_at"].strftime("%Y-%m-%d %H:%M:%S"))
        for o in ORDERS
        for s in ("created", "paid")
        if o["paid_at"] or s == "created"
    ),
    event("app:A1", "picking", "2026-11-26 01:05:00"),
    event("app:A1", "delivered", "2026-11-26 01:30:00"),
    event("pos:T1", "cancelled", "2026-11-26 01:40:00"),
    event("app:A2", "cancelled", "2026-11-26 02:00:00"),
]
STORES = [
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
]
PRODUCTS = [
    {
        "sku_id": "S1",
        "name": "苹果",
        "category": "水果",
        "unit_price": money("10.00"),
        "weight_g": 500,
        "volume_ml": 600,
        "temp_zone": "ambient",
    },
    {
        "sku_id": "S2",
        "name": "鲈鱼",
        "category": "水产",
        "unit_price": money("25.00"),
        "weight_g": 800,
        "volume_ml": 900,
        "temp_zone": "chilled",
    },
    {
        "sku_id": "S3",
        "name": "大米",
        "category": "粮油调味",
        "unit_price": money("8.00"),
        "weight_g": 1000,
        "volume_ml": 1200,
        "temp_zone": "ambient",
    },
]
COUNT_AT = ts("2026-11-25 22:00:00")
SNAPSHOTS = [
    {"snapshot_at": COUNT_AT, "store_id": "SH001", "sku_id": s, "on_hand": n}
    for s, n in (("S1", 5), ("S2", 4), ("S3", 20))
]
WINDOW = {"starts_at": ts("2026-11-23 16:00:00"), "ends_at": ts("2026-11-30 16:00:00")}
PROMOTIONS = [
    {
        "promo_id": "P1",
        "channel": "app",
        "kind": "full_reduction",
        "threshold": money("50.00"),
        "amount": money("10.00"),
        "platform_share": 0.0,
        **WINDOW,
    },
    {
        "promo_id": "P2",
        "channel": "eleme",
        "kind": "coupon",
        "threshold": money("20.00"),
        "amount": money("3.00"),
        "platform_share": 1.0,
        **WINDOW,
    },
    {
        "promo_id": "P3",
        "channel": "all",
        "kind": "discount_item",
        "threshold": money("0.00"),
        "amount": money("1.00"),
        "sku_id": "S3",
        "platform_share": 0.0,
        **WINDOW,
    },
    {
        "promo_id": "P4",
        "channel": "meituan",
        "kind": "full_reduction",
        "threshold": money("30.00"),
        "amount": money("6.00"),
        "platform_share": 0.5,
        **WINDOW,
    },
    # A later calendar restates P1 with richer terms from the 28th (local), overlapping its first window: the
    # orders of the 26th are still priced by the first window (A1, A2: 满50减10).
    {
        "promo_id": "P1",
        "channel": "app",
        "kind": "full_reduction",
        "threshold": money("50.00"),
        "amount": money("15.00"),
        "platform_share": 0.0,
        "starts_at": ts("2026-11-27 16:00:00"),
        "ends_at": ts("2026-12-04 16:00:00"),
    },
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("stock_prices")
    warehouse = workdir / "orderhub.duckdb"
    con = duckdb.connect(str(warehouse))
    for statement in raw_schema_ddl():
        con.execute(statement)
    for table, rows in (
        ("orders", ORDERS),
        ("order_lines", LINES),
        ("order_events", EVENTS),
        ("stores", STORES),
        ("products", PRODUCTS),
        ("stock_snapshots", SNAPSHOTS),
        ("promotions", PROMOTIONS),
    ):
        insert_rows(con, table, rows)
    # As ingestion keeps them: each order's one version is in the history too (its events came with it).
    con.execute("insert into raw.order_history select *, null::timestamp, null::varchar from raw.orders")
    con.close()
    # cautious: tests of other features that read one of these models and models not selected stay out.
    result = run_dbt_with_rules(
        ["build", "--select", *MODELS.split(), "--indirect-selection", "cautious"], warehouse, workdir
    )
    assert result.returncode == 0, result.stdout[-5000:]
    ran = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in result.run_results()}
    assert {name: ran.get(name) for name in ISSUE4_UNIT_TESTS} == dict.fromkeys(ISSUE4_UNIT_TESTS, "pass")
    assert ran["assert_stock_conservation"] == "pass"
    return warehouse


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_stock_positions(built: Path) -> None:
    """Per store and SKU: the count, what every channel's orders took since it, what cancellations gave
    back (the voided ticket, the cancelled app order), and what is left; S1 is oversold by one unit."""
    rows = query(
        built,
        """select sku_id, on_hand, reserved_units, released_units, open_units, fulfilled_units,
                                  available_units, oversold_units from marts.fct_stock_positions order by sku_id""",
    )
    assert rows == [
        ("S1", 5, 6, 0, 4, 2, -1, 1),
        ("S2", 4, 6, 3, 1, 2, 1, 0),
        ("S3", 20, 3, 1, 2, 0, 18, 0),
    ]
    # The time series: S2 goes 4 -> 2 (A1) -> -1 (A2, short 1) -> 2 (A2 cancelled) -> 1 (E2).
    series = query(
        built,
        """select movement_kind, order_key, balance_after, shortfall_units
                             from marts.fct_stock_position_history where sku_id = 'S2' order by movement_no""",
    )
    assert series == [
        ("snapshot", None, 4, 0),
        ("reserve", "app:A1", 2, 0),
        ("reserve", "app:A2", -1, 1),
        ("release", "app:A2", 2, 0),
        ("reserve", "eleme:E2", 1, 0),
    ]


def test_oversell_events_name_order_channel_and_shortfall(built: Path) -> None:
    """Which order took stock that was not there, on which channel, by how much; the cancelled one is
    resolved when its units went back."""
    rows = query(
        built,
        """select order_key, channel, sku_id, quantity, available_before, shortfall_units, resolved_at
                           from marts.fct_oversell_events order by order_key""",
    )
    assert rows == [
        ("app:A2", "app", "S2", 3, 2, 1, ts("2026-11-26 02:00:00")),
        ("meituan:M1", "meituan", "S1", 2, 1, 1, None),
    ]


def test_channel_feed_holds_back_safety_stock_and_ring_fences_groupbuy(built: Path) -> None:
    """S3 has 18 available, 2 held back (default safety stock): 16 sellable, group-buy's fixed 20% = 3,
    the shared channels the other 13. S2 (水产, safety 3) and oversold S1 are sold out everywhere; the tills
    get no feed."""
    rows = query(
        built,
        """select channel, sku_id, safety_stock_units, sellable_units, channel_sellable_units
                           from marts.fct_channel_stock_feed order by sku_id, channel""",
    )
    feed = {(ch, sku): (safety, sellable, units) for ch, sku, safety, sellable, units in rows}
    assert {ch for ch, _ in feed} == {"app", "miniprogram", "meituan", "eleme", "groupbuy"}
    assert feed[("groupbuy", "S3")] == (2, 16, 3)
    assert feed[("meituan", "S3")] == feed[("app", "S3")] == (2, 16, 13)
    assert feed[("app", "S2")] == (3, 0, 0) and feed[("groupbuy", "S1")] == (2, 0, 0)


def test_price_checks_and_cross_channel_consistency(built: Path) -> None:
    """Orders priced by the catalogue and the calendar pass (full reduction, an optional coupon, the
    group-buy price, an item discount), also where a later window of the same promotion with other terms
    overlaps theirs; Meituan's 12.00 listing and Eleme's unexplained 5.00 off are mismatches; S1 is
    inconsistent across channels and Meituan is the channel off the catalogue."""
    rows = query(
        built,
        """select order_key, check_status, expected_paid_amount, applied_promotions
                           from marts.fct_order_price_checks order by order_key""",
    )
    assert rows == [
        ("app:A1", "ok", D("60.00"), "P1"),
        ("app:A2", "ok", D("65.00"), "P1"),
        ("eleme:E1", "ok", D("17.00"), "P2"),
        ("eleme:E2", "mismatch", D("22.00"), "P2"),
        ("groupbuy:G1", "ok", D("14.00"), None),
        ("meituan:M1", "mismatch", D("20.00"), None),
        ("pos:T1", "ok", D("7.00"), "P3"),
    ]
    # The later window takes over from its start; the earlier one keeps its stated end beside.
    assert query(
        built,
        "select starts_at, ends_at, stated_ends_at, reduce_amount from staging.stg_raw__promotions "
        "where promo_id = 'P1' order by starts_at",
    ) == [
        (ts("2026-11-23 16:00:00"), ts("2026-11-27 16:00:00"), ts("2026-11-30 16:00:00"), D("10.00")),
        (ts("2026-11-27 16:00:00"), ts("2026-12-04 16:00:00"), ts("2026-12-04 16:00:00"), D("15.00")),
    ]
    flagged = query(
        built,
        """select sku_id, channel, list_price, sku_spread_pct from marts.fct_sku_channel_prices
                              where is_price_outlier""",
    )
    assert flagged == [("S1", "meituan", D("12.00"), 20.0)]
    assert query(
        built, "select count(distinct sku_id) from marts.fct_sku_channel_prices where is_inconsistent_sku"
    ) == [(1,)]


def test_exceptions_for_stock_and_prices(built: Path) -> None:
    """One row per (kind, order): open oversell and price problems with their actions; the cancelled
    oversell is kept, resolved when the order was cancelled."""
    rows = query(
        built,
        """select exception_type, order_key, severity, action, raised_at, resolved_at
                           from marts.fct_exceptions order by exception_type, order_key""",
    )
    assert rows == [
        ("out_of_stock", "app:A2", "high", "replenish", ts("2026-11-26 01:50:00"), ts("2026-11-26 02:00:00")),
        ("out_of_stock", "meituan:M1", "high", "replenish", ts("2026-11-26 01:20:00"), None),
        ("price_mismatch", "eleme:E2", "medium", "manual_review", ts("2026-11-26 02:10:00"), None),
        ("price_mismatch", "meituan:M1", "medium", "manual_review", ts("2026-11-26 01:20:00"), None),
    ]


def test_conservation_test_fails_on_a_position_that_does_not_add_up(built: Path, tmp_path: Path) -> None:
    """assert_stock_conservation is not vacuous: a position whose available units disagree with its count,
    reservations and releases by one unit fails it, with that one row."""
    copy = tmp_path / "orderhub.duckdb"
    shutil.copyfile(built, copy)
    con = duckdb.connect(str(copy))
    con.execute("update marts.fct_stock_positions set available_units = available_units + 1 where sku_id = 'S3'")
    con.close()
    result = run_dbt_with_rules(["test", "--select", "assert_stock_conservation"], copy, tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    # The project's on-run-start hooks are results too.
    tests = [r for r in result.run_results() if r["unique_id"].startswith("test.")]
    assert [(r["status"], r["failures"]) for r in tests] == [("fail", 1)]


def test_rules_file_changes_the_results(built: Path, tmp_path: Path) -> None:
    """Only the rules change, no code: more safety stock and a bigger group-buy share shrink and shift the
    feed; a price tolerance of 6 yuan accepts both mismatches; a 25% cross-channel allowance accepts S1."""
    copy = tmp_path / "orderhub.duckdb"
    shutil.copyfile(built, copy)
    result = run_dbt_with_rules(
        [
            "run",
            "--select",
            "fct_channel_stock_feed",
            "fct_order_price_checks",
            "fct_sku_channel_prices",
            "fct_exceptions",
            # A rule changes rows no new batch points at: the orchestrator rebuilds from scratch then.
            "--full-refresh",
        ],
        copy,
        tmp_path,
        safety_stock_units=5,
        channel_allocation={"default": {"mode": "shared"}, "groupbuy": {"mode": "fixed_share", "share": 0.5}},
        price_tolerance_yuan=6.0,
        cross_channel_price_tolerance_pct=25,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    feed = dict(
        ((ch, sku), units)
        for ch, sku, units in query(
            copy, "select channel, sku_id, channel_sellable_units from marts.fct_channel_stock_feed"
        )
    )
    assert (feed[("groupbuy", "S3")], feed[("meituan", "S3")]) == (6, 7)  # 18 - 5 = 13 sellable
    assert query(copy, "select count(*) from marts.fct_order_price_checks where is_price_mismatch") == [(0,)]
    assert query(copy, "select count(*) from marts.fct_sku_channel_prices where is_inconsistent_sku") == [(0,)]
    assert query(copy, "select exception_type, order_key from marts.fct_exceptions where resolved_at is null") == [
        ("out_of_stock", "meituan:M1")
    ]
