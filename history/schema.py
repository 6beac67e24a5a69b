"""The ClickHouse tables: their columns derived from the DuckDB tables they copy, their engine declared here.

Every table is a ReplacingMergeTree on two columns of its own: `_version` (the sync that wrote the row; the
highest wins) and `_deleted` (1: the row is gone from the warehouse). Readers use `FINAL`, which keeps the
newest version of each sorting key and hides deleted rows. ReplacingMergeTree collapses rows only within a
partition and only by the whole sorting key, so a row whose partition or sorting columns change between
versions would leave its old copy current: the sink retracts the old copy with a `_deleted` row
(history/sink.py), and the columns chosen below are the ones that change rarely (keys, business times).

Sorting-key columns are not Nullable (ClickHouse's default for keys): a NULL there is written as the type's
zero value ('' or 1970-01-01), which ClickHouse would do itself for a non-Nullable column.

Migration: `migrate` creates what is missing and adds the columns a DuckDB table has gained
(`ALTER TABLE … ADD COLUMN`); each change is recorded in `_schema_versions`. A change it cannot make in place
(a column's type, the sorting or partition key) stops the sync with a message saying what to drop.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import duckdb
from clickhouse_connect.driver.client import Client

from history import identity

VERSION = "_version"
DELETED = "_deleted"
# Each mart row's hash as the sink computed it from the warehouse's row (0: not known, e.g. written before the
# column existed, or a tombstone): a changed day is compared row by row and only rows that differ are written.
ROW_HASH = "_row_hash"
SCHEMA_VERSIONS = "_schema_versions"
# Columns of the warehouse's own bookkeeping, never copied: rebuilt_seq numbers the dbt run that last wrote a row
# (dbt_project/macros/rebuilt_seq.sql), so every full rebuild would change it on every row and every row would
# look changed to the sink's row hashes.
WAREHOUSE_ONLY_COLUMNS = frozenset({"rebuilt_seq"})


@dataclass(frozen=True)
class Extra:
    """A column ClickHouse needs that the DuckDB table lacks (a partition time for a table without one),
    computed by `sql` over the source rows (alias `src`) and, when it needs another table, `join`."""

    name: str
    sql: str
    join: str = ""
    # Its newest value as a query of the joined table alone, for the sink's newest days: the join over every
    # source row costs a scan of both tables per sync (history/sink.py, `_mart_days`).
    newest: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str  # the same name in ClickHouse as in DuckDB
    source: str  # schema.table in the DuckDB warehouse
    key: tuple[str, ...]
    # The sorting key: the columns common queries filter on first, then the key (what ReplacingMergeTree
    # collapses by). The partition column must be one of them.
    order_by: tuple[str, ...]
    partition_by: str  # a date or time column; partitions are its months
    extras: tuple[Extra, ...] = field(default=())
    # A table derived from the warehouse rather than copied: its rows as DuckDB SQL. `source` then names the
    # warehouse table it has one row per (what it is counted against), and carries its partition column.
    query: str | None = None
    # The derived rows of some days of the partition column only, reading no more of the warehouse than those
    # rows need (`query` filtered afterwards would compute every row first: linear in history per sync).
    query_on_days: Callable[[Sequence[date]], str] | None = None

    @property
    def relation(self) -> str:
        """What the sink reads FROM in DuckDB: the source table, or the derived rows."""
        return f"({self.query})" if self.query else self.source

    def relation_on(self, days: Sequence[date] | None) -> str:
        """`relation` for reading the rows of `days` (None: of every day); still to be filtered to them."""
        if days is None or self.query_on_days is None:
            return self.relation
        return f"({self.query_on_days(days)})"

    def __post_init__(self) -> None:
        if self.partition_by not in self.order_by or not set(self.key) <= set(self.order_by):
            raise ValueError(f"{self.name}: the sorting key must hold the key and the partition column")


# The raw order tables, copied by batch. order_lines has no time of its own: its order's creation time is added
# so its rows partition with their order's.
RAW = (
    TableSpec("orders", "raw.orders", ("order_key",), ("channel", "store_id", "created_at", "order_key"), "created_at"),
    TableSpec(
        "order_lines",
        "raw.order_lines",
        ("order_key", "line_no"),
        ("order_key", "line_no", "order_created_at"),
        "order_created_at",
        # The batch in the join lets DuckDB skip the other batches' orders too (a line carries its order row's
        # batch: tests/assert_order_lines_carry_their_version_batch.sql).
        (
            Extra(
                "order_created_at",
                "o.created_at",
                "LEFT JOIN raw.orders o ON o.order_key = src.order_key AND o.batch_id = src.batch_id",
            ),
        ),
    ),
    TableSpec(
        "order_events",
        "raw.order_events",
        ("order_key", "status", "event_time"),
        ("order_key", "event_time", "status"),
        "event_time",
    ),
)

MARTS = (
    TableSpec(
        "fct_orders",
        "marts.fct_orders",
        ("order_key",),
        ("channel", "store_id", "created_at", "order_key"),
        "created_at",
    ),
    TableSpec(
        "fct_parcels",
        "marts.fct_parcels",
        ("parcel_id",),
        ("store_id", "business_date", "parcel_id"),
        "business_date",
    ),
    # Items partition with their parcel (its business day). Every parcel has items
    # (tests/parcels/assert_parcels_within_limits.sql), so the newest parcel's day is the newest item's.
    TableSpec(
        "fct_parcel_items",
        "marts.fct_parcel_items",
        ("parcel_id", "order_key", "line_no", "chunk_no"),
        ("business_date", "parcel_id", "order_key", "line_no", "chunk_no"),
        "business_date",
        (
            Extra(
                "business_date",
                "p.business_date",
                "LEFT JOIN marts.fct_parcels p ON p.parcel_id = src.parcel_id",
                newest="SELECT max(business_date) FROM marts.fct_parcels",
            ),
        ),
    ),
    TableSpec(
        "fct_exceptions",
        "marts.fct_exceptions",
        ("exception_id",),
        ("channel", "exception_type", "raised_at", "exception_id"),
        "raised_at",
    ),
    TableSpec(
        "fct_order_status_history",
        "marts.fct_order_status_history",
        ("status_change_id",),
        ("channel", "store_id", "changed_at", "status_change_id"),
        "changed_at",
    ),
    TableSpec(
        "fct_daily_channel_summary",
        "marts.fct_daily_channel_summary",
        ("business_date", "channel"),
        ("channel", "business_date"),
        "business_date",
    ),
    TableSpec(
        "fct_channel_kpis_hourly",
        "marts.fct_channel_kpis_hourly",
        ("channel", "hour_start_local"),
        ("channel", "business_date", "hour_start_local"),
        "business_date",
    ),
    TableSpec(
        "fct_merge_savings_daily",
        "marts.fct_merge_savings_daily",
        ("business_date", "store_id"),
        ("store_id", "business_date"),
        "business_date",
    ),
    # Each order's cross-channel customer and merge group (history/identity.py), stored so the customer
    # questions need no join at query time. Partitioned and sorted as fct_orders, so a date range prunes the
    # same partitions and a change of customer or merge group replaces the row in place.
    TableSpec(
        identity.NAME,
        "marts.fct_orders",
        ("order_key",),
        ("channel", "store_id", "created_at", "order_key"),
        "created_at",
        query=identity.order_customers_sql("marts"),
        query_on_days=identity.order_customers_on_days,
    ),
)

SPECS: dict[str, TableSpec] = {spec.name: spec for spec in (*RAW, *MARTS)}


class SchemaError(RuntimeError):
    """The ClickHouse table cannot be brought to the warehouse's shape in place; the message says what to do."""


@dataclass(frozen=True)
class Column:
    name: str
    duck_type: str
    clickhouse_type: str
    in_sort_key: bool

    @property
    def zero(self) -> str:
        """The DuckDB literal a NULL in a sorting-key column is written as."""
        base = self.duck_type.upper()
        if base in ("VARCHAR", "TEXT", "STRING"):
            return "''"
        if base.startswith("TIMESTAMP"):
            return "TIMESTAMP '1970-01-01 00:00:00'"
        if base == "DATE":
            return "DATE '1970-01-01'"
        return "0"


_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_SIMPLE_TYPES = {
    "VARCHAR": "String",
    "BOOLEAN": "Bool",
    "TINYINT": "Int8",
    "SMALLINT": "Int16",
    "INTEGER": "Int32",
    "BIGINT": "Int64",
    "HUGEINT": "Int128",
    "UTINYINT": "UInt8",
    "USMALLINT": "UInt16",
    "UINTEGER": "UInt32",
    "UBIGINT": "UInt64",
    "FLOAT": "Float32",
    "DOUBLE": "Float64",
    # Date32, not Date: Date stops at 2149 and starts at 1970, Date32 covers 1900-2299 like a business date may.
    "DATE": "Date32",
    # Times are UTC by contract (ingestion/contract.py); the zone is stated so ClickHouse never applies its own.
    "TIMESTAMP": "DateTime64(6, 'UTC')",
    "TIMESTAMP WITH TIME ZONE": "DateTime64(6, 'UTC')",
}


def current_rows_sql(table: str, identity: str, sorting_key: str, where: str) -> str:
    """The rows of ClickHouse `table` matching `where` as they are now (what `FINAL WHERE where` reads), without
    `FINAL`: under `FINAL` a filter on columns outside the sorting key is applied after every row of the table is
    merged (at 10M orders, most of a read of a few thousand rows). A row matching now is one of the versions of
    its row, so every version of the rows any version of which matches (found by `identity`, a column that names
    the row in all its versions) is read, the newest per `sorting_key` kept (none when it is a retraction), and
    `where` applied again to what they are now."""
    return f"""SELECT * FROM (
    SELECT * FROM `{table}` WHERE {identity} IN (SELECT {identity} FROM `{table}` WHERE {where})
    ORDER BY `{VERSION}` DESC LIMIT 1 BY {sorting_key}
) WHERE `{DELETED}` = 0 AND {where}"""


def clickhouse_type(duck_type: str, *, nullable: bool) -> str:
    """The ClickHouse type for a DuckDB column type; TypeError for one with no mapping (say which column)."""
    upper = duck_type.upper()
    decimal = _DECIMAL.match(upper)
    if decimal:
        base = f"Decimal({decimal.group(1)}, {decimal.group(2)})"
    elif upper in _SIMPLE_TYPES:
        base = _SIMPLE_TYPES[upper]
    else:
        raise TypeError(f"no ClickHouse type for DuckDB type {duck_type}")
    return f"Nullable({base})" if nullable else base


def source_columns(duck: duckdb.DuckDBPyConnection, spec: TableSpec) -> list[Column]:
    """The table's columns as the warehouse has them now, then its extras, each with its ClickHouse type."""
    schema, table = spec.source.split(".")
    rows = duck.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    if not rows:
        raise SchemaError(f"the warehouse has no table {spec.source} to copy to ClickHouse table {spec.name}")
    if spec.query:
        try:
            described = duck.execute(f"DESCRIBE {spec.query}").fetchall()
        except duckdb.CatalogException as error:
            raise SchemaError(f"the warehouse cannot give ClickHouse table {spec.name}: {error}") from None
        rows = [(name, duck_type) for name, duck_type, *_ in described]
    types = {name: duck_type for name, duck_type in rows if name not in WAREHOUSE_ONLY_COLUMNS}
    for extra in spec.extras:
        types[extra.name] = _extra_type(duck, spec, extra)
    missing = [c for c in spec.order_by if c not in types]
    if missing:
        raise SchemaError(f"{spec.source} has no column {', '.join(missing)} for ClickHouse's sorting key")
    out = []
    for name, duck_type in types.items():
        in_key = name in spec.order_by
        try:
            ch_type = clickhouse_type(duck_type, nullable=not in_key)
        except TypeError as error:
            raise SchemaError(f"{spec.source}.{name}: {error}") from None
        out.append(Column(name, duck_type, ch_type, in_key))
    return out


def _extra_type(duck: duckdb.DuckDBPyConnection, spec: TableSpec, extra: Extra) -> str:
    rows = duck.execute(f"DESCRIBE SELECT {extra.sql} AS {extra.name} FROM {spec.relation} src {extra.join}").fetchall()
    return rows[0][1]


def create_sql(spec: TableSpec, columns: list[Column]) -> str:
    body = ",\n  ".join(f"`{c.name}` {c.clickhouse_type}" for c in columns)
    return (
        f"CREATE TABLE IF NOT EXISTS `{spec.name}` (\n  {body},\n  `{VERSION}` UInt64,\n  `{DELETED}` UInt8,\n"
        f"  `{ROW_HASH}` UInt64 DEFAULT 0\n)\n"
        f"ENGINE = ReplacingMergeTree({VERSION}, {DELETED})\n"
        f"PARTITION BY toYYYYMM({spec.partition_by})\n"
        f"ORDER BY ({', '.join(spec.order_by)})"
    )


def signature(spec: TableSpec, columns: list[Column]) -> str:
    """A short fingerprint of the table's shape, recorded with each migration."""
    text = "|".join([spec.partition_by, ",".join(spec.order_by), *(f"{c.name}:{c.clickhouse_type}" for c in columns)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_bookkeeping(client: Client) -> None:
    client.command(
        f"""CREATE TABLE IF NOT EXISTS `{SCHEMA_VERSIONS}` (
  table String, signature String, columns Array(String), change String, applied_at DateTime64(6, 'UTC')
) ENGINE = MergeTree ORDER BY (table, applied_at)"""
    )


def migrate(client: Client, spec: TableSpec, columns: list[Column]) -> str | None:
    """Bring the ClickHouse table to `columns` (source_columns: the warehouse table's shape). Returns what
    changed ('created', 'added a, b') or None when nothing did."""
    existing = dict(
        client.query(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "ORDER BY position",
            parameters={"t": spec.name},
        ).result_rows
    )
    if not existing:
        client.command(create_sql(spec, columns))
        change = "created"
    else:
        _check_keys(client, spec)
        if ROW_HASH not in existing:  # a table made before rows were compared one by one
            client.command(f"ALTER TABLE `{spec.name}` ADD COLUMN IF NOT EXISTS `{ROW_HASH}` UInt64 DEFAULT 0")
        for column in columns:
            have = existing.get(column.name)
            if have is not None and have != column.clickhouse_type:
                raise SchemaError(
                    f"ClickHouse {spec.name}.{column.name} is {have}, the warehouse now has {column.clickhouse_type}: "
                    f"a type cannot change in place; DROP TABLE {spec.name} and the next sync copies it again"
                )
        added = [c for c in columns if c.name not in existing]
        if not added:
            return None
        for column in added:
            client.command(
                f"ALTER TABLE `{spec.name}` ADD COLUMN IF NOT EXISTS `{column.name}` {column.clickhouse_type}"
            )
        change = "added " + ", ".join(c.name for c in added)
    ensure_bookkeeping(client)
    client.insert(
        SCHEMA_VERSIONS,
        [[spec.name, signature(spec, columns), [c.name for c in columns], change, _now()]],
        column_names=["table", "signature", "columns", "change", "applied_at"],
    )
    return change


def _check_keys(client: Client, spec: TableSpec) -> None:
    found = client.query(
        "SELECT partition_key, sorting_key FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        parameters={"t": spec.name},
    ).result_rows
    partition, sorting = found[0]
    want_sorting = ", ".join(spec.order_by)
    if _bare(sorting) != _bare(want_sorting) or _bare(partition) != _bare(f"toYYYYMM({spec.partition_by})"):
        raise SchemaError(
            f"ClickHouse {spec.name} is sorted by ({sorting}) and partitioned by {partition}; this version wants "
            f"({want_sorting}) and toYYYYMM({spec.partition_by}): DROP TABLE {spec.name} and the next sync copies "
            "it again"
        )


def _bare(expression: str) -> str:
    return re.sub(r"[\s`()]", "", expression)


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
