"""Scale a built warehouse's analytics tables up K times, in DuckDB and in ClickHouse alike, for bench/analytics.py.

Building 10M orders through the pipeline takes hours here; the analytics read three marts in DuckDB (fct_orders,
fct_parcels, fct_exceptions; order_customers is a view of the first two) and three tables in ClickHouse
(fct_orders, fct_exceptions and order_customers, the identity the sink stores), so this copies them K times,
each copy shifted by K x the source's span of days and its keys suffixed `#k` (order keys inside
`fct_parcels.order_keys` and merge group ids too), into a new DuckDB file (`--out`), and the ClickHouse tables
inside ClickHouse (`--clickhouse`, already holding the source through the sink: `bench/analytics.py --sync`)
with INSERT … SELECT, keeping the sink's table layout (partitions, sort key, versions). Customers keep their
ids, so they come back month after month (the fewest distinct customers the copies can have); with
`--fresh-customers` each copy has its own (the most: no customer comes back across copies), which brackets a
real month's millions of distinct customers from both sides. Timestamps the questions do not read (promised times, paid_at …) are
not shifted. bench/analytics.py's "same answer" column checks both stores got the same rows: DuckDB resolves
the scaled copies' identity from its scaled marts, ClickHouse holds the scaled copies of the resolved one.

    .venv/bin/python bench/analytics_scale.py --warehouse wh.duckdb --copies 17 --out big.duckdb \
        --clickhouse chdb:///tmp/ch
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from history import sequence  # noqa: E402
from history.analytics.dialects import DUCKDB_TABLES, TABLES  # noqa: E402
from history.client import connect  # noqa: E402
from history.identity import NAME as ORDER_CUSTOMERS  # noqa: E402
from history.schema import VERSION  # noqa: E402

# table -> (key columns to suffix, timestamp columns to shift, date columns to shift)
SHIFTS = {
    "fct_orders": (
        ("order_key", "channel_order_id"),
        ("created_at", "created_at_local", "dispatched_at"),
        ("business_date",),
    ),
    "fct_parcels": (("parcel_id", "merge_group_id"), ("group_first_at",), ("business_date",)),
    "fct_exceptions": (("exception_id", "order_key"), ("raised_at", "resolved_at"), ()),
    "order_customers": (
        ("order_key", "merge_group_id"),
        ("created_at", "created_at_local"),
        ("business_date",),
    ),
}


# table -> the columns a customer's identity is resolved from (history/identity.py), suffixed per copy with
# --fresh-customers; an empty one stays empty (it is no identity) and a NULL stays NULL.
CUSTOMER_COLUMNS = {
    "fct_orders": ("phone", "channel_user_id"),
    "fct_parcels": ("customer_id",),
    "order_customers": ("customer_id",),
}


def _duck_replace(table: str, days: int, fresh_customers: bool) -> str:
    keys, stamps, dates = SHIFTS[table]
    parts = [f"{c} || '#' || k as {c}" for c in keys]
    if fresh_customers:
        parts += [
            f"case when {c} <> '' then {c} || '#' || k else {c} end as {c}" for c in CUSTOMER_COLUMNS.get(table, ())
        ]
    parts += [f"{c} + to_days(cast(k * {days} as integer)) as {c}" for c in stamps]
    parts += [f"cast({c} + to_days(cast(k * {days} as integer)) as date) as {c}" for c in dates]
    if table == "fct_parcels":
        parts.append("replace(order_keys, ',', '#' || k || ',') || '#' || k as order_keys")
    return ", ".join(parts)


def _ch_replace(table: str, days: int, fresh_customers: bool, held_columns: set[str]) -> str:
    keys, stamps, dates = SHIFTS[table]
    parts = [f"concat({c}, '#', toString(k)) AS {c}" for c in keys]
    if fresh_customers:
        parts += [
            f"if({c} <> '', concat({c}, '#', toString(k)), {c}) AS {c}"
            for c in CUSTOMER_COLUMNS.get(table, ())
            if c in held_columns
        ]
    parts += [f"{c} + toIntervalDay(k * {days}) AS {c}" for c in (*stamps, *dates)]
    if table == "fct_parcels":
        parts.append(
            "concat(replaceAll(order_keys, ',', concat('#', toString(k), ',')), '#', toString(k)) AS order_keys"
        )
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="the built source warehouse")
    parser.add_argument("--copies", type=int, required=True, help="K: copies after the original (K+1 in all)")
    parser.add_argument("--out", type=Path, required=True, help="new DuckDB file with the scaled marts")
    parser.add_argument("--clickhouse", required=True, help="DSN of the store holding the source's marts")
    parser.add_argument(
        "--fresh-customers", action="store_true", help="each copy its own customers (default: the source's come back)"
    )
    args = parser.parse_args()
    if args.out.exists():
        parser.error(f"{args.out} exists: give a new file")

    out = duckdb.connect(str(args.out))
    out.execute(f"attach '{args.warehouse}' as src (read_only)")
    first, last = out.execute("select min(business_date), max(business_date) from src.marts.fct_orders").fetchone()
    days = (last - first).days + 1
    out.execute("create schema marts")
    client = connect(args.clickhouse)
    for table in DUCKDB_TABLES:
        start = time.perf_counter()
        out.execute(f"create table marts.{table} as select * from src.marts.{table}")
        # One statement per table and engine (copy number k from a range), so each engine runs it in parallel.
        out.execute(
            f"insert into marts.{table} select * exclude (k) replace ({_duck_replace(table, days, args.fresh_customers)}) "
            f"from src.marts.{table}, range(1, {args.copies + 1}) as copies(k)"
        )
        rows = out.execute(f"select count(*) from marts.{table}").fetchone()[0]
        print(f"DuckDB {table}: {rows:,} rows in {time.perf_counter() - start:.1f} s", flush=True)
    held = {
        row[0] for row in client.query("SELECT name FROM system.tables WHERE database = currentDatabase()").result_rows
    }
    missing = [table for table in TABLES if table not in held and table != sequence.NAME]
    if missing:
        parser.error(f"ClickHouse holds no {', '.join(missing)}: write the source there first (analytics.py --sync)")
    # fct_parcels too when the store has it (the questions no longer read it there; kept for older readers).
    for table in [table for table in SHIFTS if table in held]:
        start = time.perf_counter()
        # Copies of the original only (the source as the sink wrote it, keys without '#'), one row per key. The
        # filter sits in a subquery: ClickHouse lets WHERE see the SELECT's aliases, the suffixed keys here.
        # A NULL merge group stays NULL (concat of a NULL is NULL), as in DuckDB.
        key = SHIFTS[table][0][0]
        columns = {
            row[0]
            for row in client.query(
                f"SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '{table}'"
            ).result_rows
        }
        replaced = _ch_replace(table, days, args.fresh_customers, columns)
        client.command(
            f"INSERT INTO {table} SELECT * EXCEPT (k) REPLACE ({replaced}) "
            f"FROM (SELECT * FROM {table} FINAL WHERE position({key}, '#') = 0) AS src "
            f"CROSS JOIN (SELECT number AS k FROM numbers(1, {args.copies})) AS copies",
            settings={"max_partitions_per_insert_block": 10000},
        )
        rows = client.query(f"SELECT count() FROM {table} FINAL").result_rows[0][0]
        print(f"ClickHouse {table}: {rows:,} rows in {time.perf_counter() - start:.1f} s", flush=True)
    # Each order's place among its customer's orders is derived, not copied: computed again over the scaled
    # identity, as the sink does after a sync that compared every day (its cost is printed: a nightly one).
    start = time.perf_counter()
    version = client.query(f"SELECT max({VERSION}) FROM {ORDER_CUSTOMERS}").result_rows[0][0]
    client.command(f"DROP TABLE IF EXISTS {sequence.NAME}")
    sequence.refresh(client, version, since=0, whole=True)
    rows = client.query(f"SELECT count() FROM {sequence.NAME} FINAL").result_rows[0][0]
    print(f"ClickHouse {sequence.NAME}: {rows:,} rows computed in {time.perf_counter() - start:.1f} s", flush=True)
    out.execute("detach src")
    out.close()
    client.close()


if __name__ == "__main__":
    main()
