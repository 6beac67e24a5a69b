"""Each order's place among its customer's orders, kept in ClickHouse beside `order_customers`: `order_sequence`.

The customer questions ask, for a range of days, whether a customer ordered before within the range (repeat)
and on another channel within it (cross-channel). Answered from `order_customers` alone, that groups every
order of the range by customer and compares the customer's rows: 4-10 s at 10M orders with millions of
customers (bench/results/analytics.md). Both depend on the range only through its first and last day, so
they can be read off three dates stored per order:

- `prev_order_date`: the business day of the customer's previous order (by creation time, ties by order key);
  an order is a repeat within [from, to] exactly when this is on or after `from` (the previous order is then
  in the range: it is not after the order itself);
- `prev_other_channel_date` and `next_other_channel_date`: the business days of the customer's latest earlier
  and earliest later order on another channel. A customer ordered on two channels within [from, to] exactly
  when any one of their orders there has the first on or after `from` or the second on or before `to`: then
  every one of their orders there does (the other channel's order in the range is before or after it), so
  the customer's flag is read off each order, with no second pass over the customer's rows.

One row per order of `order_customers`, with its columns and these three (NULL without a customer or such an
order). It is derived inside ClickHouse from `order_customers` (no data leaves the server), by the sink after
each sync: the orders whose `order_customers` rows the sync wrote, and every order of their customers, old
and new (an order that changes customer changes both customers' sequences), are computed again; orders gone
from `order_customers` are retracted. A sync that compared every day of `order_customers` rebuilds it whole.
The windows sort their rows in memory, so more than `ROWS_PER_PASS` orders are computed in passes, each over
the customers of one hash bucket (a customer's orders all in one pass); the retractions likewise by order.
DuckDB computes the same in the question itself, over the range's orders
(history/analytics/questions.py): two computations of one definition, which the engines test compares.
"""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

from history.identity import NAME as ORDER_CUSTOMERS
from history.schema import DELETED, SPECS, VERSION, current_rows_sql

NAME = "order_sequence"
# The sink's watermark row holding the last sync whose order_customers rows were sequenced: a sync that
# failed before sequencing leaves its rows for the next.
MARK = "_sequenced:" + NAME
# Orders written in one sync above which the whole table is computed again: one pass over every order costs
# less than looking up that many orders' customers.
WHOLE_ABOVE = 200_000
# Orders one statement computes at most. The windows sort what they read in memory: a whole recompute of 10.7M
# orders in one statement peaked at 5.48 GiB, growing with history, and at 2.13 GiB in passes of this size
# (bench/order_sequence.py --passes; bench/results/scale.md, 2026-12-06 (late)).
ROWS_PER_PASS = 2_000_000
# Keys written in one sync up to which their customers' orders are taken to fit one pass, uncounted: counting
# them costs a scan of order_customers, which a micro-batch's sync should not pay.
KEYS_IN_ONE_PASS = 20_000
COLUMNS = (
    "order_key",
    "channel",
    "store_id",
    "created_at",
    "created_at_local",
    "business_date",
    "merge_group_id",
    "group_size",
    "customer_id",
)
_LIST = ", ".join(COLUMNS)
_SETTINGS = {
    "max_partitions_per_insert_block": 10_000,
    "do_not_merge_across_partitions_select_final": 1,
    # a micro-batch's keys and customers are a long query text (ClickHouse's default limit is 256 KiB)
    "max_query_size": 64 * 1024 * 1024,
}


DATES = ("prev_order_date", "prev_other_channel_date", "next_other_channel_date")
SORTING_KEY = "created_at, order_key"
# Each table's ClickHouse sorting key (order_customers': history/schema.py), which a filter must name to prune.
_SORTING_KEYS = {NAME: SORTING_KEY, ORDER_CUSTOMERS: ", ".join(SPECS[ORDER_CUSTOMERS].order_by)}


def ensure(client: Client) -> bool:
    """Create the table, shaped as order_customers' columns plus the dates; True when it was created. A table of
    another shape (an older release's) is dropped and created again: it is derived, computed whole again."""
    held = [
        row[0]
        for row in client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {n:String} "
            "ORDER BY position",
            parameters={"n": NAME},
        ).result_rows
    ]
    if held == [*COLUMNS, *DATES, VERSION, DELETED]:
        return False
    client.command(f"DROP TABLE IF EXISTS `{NAME}`")
    # Sorted by time first, as a range of days is what every question filters on; an order's key alone would
    # not prune. An order whose creation time changes leaves its old row under the old key: retracted below.
    client.command(
        f"CREATE TABLE IF NOT EXISTS `{NAME}` ENGINE = ReplacingMergeTree({VERSION}, {DELETED}) "
        f"PARTITION BY toYYYYMM(created_at) ORDER BY ({SORTING_KEY}) EMPTY AS "
        f"SELECT {_LIST}, {', '.join(f'CAST(NULL AS Nullable(Date32)) AS {name}' for name in DATES)}, "
        f"toUInt64(0) AS {VERSION}, toUInt8(0) AS {DELETED} FROM `{ORDER_CUSTOMERS}`"
    )
    return True


def _sequenced(scope: str, version: int) -> str:
    """The rows of `order_customers` in `scope` with their dates, as written at `version`. The scope must hold
    every order of each customer in it: the windows see only those.

    A customer's orders fall into runs of one channel; the latest earlier order on another channel is the one
    just before the run, and the earliest later one the one just after it, the same for every order of the
    run (the first run has none before it, the last none after)."""
    order = "ORDER BY created_at, order_key"
    run = f"PARTITION BY customer_id, run {order} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    return f"""SELECT
    {_LIST},
    if(customer_id IS NULL, NULL, prev_date) AS prev_order_date,
    if(customer_id IS NULL OR run = 1, NULL, first_value(prev_date) OVER ({run})) AS prev_other_channel_date,
    if(customer_id IS NULL OR run = runs, NULL, last_value(next_date) OVER ({run})) AS next_other_channel_date,
    toUInt64({version}) AS {VERSION},
    toUInt8(0) AS {DELETED}
FROM (
    SELECT *, max(run) OVER (PARTITION BY customer_id) AS runs
    FROM (
        SELECT *, sum(new_run) OVER (PARTITION BY customer_id {order} ROWS UNBOUNDED PRECEDING) AS run
        FROM (
            SELECT
                {_LIST},
                lagInFrame(toNullable(business_date)) OVER w AS prev_date,
                leadInFrame(toNullable(business_date)) OVER w AS next_date,
                toUInt32(row_number() OVER w = 1 OR channel != lagInFrame(channel) OVER w) AS new_run
            FROM {_current(ORDER_CUSTOMERS, scope)}
            WINDOW w AS (PARTITION BY customer_id {order} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        )
    )
)"""


def _tombstones(scope: str, version: int) -> str:
    """A deleting row for each order of ours in `scope` that order_customers no longer holds under the same
    sorting key (the order is gone, or its creation time changed and its new row sits under a new key)."""
    return f"""SELECT
    {", ".join(f"s.{c}" for c in COLUMNS)},
    {", ".join("CAST(NULL AS Nullable(Date32))" for _ in DATES)}, toUInt64({version}), toUInt8(1)
FROM (SELECT {_LIST} FROM {_current(NAME, scope)}) AS s
LEFT ANTI JOIN (SELECT created_at, order_key FROM {_current(ORDER_CUSTOMERS, scope)}) AS c
    USING (created_at, order_key)"""


def _current(table: str, scope: str) -> str:
    """The rows of `table` in `scope` as they are now, as a subquery: read without `FINAL`
    (schema.current_rows_sql; a customer is outside the sorting key). The whole table is read with FINAL, which
    merges it in parallel, partition by partition."""
    if scope == "1":
        return f"`{table}` FINAL"
    return f"({current_rows_sql(table, 'order_key', _SORTING_KEYS[table], scope)})"


def refresh(
    client: Client, version: int, since: int, *, whole: bool = False, rows_per_pass: int = ROWS_PER_PASS
) -> int:
    """Bring the table up to order_customers as the syncs after `since` (the last sync sequenced) and up to
    `version` left it; returns the rows written (retractions included). `whole`: compute every order again
    (after every day of order_customers was compared); so is a table just created."""
    whole = ensure(client) or whole
    keys: list[str] = []
    if not whole:
        keys = [
            row[0]
            for row in client.query(
                f"SELECT DISTINCT order_key FROM `{ORDER_CUSTOMERS}` WHERE {VERSION} > {{since:UInt64}}",
                parameters={"since": since},
            ).result_rows
        ]
        if not keys:
            return 0
        whole = len(keys) > WHOLE_ABOVE
    parameters: dict = {}
    scope = "1"
    if not whole:
        # Their customers as they are now and as last sequenced: both sequences change.
        parameters = {"keys": keys}
        # Every version's customers, not only the current ones (no FINAL, which would merge the whole tables
        # first): an order's older customer is one it left, whose sequence changes too or is computed again
        # to the same rows.
        customers = client.query(
            f"SELECT DISTINCT cityHash64(customer_id) FROM ("
            f"SELECT customer_id FROM `{ORDER_CUSTOMERS}` WHERE order_key IN {{keys:Array(String)}} "
            f"UNION ALL SELECT customer_id FROM `{NAME}` WHERE order_key IN {{keys:Array(String)}}) "
            f"WHERE customer_id IS NOT NULL",
            parameters=parameters,
            settings=_SETTINGS,
        ).result_rows
        parameters["customers"] = [row[0] for row in customers]
        scope = "(order_key IN {keys:Array(String)} OR cityHash64(customer_id) IN {customers:Array(UInt64)})"
    passes = 1
    if whole or len(keys) > KEYS_IN_ONE_PASS:
        passes = max(1, -(-_rows_in(client, scope, parameters) // rows_per_pass))
    # A retraction and a computed row never share a sorting key (a retraction is for a key order_customers no
    # longer holds), so the passes' order does not matter; the retractions' anti join matches by order, so
    # they go by order.
    for statement in [
        *(_tombstones(_bucket(scope, "order_key", passes, index), version) for index in range(passes)),
        *(
            _sequenced(_bucket(scope, "ifNull(customer_id, order_key)", passes, index), version)
            for index in range(passes)
        ),
    ]:
        client.command(f"INSERT INTO `{NAME}` {statement}", parameters=parameters or None, settings=_SETTINGS)
    return client.query(f"SELECT count() FROM `{NAME}` WHERE {VERSION} = {version}").result_rows[0][0]


def _rows_in(client: Client, scope: str, parameters: dict) -> int:
    """About how many orders `scope` holds (every version of them: an upper bound)."""
    where = "" if scope == "1" else f" WHERE {scope}"
    return client.query(
        f"SELECT count() FROM `{ORDER_CUSTOMERS}`{where}", parameters=parameters or None, settings=_SETTINGS
    ).result_rows[0][0]


def _bucket(scope: str, by: str, passes: int, index: int) -> str:
    """`scope` cut to pass `index` of `passes`, by a hash of `by`."""
    if passes <= 1:
        return scope
    return f"({scope}) AND cityHash64({by}) % {passes} = {index}"
