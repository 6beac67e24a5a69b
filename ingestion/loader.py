"""One micro-batch: new landing files → raw tables, in one transaction with the checkpoint.

Crash safety comes from DuckDB's transaction: rows, quarantine, batch counts and the "file done"
checkpoint commit together or not at all, so a rerun after a crash picks up exactly the files whose
rows are not there. Idempotency comes from `order_versions`: an identical re-push (same order_key and
raw_hash) is a duplicate.

Versions: a changed re-push (a partial refund, an item removed or substituted, new amounts) is a new version
and is counted as loaded because it is kept, never thrown away: every version's header and lines go to
`order_history` / `order_line_history` with the batch, the time we received it and its file and line, its
status events are appended, and `orders` / `order_lines` are replaced by whichever version is latest — by
the channel's own update time (Meituan utime, Eleme push time, the apps' updated_at), then received time,
then file and line — so an old push delivered late never undoes a newer one. Till tickets (POS) accumulate
instead: a later file's rows of a ticket are more rows of the same journal, joined to the ticket so far.
"""

from __future__ import annotations

import datetime as dt
import gc
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingestion import contract, landing, order_versions, reference, settlements, till_journal, warehouse
from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue
from ingestion.adapters.normalise import normalise
from ingestion.faults import crash_point
from ingestion.file_reads import FileRecords, file_chunks, file_rejection, order_chunks, read_file
from ingestion.records import FileError, RawRecord

RAW = contract.RAW_SCHEMA
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class ChannelCounts:
    files: int = 0
    landed: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicate: int = 0


@dataclass
class BatchResult:
    batch_id: str | None
    files: int
    counts: dict[str, ChannelCounts] = field(default_factory=dict)

    @property
    def landed(self) -> int:
        return sum(c.landed for c in self.counts.values())

    @property
    def loaded(self) -> int:
        return sum(c.loaded for c in self.counts.values())

    @property
    def quarantined(self) -> int:
        return sum(c.quarantined for c in self.counts.values())

    @property
    def duplicate(self) -> int:
        return sum(c.duplicate for c in self.counts.values())


def order_label(file: landing.LandingFile) -> str:
    """The accounting label of an order file: its channel, or `replay/<channel>` for a replayed record."""
    return f"replay/{file.source}" if file.path.name.startswith(landing.REPLAY_PREFIX) else file.source


_STAGING_QUARANTINE = {
    "channel": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "raw": pl.String,
    "error_code": pl.String,
    "message": pl.String,
}


def run_batch(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    *,
    max_files: int | None = None,
    local_tz: str = contract.LOCAL_TIMEZONE,
    progress: Progress | None = None,
) -> BatchResult:
    """Load every landing file the checkpoint has not seen (up to `max_files`) as one batch.

    Order files are read and normalised a chunk at a time (`ORDERHUB_CHUNK_MB`), so the records, decoded
    JSON and frames of only one chunk are in memory; every chunk is written inside the batch's one
    transaction, so the batch still commits whole or not at all, and a later chunk's dedupe sees the
    earlier chunks' rows. DuckDB keeps the open transaction's rows in memory until the commit, so that
    part still grows with the batch (bench/results/ingest_throughput.md).
    """
    files = landing.pending(con, Path(landing_root))
    if max_files is not None:
        files = files[:max_files]
    if not files:
        return BatchResult(batch_id=None, files=0)

    started_at = datetime.now(UTC).replace(tzinfo=None)
    batch_id = f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    reads = 0

    def read(file: landing.LandingFile) -> FileRecords:
        nonlocal reads
        item = read_file(file)
        reads += 1
        if progress:
            progress("read", reads, len(files))
        if reads == 1:
            crash_point("ingest.during_read")
        return item

    # Reference files are small and the catalogue needs them first: read up front. Orders and statements
    # (parsed statement lines take ~20 times their bytes) stream in chunks.
    streamed = ("orders", "settlements")
    read_items = {file.relative: read(file) for file in files if file.kind not in streamed}
    chunks = order_chunks([file for file in files if file.kind == "orders"])
    statement_chunks = file_chunks([file for file in files if file.kind == "settlements"])
    first_chunk = [read(file) for file in chunks[0]] if chunks else []
    crash_point("ingest.after_read")

    counts: dict[str, ChannelCounts] = defaultdict(ChannelCounts)
    con.execute("BEGIN TRANSACTION")
    try:
        quarantine_frames = [_load_reference(con, list(read_items.values()), counts)]
        catalogue = _catalogue(con)
        # Extraction makes millions of short-lived containers that hold no cycles; the cyclic collector
        # would walk them again and again for nothing.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for number, chunk in enumerate(chunks):
                items = first_chunk if number == 0 else [read(file) for file in chunk]
                quarantine_frames.append(
                    _load_orders(con, items, counts, catalogue, batch_id, started_at, local_tz, progress)
                )
                _let_go(items, read_items)
        finally:
            if gc_was_enabled:
                gc.enable()
        crash_point("ingest.during_write")
        for chunk in statement_chunks:
            # A line already loaded by an earlier chunk is a duplicate, as a repeat within one chunk is.
            items = [read(file) for file in chunk]
            quarantine_frames.append(_load_settlements(con, items, counts, batch_id))
            _let_go(items, read_items)
        quarantine = pl.concat(quarantine_frames).with_columns(
            batch_id=pl.lit(batch_id), quarantined_at=pl.lit(started_at).cast(contract.UTC_TS)
        )
        warehouse.insert(con, "quarantine", quarantine.select(list(contract.QUARANTINE)), conflict="ignore")
        finished_at = datetime.now(UTC).replace(tzinfo=None)
        _record_batch(con, batch_id, counts, started_at, finished_at)
        _record_files(con, [read_items[file.relative] for file in files], batch_id, finished_at)
        crash_point("ingest.before_commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return BatchResult(batch_id=batch_id, files=len(files), counts=dict(counts))


def _let_go(items: list[FileRecords], read_items: dict[str, FileRecords]) -> None:
    """Keep only the record count of loaded files: their texts and parsed lines can go."""
    for item in items:
        item.landed = len(item.records)
        item.records, item.statement = [], None
        read_items[item.file.relative] = item


def _load_reference(con: duckdb.DuckDBPyConnection, read: list[FileRecords], counts) -> pl.DataFrame:
    rejected: list[pl.DataFrame] = []
    by_table: dict[str, list[RawRecord]] = defaultdict(list)
    for item in read:
        if item.file.kind != "reference":
            continue
        channel = f"reference/{item.file.source}"
        counts[channel].files += 1
        if item.file_error or item.file.source not in contract.REFERENCE_TABLES:
            if not item.file_error:
                item.file_error = FileError(
                    "unknown_table", f"{item.file.relative}: no reference table named {item.file.source!r}"
                )
            rejected.append(pl.DataFrame([file_rejection(item, channel)], schema=_STAGING_QUARANTINE))
            counts[channel].landed += 1
            counts[channel].quarantined += 1
            continue
        by_table[item.file.source].extend(item.records)
    for table, records in by_table.items():
        parsed = reference.parse(table, records)
        channel = f"reference/{table}"
        counts[channel].landed += len(records)
        counts[channel].quarantined += parsed.quarantine.height
        # Rows replaced by a later row in the same batch count as duplicates, so the identity holds.
        counts[channel].loaded += parsed.rows.height
        counts[channel].duplicate += len(records) - parsed.quarantine.height - parsed.rows.height
        warehouse.insert(con, table, parsed.rows, conflict="replace")
        rejected.append(parsed.quarantine)
    return pl.concat(rejected) if rejected else pl.DataFrame(schema=_STAGING_QUARANTINE)


def _catalogue(con: duckdb.DuckDBPyConnection) -> Catalogue:
    stores = {row[0] for row in con.execute(f"SELECT store_id FROM {RAW}.stores").fetchall()}
    products = con.sql(f"SELECT sku_id, weight_g, volume_ml, temp_zone FROM {RAW}.products").pl()
    products = products.with_columns(
        pl.col("weight_g").cast(pl.Int32), pl.col("volume_ml").cast(pl.Int32), pl.col("temp_zone").cast(pl.String)
    )
    return Catalogue(store_ids=frozenset(stores), products=products)


def _load_orders(con, read, counts, catalogue, batch_id, received_at, local_tz, progress) -> pl.DataFrame:
    by_channel: dict[tuple[str, str], list[RawRecord]] = defaultdict(list)
    rejected: list[dict] = []
    for item in read:
        if item.file.kind != "orders":
            continue
        channel, label = item.file.source, order_label(item.file)
        counts[label].files += 1
        if item.file_error is None and channel not in ADAPTERS:
            item.file_error = FileError("unknown_channel", f"{item.file.relative}: no adapter for channel {channel!r}")
        if item.file_error:
            rejected.append(file_rejection(item, label))
            counts[label].landed += 1
            counts[label].quarantined += 1
            continue
        by_channel[(channel, label)].extend(item.records)

    orders, lines, events, texts = [], [], [], []
    quarantined = [pl.DataFrame(rejected, schema=_STAGING_QUARANTINE)]
    for done, ((channel, label), records) in enumerate(by_channel.items(), start=1):
        if ADAPTERS[channel].versions == "accumulate":
            records = till_journal.accumulated(con, ADAPTERS[channel], records)
        texts.extend((r.source_file, r.source_line, r.text) for r in records)
        result = normalise(ADAPTERS[channel], records, catalogue, batch_id, received_at, local_tz)
        counts[label].landed += len(records)
        counts[label].quarantined += result.quarantine.height
        orders.append(result.orders)
        lines.append(result.lines)
        events.append(result.events)
        quarantined.append(result.quarantine.select(list(_STAGING_QUARANTINE)).with_columns(channel=pl.lit(label)))
        if progress:
            progress("normalise", done, len(by_channel))
    if orders:
        raw = pl.DataFrame(
            texts, schema={"source_file": pl.String, "source_line": pl.Int64, "raw": pl.String}, orient="row"
        )
        order_versions.dedupe_and_insert(
            con, pl.concat(orders), pl.concat(lines), pl.concat(events), raw, counts, batch_id, received_at
        )
    return pl.concat(quarantined)


def _load_settlements(con: duckdb.DuckDBPyConnection, read: list[FileRecords], counts, batch_id: str) -> pl.DataFrame:
    """Statement lines, counted per statement channel as `settlement/<channel>`. A line already loaded
    (same channel, statement day and text: a re-delivered statement) is a duplicate."""
    lines: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = [pl.DataFrame(schema=_STAGING_QUARANTINE)]
    for item in read:
        if item.file.kind != "settlements":
            continue
        label = f"settlement/{item.file.source}"
        counts[label].files += 1
        if item.file_error or item.statement is None:  # the parser rejected the whole file
            rejected.append(pl.DataFrame([file_rejection(item, label)], schema=_STAGING_QUARANTINE))
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
            rejected.append(pl.DataFrame([file_rejection(item, label)], schema=_STAGING_QUARANTINE))
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
        f"SELECT s.channel, s.statement_date, s.raw_hash FROM {RAW}.settlement_lines s "
        "JOIN _statement_keys k USING (channel, statement_date, raw_hash)"
    ).pl()
    con.unregister("_statement_keys")
    batch = batch.with_row_index("_seq").join(known.with_columns(_known=pl.lit(True)), on=key, how="left")
    batch = batch.with_columns(
        is_duplicate=pl.col("_known").fill_null(False) | (pl.col("_seq").rank("ordinal").over(key) > 1)
    )
    for (channel,), frame in batch.group_by("channel"):
        counts[f"settlement/{channel}"].duplicate += int(frame["is_duplicate"].sum())
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
        return good, pl.DataFrame(schema=_STAGING_QUARANTINE)
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
    return good.filter(~wrong.fill_null(False)), pl.DataFrame(rows, schema=_STAGING_QUARANTINE)


def _record_batch(con, batch_id: str, counts: dict[str, ChannelCounts], started_at, finished_at) -> None:
    rows = [
        {
            "batch_id": batch_id,
            "channel": channel,
            "files": c.files,
            "landed": c.landed,
            "loaded": c.loaded,
            "quarantined": c.quarantined,
            "duplicate": c.duplicate,
            "started_at": started_at,
            "finished_at": finished_at,
        }
        for channel, c in sorted(counts.items())
    ]
    warehouse.insert(con, "ingest_batches", pl.DataFrame(rows, schema=contract.INGEST_BATCHES), conflict=None)


def _record_files(con, read: list[FileRecords], batch_id: str, done_at) -> None:
    rows = [
        {
            "path": item.file.relative,
            "kind": item.file.kind,
            "channel": item.file.source,
            "size_bytes": item.file.size_bytes,
            "batch_id": batch_id,
            "records": 1
            if item.file_error is not None
            else item.landed
            if item.landed is not None
            else len(item.records),
            "done_at": done_at,
        }
        for item in read
    ]
    warehouse.insert(con, "ingest_files", pl.DataFrame(rows, schema=contract.INGEST_FILES), conflict=None)
