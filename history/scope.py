"""Which days of a mart a sync compares with ClickHouse: the days the new batches can have changed.

A micro-batch changes the marts' rows of the orders it touched (every version of them: an order re-pushed into
another day leaves the old day changed too), on the days of those orders and of all their status events (a new
event changes the time spent in the status before it), and the rows the run's clock moves (late risk: the newest
days). The marts made from every order at a door (the merge chain's: `TableSpec.by_door`) change on the days of
every order at the doors those orders were at, too. Each such day is taken with the day before and after:
the marts' business days are Shanghai days, their times UTC, and a merge group or a promise may cross midnight.
Anything else (a full rebuild, a hand edit, a change of rules) is found by comparing every day, which the sink
does on the first sync of a mart, after its shape changed, and when asked (the nightly full rebuild).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa

# The newest days of a mart, always compared: what the clock changes without a batch.
NEWEST_DAYS = 2


_TOUCHED_ORDERS = """
    touched AS (
        SELECT order_key FROM raw.order_history WHERE batch_id IN (SELECT batch_id FROM _scope_batches)
        UNION SELECT order_key FROM raw.order_events WHERE batch_id IN (SELECT batch_id FROM _scope_batches)
    )"""

# The days of the touched orders: every version's creation, every status event (a new event changes the row of
# the status before it too, whatever its day).
_ORDER_DAYS = f"""
    WITH {_TOUCHED_ORDERS}
    SELECT DISTINCT CAST(created_at AS DATE) FROM raw.order_history
    WHERE order_key IN (SELECT order_key FROM touched) AND created_at IS NOT NULL
    UNION SELECT DISTINCT CAST(event_time AS DATE) FROM raw.order_events
    WHERE order_key IN (SELECT order_key FROM touched) AND event_time IS NOT NULL
"""

# The days of every order ever at a door a touched order was ever at: the merge chain rebuilds a door whole
# (dbt_project/macros/incremental.sql), so a new order there can change an older order's parcel or customer (a
# number it reveals makes an earlier masked one ambiguous; a cancellation leaves a group), on the older day.
_DOOR_DAYS = f"""
    WITH {_TOUCHED_ORDERS},
    doors AS (
        SELECT DISTINCT address_key FROM raw.order_history
        WHERE order_key IN (SELECT order_key FROM touched) AND address_key IS NOT NULL
    )
    SELECT DISTINCT CAST(created_at AS DATE) FROM raw.order_history
    WHERE address_key IN (SELECT address_key FROM doors) AND created_at IS NOT NULL
"""


def touched_days(
    duck: duckdb.DuckDBPyConnection, batches: Sequence[tuple[datetime, str]], by_door: bool = False
) -> set[date]:
    """The days of the orders the batches touched (`by_door`: and of every order at their doors), each ±1 day."""
    if not batches:
        return set()
    duck.register("_scope_batches", pa.table({"batch_id": [batch for _, batch in batches]}))
    try:
        rows = duck.execute(_ORDER_DAYS).fetchall()
        if by_door:
            rows += duck.execute(_DOOR_DAYS).fetchall()
    finally:
        duck.unregister("_scope_batches")
    return {day + timedelta(days=shift) for (day,) in rows for shift in (-1, 0, 1)}


def newest_days(newest: date | None) -> set[date]:
    if newest is None:
        return set()
    return {newest - timedelta(days=n) for n in range(NEWEST_DAYS)}
