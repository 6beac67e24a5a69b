"""Reading the serving snapshot: what every page's queries share.

The serving snapshot is a DuckDB file that the pipeline publishes atomically (temporary file, then
``os.replace``). :func:`read` opens it read-only, runs one page's fetcher on that one short-lived connection (so
every tile and table on a page comes from the same published snapshot) and closes it again. No Streamlit here:
caching lives in :mod:`dashboards.snapshot`.

Marts that other parts of the pipeline build later (reconciliation runs daily, dispatch only once it has
planned) may be absent from a snapshot: each fetcher first asks which of its tables exist
(:func:`tables_present`) and returns what is missing instead of failing, so the page can say "no data yet".

Times in the snapshot are naive. Columns named ``*_local`` are Asia/Shanghai wall time; all others are UTC.
Asia/Shanghai has been UTC+8 all year round since 1991, so a fixed offset (:data:`TO_LOCAL`) converts exactly,
without needing DuckDB's ICU time-zone extension.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from dashboards.queries import clickhouse
from dashboards.queries.clickhouse import ClickHouseStore

T = TypeVar("T")

# Where the pages read: the snapshot file, or its copy in ClickHouse when ORDERHUB_CLICKHOUSE_DSN is set.
Source = Path | ClickHouseStore

Row = dict[str, Any]

# The six sales channels, in the order the dashboards list them. Channels found in the data but not listed
# here are shown after these.
KNOWN_CHANNELS: tuple[str, ...] = ("app", "miniprogram", "meituan", "eleme", "pos", "groupbuy")

# UTC -> Asia/Shanghai wall time (see the module docstring): the dashboards' one statement of the time zone,
# in Python and in SQL. tests/test_vocabulary.py holds it to the contract's LOCAL_TIMEZONE.
LOCAL_OFFSET = timedelta(hours=8)
TO_LOCAL = f"INTERVAL {LOCAL_OFFSET.seconds // 3600} HOUR"

LIST_LIMIT = 200  # rows in the long lists (exceptions, oversells, variance lines): bounded, newest or largest first
TREND_DAYS = 14  # days in the trend charts (parcels, reconciliation)

SNAPSHOT_TABLES = """
SELECT table_name
FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main'
"""

# SELECT *: snapshots published before the run's clock and status columns existed lack them (read as None).
SNAPSHOT_META = """
SELECT *
FROM snapshot_meta
ORDER BY published_at DESC NULLS LAST
LIMIT 1
"""

STALE_PARTS = """
SELECT part, as_of, run_id, problem FROM serving_status WHERE is_stale ORDER BY part
"""

# Stores: one row per store (reference loads may repeat a store on every day they land). Both maps (live,
# dispatch) draw them.
STORE_LOCATIONS = """
SELECT store_id, any_value(name) AS name, avg(lat) AS lat, avg(lng) AS lng
FROM stores
WHERE lat IS NOT NULL AND lng IS NOT NULL
GROUP BY store_id
ORDER BY store_id
"""


@dataclass(frozen=True)
class StalePart:
    """A part of the snapshot (marts, dispatch) the run it was published for did not refresh (times UTC)."""

    part: str
    as_of: datetime | None
    run_id: str | None
    problem: str | None


@dataclass(frozen=True)
class SnapshotMeta:
    """The snapshot's own row in ``snapshot_meta`` (times are UTC); ``as_of`` is the run's clock, the "now" its
    late risk and dispatch were judged at; ``stale_parts`` what a failed step left as of an earlier run."""

    published_at: datetime | None
    latest_order_at: datetime | None
    run_id: str | None
    as_of: datetime | None = None
    stale_parts: tuple[StalePart, ...] = ()
    run_problems: str | None = None  # what failed in the run it was published for, even with nothing stale

    @property
    def now(self) -> datetime | None:
        return self.as_of or self.latest_order_at


# DuckDB keeps one database instance per file path per process and hands it to every new connection while
# any connection to that path is still open. A reader that connects while another session's read is in
# flight would therefore see the *previous* snapshot even after os.replace published a new one (and cache it
# under the new file's key). Serialising the short reads makes every connection open the file that is
# published at that moment.
_READ_LOCK = threading.Lock()


def read(source: Source, fetch: Callable[..., T], **params: Any) -> T:
    """Run ``fetch(con, **params)`` on the snapshot at ``source`` (opened read-only, then closed) or, for a
    ClickHouse store, on its current version (dashboards/queries/clickhouse.py)."""
    if isinstance(source, ClickHouseStore):
        return clickhouse.read(source, fetch, **params)
    return _read_file(source, fetch, **params)


def _read_file(path: Path, fetch: Callable[..., T], **params: Any) -> T:
    with _READ_LOCK:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return fetch(con, **params)
        finally:
            con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> tuple[Row, ...]:
    """The result of ``sql`` as dicts keyed by column name (money stays ``Decimal``)."""
    cursor = con.execute(sql, dict(params) if params else None)
    names = [column[0] for column in cursor.description]
    return tuple(dict(zip(names, values, strict=True)) for values in cursor.fetchall())


def tables_present(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r["table_name"] for r in rows(con, SNAPSHOT_TABLES)}


def missing_from(present: set[str], required: tuple[str, ...]) -> tuple[str, ...]:
    """The ``required`` tables the snapshot does not have, in the order given."""
    return tuple(table for table in required if table not in present)


def page_state(
    con: duckdb.DuckDBPyConnection, required: tuple[str, ...]
) -> tuple[set[str], SnapshotMeta | None, tuple[str, ...]]:
    """What every page's fetcher asks first: the tables the snapshot has, its ``snapshot_meta`` row, and which of
    the page's ``required`` tables it lacks (the page then says "no data yet" instead of querying)."""
    present = tables_present(con)
    return present, snapshot_meta(con, present), missing_from(present, required)


def snapshot_meta(con: duckdb.DuckDBPyConnection, present: set[str]) -> SnapshotMeta | None:
    """The snapshot's own row with the parts it holds stale; None for a snapshot without one."""
    if "snapshot_meta" not in present:
        return None
    found = rows(con, SNAPSHOT_META)
    if not found:
        return None
    stale = tuple(StalePart(**r) for r in rows(con, STALE_PARTS)) if "serving_status" in present else ()
    row = found[0]
    return SnapshotMeta(
        row.get("published_at"),
        row.get("latest_order_at"),
        row.get("run_id"),
        row.get("as_of"),
        stale,
        row.get("run_problems"),
    )
