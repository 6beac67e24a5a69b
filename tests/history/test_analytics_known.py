"""The analytics questions give the right answers on a small hand-built case, on DuckDB and on ClickHouse (chdb).

The case (eight orders, two local days, two stores; local times are Asia/Shanghai, UTC + 8):

    order      channel  store local time         cancelled paid  goods items lines phone        merge group
    app:1      app      S1    11-20 09:10        no        100   110   4     2     mobile 138-1 G1 (with meituan:1)
    meituan:1  meituan  S1    11-20 09:20        no         50    55   2     1     masked       G1
    app:2      app      S1    11-20 18:00        yes        30    30   1     1     mobile 138-1 -  (dispatched, then cancelled)
    pos:1      pos      S2    11-20 09:05        no         20    20   2     2     none         -  (no identity at all)
    eleme:1    eleme    S2    11-21 09:30        no         80    90   3     3     privacy      G2 (with eleme:2)
    eleme:2    eleme    S2    11-21 10:00        no         40    40   1     1     privacy      G2
    meituan:2  meituan  S1    11-21 09:40        no         60    60   2     2     mobile 139-2 G3 (alone)
    app:3      app      S1    11-22 00:30 (UTC 11-21 16:30) no  10    10   1     1     mobile 138-1 G4 (alone)

G1's customer is m:138-1 (the merge matched the masked Meituan number to the app's mobile); G1 is split in two
parcels, both listing meituan:1. Exceptions: meituan:1 late_risk (resolved) and price_mismatch (open), eleme:1
bad_address (open), app:2 payment_missing (resolved). The expected values below are counted by hand from this
table (see each test), not by running the SQL.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from chdb_copy import ORDER_CUSTOMERS, copy_warehouse

from history.analytics import ClickHouseStore, DuckDBStore, Scope
from history.client import connect

M1 = "13800000001"
ORDERS = [
    # key, channel, store, local created, cancelled, paid, goods, items, lines, dispatched(local), kind, phone, user
    ("app:1", "app", "S1", "2026-11-20 09:10", False, "100.00", "110.00", 4, 2, None, "mobile", M1, "u1"),
    ("meituan:1", "meituan", "S1", "2026-11-20 09:20", False, "50.00", "55.00", 2, 1, None, "masked", "138****0001", "mtA"),
    ("app:2", "app", "S1", "2026-11-20 18:00", True, "30.00", "30.00", 1, 1, "2026-11-20 18:30", "mobile", M1, "u1"),
    ("pos:1", "pos", "S2", "2026-11-20 09:05", False, "20.00", "20.00", 2, 2, None, "missing", None, None),
    ("eleme:1", "eleme", "S2", "2026-11-21 09:30", False, "80.00", "90.00", 3, 3, None, "privacy", "17000000000", "el9"),
    ("eleme:2", "eleme", "S2", "2026-11-21 10:00", False, "40.00", "40.00", 1, 1, None, "privacy", "17000000000", "el9"),
    ("meituan:2", "meituan", "S1", "2026-11-21 09:40", False, "60.00", "60.00", 2, 2, None, "mobile", "13900000002", "mtB"),
    ("app:3", "app", "S1", "2026-11-22 00:30", False, "10.00", "10.00", 1, 1, None, "mobile", M1, "u1"),
]  # fmt: skip
PARCELS = [
    # parcel_id, merge_group_id, customer_id, group_size, business_date, order_keys
    ("G1/0/1", "G1", f"m:{M1}", 2, "2026-11-20", "app:1,meituan:1"),
    ("G1/1/1", "G1", f"m:{M1}", 2, "2026-11-20", "meituan:1"),
    ("G2/0/1", "G2", "k:addr9:…0000", 2, "2026-11-21", "eleme:1,eleme:2"),
    ("G3/0/1", "G3", "m:13900000002", 1, "2026-11-21", "meituan:2"),
    ("G4/0/1", "G4", f"m:{M1}", 1, "2026-11-22", "app:3"),
]
EXCEPTIONS = [
    # exception_id, exception_type, order_key, resolved_at
    ("x1", "late_risk", "meituan:1", "2026-11-20 02:00"),
    ("x2", "price_mismatch", "meituan:1", None),
    ("x3", "bad_address", "eleme:1", None),
    ("x4", "payment_missing", "app:2", "2026-11-20 10:40"),
]


def _build(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        """create table marts.fct_orders (
            order_key varchar, channel varchar, store_id varchar, channel_user_id varchar, phone varchar,
            phone_kind varchar, created_at timestamp, created_at_local timestamp, business_date date,
            is_cancelled boolean, dispatched_at timestamp, goods_amount decimal(18, 2), paid_amount decimal(18, 2),
            items_quantity bigint, line_count bigint)"""
    )
    for key, channel, store, local, cancelled, paid, goods, items, lines, dispatched, kind, phone, user in ORDERS:
        created_local = dt.datetime.fromisoformat(local)
        dispatched_utc = dt.datetime.fromisoformat(dispatched) - dt.timedelta(hours=8) if dispatched else None
        con.execute(
            "insert into marts.fct_orders values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                key,
                channel,
                store,
                user,
                phone,
                kind,
                created_local - dt.timedelta(hours=8),
                created_local,
                created_local.date(),
                cancelled,
                dispatched_utc,
                goods,
                paid,
                items,
                lines,
            ],
        )
    con.execute(
        """create table marts.fct_parcels (parcel_id varchar, merge_group_id varchar, customer_id varchar,
            group_size bigint, business_date date, order_keys varchar)"""
    )
    con.executemany("insert into marts.fct_parcels values (?, ?, ?, ?, ?, ?)", PARCELS)
    con.execute(
        """create table marts.fct_exceptions (exception_id varchar, exception_type varchar, order_key varchar,
            resolved_at timestamp)"""
    )
    con.executemany("insert into marts.fct_exceptions values (?, ?, ?, ?)", EXCEPTIONS)
    con.close()


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Both stores over the same hand-built marts: DuckDB, and ClickHouse through ReplacingMergeTree copies."""
    workdir = tmp_path_factory.mktemp("analytics_known")
    warehouse = workdir / "known.duckdb"
    _build(warehouse)
    duck = duckdb.connect(str(warehouse), read_only=True)
    client = connect(f"chdb://{workdir / 'ch'}?database=analytics_known")
    copy_warehouse(
        duck,
        client,
        "analytics_known",
        workdir,
        tables={
            "fct_orders": ("marts.fct_orders", "order_key"),
            "fct_parcels": ("marts.fct_parcels", "parcel_id"),
            "fct_exceptions": ("marts.fct_exceptions", "exception_id"),
            **ORDER_CUSTOMERS,
        },
    )
    try:
        yield {"duckdb": DuckDBStore(duck), "clickhouse": ClickHouseStore(client, "analytics_known")}
    finally:
        client.close()
        duck.close()


ENGINES = ["duckdb", "clickhouse"]


def _ask(stores, engine, question, by="channel", date_from=None, date_to=None):
    answer = stores[engine].ask(question, Scope(by=by, date_from=date_from, date_to=date_to))
    return [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize("engine", ENGINES)
def test_volume_by_channel(stores, engine):
    # app: app:1, app:2 (cancelled), app:3 -> 3 orders, 2 kept, revenue 100 + 10; pos: 1 of 8 = 12.5 %.
    assert [tuple(r.values()) for r in _ask(stores, engine, "volume")] == [
        ("app", 3, 37.5, 2, 110.0),
        ("eleme", 2, 25.0, 2, 120.0),
        ("meituan", 2, 25.0, 2, 110.0),
        ("pos", 1, 12.5, 1, 20.0),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_volume_by_hour_is_local(stores, engine):
    # app:3 was placed at 16:30 UTC: local hour 0, not 16. Hour 9: app:1, meituan:1, pos:1, eleme:1, meituan:2.
    assert [(r["hour_local"], r["orders"], r["revenue"]) for r in _ask(stores, engine, "volume", by="hour")] == [
        (0, 1, 10.0),
        (9, 5, 310.0),
        (10, 1, 40.0),
        (18, 1, 0.0),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_volume_by_store(stores, engine):
    # S1: app:1, meituan:1, app:2 (cancelled), meituan:2, app:3 -> kept revenue 100 + 50 + 60 + 10.
    assert [tuple(r.values()) for r in _ask(stores, engine, "volume", by="store")] == [
        ("S1", 5, 62.5, 4, 220.0),
        ("S2", 3, 37.5, 3, 140.0),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_basket_counts_kept_orders_only(stores, engine):
    # app kept: app:1 (100 / 110 / 4 items / 2 lines) and app:3 (10 / 10 / 1 / 1); app:2 is cancelled.
    assert [tuple(r.values()) for r in _ask(stores, engine, "basket")] == [
        ("app", 2, 55.0, 60.0, 2.5, 1.5),
        ("eleme", 2, 60.0, 65.0, 2.0, 2.0),
        ("meituan", 2, 55.0, 57.5, 2.0, 1.5),
        ("pos", 1, 20.0, 20.0, 2.0, 2.0),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_cancellations(stores, engine):
    # app:2 is the one cancelled order, after a rider left (dispatched_at set).
    assert [tuple(r.values()) for r in _ask(stores, engine, "cancellations")] == [
        ("app", 3, 1, 33.33, 1),
        ("eleme", 2, 0, 0.0, 0),
        ("meituan", 2, 0, 0.0, 0),
        ("pos", 1, 0, 0.0, 0),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_exceptions_count_orders_not_rows(stores, engine):
    # meituan:1 has two exceptions (late_risk resolved, price_mismatch open): one order with exceptions.
    rows = {r["channel"]: r for r in _ask(stores, engine, "exceptions")}
    assert (rows["meituan"]["orders_with_exceptions"], rows["meituan"]["exception_rate_pct"]) == (1, 50.0)
    assert (rows["meituan"]["late_risk"], rows["meituan"]["price_mismatch"]) == (1, 1)
    assert rows["meituan"]["orders_with_open_exceptions"] == 1
    assert (rows["app"]["orders_with_exceptions"], rows["app"]["exception_rate_pct"]) == (1, 33.33)
    assert (rows["app"]["payment_missing"], rows["app"]["orders_with_open_exceptions"]) == (1, 0)
    assert (rows["eleme"]["bad_address"], rows["eleme"]["orders_with_open_exceptions"]) == (1, 1)
    assert (rows["pos"]["orders_with_exceptions"], rows["pos"]["exception_rate_pct"]) == (0, 0.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_repeat_across_channels(stores, engine):
    # Customer m:138-1 in time order: app:1 (first), meituan:1, app:2, app:3 (repeats, across channels).
    # eleme:2 repeats eleme:1 (the merge's customer); meituan:2 is its customer's only order; pos:1 has no
    # identity: an order, never a customer.
    assert [tuple(r.values()) for r in _ask(stores, engine, "repeat")] == [
        ("app", 3, 3, 2, 66.67, 1, 1, 100.0),
        ("eleme", 2, 2, 1, 50.0, 1, 1, 100.0),
        ("meituan", 2, 2, 1, 50.0, 2, 1, 50.0),
        ("pos", 1, 0, 0, None, 0, 0, None),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_repeat_looks_only_inside_the_window(stores, engine):
    # On 11-22 alone app:3 has no earlier order in the window: not a repeat.
    assert [tuple(r.values()) for r in _ask(stores, engine, "repeat", date_from=_day("2026-11-22"))] == [
        ("app", 1, 1, 0, 0.0, 1, 0, 0.0),
    ]
    # On 11-21 (local) app:3 is out (its UTC date is 11-21, its business day 11-22).
    assert [
        tuple(r.values())
        for r in _ask(stores, engine, "repeat", date_from=_day("2026-11-21"), date_to=_day("2026-11-21"))
    ] == [
        ("eleme", 2, 2, 1, 50.0, 1, 1, 100.0),
        ("meituan", 1, 1, 0, 0.0, 1, 0, 0.0),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_cross_channel_customers(stores, engine):
    # m:138-1 ordered on app and meituan; the eleme customer and m:139-2 on one channel each.
    assert [tuple(r.values()) for r in _ask(stores, engine, "cross-channel")] == [
        ("app", 3, 1, 1, 100.0, 3),
        ("eleme", 2, 1, 0, 0.0, 0),
        ("meituan", 2, 2, 1, 50.0, 1),
        ("pos", 1, 0, 0, None, 0),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_merges(stores, engine):
    # In parcels: app:1, meituan:1 (G1, two channels), eleme:1, eleme:2 (G2), meituan:2 (G3), app:3 (G4).
    # app:2 (cancelled) and pos:1 (in store) never reach the merge. G1's two parcels count its orders once.
    assert [tuple(r.values()) for r in _ask(stores, engine, "merges")] == [
        ("app", 3, 2, 1, 50.0, 1, 1, 1),
        ("eleme", 2, 2, 2, 100.0, 1, 0, 0),
        ("meituan", 2, 2, 1, 50.0, 1, 1, 1),
        ("pos", 1, 0, 0, None, 0, 0, 0),
    ]
    by_store = [tuple(r.values()) for r in _ask(stores, engine, "merges", by="store")]
    assert by_store == [("S1", 5, 4, 2, 50.0, 1, 2, 1), ("S2", 3, 2, 2, 100.0, 1, 0, 0)]


@pytest.mark.parametrize("engine", ENGINES)
def test_readers_see_one_row_per_key(stores, engine):
    """The ClickHouse copies hold every row twice (ReplacingMergeTree, unmerged): FINAL must hide that."""
    assert sum(r["orders"] for r in _ask(stores, engine, "volume")) == len(ORDERS)


def test_an_empty_range_answers_no_rows(stores):
    for engine in ENGINES:
        assert _ask(stores, engine, "merges", date_from=_day("2027-01-01")) == []
