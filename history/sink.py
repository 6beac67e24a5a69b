"""Copy what the DuckDB warehouse has and ClickHouse does not yet: `sync(duck, client)`.

Every row a sync writes carries the sync's number as `_version`, so a later sync's copy of a row replaces an
earlier one, and a sync that repeats an earlier one's work (a failed run's batches, a replayed batch) writes
rows identical but for their version: one row per key after `FINAL`. Rows the warehouse no longer has are
retracted by writing their sorting key with `_deleted = 1` (history/schema.py).

- The raw order tables by batch: the batches of `raw.ingest_batches` past a watermark kept in ClickHouse per
  table, which advances only after the batches' rows are in. An order re-pushed since it was copied has its
  old lines and, should its store or creation time have changed, its old row retracted.
- The marts by day: per mart and business day (the partition column's date) a fingerprint of its rows
  (count and a sum of row hashes) is kept in ClickHouse; of the days the new batches can have changed
  (history/scope.py; every day after a full rebuild or when the mart is new), those whose fingerprint differs
  from the warehouse's are compared row by row: the rows ClickHouse does not hold as they are (by sorting key
  and the row's hash, kept in `_row_hash`) are written, and what ClickHouse holds for those days that the
  warehouse no longer does is retracted. A micro-batch's changes to a day of 300k orders write its rows, not the
  day's. An aggregate's day is written in one INSERT with its retractions, so a reader never sees it
  half-written.

Rows are read from DuckDB as Arrow record batches of at most `chunk_rows` rows and inserted one batch at a
time: a replay of a million orders never holds all of them in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from history import doors, identity, schema, scope, sequence
from history.schema import DELETED, MARTS, RAW, ROW_HASH, VERSION, Column, TableSpec
from ingestion.warehouse import ADDRESS_REKEYS, has_table, sql_string_list

CHUNK_ROWS = 100_000
# Keys asked of ClickHouse per query when looking for rows to retract, and days rewritten per pass.
KEYS_PER_LOOKUP = 5_000
DAYS_PER_PASS = 7
# A list of a few thousand keys is a long query: ClickHouse's default limit on a query's text is 256 KiB.
LOOKUP_SETTINGS = {"max_query_size": 64 * 1024 * 1024}

SYNCS = "_syncs"
WATERMARKS = "_sync_watermarks"
BUCKETS = "_sync_buckets"
# The watermark row that holds the label of the marts' full build every day was last compared after.
MARTS_BUILD = "_marts_build"
# Watermark rows (prefix + mart) holding the shape every day of the mart was last compared under.
_SHAPE = "_shape:"
# The merge marts' rows at the doors of the batches since the last door compare (history/doors.py) are compared
# at most this often: a compare scans those marts' door columns in both engines (about 4 s at 2M orders), so
# one micro-batch an hour pays it rather than every one; between compares those rows' older days lag.
DOORS_EVERY = timedelta(hours=1)
# Watermark rows (prefix + mart): the last batch whose doors were compared, and when (its finished_at).
_DOORS = "_doors:"
_DOORS_AT = "_doors_at:"
# Watermark rows (prefix + raw table): the newest edition of the address rules whose re-keyed orders are in.
_REKEYED = "_rekeyed:"
BOOKKEEPING_DDL = (
    f"""CREATE TABLE IF NOT EXISTS `{SYNCS}` (
  version UInt64, started_at DateTime64(6, 'UTC'), finished_at Nullable(DateTime64(6, 'UTC')),
  batches UInt64, rows Map(String, UInt64)
) ENGINE = ReplacingMergeTree ORDER BY version""",
    f"""CREATE TABLE IF NOT EXISTS `{WATERMARKS}` (
  table String, finished_at DateTime64(6, 'UTC'), batch_id String, {VERSION} UInt64
) ENGINE = ReplacingMergeTree({VERSION}) ORDER BY table""",
    f"""CREATE TABLE IF NOT EXISTS `{BUCKETS}` (
  table String, bucket Date32, rows UInt64, fingerprint String, {VERSION} UInt64, {DELETED} UInt8
) ENGINE = ReplacingMergeTree({VERSION}, {DELETED}) ORDER BY (table, bucket)""",
)
_EPOCH = datetime(1970, 1, 1)


def sync(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    *,
    tables: Iterable[str] | None = None,
    every_day: bool = False,
    marts_build: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    doors_every: timedelta = DOORS_EVERY,
) -> dict[str, int]:
    """Write to ClickHouse what the warehouse has that it does not; returns rows written per table
    (retractions included). Safe to repeat, and to run after a sync that failed half-way. `tables` limits it
    to some of the tables (default: every table of history/schema.py). A mart's days are compared where the
    new batches can have changed it (history/scope.py), or all of them: with `every_day`, and when
    `marts_build` (a label of the marts' last full build) differs from the one the last sync was given."""
    wanted = set(schema.SPECS) if tables is None else set(tables)
    unknown = wanted - set(schema.SPECS)
    if unknown:
        raise ValueError(f"no ClickHouse table {', '.join(sorted(unknown))}; known: {', '.join(schema.SPECS)}")
    raw = [spec for spec in RAW if spec.name in wanted]
    marts = [spec for spec in MARTS if spec.name in wanted]
    for statement in BOOKKEEPING_DDL:
        client.command(statement)
    version = _start(client)
    written: dict[str, int] = {}
    batches_done = 0
    columns = {spec.name: schema.source_columns(duck, spec) for spec in (*raw, *marts)}
    for spec in raw:
        change = schema.migrate(client, spec, columns[spec.name])
        if change and change != "created":
            # Rows already copied lack the new columns: copy the table again from its first batch.
            _advance(client, spec.name, (_EPOCH, ""), version)
    if marts_build is not None and watermark(client, MARTS_BUILD)[1] != marts_build:
        every_day = True
    every_day_of = set()
    for spec in marts:
        schema.migrate(client, spec, columns[spec.name])
        # A mart new to ClickHouse, or whose shape changed since its days were last all compared (a column
        # added, and maybe a sync that failed before it got through them): every day. Kept in ClickHouse, not
        # taken from what migrate did, so a failed sync leaves it for the next.
        if every_day or watermark(client, _SHAPE + spec.name)[1] != schema.signature(spec, columns[spec.name]):
            every_day_of.add(spec.name)
    for spec in raw:
        batches = new_batches(duck, client, spec.name)
        written[spec.name] = _sync_raw(duck, client, spec, columns[spec.name], batches, version, chunk_rows)
        if batches:
            _advance(client, spec.name, batches[-1], version)
        batches_done = max(batches_done, len(batches))
        written[spec.name] += _sync_rekeyed(duck, client, spec, columns[spec.name], version, chunk_rows)
    touched: dict[tuple[str, ...], set[date]] = {}  # the marts share their batches: their orders' days once
    at_doors: dict[tuple[str, ...], list[str]] = {}  # and their doors
    for spec in marts:
        batches = new_batches(duck, client, spec.name)
        days = None if spec.name in every_day_of else _mart_days(duck, spec, columns[spec.name], batches, touched)
        written[spec.name] = _sync_mart(duck, client, spec, columns[spec.name], version, chunk_rows, days)
        if spec.name in doors.DOOR_COLUMNS:
            written[spec.name] += _compare_doors_when_due(
                duck, client, spec, columns[spec.name], version, chunk_rows, days, doors_every, at_doors
            )
        if batches:
            _advance(client, spec.name, batches[-1], version)
        if days is None:
            _advance(client, _SHAPE + spec.name, (_EPOCH, schema.signature(spec, columns[spec.name])), version)
    if identity.NAME in wanted:
        since = int(watermark(client, sequence.MARK)[1] or 0)
        whole = identity.NAME in every_day_of
        written[sequence.NAME] = sequence.refresh(client, version, since, whole=whole)
        _advance(client, sequence.MARK, (_EPOCH, str(version)), version)
    if marts and marts_build is not None:
        _advance(client, MARTS_BUILD, (_EPOCH, marts_build), version)
    _finish(client, version, batches_done, written)
    return written


# --- the sync's number and its record --------------------------------------------------------------------


def _start(client: Client) -> int:
    latest = client.query(f"SELECT max(version) FROM `{SYNCS}`").result_rows[0][0] or 0
    version = int(latest) + 1
    # Recorded before anything is written, so a sync that fails half-way never gives its number to the next.
    client.insert(
        SYNCS,
        [[version, _utcnow(), None, 0, {}]],
        column_names=["version", "started_at", "finished_at", "batches", "rows"],
    )
    return version


def _finish(client: Client, version: int, batches: int, written: dict[str, int]) -> None:
    started = client.query(f"SELECT started_at FROM `{SYNCS}` FINAL WHERE version = {version}").result_rows[0][0]
    client.insert(
        SYNCS,
        [[version, started, _utcnow(), batches, written]],
        column_names=["version", "started_at", "finished_at", "batches", "rows"],
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- raw tables by batch ---------------------------------------------------------------------------------


def watermark(client: Client, table: str) -> tuple[datetime, str]:
    """(finished_at, batch_id) of the last batch copied into `table`; the epoch when none was."""
    rows = client.query(
        f"SELECT finished_at, batch_id FROM `{WATERMARKS}` FINAL WHERE table = {{t:String}}", parameters={"t": table}
    ).result_rows
    if not rows:
        return _EPOCH, ""
    finished, batch = rows[0]
    return finished.replace(tzinfo=None), batch


def new_batches(duck: duckdb.DuckDBPyConnection, client: Client, table: str) -> list[tuple[datetime, str]]:
    """The warehouse's batches past `table`'s watermark, oldest first, as (finished_at, batch_id)."""
    mark = watermark(client, table)
    rows = duck.execute(
        "SELECT max(finished_at) AS finished_at, batch_id FROM raw.ingest_batches GROUP BY batch_id ORDER BY 1, 2"
    ).fetchall()
    return [(finished, batch) for finished, batch in rows if (finished, batch) > mark]


def _advance(client: Client, table: str, last: tuple[datetime, str], version: int) -> None:
    # The warehouse's times are naive UTC; handed over naive, a client could read them in the host's zone.
    finished = last[0].replace(tzinfo=UTC)
    client.insert(
        WATERMARKS, [[table, finished, last[1], version]], column_names=["table", "finished_at", "batch_id", VERSION]
    )


def _sync_raw(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    spec: TableSpec,
    columns: list[Column],
    batches: Sequence[tuple[datetime, str]],
    version: int,
    chunk_rows: int,
) -> int:
    if not batches:
        return 0
    # Every row carries the batch that wrote it (a line its order's current version's, the loader writes and
    # replaces them together), and rows are appended in batch order: the literal list lets DuckDB skip the
    # row groups of other batches, where a subquery or a read by changed order scans the whole table.
    listed = sql_string_list(batch for _, batch in batches)
    where = f"src.batch_id IN ({listed})"
    if spec.name == "order_events":
        retract = None  # events are only ever added: an event's key is all of it
    else:
        changed = f"SELECT order_key FROM raw.orders WHERE batch_id IN ({listed})"
        # Only an order with more than one version can have left something behind in ClickHouse.
        retract = (
            f"{changed} AND order_key IN (SELECT order_key FROM raw.order_versions "
            f"WHERE order_key IN ({changed}) GROUP BY order_key HAVING count(*) > 1)"
        )
    rows = _select_rows(spec, columns, where)
    written = _insert(client, spec, duck.sql(_versioned(columns, rows, version)), chunk_rows)
    if retract is not None:
        keys = [row[0] for row in duck.execute(retract).fetchall()]
        for start in range(0, len(keys), KEYS_PER_LOOKUP):
            part = keys[start : start + KEYS_PER_LOOKUP]
            found = client.query_arrow(
                f"SELECT {_sort_list(spec)} FROM `{spec.name}` FINAL WHERE order_key IN {{keys:Array(String)}}",
                parameters={"keys": part},
                settings=LOOKUP_SETTINGS,
            )
            current = _select_rows(spec, columns, "src.order_key IN (SELECT unnest($keys))")
            written += _retract(duck, client, spec, columns, found, current, version, chunk_rows, {"keys": part})
    return written


def _sync_rekeyed(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    spec: TableSpec,
    columns: list[Column],
    version: int,
    chunk_rows: int,
) -> int:
    """The orders whose address columns the warehouse changed in place (ingestion/address_rekey.py) since the
    editions of the address rules ClickHouse has: written again. The re-key leaves an order's sorting key as it
    was, so the new row replaces the old."""
    if not any(c.name == "address_key" for c in columns) or not has_table(duck, ADDRESS_REKEYS):
        return 0
    mark = int(watermark(client, _REKEYED + spec.name)[1] or 0)
    newest = duck.execute(f"SELECT max(key_rules) FROM {ADDRESS_REKEYS}").fetchall()[0][0]
    if newest is None or newest <= mark:
        return 0
    rekeyed = f"src.order_key IN (SELECT order_key FROM {ADDRESS_REKEYS} WHERE key_rules > {mark})"
    written = _insert(
        client, spec, duck.sql(_versioned(columns, _select_rows(spec, columns, rekeyed), version)), chunk_rows
    )
    _advance(client, _REKEYED + spec.name, (_EPOCH, str(newest)), version)
    return written


# --- marts by day ------------------------------------------------------------------------------------------


def _sync_mart(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    spec: TableSpec,
    columns: list[Column],
    version: int,
    chunk_rows: int,
    days: set[date] | None,
) -> int:
    """Rewrite the days (of `days`, None: of every day) whose fingerprint differs from ClickHouse's."""
    signature = schema.signature(spec, columns)
    within = "true" if days is None else _on_days(spec, columns, days)
    have = {
        bucket: (rows, _fingerprint(signature, rows, digest))
        for bucket, rows, digest in duck.execute(
            f"SELECT CAST({spec.partition_by} AS DATE), count(*), CAST(sum(hash(r)) AS VARCHAR) "
            f"FROM ({_select_rows(spec, columns, within, None if days is None else sorted(days))}) r GROUP BY 1"
        ).fetchall()
    }
    copied = {
        bucket: (rows, fingerprint)
        for bucket, rows, fingerprint in client.query(
            f"SELECT bucket, rows, fingerprint FROM `{BUCKETS}` FINAL WHERE table = {{t:String}}",
            parameters={"t": spec.name},
        ).result_rows
        if days is None or bucket in days
    }
    changed = sorted(bucket for bucket in have.keys() | copied.keys() if have.get(bucket) != copied.get(bucket))
    written = 0
    for start in range(0, len(changed), DAYS_PER_PASS):
        part = changed[start : start + DAYS_PER_PASS]
        found = client.query_arrow(
            f"SELECT {_sort_list(spec)}, `{ROW_HASH}` FROM `{spec.name}` FINAL WHERE toDate32({spec.partition_by}) IN "
            f"({', '.join(f'toDate32({day.isoformat()!r})' for day in part)})"
        )
        current = _select_rows(spec, columns, _on_days(spec, columns, part), part)
        written += _write_changed(duck, client, spec, columns, found, current, version, chunk_rows)
        _record_buckets(client, spec, part, have, version)
    return written


def _compare_doors_when_due(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    spec: TableSpec,
    columns: list[Column],
    version: int,
    chunk_rows: int,
    days: set[date] | None,
    every: timedelta,
    at_doors: dict[tuple[str, ...], list[str]],
) -> int:
    """Compare the mart's rows at the doors of the batches since its last door compare, if that was `every` ago
    or more. A sync that compared every day of the mart (`days` None) stands for a door compare, and so does
    the first sync that keeps the mark (the doors of all history are every day's rows: the every-day compare
    after the nightly build reads them); so do more doors than doors.MOST (a runner that was down long), left
    to that compare too."""
    mark, mark_at = _DOORS + spec.name, _DOORS_AT + spec.name
    pending = new_batches(duck, client, mark)
    if not pending:
        return 0
    now = _utcnow().replace(tzinfo=None)
    written = 0
    if days is not None and watermark(client, mark) != (_EPOCH, ""):
        if now - watermark(client, mark_at)[0] < every:
            return 0
        key = tuple(batch for _, batch in pending)
        if key not in at_doors:
            at_doors[key] = scope.touched_doors(duck, pending)
        if len(at_doors[key]) <= doors.MOST:
            written = _sync_doors(duck, client, spec, columns, version, chunk_rows, at_doors[key], days)
    _advance(client, mark, pending[-1], version)
    _advance(client, mark_at, (now, ""), version)
    return written


def _sync_doors(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    spec: TableSpec,
    columns: list[Column],
    version: int,
    chunk_rows: int,
    at_doors: Sequence[str],
    compared: set[date],
) -> int:
    """Write the mart's rows at the touched doors (history/doors.py) on the days the day compare left out that
    ClickHouse does not hold as they are, and retract what it holds there that the warehouse no longer does.
    The days written on lose their fingerprints, so the next compare of such a day reads it row by row."""
    if not at_doors:
        return 0
    column, values = doors.scope_values(duck, spec.name, at_doors)
    if not values:
        return 0
    others = "true"
    other_days = "1"
    if compared:
        others = f"NOT (CAST({_sort_value(spec, columns, spec.partition_by)} AS DATE) IN ({_day_list(compared)}))"
        listed = ", ".join(f"toDate32({day.isoformat()!r})" for day in sorted(compared))
        other_days = f"toDate32({spec.partition_by}) NOT IN ({listed})"
    relation = f"({doors.order_customers_at_doors(at_doors)})" if spec.query else None
    current = _select_rows(spec, columns, f'src."{column}" IN (SELECT unnest($values)) AND {others}', None, relation)
    sort = _sort_list(spec)
    written = 0
    for start in range(0, len(values), doors.PER_PASS):
        part = values[start : start + doors.PER_PASS]
        # The door is outside the sorting key: read without FINAL (schema.current_rows_sql).
        at = schema.current_rows_sql(spec.name, f"`{spec.key[0]}`", sort, f"`{column}` IN {{values:Array(String)}}")
        found = client.query_arrow(
            f"SELECT {sort}, `{ROW_HASH}` FROM ({at}) WHERE {other_days}",
            parameters={"values": part},
            settings=LOOKUP_SETTINGS,
        )
        changed = _write_changed(duck, client, spec, columns, found, current, version, chunk_rows, {"values": part})
        if changed:
            with _found_rows(duck, found):
                days = {
                    day
                    for (day,) in duck.execute(
                        f"SELECT CAST({spec.partition_by} AS DATE) FROM ({current}) UNION "
                        f"SELECT CAST({spec.partition_by} AS DATE) FROM (SELECT {_found_keys(columns)} FROM _sink_found f)",
                        {"values": part},
                    ).fetchall()
                }
            _record_buckets(client, spec, days, {}, version)
        written += changed
    return written


def _mart_days(
    duck: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    columns: list[Column],
    batches: Sequence[tuple[datetime, str]],
    touched: dict[tuple[str, ...], set[date]],
) -> set[date]:
    """The days a micro-batch can have changed in this mart (history/scope.py); `touched` keeps the batches'
    days for the next mart (a scan of the order history and events)."""
    joins = " ".join(e.join for e in spec.extras)
    # A derived table's partition column is its source's (one row per source row): read it there, not by
    # computing every derived row.
    relation = spec.source if spec.query else spec.relation
    extra = next((e for e in spec.extras if e.name == spec.partition_by and e.newest), None)
    if extra is not None:
        newest = duck.execute(extra.newest).fetchall()[0][0]
    else:
        newest = duck.execute(f"SELECT max({_source_value(spec, spec.partition_by)}) FROM {relation} src {joins}")
        newest = newest.fetchall()[0][0]
    if isinstance(newest, datetime):
        newest = newest.date()
    key = tuple(batch for _, batch in batches)
    if key not in touched:
        touched[key] = scope.touched_days(duck, batches)
    return touched[key] | scope.newest_days(newest)


def _day_list(days: Iterable[date]) -> str:
    return ", ".join(f"DATE '{day.isoformat()}'" for day in sorted(days)) or "NULL"


def _fingerprint(signature: str, rows: int, digest: str | None) -> str:
    return hashlib.sha256(f"{signature}|{rows}|{digest}".encode()).hexdigest()[:32]


def _record_buckets(
    client: Client, spec: TableSpec, days: Iterable[date], have: dict[date, tuple[int, str]], version: int
) -> None:
    rows = []
    for day in days:
        count, fingerprint = have.get(day, (0, ""))
        rows.append([spec.name, day, count, fingerprint, version, 0 if day in have else 1])
    client.insert(BUCKETS, rows, column_names=["table", "bucket", "rows", "fingerprint", VERSION, DELETED])


# --- SQL over the warehouse -------------------------------------------------------------------------------


def _source_value(spec: TableSpec, name: str) -> str:
    """The DuckDB expression for column `name` of the source rows (alias src, extras by their join)."""
    extra = next((e for e in spec.extras if e.name == name), None)
    return extra.sql if extra else f'src."{name}"'


def _sort_value(spec: TableSpec, columns: list[Column], name: str) -> str:
    """`_source_value`, with a NULL in a sorting-key column as its zero value."""
    column = next(c for c in columns if c.name == name)
    expression = _source_value(spec, name)
    return f"coalesce({expression}, {column.zero})" if column.in_sort_key else expression


def _on_days(spec: TableSpec, columns: list[Column], days: Iterable[date]) -> str:
    """The source rows on `days` (of the partition column). The range on the bare column lets DuckDB skip row
    groups by their min/max; the coalesced value alone would make it read every row."""
    days = sorted(days)
    if not days:
        return "false"
    exact = f"CAST({_sort_value(spec, columns, spec.partition_by)} AS DATE) IN ({_day_list(days)})"
    if days[0] <= _EPOCH.date():
        return exact  # NULLs are written as the epoch: they are not in any range of the column
    bare = _source_value(spec, spec.partition_by)
    last = days[-1] + timedelta(days=1)
    return f"{bare} >= DATE '{days[0].isoformat()}' AND {bare} < DATE '{last.isoformat()}' AND {exact}"


def _select_rows(
    spec: TableSpec, columns: list[Column], where: str, days: Sequence[date] | None = None, relation: str | None = None
) -> str:
    """The source rows in ClickHouse's column order, sorting-key NULLs written as zero values; `days`: `where`
    keeps only rows of those days (a derived table then computes only what they need); `relation`: a narrower
    relation of a derived table's rows to read instead."""
    select = ", ".join(f'{_sort_value(spec, columns, c.name)} AS "{c.name}"' for c in columns)
    joins = " ".join(e.join for e in spec.extras)
    return f"SELECT {select} FROM {relation or spec.relation_on(days)} src {joins} WHERE {where}"


def _versioned(columns: list[Column], rows_sql: str, version: int) -> str:
    names = ", ".join(f'"{c.name}"' for c in columns)
    return (
        f"SELECT {names}, CAST({version} AS UBIGINT) AS {VERSION}, CAST(0 AS UTINYINT) AS {DELETED} FROM ({rows_sql})"
    )


def _sort_list(spec: TableSpec) -> str:
    return ", ".join(f"`{name}`" for name in spec.order_by)


def _retract(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    spec: TableSpec,
    columns: list[Column],
    found: pa.Table,
    current_sql: str,
    version: int,
    chunk_rows: int,
    params: dict | None = None,
) -> int:
    """Retract the sorting keys ClickHouse has (`found`) that the warehouse's current rows in the same scope
    do not."""
    query = f"WITH current AS ({current_sql}), gone AS ({_gone(spec, columns)}) {_tombstones(columns, version)}"
    with _found_rows(duck, found):
        return _insert(client, spec, duck.sql(query, params=params), chunk_rows)


def _write_changed(
    duck: duckdb.DuckDBPyConnection,
    client: Client,
    spec: TableSpec,
    columns: list[Column],
    found: pa.Table,
    current_sql: str,
    version: int,
    chunk_rows: int,
    params: dict | None = None,
) -> int:
    """Write the warehouse's current rows that ClickHouse (`found`: sorting keys and row hashes) does not have as
    they are, and retract the keys it has that the warehouse no longer does, in one stream (one INSERT when it
    fits). A micro-batch changes a few rows of a day: the rest of the day is not written again."""
    names = ", ".join(f'"{c.name}"' for c in columns)
    key_cols = ", ".join(f'"{name}"' for name in spec.order_by)
    query = (
        f"WITH current AS ({current_sql}), gone AS ({_gone(spec, columns)}), "
        f"hashed AS (SELECT c.*, hash(c) AS {ROW_HASH} FROM current c), "
        f"kept AS (SELECT {_found_keys(columns)}, f.{ROW_HASH} FROM _sink_found f) "
        f"SELECT {names}, CAST({version} AS UBIGINT) AS {VERSION}, CAST(0 AS UTINYINT) AS {DELETED}, {ROW_HASH} "
        f"FROM hashed ANTI JOIN kept USING ({key_cols}, {ROW_HASH}) "
        f"UNION ALL {_tombstones(columns, version)}"
    )
    with _found_rows(duck, found):
        return _insert(client, spec, duck.sql(query, params=params), chunk_rows)


@contextmanager
def _found_rows(duck: duckdb.DuckDBPyConnection, found: pa.Table) -> Iterator[None]:
    """What ClickHouse holds of the scope, readable by the queries above as `_sink_found` while they run."""
    duck.register("_sink_found", found)
    try:
        yield
    finally:
        duck.unregister("_sink_found")


def _found_keys(columns: list[Column]) -> str:
    # ClickHouse hands times back zoned (UTC); the warehouse's are naive UTC.
    return ", ".join(_naive(c, f'f."{c.name}"') + f' AS "{c.name}"' for c in columns if c.in_sort_key)


def _gone(spec: TableSpec, columns: list[Column]) -> str:
    """The sorting keys in `_sink_found` that `current` lacks."""
    key_cols = ", ".join(f'"{name}"' for name in spec.order_by)
    return f"SELECT {key_cols} FROM (SELECT {_found_keys(columns)} FROM _sink_found f) EXCEPT SELECT {key_cols} FROM current"


def _tombstones(columns: list[Column], version: int) -> str:
    """A row per key of `gone` that deletes it (ReplacingMergeTree's `_deleted`)."""
    values = ", ".join(
        f'"{c.name}"' if c.in_sort_key else f'CAST(NULL AS {c.duck_type}) AS "{c.name}"' for c in columns
    )
    return (
        f"SELECT {values}, CAST({version} AS UBIGINT) AS {VERSION}, CAST(1 AS UTINYINT) AS {DELETED}, "
        f"CAST(0 AS UBIGINT) AS {ROW_HASH} FROM gone"
    )


def _naive(column: Column, expression: str) -> str:
    if column.duck_type.upper().startswith("TIMESTAMP"):
        return f"make_timestamp(epoch_us({expression}))"
    if column.duck_type.upper() == "DATE":
        return f"CAST({expression} AS DATE)"
    return expression


def _insert(client: Client, spec: TableSpec, relation: duckdb.DuckDBPyRelation, chunk_rows: int) -> int:
    """Insert the relation's rows, up to `chunk_rows` per INSERT. DuckDB hands a UNION ALL's parts over as
    separate record batches however small: they are gathered, so a day of an aggregate and its retractions
    go in one INSERT (one part per partition: a reader sees all of it or none)."""
    written = 0
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in relation.to_arrow_reader(chunk_rows):
        if held and held + batch.num_rows > chunk_rows:
            client.insert_arrow(spec.name, pa.Table.from_batches(pending))
            written += held
            pending, held = [], 0
        if batch.num_rows:
            pending.append(batch)
            held += batch.num_rows
    if held:
        client.insert_arrow(spec.name, pa.Table.from_batches(pending))
        written += held
    return written
