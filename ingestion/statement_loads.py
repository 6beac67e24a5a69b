"""Settlement statement lines of a batch's statement files: parsed lines to `settlement_lines`, the rest
to quarantine.

A line already loaded (same channel, statement day and text: a re-delivered statement, in an earlier batch
or an earlier chunk of this one) is a duplicate, as a repeat within one chunk is. Where a parser gives a line
an identity (WeChat Pay: the payment's 微信订单号 or the refund's 微信退款单号, the same in each bill layout), that
stands for the text. A copy whose amounts differ from the line already there is not a duplicate but a conflict,
quarantined, so that which copy loaded first never silently decides a number.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from ingestion import contract, settlements, warehouse
from ingestion.file_reads import FileRecords, file_rejection
from ingestion.records import FileError

RAW = contract.RAW_SCHEMA
# What two copies of one line must agree on to be one line; the time may differ (WeChat's ALL bill dates a
# refund when it was accepted, its REFUND bill when it succeeded).
_SAME = ("line_type", "channel_order_id", "gross_amount", "fee_amount", "net_amount", "refund_amount")


def load_statements(con: duckdb.DuckDBPyConnection, read: list[FileRecords], counts, batch_id: str) -> pl.DataFrame:
    """Statement lines, counted per statement channel as `settlement/<channel>`. A line already loaded
    (same channel, statement day and text or identity: a re-delivered statement) is a duplicate."""
    lines: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = [pl.DataFrame(schema=contract.QUARANTINE_STAGING)]
    for item in read:
        if item.file.kind != "settlements":
            continue
        label = f"settlement/{item.file.source}"
        counts[label].files += 1
        if item.file_error or item.statement is None:  # the parser rejected the whole file
            rejected.append(pl.DataFrame([file_rejection(item, label)], schema=contract.QUARANTINE_STAGING))
            counts[label].landed += 1
            counts[label].quarantined += 1
            continue
        statement_date = dt.date.fromisoformat(item.file.business_date)
        try:
            good, bad = settlements.frames(item.file.source, statement_date, item.statement, label)
        except Exception as exc:  # noqa: BLE001 - values the contract's types cannot hold
            item.file_error = FileError(
                "unreadable_file",
                f"{item.file.relative}: its lines do not fit the contract ({type(exc).__name__}: "
                f"{str(exc)[:200]}): the statement is kept in quarantine whole; fetch it again",
            )
            rejected.append(pl.DataFrame([file_rejection(item, label)], schema=contract.QUARANTINE_STAGING))
            counts[label].landed += 1
            counts[label].quarantined += 1
            continue
        good, wrong_sign = _contract_signs(good, item, label)
        bad = pl.concat([bad, wrong_sign])
        counts[label].landed += len(item.statement)
        counts[label].quarantined += bad.height
        lines.append(good)
        rejected.append(bad)
    if not lines:
        return pl.concat(rejected)

    key = ["channel", "statement_date", "raw_hash"]
    batch = pl.concat(lines).with_columns(batch_id=pl.lit(batch_id))
    con.register("_statement_keys", batch.select(key).unique().to_arrow())
    known = con.sql(
        # Filtered by the batch's statement days first, so DuckDB reads those days, not every statement line.
        f"SELECT s.channel, s.statement_date, s.raw_hash, {', '.join(f's.{c} AS _first_{c}' for c in _SAME)} "
        f"FROM {RAW}.settlement_lines s JOIN _statement_keys k USING (channel, statement_date, raw_hash) "
        "WHERE s.statement_date IN (SELECT statement_date FROM _statement_keys)"
    ).pl()
    con.unregister("_statement_keys")
    batch = batch.with_row_index("_seq").join(known.with_columns(_known=pl.lit(True)), on=key, how="left")
    batch = batch.with_columns(
        # The copy a duplicate is compared with: the loaded line, else the batch's first copy.
        *(pl.coalesce(f"_first_{c}", pl.col(c).sort_by("_seq").first().over(key)).alias(f"_first_{c}") for c in _SAME),
        is_duplicate=pl.col("_known").fill_null(False) | (pl.col("_seq").rank("ordinal").over(key) > 1),
    )
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"_first_{c}")) for c in _SAME)
    batch = batch.with_columns(is_conflict=pl.col("is_duplicate") & differs)
    rejected.append(_conflicting_copies(batch.filter("is_conflict"), read))
    for (channel,), frame in batch.group_by("channel"):
        counts[f"settlement/{channel}"].duplicate += int((frame["is_duplicate"] & ~frame["is_conflict"]).sum())
        counts[f"settlement/{channel}"].quarantined += int(frame["is_conflict"].sum())
        counts[f"settlement/{channel}"].loaded += int((~frame["is_duplicate"]).sum())
    fresh = batch.filter(~pl.col("is_duplicate")).select(list(contract.SETTLEMENT_LINES))
    warehouse.insert(con, "settlement_lines", fresh, conflict=None)
    return pl.concat(rejected)


def _contract_signs(good: pl.DataFrame, item: FileRecords, label: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Statement lines against the contract's sign conventions (gross and refund amounts are never negative):
    a line that breaks them is quarantined, not loaded as a wrong number."""
    wrong = (pl.col("gross_amount") < 0) | (pl.col("refund_amount") < 0)
    broken = good.filter(wrong)
    if broken.height == 0:
        return good, pl.DataFrame(schema=contract.QUARANTINE_STAGING)
    texts = {p.record.source_line: p.record.text for p in item.statement or []}
    rows = [
        {
            "channel": label,
            "source_file": row["source_file"],
            "source_line": row["source_line"],
            "raw": texts.get(row["source_line"], ""),
            "error_code": "bad_value",
            "message": f"{row['source_file']} line {row['source_line']}: gross {row['gross_amount']} or refund "
            f"{row['refund_amount']} is negative; statements carry them as positive amounts",
        }
        for row in broken.iter_rows(named=True)
    ]
    return good.filter(~wrong.fill_null(False)), pl.DataFrame(rows, schema=contract.QUARANTINE_STAGING)


def _conflicting_copies(conflicts: pl.DataFrame, read: list[FileRecords]) -> pl.DataFrame:
    """Quarantine rows for the copies of a line already there whose amounts differ, with their record text."""
    if conflicts.height == 0:
        # The common case: no record text to look up, no scan of every parsed line of the batch.
        return pl.DataFrame(schema=contract.QUARANTINE_STAGING)
    wanted = set(zip(conflicts["source_file"], conflicts["source_line"], strict=True))
    texts = {
        (p.record.source_file, p.record.source_line): p.record.text
        for item in read
        for p in item.statement or []
        if (p.record.source_file, p.record.source_line) in wanted
    }
    return pl.DataFrame(
        [
            {
                "channel": f"settlement/{row['channel']}",
                "source_file": row["source_file"],
                "source_line": row["source_line"],
                "raw": texts.get((row["source_file"], row["source_line"]), ""),
                "error_code": "conflicting_duplicate",
                "message": f"{row['source_file']} line {row['source_line']}: the same {row['line_type']} "
                f"({row['transaction_id']}{' / ' + row['refund_id'] if row['refund_id'] else ''}) is already on "
                f"the {row['statement_date']} statement with other amounts ("
                + ", ".join(
                    f"{c} {row[f'_first_{c}']} there, {row[c]} here" for c in _SAME if row[c] != row[f"_first_{c}"]
                )
                + "): one of the two files is edited or damaged; fetch the statement from the channel again",
            }
            for row in conflicts.iter_rows(named=True)
        ],
        schema=contract.QUARANTINE_STAGING,
    )
