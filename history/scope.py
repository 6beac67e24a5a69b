"""Which days of a mart a sync compares with ClickHouse: the days the new batches can have changed.

A micro-batch changes the marts' rows of the orders it touched (every version of them: an order re-pushed into
another day leaves the old day changed too), on the days of those orders and of all their status events (a new
event changes the time spent in the status before it), and the rows the run's clock moves (late risk: the newest
days). Each such day is taken with the day before and after:
the marts' business days are Shanghai days, their times UTC, and a merge group or a promise may cross midnight.
Anything else (a full rebuild, a hand edit, a change of rules) is found by comparing every day, which the sink
does on the first sync of a mart, after its shape changed, and when asked (the nightly full rebuild).

Not covered until then: the merge chain rebuilds a door whole, so a batch can change an older order's parcel or
customer at a door one of its orders is at (a number it reveals makes an earlier masked one ambiguous), on a day
none of its orders is of. At 10M orders that left 40 customers and 122 parcels stale in ClickHouse after four
days of batches. Comparing every day of those doors' orders costs about 40 s a batch there; the rows at those
doors are compared by door instead, hourly (history/doors.py; docs/decisions.md, "The merge marts' older days
in ClickHouse …").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa

# The newest days of a mart, always compared: what the clock changes without a batch.
NEWEST_DAYS = 2


def touched_days(duck: duckdb.DuckDBPyConnection, batches: Sequence[tuple[datetime, str]]) -> set[date]:
    """The days of the orders the batches touched (every version's creation, every status event: a new event
    changes the row of the status before it too, whatever its day), each ±1 day."""
    rows = _of_touched_orders(
        duck,
        batches,
        """
        SELECT DISTINCT CAST(created_at AS DATE) FROM raw.order_history
        WHERE order_key IN (SELECT order_key FROM touched) AND created_at IS NOT NULL
        UNION SELECT DISTINCT CAST(event_time AS DATE) FROM raw.order_events
        WHERE order_key IN (SELECT order_key FROM touched) AND event_time IS NOT NULL
        """,
    )
    return {day + timedelta(days=shift) for (day,) in rows for shift in (-1, 0, 1)}


def touched_doors(duck: duckdb.DuckDBPyConnection, batches: Sequence[tuple[datetime, str]]) -> list[str]:
    """The doors (address keys) of every version of the orders the batches touched, for history/doors.py."""
    rows = _of_touched_orders(
        duck,
        batches,
        """
        SELECT DISTINCT address_key FROM raw.order_history
        WHERE order_key IN (SELECT order_key FROM touched) AND address_key IS NOT NULL
        ORDER BY 1
        """,
    )
    return [door for (door,) in rows]


def _of_touched_orders(duck: duckdb.DuckDBPyConnection, batches: Sequence[tuple[datetime, str]], select: str) -> list:
    """`select`'s rows, where `touched` is the orders the batches wrote a version or a status event of."""
    if not batches:
        return []
    duck.register("_scope_batches", pa.table({"batch_id": [batch for _, batch in batches]}))
    try:
        return duck.execute(
            f"""
            WITH batch AS (SELECT batch_id FROM _scope_batches),
            touched AS (
                SELECT order_key FROM raw.order_history WHERE batch_id IN (SELECT batch_id FROM batch)
                UNION SELECT order_key FROM raw.order_events WHERE batch_id IN (SELECT batch_id FROM batch)
            )
            {select}
            """
        ).fetchall()
    finally:
        duck.unregister("_scope_batches")


def newest_days(newest: date | None) -> set[date]:
    if newest is None:
        return set()
    return {newest - timedelta(days=n) for n in range(NEWEST_DAYS)}
