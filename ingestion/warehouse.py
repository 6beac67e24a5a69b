"""Opening the DuckDB warehouse and making sure the raw schema exists."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from ingestion import contract

# DuckDB keeps the table blocks it has read cached up to its `memory_limit`, 80% of RAM unless set: a process that
# reads the warehouse (a dbt build, the sink) then grows with the warehouse, not with its work (the 10M-order
# replay's dbt step: +0.35 GiB a day). The pipeline's connections and dbt's (dbt_project/profiles.yml, which has
# the same default) are held to this; work larger than it spills to disk.
MEMORY_LIMIT_ENV = "ORDERHUB_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "6GB"
_MEMORY_SIZE = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


def checked_memory_limit(value: str) -> str:
    """`value` if DuckDB reads it as a memory size ("6GB", "512MiB"); ValueError naming the setting otherwise."""
    if not _MEMORY_SIZE.match(value.strip()):
        raise ValueError(f"{MEMORY_LIMIT_ENV}={value!r}: give a size such as 6GB or 512MiB")
    return value.strip()


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for statement in contract.raw_schema_ddl():
        con.execute(statement)
    _add_new_columns(con)
    _rekey_tables(con)
    _keep_history_of_older_orders(con)
    _stamp_lines_with_their_batch(con)
    _keep_history_keys_checked(con)
    return con


def defer_compaction(con: duckdb.DuckDBPyConnection, deferred: bool) -> None:
    """Whether this database's checkpoints merge small row groups (DuckDB's checkpoint vacuum) or leave them
    to a later checkpoint: when to do which is the orchestrator's call (orchestration/compaction.py). The
    setting is the database's, not the connection's: every connection to the file in this process shares it
    until the last one closes."""
    con.execute("SET max_vacuum_tasks = 0" if deferred else "RESET max_vacuum_tasks")


def sql_string_list(values: Iterable[str | None]) -> str:
    """`values` as a literal SQL list body ('a', 'b'), quotes escaped, nulls left out; NULL when none is left
    (`x IN (NULL)` holds for no row). A literal list, unlike a subquery or a registered table, lets DuckDB use
    a primary key's index or skip row groups by their min/max."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values if value is not None) or "NULL"


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether `schema.table` exists in the connection's own database (read-only connections will do)."""
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? "
            "AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _rekey_tables(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse made by an older version gets the contract's newer primary keys, or loses a key the contract
    no longer declares (the history tables). DuckDB cannot alter a key, so such a table is rebuilt under the
    new one with its rows (an older key is stricter than its successors: the rows are unique under the new one
    too). A table without a key that the contract keys is left as it is."""
    current = {
        table: tuple(columns)
        for table, columns in con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = ? AND constraint_type = 'PRIMARY KEY'",
            [contract.RAW_SCHEMA],
        ).fetchall()
    }
    for table, columns in contract.all_tables().items():
        wanted = contract.PRIMARY_KEYS.get(table)
        if table not in current or current[table] == wanted:
            continue
        rebuilt = f"{table}__rekeyed"
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(contract.create_table_sql(rebuilt, columns, wanted))
            con.execute(
                f"INSERT INTO {contract.RAW_SCHEMA}.{rebuilt} BY NAME SELECT * FROM {contract.RAW_SCHEMA}.{table}"
            )
            con.execute(f"DROP TABLE {contract.RAW_SCHEMA}.{table}")
            con.execute(f"ALTER TABLE {contract.RAW_SCHEMA}.{rebuilt} RENAME TO {table}")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


# Migrations that run once per warehouse, recorded by name in this table (not a contract table: no channel
# data).
MIGRATIONS = f"{contract.RAW_SCHEMA}.migrations"
# The orders whose address columns a change of the address rules rewrote in place, with the rules' edition
# (ingestion/address_rekey.py): what the ClickHouse sink copies again (history/sink.py).
ADDRESS_REKEYS = f"{contract.RAW_SCHEMA}.address_rekeys"


def migration_done(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    con.execute(f"CREATE TABLE IF NOT EXISTS {MIGRATIONS} (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    return bool(con.execute(f"SELECT count(*) FROM {MIGRATIONS} WHERE name = ?", [name]).fetchall()[0][0])


def record_migration(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"INSERT INTO {MIGRATIONS} VALUES (?, now()::timestamp)", [name])


def _once(con: duckdb.DuckDBPyConnection, name: str, statements: Callable[[str], list[str]]) -> None:
    """Run a migration's statements (given the raw schema's name) in one transaction, unless `name` is
    recorded as done; record it in the same transaction."""
    if migration_done(con, name):
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in statements(contract.RAW_SCHEMA):
            con.execute(statement)
        record_migration(con, name)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _keep_history_of_older_orders(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse made before every version was kept has orders whose applied version is only in `orders` /
    `order_lines`: copy those into `order_history` / `order_line_history` once, so a later version that
    replaces them leaves the old one in the history. Once done, no load needs to look for such orders again
    (each chunk used to, which read the whole history at every chunk)."""
    _once(
        con,
        "order_history_of_older_orders",
        lambda raw: [
            f"CREATE TEMP TABLE _older AS SELECT order_key, raw_hash FROM {raw}.orders "
            f"ANTI JOIN {raw}.order_history USING (order_key, raw_hash)",
            f"INSERT INTO {raw}.order_history BY NAME SELECT o.* FROM {raw}.orders o SEMI JOIN _older USING (order_key)",
            f"INSERT INTO {raw}.order_line_history BY NAME SELECT l.* EXCLUDE (batch_id), o.raw_hash "
            f"FROM {raw}.order_lines l JOIN _older o USING (order_key) "
            f"ANTI JOIN {raw}.order_line_history h USING (order_key, raw_hash, line_no)",
            "DROP TABLE _older",
        ],
    )


def _keep_history_keys_checked(con: duckdb.DuckDBPyConnection) -> None:
    """The table of batches whose history keys were checked (order_versions.HISTORY_KEYS_CHECKED). A warehouse
    made before it had every batch checked as it landed (by the raw load itself), so its batches are recorded as
    checked once; a new warehouse starts with none."""
    _once(
        con,
        "history_keys_checked",
        lambda raw: [
            f"CREATE TABLE IF NOT EXISTS {raw}.history_keys_checked (batch_id VARCHAR PRIMARY KEY, checked_at TIMESTAMP)",
            f"INSERT OR IGNORE INTO {raw}.history_keys_checked "
            f"SELECT DISTINCT batch_id, now()::TIMESTAMP FROM {raw}.ingest_batches",
        ],
    )


def _stamp_lines_with_their_batch(con: duckdb.DuckDBPyConnection, rows_per_step: int = 500_000) -> None:
    """Lines loaded before they carried their version's batch get it from their orders row (the two are
    always replaced together), so no current line is without one: a read bounded by batch would skip it.

    In steps of row ids, each its own transaction, so what DuckDB holds for an update is one step's, not the
    whole table's (the 10M-order run's warehouse has 25M lines). On 1.9M lines (600k orders): one UPDATE 0.7 s
    and 0.30 GiB, steps of 500k 3.3 s and 0.25 GiB; a one-off cost either way. A step that is cut off leaves
    its lines unstamped, and the next connection carries on (only unstamped lines are updated); the migration
    is recorded once every line has its batch."""
    name = "order_lines_batch_id"
    raw = contract.RAW_SCHEMA
    if migration_done(con, name):
        return
    last = con.execute(f"SELECT max(rowid) FROM {raw}.order_lines").fetchall()[0][0]
    for first in range(0, (last or 0) + 1, rows_per_step):
        con.execute(
            f"UPDATE {raw}.order_lines AS l SET batch_id = o.batch_id FROM {raw}.orders AS o "
            "WHERE o.order_key = l.order_key AND l.batch_id IS NULL AND l.rowid >= ? AND l.rowid < ?",
            [first, first + rows_per_step],
        )
    record_migration(con, name)


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse made by an older version gets the contract's newer columns (null for old rows)."""
    for table, columns in contract.all_tables().items():
        for column, dtype in columns.items():
            con.execute(
                f'ALTER TABLE {contract.RAW_SCHEMA}.{table} ADD COLUMN IF NOT EXISTS "{column}" '
                f"{contract.duckdb_type(dtype)}"
            )


def insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, conflict: str | None) -> None:
    """Insert a polars frame into a raw table by column name (`conflict`: None, "ignore" or "replace")."""
    if frame.height == 0:
        return
    verb = {None: "INSERT", "ignore": "INSERT OR IGNORE", "replace": "INSERT OR REPLACE"}[conflict]
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"{verb} INTO {contract.RAW_SCHEMA}.{table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


@contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit_bytes: int) -> Iterator[None]:
    """DuckDB's `memory_limit` held at `limit_bytes` inside the block, then set back to what it was.

    DuckDB keeps the table blocks it has read cached up to its limit (80% of RAM unless set), and a load
    reads blocks of every table it writes (dedupe, the latest version, till tickets), so without a lower
    limit a long load's memory grows with the warehouse. The limit evicts that cache; it does not cap an
    open transaction's own rows, which is why the loader also commits a group of files at a time.
    """
    previous = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{max(1, limit_bytes // 1048576)}MiB'")
    try:
        yield
    finally:
        # The setting reads back rounded ("18.8 GiB"): the default is restored exactly by RESET, a value set
        # by the caller to within that rounding.
        con.execute("RESET memory_limit")
        if con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] != previous:
            con.execute(f"SET memory_limit = '{previous}'")
