"""Order versions: which pushes of an order are new, and which version applies.

An identical re-push (same order_key and raw_hash) is a duplicate. A changed re-push is a new version: it is
kept in `order_history` / `order_line_history` with its batch, received time and source line, its status
events are appended, and `orders` / `order_lines` hold whichever version is latest (`_VERSION_ORDER`).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from ingestion import contract, warehouse
from ingestion.landing import REPLAY_PREFIX

RAW = contract.RAW_SCHEMA


def dedupe_and_insert(
    con,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    events: pl.DataFrame,
    raw: pl.DataFrame,
    counts,
    batch_id: str,
    received_at: datetime,
) -> None:
    origin = ["source_file", "source_line"]
    known_versions, applied = _history_of(con, orders.select("order_key").unique())

    # Batch order is file then line: the first arrival of a version wins, later copies are duplicates.
    versions = orders.with_row_index("_seq").with_columns(
        seen_before=pl.struct("order_key", "raw_hash").is_in(
            known_versions.select(pl.struct("order_key", "raw_hash")).to_series().implode()
        )
        if known_versions.height
        else pl.lit(False),
        repeat_in_batch=pl.col("_seq").rank("ordinal").over("order_key", "raw_hash") > 1,
    )
    versions = versions.with_columns(is_duplicate=pl.col("seen_before") | pl.col("repeat_in_batch"))
    replayed = pl.col("source_file").str.split("/").list.last().str.starts_with(REPLAY_PREFIX)
    label = pl.when(replayed).then(pl.lit("replay/") + pl.col("channel")).otherwise(pl.col("channel"))
    # Every version that is not a duplicate is loaded: it is kept in the history whether or not it is the
    # one that applies, so "loaded" never counts a record whose content was thrown away.
    for (channel,), frame in versions.with_columns(_label=label).group_by("_label"):
        counts[channel].duplicate += int(frame["is_duplicate"].sum())
        counts[channel].loaded += int((~frame["is_duplicate"]).sum())

    fresh = versions.filter(~pl.col("is_duplicate")).with_columns(received_at=pl.lit(received_at).cast(contract.UTC_TS))
    fresh_lines = lines.join(fresh.select(*origin, "raw_hash"), on=origin, how="inner")
    warehouse.insert(con, "order_versions", fresh.select(list(contract.ORDER_VERSIONS)), conflict=None)
    warehouse.insert(
        con, "order_history", fresh.join(raw, on=origin, how="left").select(list(contract.ORDER_HISTORY)), conflict=None
    )
    warehouse.insert(con, "order_line_history", fresh_lines.select(list(contract.ORDER_LINE_HISTORY)), conflict=None)
    warehouse.insert(
        con,
        "order_events",
        events.join(fresh.select(origin), on=origin, how="semi").select(list(contract.ORDER_EVENTS)),
        conflict="ignore",
    )
    _apply_latest(con, fresh, fresh_lines, applied)


def _history_of(con, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the warehouse holds of these orders: every version loaded (order_key, raw_hash, received_at), and
    the version each one applies now (`orders`, with that version's received_at; null for an order loaded
    before received times were kept).

    `orders` is read through its primary key's index when the keys are few enough for DuckDB to use it (a
    literal list); the versions only for the orders found there, since every order with a version loaded has
    its row in `orders` (the first version of an order always applies): a chunk of new orders reads no
    version at all. Each table is otherwise read filtered on order_key alone: DuckDB pushes such a filter into
    the scan of that one column, where a join, or a filter on (order_key, raw_hash) pairs, reads more of a
    table that grows with all of history. What the loader needs of these rows is decided in polars."""
    applied = _rows_by_key(
        con, f"SELECT order_key, raw_hash, updated_at, source_file, source_line FROM {RAW}.orders", keys
    )
    known = applied.select("order_key")
    if known.height:
        versions = _rows_by_key(con, f"SELECT order_key, raw_hash, received_at FROM {RAW}.order_versions", known)
    else:
        versions = pl.DataFrame(schema={"order_key": pl.String, "raw_hash": pl.String, "received_at": contract.UTC_TS})
    applied = applied.join(versions, on=["order_key", "raw_hash"], how="left").select(
        "order_key", "raw_hash", "updated_at", "received_at", "source_file", "source_line"
    )
    return versions.select("order_key", "raw_hash"), applied


def _rows_by_key(con, select: str, keys: pl.DataFrame) -> pl.DataFrame:
    """`select`'s rows whose order_key is among `keys`: by a literal list when there are at most
    `index_scan_max_count` of them, the most for which DuckDB answers from a primary key's index (`orders`: at
    2M orders, 1,200 keys read 21 MB instead of 140 MB from storage, and took a third of the time with the page
    cache warm; `order_versions`, without an index, took three quarters), else by a registered table."""
    index_limit = con.execute("SELECT current_setting('index_scan_max_count')").fetchall()[0][0]
    if keys.height <= index_limit:
        return con.sql(f"{select} WHERE order_key IN ({warehouse.sql_string_list(keys['order_key'])})").pl()
    con.register("_batch_keys", keys.to_arrow())
    try:
        return con.sql(f"{select} WHERE order_key IN (SELECT order_key FROM _batch_keys)").pl()
    finally:
        con.unregister("_batch_keys")


# Which version is newer: the channel's own update time first (a delayed retry of an old push carries its
# old time and must not undo a newer one), then when we received it (channels that state no update time,
# or two versions within the channel's one-second resolution), then landing file and line (write order).
# A version without an update time sorts before one with it.
_VERSION_ORDER = ["updated_at", "received_at", "source_file", "source_line"]


def _apply_latest(con, fresh: pl.DataFrame, fresh_lines: pl.DataFrame, applied: pl.DataFrame) -> None:
    """Make `orders` / `order_lines` hold each order's latest version among the applied one and this batch's."""
    if fresh.height == 0:
        return
    current = applied.join(fresh.select("order_key").unique(), on="order_key", how="semi")
    candidates = pl.concat(
        [
            current.with_columns(_applied=pl.lit(True)),
            fresh.select(current.columns).with_columns(_applied=pl.lit(False)),
        ],
        how="vertical_relaxed",
    )
    latest = candidates.sort(_VERSION_ORDER, nulls_last=False).group_by("order_key", maintain_order=True).last()
    winners = latest.filter(~pl.col("_applied")).select("order_key", "raw_hash")
    if winners.height == 0:
        return
    # Only an order that had an applied version has rows to replace: most winners of a day's load are new
    # orders, and a chunk of them needs no scan of `orders` / `order_lines` at all.
    replaced = winners.join(current, on="order_key", how="semi").select("order_key")
    if replaced.height:
        con.register("_replaced", replaced.to_arrow())
        try:
            con.execute(f"DELETE FROM {RAW}.order_lines WHERE order_key IN (SELECT order_key FROM _replaced)")
            con.execute(f"DELETE FROM {RAW}.orders WHERE order_key IN (SELECT order_key FROM _replaced)")
        finally:
            con.unregister("_replaced")
    warehouse.insert(
        con,
        "orders",
        fresh.join(winners, on=["order_key", "raw_hash"], how="semi").select(list(contract.ORDERS)),
        conflict=None,
    )
    warehouse.insert(
        con,
        "order_lines",
        fresh_lines.join(winners, on=["order_key", "raw_hash"], how="semi").select(list(contract.ORDER_LINES)),
        conflict=None,
    )


# The history tables' keys, not declared in the warehouse (contract.PRIMARY_KEYS says why): checked here.
HISTORY_KEYS = {
    "order_versions": ("order_key", "raw_hash"),
    "order_history": ("order_key", "raw_hash"),
    "order_line_history": ("order_key", "raw_hash", "line_no"),
}


# The batches whose orders' history keys were found unique (orchestration/defs/ingest/checks.py); created by
# the warehouse's migration `history_keys_checked` (ingestion/warehouse.py). Not a contract table.
HISTORY_KEYS_CHECKED = f"{RAW}.history_keys_checked"


def unchecked_history_batches(con, limit: int | None = None) -> list[str]:
    """The loaded batches whose orders' history keys no check has found unique yet, oldest first (at most
    `limit` of them)."""
    return [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT batch_id FROM {RAW}.ingest_batches "
            f"WHERE batch_id NOT IN (SELECT batch_id FROM {HISTORY_KEYS_CHECKED}) ORDER BY batch_id LIMIT ?",
            [limit],
        ).fetchall()
    ]


def record_history_checked(con, batch_ids: list[str]) -> None:
    if batch_ids:
        con.execute(
            f"INSERT OR IGNORE INTO {HISTORY_KEYS_CHECKED} SELECT unnest(?::VARCHAR[]), now()::TIMESTAMP", [batch_ids]
        )


def history_key_duplicates(con, batch_ids: list[str]) -> dict[str, int]:
    """Per history table, how many keys have more than one row among the orders these batches loaded (a
    duplicate shares its order with the batch row that made it, so checking every batch as it lands checks
    the whole table). Empty when there is none."""
    if not batch_ids:
        return {}
    con.register("_checked_batches", pl.DataFrame({"batch_id": batch_ids}).to_arrow())
    try:
        found = {}
        for table, key in HISTORY_KEYS.items():
            columns = ", ".join(key)
            count = con.execute(
                f"SELECT count(*) FROM (SELECT {columns} FROM {RAW}.{table} WHERE order_key IN ("
                f"SELECT order_key FROM {RAW}.order_versions WHERE batch_id IN (SELECT batch_id FROM _checked_batches)"
                f") GROUP BY {columns} HAVING count(*) > 1)"
            ).fetchall()[0][0]
            if count:
                found[table] = count
        return found
    finally:
        con.unregister("_checked_batches")
