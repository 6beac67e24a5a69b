"""Where DuckDB and ClickHouse SQL differ for the analytics questions, side by side.

Every question is written once (history/analytics/questions.py) with a few placeholders; a Dialect fills
them. Everything not listed here is SQL both engines read the same way (`count(*) filter (where …)`,
`any_value`, window functions, `cast(… as date)`, `nullif`, `||`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from history.identity import NAME as ORDER_CUSTOMERS
from history.identity import order_customers_sql
from history.sequence import NAME as ORDER_SEQUENCE

# The tables the questions read, by their shared name (the same on both engines). order_customers is stored in
# ClickHouse by the sink; in DuckDB it is its definition (history/identity.py) over the marts it is made of.
TABLES = ("fct_orders", "fct_exceptions", ORDER_CUSTOMERS, ORDER_SEQUENCE)
# What DuckDB must hold for them.
DUCKDB_TABLES = ("fct_orders", "fct_parcels", "fct_exceptions")


@dataclass(frozen=True)
class Dialect:
    name: str
    # table name -> its qualified name
    tables: dict[str, str]
    # the local hour (0-23) of a local wall-clock timestamp column
    local_hour: Callable[[str], str]
    # what a key is compared as in a semi-join prefilter: the key itself, or (ClickHouse) a 64-bit hash of it,
    # which its IN sets build and probe faster than text; the join after the prefilter compares the keys
    key_hash: Callable[[str], str] = lambda column: column
    # order_customers' FROM text for a filter on the parcels (DuckDB: its definition, reading only the parcels
    # that can hold the range's orders); None: a stored table like the others (ClickHouse)
    identity: Callable[[str], str] | None = None
    # Each order's customer's previous order, and latest earlier and earliest later order on another channel, as
    # business days (history/sequence.py), over `o`: ClickHouse stores them over all history; DuckDB computes
    # them in the question over the range's orders only (an earlier order outside the range does not count,
    # and one inside gives a day within the range either way). DuckDB's two channel days are both the order's
    # own day when its customer ordered on two channels in the range: the same customers come out as
    # multi-channel.
    prev_order_date: str = "o.prev_order_date"
    prev_other_channel_date: str = "o.prev_other_channel_date"
    next_other_channel_date: str = "o.next_other_channel_date"
    # appended to every query
    suffix: str = ""
    # the tables read with FINAL (ClickHouse's ReplacingMergeTree: one row per key)
    final: frozenset[str] = frozenset()

    def table(self, name: str, alias: str, parcels_where: str = "true") -> str:
        """What follows FROM: ClickHouse wants the alias before FINAL (`t AS o FINAL`)."""
        if name in (ORDER_CUSTOMERS, ORDER_SEQUENCE) and self.identity is not None:
            return f"{self.identity(parcels_where)} as {alias}"
        return f"{self.tables[name]} as {alias}" + (" FINAL" if name in self.final else "")


_CUSTOMER_ORDERS = "partition by o.customer_id order by o.created_at, o.order_key"
_DAY_IF_MULTI_CHANNEL = (
    "case when min(o.channel) over (partition by o.customer_id) "
    "<> max(o.channel) over (partition by o.customer_id) then o.business_date end"
)


def duckdb_dialect(schema: str = "marts") -> Dialect:
    return Dialect(
        name="duckdb",
        tables={name: f"{schema}.{name}" for name in DUCKDB_TABLES},
        identity=lambda parcels_where: f"({order_customers_sql(schema, parcels_where)})",
        local_hour=lambda column: f"hour({column})",
        prev_order_date=f"lag(o.business_date) over ({_CUSTOMER_ORDERS})",
        prev_other_channel_date=_DAY_IF_MULTI_CHANNEL,
        next_other_channel_date=_DAY_IF_MULTI_CHANNEL,
    )


def clickhouse_dialect(database: str, replacing: set[str]) -> Dialect:
    """`replacing`: the tables that are ReplacingMergeTree (read with FINAL, one row per key)."""
    return Dialect(
        name="clickhouse",
        tables={name: f"{database}.{name}" for name in TABLES},
        final=frozenset(replacing),
        # created_at_local holds local wall-clock digits; read them in UTC so the server's own time zone
        # (Asia/Shanghai on a production server) is not applied a second time.
        local_hour=lambda column: f"toHour({column}, 'UTC')",
        key_hash=lambda column: f"cityHash64({column})",
        # join_use_nulls: an outer join's missing side reads as NULL, as in DuckDB, not as the type's default
        # ('' / 0). do_not_merge_across_partitions_select_final: FINAL collapses each partition on its own, in
        # parallel (a third less wall time for the identity join at 600k orders). Correct because a key never
        # has live rows in two partitions: the sink retracts a row in its old partition when its partition
        # column changes (history/sink.py).
        suffix=" SETTINGS join_use_nulls = 1, do_not_merge_across_partitions_select_final = 1",
    )
