"""Stored orders keyed again when the address rules change (`addresses.KEY_RULES_VERSION`).

An order's address columns are computed when it is loaded. Without this, a warehouse loaded under older rules
keeps the old keys for its old orders, so an order placed after an upgrade does not meet the earlier orders at
its door: its merges are missed, and the door's customer evidence (a full mobile seen there before) is lost.

Every stored version (`raw.order_history`, which holds the current version of each order too) is parsed again
from what ingestion parsed: the address text, the point, and the second text some channels give beside it
(Meituan's reverse-geocoded address after @#). That one is not a contract column, so it is read again from the
version's stored record by the channel's own extractor. Where it cannot be (a record the adapter no longer
reads), the version keeps its columns unless the text alone gives the district it had: a missed
merge, never a wrong one.

Changed versions are updated in `raw.order_history` and, for current versions, in `raw.orders`. The orders
whose current version changed are listed in `raw.address_rekeys` with the rules' edition, for the ClickHouse
sink (history/sink.py). Runs once per edition, recorded in `raw.migrations` after the last step; dbt then
rebuilds its marts in full, because the recorded edition is part of the build's digest
(orchestration/defs/transform/assets.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from ingestion import addresses
from ingestion.adapters import ADAPTERS
from ingestion.records import RawRecord, RecordError
from ingestion.warehouse import ADDRESS_REKEYS, MIGRATIONS, has_table, migration_done, record_migration

# Versions parsed per step: the parse is Python over a step's rows, and a step's frames stay small.
ROWS_PER_STEP = 200_000
_PARSED = list(addresses.PARSED_COLUMNS)
_RECORD_IF_NEEDED = (
    "CASE WHEN channel IN ("
    + ", ".join(f"'{spec.channel}'" for spec in ADAPTERS.values() if spec.address_fallback)
    + ") THEN raw END AS raw"
)


@dataclass(frozen=True)
class Rekeyed:
    """What one re-key did: versions read and changed, current orders changed, versions kept as they were
    because the text that decided their district could not be read again."""

    versions: int
    changed_versions: int
    changed_orders: int
    kept_without_fallback: int


_MIGRATION_PREFIX = "address_keys_v"


def migration_name() -> str:
    return f"{_MIGRATION_PREFIX}{addresses.KEY_RULES_VERSION}"


def stored_edition(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest edition of the address rules every stored order has been keyed under (None: none recorded).

    This, not the code's edition, is what the marts' build digest holds: a job that builds the marts without
    loading (the nightly rebuild, the checks) can run under new code before any load has re-keyed the orders,
    and the marts it builds still hold the old keys."""
    if not has_table(con, MIGRATIONS):
        return None
    names = con.execute(f"SELECT name FROM {MIGRATIONS} WHERE starts_with(name, ?)", [_MIGRATION_PREFIX]).fetchall()
    editions = [int(name[len(_MIGRATION_PREFIX) :]) for (name,) in names]
    return max(editions, default=None)


def rekey(
    con: duckdb.DuckDBPyConnection,
    *,
    rows_per_step: int = ROWS_PER_STEP,
    progress: Callable[[int, int], None] | None = None,
) -> Rekeyed | None:
    """Key every stored order version under the current rules, once per edition; None when already done."""
    name = migration_name()
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {ADDRESS_REKEYS} (order_key VARCHAR NOT NULL, key_rules INTEGER NOT NULL, "
        "rekeyed_at TIMESTAMP NOT NULL)"
    )
    if migration_done(con, name):
        return None
    last = con.execute("SELECT max(rowid) FROM raw.order_history").fetchall()[0][0]
    versions = changed_versions = changed_orders = kept = 0
    for first in range(0, (last if last is not None else -1) + 1, rows_per_step):
        step = (first, first + rows_per_step)
        stored = stored_versions(con, step)
        versions += stored.height
        found, step_kept = _changed(stored)
        kept += step_kept
        if found.height:
            changed_versions += found.height
            changed_orders += _apply(con, found, step)
        if progress:
            progress(min(first + rows_per_step, last + 1), last + 1)
    # Recorded once every step is applied. A step is its own transaction, so what DuckDB holds for an update is
    # one step's; a re-key cut off part-way is taken up again by the next load, which finds the steps already
    # applied unchanged.
    record_migration(con, name)
    return Rekeyed(versions, changed_versions, changed_orders, kept)


def stored_versions(con: duckdb.DuckDBPyConnection, step: tuple[int, int]) -> pl.DataFrame:
    """The versions with an address among `raw.order_history`'s row ids [step), with what ingestion parsed them
    from (the stored record only for channels whose adapter gives a second text) and their parsed columns."""
    return con.sql(
        f"SELECT order_key, raw_hash, channel, address_raw, lat, lng, {_RECORD_IF_NEEDED}, {', '.join(_PARSED)} "
        f"FROM raw.order_history WHERE {_rows('', step)} AND address_raw IS NOT NULL"
    ).pl()


def _changed(stored: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The versions of `stored` whose parsed columns differ under the current rules, with their new values,
    and how many were kept because their second text could not be read again."""
    fallback, unreadable = _fallbacks(stored)
    parsed = addresses.parse_addresses(stored["address_raw"], fallback, stored["lat"], stored["lng"])
    return _compared(stored, parsed, unreadable)


def _compared(stored: pl.DataFrame, parsed: pl.DataFrame, unreadable: pl.Series) -> tuple[pl.DataFrame, int]:
    both = pl.concat(
        [stored.select("order_key", "raw_hash", *_PARSED), parsed.rename({c: f"new_{c}" for c in _PARSED})],
        how="horizontal",
    ).with_columns(unreadable=unreadable)
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"new_{c}")) for c in _PARSED)
    # Without the second text, the text alone may not name the district it gave: keep the version unless the
    # text alone gives the same one.
    keep = pl.col("unreadable") & pl.col("admin_code").ne_missing(pl.col("new_admin_code"))
    kept = both.filter(differs & keep).height
    new = both.filter(differs & ~keep).select("order_key", "raw_hash", *(pl.col(f"new_{c}").alias(c) for c in _PARSED))
    return new, kept


def _fallbacks(stored: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Each version's second address text as its adapter extracts it from the stored record, and whether
    that could not be done (no record, an unknown channel, a record the adapter now rejects). Only the records
    of channels that give one are read again."""
    values: list[str | None] = []
    unreadable: list[bool] = []
    for channel, raw in zip(stored["channel"], stored["raw"], strict=True):
        spec = ADAPTERS.get(channel)
        fallback, known = None, spec is not None and not spec.address_fallback
        if spec is not None and spec.address_fallback and raw is not None:
            try:
                fallback, known = spec.extract(RawRecord("", 0, raw)).order.get("address_fallback"), True
            except RecordError:
                pass
        values.append(fallback)
        unreadable.append(not known)
    return pl.Series("address_fallback", values, dtype=pl.String), pl.Series("unreadable", unreadable, dtype=pl.Boolean)


def _rows(alias: str, step: tuple[int, int]) -> str:
    """The step's rows of `raw.order_history` by row id: its row groups alone are read."""
    prefix = f"{alias}." if alias else ""
    return f"{prefix}rowid >= {step[0]} AND {prefix}rowid < {step[1]}"


def _apply(con: duckdb.DuckDBPyConnection, found: pl.DataFrame, step: tuple[int, int]) -> int:
    """One step's changed versions written; returns how many current orders changed."""
    assignments = ", ".join(f"{c} = c.{c}" for c in _PARSED)
    con.register("_rekeyed", found.to_arrow())
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"UPDATE raw.order_history AS h SET {assignments} FROM _rekeyed AS c "
            f"WHERE {_rows('h', step)} AND h.order_key = c.order_key AND h.raw_hash = c.raw_hash"
        )
        current = con.execute(
            f"UPDATE raw.orders AS o SET {assignments} FROM _rekeyed AS c "
            "WHERE o.order_key = c.order_key AND o.raw_hash = c.raw_hash"
        ).fetchall()[0][0]
        con.execute(
            f"INSERT INTO {ADDRESS_REKEYS} SELECT DISTINCT o.order_key, ?, now()::TIMESTAMP "
            "FROM raw.orders AS o SEMI JOIN _rekeyed AS c ON o.order_key = c.order_key AND o.raw_hash = c.raw_hash",
            [addresses.KEY_RULES_VERSION],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_rekeyed")
    return current
