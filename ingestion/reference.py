"""Reference data (stores, products, riders, promotions, stock snapshots and movements) from landing JSON lines."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingestion import contract, times
from ingestion.adapters.base import text
from ingestion.adapters.json_lines import record_object
from ingestion.records import RawRecord, RecordError


@dataclass
class ReferenceRows:
    table: str
    rows: pl.DataFrame  # typed to the contract
    quarantine: pl.DataFrame  # staging columns: channel, source_file, source_line, raw, error_code, message


def _typed(column: str, dtype: pl.DataType) -> pl.Expr:
    raw = pl.col(column).str.strip_chars()
    if isinstance(dtype, pl.Datetime):
        return times.rfc3339_to_utc(raw)
    if dtype == pl.Boolean:
        return raw.str.to_lowercase().replace_strict(
            {"true": True, "false": False, "1": True, "0": False}, default=None, return_dtype=pl.Boolean
        )
    if isinstance(dtype, pl.Decimal):
        return raw.cast(pl.Float64, strict=False).round(dtype.scale or 0).cast(dtype)
    return raw.cast(dtype, strict=False)


def _domain_rules(table: str) -> list[tuple[pl.Expr, str]]:
    """(broken?, message) rules a typed row must meet beyond its types: a row that breaks one is quarantined."""
    if table == "stock_movements":
        types = list(contract.STOCK_MOVEMENT_SIGNS)
        return [
            (~pl.col("movement_type").is_in(types).fill_null(False), f"movement_type is not one of {', '.join(types)}"),
            (pl.col("quantity") <= 0, "quantity must be a positive number of units (the type gives the direction)"),
            (
                pl.col("store_id").is_null() | pl.col("sku_id").is_null() | pl.col("moved_at").is_null(),
                "store_id, sku_id and moved_at are required",
            ),
        ]
    return []


def parse(table: str, records: list[RawRecord]) -> ReferenceRows:
    columns, key = contract.REFERENCE_TABLES[table]
    rows: list[dict[str, str | None]] = []
    origins: list[RawRecord] = []
    rejected: list[dict] = []
    for record in records:
        try:
            obj = record_object(record)
        except RecordError as err:
            rejected.append(_rejection(table, record, err.code, err.message))
            continue
        rows.append({c: text(obj.get(c)) for c in columns})
        origins.append(record)
    frame = pl.DataFrame(rows, schema={c: pl.String for c in columns})
    typed = frame.select(
        *[_typed(c, dtype).alias(c) for c, dtype in columns.items()],
        pl.Series("_row", range(frame.height), dtype=pl.Int64),
    )
    # A value that was present but did not convert, or an empty key, makes the row unusable.
    unusable = (
        pl.any_horizontal(
            *[(frame[c].is_not_null() & typed[c].is_null()) for c in columns],
            *[typed[c].is_null() for c in key],
        )
        if frame.height
        else pl.Series([], dtype=pl.Boolean)
    )
    bad_rows = typed.filter(unusable)["_row"].to_list()
    for index in bad_rows:
        bad_columns = [
            c
            for c in columns
            if (frame[c][index] is not None and typed[c][index] is None) or (c in key and typed[c][index] is None)
        ]
        rejected.append(
            _rejection(table, origins[index], "bad_reference", f"unusable value in {', '.join(bad_columns)}")
        )
    good = typed.filter(~unusable) if frame.height else typed
    for broken, message in _domain_rules(table):
        failing = good.filter(broken.fill_null(False))
        rejected += [_rejection(table, origins[index], "bad_reference", message) for index in failing["_row"].to_list()]
        good = good.filter(~broken.fill_null(False))
    good = good.drop("_row")
    # A later row in the same batch replaces an earlier one with the same key.
    good = good.unique(subset=list(key), keep="last", maintain_order=True)
    return ReferenceRows(table, good, pl.DataFrame(rejected, schema=contract.QUARANTINE_STAGING))


def _rejection(table: str, record: RawRecord, code: str, message: str) -> dict:
    return {
        "channel": f"reference/{table}",
        "source_file": record.source_file,
        "source_line": record.source_line,
        "raw": record.text,
        "error_code": code,
        "message": f"{record.source_file} line {record.source_line}: {message}",
    }
