"""The serving snapshot's copy in ClickHouse (database ``orderhub_serving``): what the dashboards read there.

A publish copies every table of a published snapshot (a DuckDB file, opened read-only) into tables of its own
version, ``<table>__v<N>``, and only then inserts one row into the pointer table ``publishes``: the version
and its manifest (each table's columns with their DuckDB types, and its rows). A reader takes the newest
pointer row and reads that version's tables, so it never sees a mix of two publishes: a version's tables are
complete before any reader can find them and never change afterwards.

Why versions and a pointer, not a swap: ``EXCHANGE TABLES`` is atomic for one pair only; several pairs in one
statement, like ``RENAME`` of several tables, run one after another, so a reader of twenty tables could read
some old and some new (ClickHouse docs, EXCHANGE and RENAME statements). There is no ``EXCHANGE DATABASES``
(tested on chdb 4.4: a syntax error).

The newest :data:`KEEP_VERSIONS` published versions are kept, so a reader that took the pointer just before a publish
still finds its tables (one that finds a table gone reads the new pointer again: :func:`read_tables`);
older versions, and the tables of a publish that died before its pointer row, are dropped by the next
publish. For people querying by hand, a view per table (``orderhub_serving.fct_exceptions``) shows the
current version; each view is swapped on its own, so only the pointer gives a consistent set.

The manifest keeps the DuckDB types, so :func:`load_into_duckdb` rebuilds the snapshot's tables with the very
same types (a ``HUGEINT`` kept as ``Decimal(38, 0)`` in ClickHouse comes back a ``HUGEINT``, a ``TIMESTAMP``
stored as UTC ``DateTime64(6)`` a naive ``TIMESTAMP``): queries written for the snapshot give the same figures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from history import schema

DATABASE = "orderhub_serving"
POINTER = f"{DATABASE}.publishes"
# Three: a reader holding the previous pointer keeps its tables through the next two publishes (a
# micro-batch takes seconds; a page's read takes well under one).
KEEP_VERSIONS = 3
# Pointer rows are kept in this many slots (version modulo SLOTS, replaced by newer versions on merge): the
# table stays small without deletes, and still knows which of the recent versions were published whole.
SLOTS = 16
# Rows per insert: the snapshot is bounded by design, but one big table must not be one big request.
CHUNK_ROWS = 100_000

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VERSIONED = re.compile(r"^(?P<table>[A-Za-z_][A-Za-z0-9_]*)__v(?P<version>\d+)$")
# ClickHouse's Int128 comes back through Arrow as 16 raw bytes; Decimal(38, 0) holds every value a sum of BIGINTs
# gives and comes back as a number. Every other type as the history tables have it (history/schema.py).
_OVERRIDES = {"HUGEINT": "Decimal(38, 0)"}
# What DuckDB must be handed for a type the ClickHouse column holds differently.
_DUCK_SELECT = {"HUGEINT": "CAST({column} AS DECIMAL(38, 0))"}

SNAPSHOT_COLUMNS = """
SELECT table_name, column_name, data_type
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main'
ORDER BY table_name, column_index
"""


class ServingCopyError(ValueError):
    """The snapshot holds something the ClickHouse copy cannot carry exactly; the message names it."""


@dataclass(frozen=True)
class Publish:
    """One complete version of the copy: ``tables`` maps each table to its ``(column, DuckDB type)`` pairs."""

    version: int
    published_at: datetime
    snapshot: str
    tables: dict[str, tuple[tuple[str, str], ...]]
    rows: dict[str, int]

    def table_name(self, table: str) -> str:
        return versioned(table, self.version)


def versioned(table: str, version: int) -> str:
    return f"{DATABASE}.`{table}__v{version}`"


# --- publishing -------------------------------------------------------------------------------------------------


def publish_snapshot(client: Client, snapshot_path: Path) -> dict[str, int]:
    """Copy every table of the snapshot at ``snapshot_path`` into a new version in ClickHouse, point readers at
    it, drop versions no reader needs any more; rows copied per table.

    Raises FileNotFoundError for a missing snapshot and ServingCopyError for a table or column the copy cannot
    carry exactly (before anything is written); ClickHouse errors propagate, leaving the previous version
    current."""
    snapshot_path = Path(snapshot_path)
    if not snapshot_path.is_file():
        raise FileNotFoundError(f"no serving snapshot at {snapshot_path}: nothing to copy to ClickHouse")
    con = duckdb.connect(str(snapshot_path), read_only=True)
    try:
        tables = snapshot_tables(con)
        ensure_schema(client)
        version = _next_version(client)
        counts = {table: _copy_table(client, con, table, columns, version) for table, columns in tables.items()}
    finally:
        con.close()
    manifest = {"tables": {t: [list(c) for c in cols] for t, cols in tables.items()}, "rows": counts}
    # The one row that makes the version visible: a single-row INSERT is all or nothing.
    client.insert(
        POINTER,
        [[version % SLOTS, version, datetime.now(UTC).replace(tzinfo=None), str(snapshot_path), json.dumps(manifest)]],
        column_names=["slot", "version", "published_at", "snapshot", "manifest"],
    )
    _point_views(client, tables, version)
    _drop_old_versions(client, version)
    return counts


def snapshot_tables(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[tuple[str, str], ...]]:
    """The snapshot's tables with their ``(column, DuckDB type)`` pairs; ServingCopyError names the first table
    or column the copy cannot carry."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(SNAPSHOT_COLUMNS).fetchall():
        if not _NAME.match(table) or _VERSIONED.match(table):
            raise ServingCopyError(f"snapshot table {table!r}: the ClickHouse copy takes names of letters, digits, _")
        clickhouse_type(data_type, where=f"{table}.{column}")
        tables.setdefault(table, []).append((column, data_type))
    return {table: tuple(columns) for table, columns in tables.items()}


def clickhouse_type(duck_type: str, *, where: str = "column") -> str:
    """The ClickHouse column type holding a DuckDB type exactly (every snapshot column may hold NULL)."""
    if duck_type in _OVERRIDES:
        return f"Nullable({_OVERRIDES[duck_type]})"
    try:
        return schema.clickhouse_type(duck_type, nullable=True)
    except TypeError as unsupported:
        raise ServingCopyError(
            f"{where}: DuckDB type {duck_type} has no exact ClickHouse counterpart in the serving copy ({unsupported})"
        ) from None


def ensure_schema(client: Client) -> None:
    client.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    # ReplacingMergeTree over SLOTS slots: background merges keep the newest row per slot; readers do not wait
    # for them (they take the highest version).
    client.command(
        f"""CREATE TABLE IF NOT EXISTS {POINTER} (
            slot UInt8, version UInt64, published_at DateTime64(6, 'UTC'), snapshot String, manifest String
        ) ENGINE = ReplacingMergeTree(version) ORDER BY slot"""
    )


def _next_version(client: Client) -> int:
    """One past every version seen, published or left behind by a publish that died before its pointer."""
    newest = int(client.command(f"SELECT max(version) FROM {POINTER}") or 0)
    for version in _versions_on_disk(client).values():
        newest = max(newest, *version)
    return newest + 1


def _copy_table(
    client: Client, con: duckdb.DuckDBPyConnection, table: str, columns: tuple[tuple[str, str], ...], version: int
) -> int:
    target = versioned(table, version)
    ddl = ", ".join(f"`{name}` {clickhouse_type(duck_type)}" for name, duck_type in columns)
    client.command(f"CREATE TABLE {target} ({ddl}) ENGINE = MergeTree ORDER BY tuple()")
    select = ", ".join(
        _DUCK_SELECT.get(duck_type, "{column}").format(column=_duck_ident(name)) + f" AS {_duck_ident(name)}"
        for name, duck_type in columns
    )
    expected = con.execute(f"SELECT count(*) FROM main.{_duck_ident(table)}").fetchall()[0][0]
    try:
        reader = con.sql(f"SELECT {select} FROM main.{_duck_ident(table)}").to_arrow_reader(CHUNK_ROWS)
        for batch in reader:
            if batch.num_rows:
                client.insert_arrow(target, pa.Table.from_batches([batch]))
    except duckdb.ConversionException as exc:  # a HUGEINT beyond 38 digits
        raise ServingCopyError(f"serving copy of {table}: {exc}") from exc
    copied = int(client.command(f"SELECT count() FROM {target}"))
    if copied != expected:
        raise RuntimeError(f"serving copy of {table}: {copied} rows in ClickHouse, {expected} in the snapshot")
    return copied


def _point_views(client: Client, tables: dict[str, tuple], version: int) -> None:
    for table in tables:
        client.command(f"CREATE OR REPLACE VIEW {DATABASE}.`{table}` AS SELECT * FROM {versioned(table, version)}")
    for (name,) in client.query(
        f"SELECT name FROM system.tables WHERE database = '{DATABASE}' AND engine = 'View'"
    ).result_rows:
        if name not in tables:
            client.command(f"DROP VIEW IF EXISTS {DATABASE}.`{name}`")


def _versions_on_disk(client: Client) -> dict[str, list[int]]:
    """Versioned tables present, by table: ``{table: [version, ...]}``."""
    out: dict[str, list[int]] = {}
    for (name,) in client.query(f"SELECT name FROM system.tables WHERE database = '{DATABASE}'").result_rows:
        match = _VERSIONED.match(name)
        if match:
            out.setdefault(match["table"], []).append(int(match["version"]))
    return out


def _drop_old_versions(client: Client, current: int) -> None:
    """Drop every version older than ``current`` but the newest published ones (the tables of a publish that
    died before its pointer row included)."""
    keep = {
        int(version)
        for (version,) in client.query(
            f"SELECT version FROM {POINTER} FINAL ORDER BY version DESC LIMIT {KEEP_VERSIONS}"
        ).result_rows
    }
    for table, versions in _versions_on_disk(client).items():
        for version in versions:
            # Newer than current: another publisher's work in progress, not ours to drop.
            if version not in keep and version < current:
                client.command(f"DROP TABLE IF EXISTS {versioned(table, version)}")


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- reading ----------------------------------------------------------------------------------------------------


def latest_publish(client: Client) -> Publish | None:
    """The current version, or None when nothing has been published to this server yet."""
    exists = client.command(f"SELECT count() FROM system.tables WHERE database = '{DATABASE}' AND name = 'publishes'")
    if not int(exists):
        return None
    found = client.query(
        f"SELECT version, published_at, snapshot, manifest FROM {POINTER} ORDER BY version DESC LIMIT 1"
    ).result_rows
    if not found:
        return None
    version, published_at, snapshot, manifest = found[0]
    parsed = json.loads(manifest)
    tables = {t: tuple((c[0], c[1]) for c in cols) for t, cols in parsed["tables"].items()}
    published = published_at.astimezone(UTC).replace(tzinfo=None) if published_at.tzinfo else published_at
    return Publish(int(version), published, snapshot, tables, {t: int(n) for t, n in parsed["rows"].items()})


class VersionGone(RuntimeError):
    """A version's tables were dropped while it was being read (two newer publishes came in between), or are
    not whole on the replica read."""


def read_tables(client: Client, publish: Publish, tables: Iterable[str] | None = None) -> dict[str, pa.Table]:
    """The tables of ``publish`` as Arrow, times back to naive UTC. Raises VersionGone when the version was
    dropped meanwhile: the caller takes the new pointer and reads again."""
    wanted = publish.tables if tables is None else [t for t in tables if t in publish.tables]
    out = {}
    for table in wanted:
        try:
            result = client.query_arrow(f"SELECT * FROM {publish.table_name(table)}", use_strings=True)
        except Exception as exc:
            if "UNKNOWN_TABLE" in str(exc) or "doesn't exist" in str(exc) or "does not exist" in str(exc):
                raise VersionGone(f"serving copy version {publish.version} was replaced while being read") from exc
            raise
        if result.num_rows != publish.rows.get(table, result.num_rows):
            # Only where replicas lag (a cluster read from another replica than was written): the version is
            # not whole there yet, so it is not to be shown as it is.
            raise VersionGone(
                f"serving copy version {publish.version}: {table} has {result.num_rows} rows here, "
                f"{publish.rows[table]} were published"
            )
        out[table] = _naive_times(result)
    return out


def _naive_times(table: pa.Table) -> pa.Table:
    """DateTime64(6, 'UTC') arrives as timestamp[us, tz=UTC]: the same instants as naive UTC, as in the snapshot."""
    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit), f.nullable) if pa.types.is_timestamp(f.type) and f.type.tz else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def load_into_duckdb(con: duckdb.DuckDBPyConnection, publish: Publish, arrow: dict[str, pa.Table]) -> None:
    """Create each table of ``arrow`` in ``con``'s main schema with the snapshot's own column types."""
    for table, data in arrow.items():
        columns = publish.tables[table]
        select = ", ".join(
            f"CAST({_duck_ident(name)} AS {duck_type}) AS {_duck_ident(name)}" for name, duck_type in columns
        )
        view = f"__arrow_{table}"
        con.register(view, data)
        try:
            con.execute(f"CREATE TABLE main.{_duck_ident(table)} AS SELECT {select} FROM {_duck_ident(view)}")
        finally:
            con.unregister(view)
