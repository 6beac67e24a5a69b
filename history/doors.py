"""The merge marts' rows at the doors a batch touched, whatever their day: what the day scope misses.

The merge chain rebuilds a door (an address) whole: a new order there can change an older order's parcel or
customer (a number it reveals makes an earlier masked one ambiguous; a cancellation reopens a group), on days
none of the batch's orders is of, so the days history/scope.py names miss them. Comparing every day those
doors' orders are on reads whole days (about 40 s a batch at 10M orders: docs/decisions.md, "The merge marts'
older days in ClickHouse …"); these rows are few. So after the day compare, the sink compares, for the marts
partitioned by door in the warehouse, the rows at the touched doors on the other days, in DuckDB and in
ClickHouse alike, by a column both hold: the parcels and their items by their door (`address_key`), each
order's customer by its key (the orders now at those doors; an order that left a door is one the batch
changed, whose days the day compare covers).

The doors are those of every version of the orders the batches touched (`scope.touched_doors`; new versions and new events: a
cancellation changes its door's groups too). A compare reads those marts' door columns whole in both engines
(seconds at millions of orders), so the sink runs it at most once an hour (`sink.DOORS_EVERY`) over the doors of
every batch since the last one: those rows' older days lag ClickHouse by up to that, not by up to a day.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from history import identity
from ingestion.warehouse import sql_string_list

# Doors above which a compare is left to the every-day compare after the nightly build: the lists are literal.
MOST = 20_000
# Values (doors, or the orders at them) read per pass: each pass scans the marts' door columns once.
PER_PASS = 100_000
# mart -> the column its rows are read by at the touched doors, in DuckDB and in ClickHouse
DOOR_COLUMNS = {"fct_parcels": "address_key", "fct_parcel_items": "address_key", identity.NAME: "order_key"}


def scope_values(duck: duckdb.DuckDBPyConnection, mart: str, doors: Sequence[str]) -> tuple[str, list[str]]:
    """(column, values): the mart's rows at `doors` are those whose column is one of the values."""
    column = DOOR_COLUMNS[mart]
    if column == "address_key":
        return column, list(doors)
    keys = duck.execute(
        "SELECT order_key FROM marts.fct_orders WHERE address_key IN (SELECT unnest($doors)) ORDER BY 1",
        {"doors": list(doors)},
    ).fetchall()
    return column, [key for (key,) in keys]


def order_customers_at_doors(doors: Sequence[str]) -> str:
    """`order_customers` reading only the parcels at `doors` (a parcel lies at its merge group's door, which is
    each of its orders'): right for the orders at those doors, which the caller keeps."""
    return identity.order_customers_sql("marts", parcels_where=f"address_key IN ({sql_string_list(doors)})")
