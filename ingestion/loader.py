"""One micro-batch: new landing files → raw tables, each commit group in one transaction with its checkpoint.

Crash safety comes from DuckDB's transactions: a commit group's rows, quarantine, batch counts and "file
done" checkpoint commit together or not at all, so a rerun after a crash picks up exactly the files whose
rows are not there. A large micro-batch is several commit groups (`ORDERHUB_COMMIT_MB`), each a batch of
its own, so DuckDB holds one group's uncommitted rows in memory, not the whole micro-batch's. Idempotency
comes from `order_versions`: an identical re-push (same order_key and raw_hash) is a duplicate.

Versions: a changed re-push (a partial refund, an item removed or substituted, new amounts) is a new version
and is counted as loaded because it is kept, never thrown away: every version's header and lines go to
`order_history` / `order_line_history` with the batch, the time we received it and its file and line, its
status events are appended, and `orders` / `order_lines` are replaced by whichever version is latest — by
the channel's own update time (Meituan utime, Eleme push time, the apps' updated_at), then received time,
then file and line — so an old push delivered late never undoes a newer one. Till tickets (POS) accumulate
instead: a later file's rows of a ticket are more rows of the same journal, joined to the ticket so far.
"""

from __future__ import annotations

import gc
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingestion import contract, landing, order_versions, reference, till_journal, warehouse
from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue
from ingestion.adapters.normalise import normalise
from ingestion.faults import crash_point
from ingestion.file_reads import (
    FileRecords,
    commit_groups,
    file_chunks,
    file_rejection,
    load_memory_bytes,
    order_chunks,
    read_file,
)
from ingestion.records import FileError, RawRecord
from ingestion.statement_loads import load_statements

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
    """What one `run_batch` loaded: `batch_ids` are its commit groups' batches in load order, `batch_id` the
    last of them (None when nothing was new), `counts` summed over them per channel."""

    batch_id: str | None
    files: int
    counts: dict[str, ChannelCounts] = field(default_factory=dict)
    batch_ids: list[str] = field(default_factory=list)
    # Files loaded by an earlier batch that have changed since (not loaded again; landing.look).
    changed_files: list[landing.ChangedFile] = field(default_factory=list)

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


def run_batch(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    *,
    max_files: int | None = None,
    local_tz: str = contract.LOCAL_TIMEZONE,
    progress: Progress | None = None,
) -> BatchResult:
    """Load every landing file the checkpoint has not seen (up to `max_files`), a commit group at a time.

    Order files are read and normalised a chunk at a time (`ORDERHUB_CHUNK_MB`), so the records, decoded
    JSON and frames of only one chunk are in memory. DuckDB keeps an open transaction's rows in memory until
    its commit, so the chunks are packed into commit groups of about `ORDERHUB_COMMIT_MB` of files: each
    group is a batch of its own (its own batch id in `ingest_batches`, on every row it writes) and commits
    its rows, quarantine, counts and its files' checkpoint together. A crash leaves the groups before it
    committed with their checkpoints and the rerun loads exactly the other files: per file, all or nothing,
    as before. A later group's dedupe and till journals see an earlier group's rows as they see an earlier
    batch's, and a later chunk's see the earlier chunks' of its own group. While it loads, DuckDB's cache
    of table blocks is held to `ORDERHUB_LOAD_MEMORY_MB` (`warehouse.memory_limit`).
    """
    look = landing.look(con, Path(landing_root))
    files = look.files
    if max_files is not None:
        files = files[:max_files]
    if not files:
        return BatchResult(batch_id=None, files=0, changed_files=look.changed)

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

    # Reference files are small and the catalogue needs them first: read up front and load with the first
    # group. Orders and statements (parsed statement lines take ~20 times their bytes) stream in chunks.
    streamed = ("orders", "settlements")
    order_units = order_chunks([file for file in files if file.kind == "orders"])
    statement_units = file_chunks([file for file in files if file.kind == "settlements"])
    groups = commit_groups([*order_units, *statement_units]) or [[]]
    with _without_cyclic_gc():
        read_items = {file.relative: read(file) for file in files if file.kind not in streamed}
        first_chunk = [read(file) for file in order_units[0]] if order_units else []
    crash_point("ingest.after_read")

    def chunk_items(chunk: list[landing.LandingFile]) -> list[FileRecords]:
        return first_chunk if order_units and chunk is order_units[0] else [read(file) for file in chunk]

    result = BatchResult(batch_id=None, files=len(files), changed_files=look.changed)
    catalogue: Catalogue | None = None
    with warehouse.memory_limit(con, load_memory_bytes()):
        for number, group in enumerate(groups):
            if number:
                crash_point("ingest.between_commits")
            reference_items = list(read_items.values()) if number == 0 else []
            group_id, counts, catalogue = _commit_group(
                con, group, reference_items, chunk_items, read_items, catalogue, local_tz, progress
            )
            result.batch_id = group_id
            result.batch_ids.append(group_id)
            for channel, c in counts.items():
                total = result.counts.setdefault(channel, ChannelCounts())
                for name in ("files", "landed", "loaded", "quarantined", "duplicate"):
                    setattr(total, name, getattr(total, name) + getattr(c, name))
    return result


def _commit_group(
    con: duckdb.DuckDBPyConnection,
    chunks: list[list[landing.LandingFile]],
    reference_items: list[FileRecords],
    chunk_items: Callable[[list[landing.LandingFile]], list[FileRecords]],
    read_items: dict[str, FileRecords],
    catalogue: Catalogue | None,
    local_tz: str,
    progress: Progress | None,
) -> tuple[str, dict[str, ChannelCounts], Catalogue]:
    """One commit group as one batch, in one transaction with its files' checkpoint."""
    started_at = datetime.now(UTC).replace(tzinfo=None)
    batch_id = f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    counts: dict[str, ChannelCounts] = defaultdict(ChannelCounts)
    con.execute("BEGIN TRANSACTION")
    try:
        quarantine_frames = [_load_reference(con, reference_items, counts)]
        if catalogue is None:
            catalogue = _catalogue(con)
        with _without_cyclic_gc():
            for chunk in chunks:
                if chunk[0].kind != "orders":
                    continue
                items = chunk_items(chunk)
                quarantine_frames.append(
                    _load_orders(con, items, counts, catalogue, batch_id, started_at, local_tz, progress)
                )
                _let_go(items, read_items)
            crash_point("ingest.during_write")
            for chunk in chunks:
                if chunk[0].kind != "settlements":
                    continue
                items = chunk_items(chunk)
                quarantine_frames.append(load_statements(con, items, counts, batch_id))
                _let_go(items, read_items)
        quarantine = pl.concat(quarantine_frames).with_columns(
            batch_id=pl.lit(batch_id), quarantined_at=pl.lit(started_at).cast(contract.UTC_TS)
        )
        warehouse.insert(con, "quarantine", quarantine.select(list(contract.QUARANTINE)), conflict="ignore")
        finished_at = datetime.now(UTC).replace(tzinfo=None)
        _record_batch(con, batch_id, counts, started_at, finished_at)
        done = [item.file.relative for item in reference_items] + [file.relative for c in chunks for file in c]
        _record_files(con, [read_items[path] for path in done], batch_id, finished_at)
        crash_point("ingest.before_commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return batch_id, counts, catalogue


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Reading, extraction and statement parsing make millions of short-lived containers that hold no
    cycles; the cyclic collector would walk them, and everything the process holds, again and again for
    nothing (about 0.3 s of a 20,000-order day). Reference counting still frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
            rejected.append(pl.DataFrame([file_rejection(item, channel)], schema=contract.QUARANTINE_STAGING))
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
    return pl.concat(rejected) if rejected else pl.DataFrame(schema=contract.QUARANTINE_STAGING)


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
    quarantined = [pl.DataFrame(rejected, schema=contract.QUARANTINE_STAGING)]
    for done, ((channel, label), records) in enumerate(by_channel.items(), start=1):
        if ADAPTERS[channel].versions == "accumulate":
            records = till_journal.accumulated(con, ADAPTERS[channel], records)
        result = normalise(ADAPTERS[channel], records, catalogue, batch_id, received_at, local_tz)
        counts[label].landed += len(records)
        counts[label].quarantined += result.quarantine.height
        orders.append(result.orders)
        lines.append(result.lines)
        events.append(result.events)
        texts.append(result.texts)
        quarantined.append(
            result.quarantine.select(list(contract.QUARANTINE_STAGING)).with_columns(channel=pl.lit(label))
        )
        if progress:
            progress("normalise", done, len(by_channel))
    if orders:
        # The texts come with the orders normalise loaded: a record it quarantined has no history row.
        order_versions.dedupe_and_insert(
            con, pl.concat(orders), pl.concat(lines), pl.concat(events), pl.concat(texts), counts, batch_id, received_at
        )
    return pl.concat(quarantined)


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
