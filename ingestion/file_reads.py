"""Reading landing files into records, and cutting the files of a batch into chunks and commit groups.

The loader holds one chunk of order files in memory at a time, and commits once per group of chunks; a file
it cannot split into records is kept as a `FileError` so that the file is quarantined whole.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ingestion import landing, settlements
from ingestion.adapters import ADAPTERS
from ingestion.records import FileError, RawRecord, csv_records, decode_text, jsonl_records

# A landing file above this size is quarantined whole, unread (reading it would hold it in memory several
# times over): split it into smaller files. ORDERHUB_MAX_FILE_MB overrides it.
MAX_FILE_MB_DEFAULT = 64
RAW_SAMPLE_BYTES = 65536  # what raw.quarantine keeps of a file rejected whole
# Order files are loaded this many MB at a time (ORDERHUB_CHUNK_MB): the Python side of a chunk (records,
# decoded JSON, frames) takes about 25 times its bytes, so 16 MB keeps it near 400 MB (48 MB: 1.2 GB).
# Per-chunk costs (a few DuckDB lookups, polars plans) stay small beside a chunk of this size.
CHUNK_MB_DEFAULT = 16
# A batch commits once per this many MB of landing files (ORDERHUB_COMMIT_MB): DuckDB holds an open
# transaction's appended rows, their key index entries and the rows they replace in memory until COMMIT,
# about 7 MB per MB of order files, so the budget bounds that part of the peak (bench/results/ingest_throughput.md).
COMMIT_MB_DEFAULT = 64
# DuckDB's memory limit while a batch loads (ORDERHUB_LOAD_MEMORY_MB), for the table blocks it caches; the
# uncommitted rows of a commit group (about 7 times its 64 MB) fit under it.
LOAD_MEMORY_MB_DEFAULT = 1024


@dataclass
class FileRecords:
    file: landing.LandingFile
    records: list[RawRecord]
    file_error: FileError | None = None
    statement: list[settlements.ParsedLine] | None = None  # settlement files: each record parsed or rejected
    landed: int | None = None  # the record count, kept once a loaded chunk's records are let go


def max_file_bytes() -> int:
    return int(float(os.environ.get("ORDERHUB_MAX_FILE_MB", MAX_FILE_MB_DEFAULT)) * 1024 * 1024)


def read_file(file: landing.LandingFile) -> FileRecords:
    limit = max_file_bytes()
    if file.size_bytes > limit:
        return FileRecords(
            file,
            [],
            FileError(
                "file_too_large",
                f"{file.relative} is {file.size_bytes / 1048576:,.0f} MB, over the {limit / 1048576:,.0f} MB limit for one "
                "landing file: split it into smaller files (or raise ORDERHUB_MAX_FILE_MB)",
            ),
        )
    try:
        if file.kind == "settlements":
            # Statements come in their channel's own encoding (Alipay: GBK): the parser decodes them.
            parsed = settlements.parse(file.source, file.path.read_bytes(), file.relative, file.business_date)
            return FileRecords(file, [p.record for p in parsed], statement=parsed)
        text = decode_text(file.path.read_bytes(), file.relative)
        spec = ADAPTERS.get(file.source) if file.kind == "orders" else None
        if spec is not None and spec.file_format == "csv":
            return FileRecords(file, list(csv_records(text, file.relative, spec.csv_header, spec.csv_key_column)))
        return FileRecords(file, list(jsonl_records(text, file.relative)))
    except FileError as err:
        return FileRecords(file, [], err)
    except Exception as exc:  # noqa: BLE001 - a reader or parser bug must not stop the batch
        return FileRecords(
            file,
            [],
            FileError(
                "unreadable_file",
                f"{file.relative} could not be read ({type(exc).__name__}: {str(exc)[:200]}): "
                "the file is kept in quarantine whole; report it with the file",
            ),
        )


def file_rejection(item: FileRecords, channel: str) -> dict:
    """A file that could not even be split into records is quarantined whole, as one record."""
    with item.file.path.open("rb") as handle:  # never the whole file: it may be the one too large to read
        raw_bytes = handle.read(RAW_SAMPLE_BYTES)
    assert item.file_error is not None
    return {
        "channel": channel,
        "source_file": item.file.relative,
        "source_line": 0,
        "raw": raw_bytes.decode("utf-8", errors="replace"),
        "error_code": item.file_error.code,
        "message": item.file_error.message,
    }


def chunk_bytes() -> int:
    return int(float(os.environ.get("ORDERHUB_CHUNK_MB", CHUNK_MB_DEFAULT)) * 1024 * 1024)


def file_chunks(files: list[landing.LandingFile]) -> list[list[landing.LandingFile]]:
    """Files in landing order, cut into chunks of about `chunk_bytes()`."""
    limit = chunk_bytes()
    chunks: list[list[landing.LandingFile]] = [[]]
    size = 0
    for file in files:
        if chunks[-1] and size + file.size_bytes > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(file)
        size += file.size_bytes
    return [c for c in chunks if c]


def order_chunks(files: list[landing.LandingFile]) -> list[list[landing.LandingFile]]:
    """Order files in landing order, cut into chunks of about `chunk_bytes()`, till journals last.

    A till journal's ticket may continue in any later file: `till_journal.accumulated` joins a record to the
    ticket so far, read from `orders` (what earlier chunks, commit groups and batches applied) and from the
    earlier records of its own chunk, so the journals are cut like any other files (ten days of tills in one
    chunk took 1.9 GB).
    """
    journals, rest = [], []
    for file in files:
        spec = ADAPTERS.get(file.source)
        (journals if spec is not None and spec.versions == "accumulate" else rest).append(file)
    return [*file_chunks(rest), *file_chunks(journals)]


def commit_bytes() -> int:
    return int(float(os.environ.get("ORDERHUB_COMMIT_MB", COMMIT_MB_DEFAULT)) * 1024 * 1024)


def load_memory_bytes() -> int:
    return int(float(os.environ.get("ORDERHUB_LOAD_MEMORY_MB", LOAD_MEMORY_MB_DEFAULT)) * 1024 * 1024)


def commit_groups(chunks: list[list[landing.LandingFile]]) -> list[list[list[landing.LandingFile]]]:
    """Chunks in load order, packed into groups of about `commit_bytes()` that each commit on their own.

    A chunk is never split across groups, so a chunk bigger than the budget is a group of its own: its
    transaction is bounded by the chunk, at most one file bigger than `ORDERHUB_CHUNK_MB`, and a file bigger
    than `ORDERHUB_MAX_FILE_MB` is quarantined whole unread.
    """
    limit = commit_bytes()
    groups: list[list[list[landing.LandingFile]]] = [[]]
    size = 0
    for chunk in chunks:
        chunk_size = sum(file.size_bytes for file in chunk)
        if groups[-1] and size + chunk_size > limit:
            groups.append([])
            size = 0
        groups[-1].append(chunk)
        size += chunk_size
    return [g for g in groups if g]
