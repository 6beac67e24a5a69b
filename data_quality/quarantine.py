"""Quarantined records: list them, see their raw text, and replay a fixed one so that it loads exactly once.

A replay re-delivers the record as a landing file beside its original, `replay-<stem>-L<line>-<hash>.<ext>`
(the raw text as quarantined, or the fixed text), and the next micro-batch loads it through the same adapters
and the same transactional loader as every other file. So:

- the fix is data in the landing zone: a warehouse rebuilt from landing gets it again;
- the replay batch counts the record as `replay/<channel>` (landed, then loaded, duplicate or quarantined
  again), so the channel's own numbers still count the record once, as quarantined;
- the original quarantine row is never deleted: it is *resolved* when a replay of it was processed without
  being quarantined (loaded, or a duplicate of what is already loaded). `quarantine_status_sql` derives that
  from the checkpoint, so it holds after crashes and rebuilds without a table of its own to keep in step;
- a second replay of a resolved record does nothing, and the same fixed text twice is one file: it loads once.

A replay whose record is quarantined again is an attempt (`replay_failed`); the original stays open, and
replaying the attempt's row replays the original.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from ingestion.adapters import ADAPTERS
from ingestion.landing import REPLAY_PREFIX
from ingestion.records import csv_records

# A replay file's path (DuckDB / RE2): groups 1 = folder, 2 = original stem, 3 = line, 4 = extension.
_SQL_REPLAY = r"^(.*)/" + REPLAY_PREFIX + r"(.+)-L([0-9]+)-[0-9a-f]{8}(\.[^./]+)$"

STATUSES = ("open", "resolved", "replay_failed")


class ReplayError(Exception):
    """A replay that cannot be done, with what to do about it."""


def quarantine_status_sql(db: str = "") -> str:
    """Every raw.quarantine row with its status: open, resolved (with the replay file and when it was
    processed) or replay_failed (a replay attempt that was quarantined again). `db` prefixes the tables
    (an attached database's alias, e.g. for the serving snapshot)."""
    raw = f"{db}.raw" if db else "raw"
    return f"""
        WITH replays AS (
            SELECT path AS replay_file, done_at, batch_id,
                   regexp_extract(path, '{_SQL_REPLAY}', 1) || '/' || regexp_extract(path, '{_SQL_REPLAY}', 2)
                       || regexp_extract(path, '{_SQL_REPLAY}', 4) AS original_file,
                   CAST(regexp_extract(path, '{_SQL_REPLAY}', 3) AS BIGINT) AS original_line
            FROM {raw}.ingest_files
            WHERE kind = 'orders' AND regexp_matches(path, '{_SQL_REPLAY}')
        ),
        good AS (
            -- processed and not quarantined: a record replay with no quarantine row, a file replay that was read
            SELECT r.* FROM replays r
            WHERE NOT EXISTS (
                SELECT 1 FROM {raw}.quarantine q
                WHERE q.source_file = r.replay_file AND (q.source_line = 0 OR r.original_line > 0))
        ),
        resolution AS (
            SELECT original_file, original_line, min(done_at) AS resolved_at, arg_min(replay_file, done_at) AS resolved_by,
                   arg_min(batch_id, done_at) AS resolved_batch
            FROM good GROUP BY original_file, original_line
        ),
        rows AS (
            SELECT q.*, r.original_file AS attempt_of_file, r.original_line AS attempt_of_line
            FROM {raw}.quarantine q
            LEFT JOIN replays r ON r.replay_file = q.source_file AND r.original_line > 0
        )
        SELECT rows.channel, rows.source_file, rows.source_line, rows.raw, rows.error_code, rows.message,
               rows.batch_id, rows.quarantined_at,
               CASE WHEN rows.attempt_of_file IS NOT NULL THEN 'replay_failed'
                    WHEN res.resolved_at IS NOT NULL THEN 'resolved' ELSE 'open' END AS status,
               res.resolved_at, res.resolved_by, res.resolved_batch,
               coalesce(rows.attempt_of_file, rows.source_file) AS root_file,
               coalesce(rows.attempt_of_line, rows.source_line) AS root_line
        FROM rows
        LEFT JOIN resolution res ON res.original_file = rows.source_file AND res.original_line = rows.source_line
    """


def status_summary_sql(db: str = "") -> str:
    """Per channel and reason: records quarantined, still open, resolved by replay, failed replay attempts."""
    return f"""
        SELECT channel, error_code, count(*)::BIGINT AS quarantined,
               count(*) FILTER (WHERE status = 'open')::BIGINT AS open,
               count(*) FILTER (WHERE status = 'resolved')::BIGINT AS resolved,
               count(*) FILTER (WHERE status = 'replay_failed')::BIGINT AS replay_failed,
               max(quarantined_at) AS last_quarantined_at
        FROM ({quarantine_status_sql(db)}) GROUP BY channel, error_code
    """


@dataclass(frozen=True)
class QuarantinedRecord:
    channel: str
    source_file: str
    source_line: int
    raw: str
    error_code: str
    message: str
    batch_id: str
    status: str
    resolved_by: str | None
    root_file: str
    root_line: int


_COLUMNS = (
    "channel, source_file, source_line, raw, error_code, message, batch_id, status, resolved_by, root_file, root_line"
)


def list_records(
    con: duckdb.DuckDBPyConnection,
    *,
    channel: str | None = None,
    code: str | None = None,
    status: str | None = "open",
    limit: int | None = 200,
) -> list[QuarantinedRecord]:
    """Quarantined records, newest first; `channel` matches the channel or its replay label (replay/app)."""
    where, params = ["true"], []
    if channel:
        where.append("(channel = ? OR channel = 'replay/' || ?)")
        params += [channel, channel]
    if code:
        where.append("error_code = ?")
        params.append(code)
    if status and status != "all":
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}: use {', '.join(STATUSES)} or all")
        where.append("status = ?")
        params.append(status)
    sql = (
        f"SELECT {_COLUMNS} FROM ({quarantine_status_sql()}) WHERE {' AND '.join(where)} "
        f"ORDER BY quarantined_at DESC, source_file, source_line" + (f" LIMIT {int(limit)}" if limit else "")
    )
    return [QuarantinedRecord(*row) for row in con.execute(sql, params).fetchall()]


def get_record(con: duckdb.DuckDBPyConnection, source_file: str, line: int) -> QuarantinedRecord | None:
    row = con.execute(
        f"SELECT {_COLUMNS} FROM ({quarantine_status_sql()}) WHERE source_file = ? AND source_line = ?",
        [source_file, line],
    ).fetchone()
    return QuarantinedRecord(*row) if row else None


# ---------------------------------------------------------------------------------------------------
# Replay


@dataclass(frozen=True)
class ReplayPlan:
    record: QuarantinedRecord  # the row asked for
    original_file: str  # what the replay resolves (the root, for a failed attempt's row)
    original_line: int
    channel: str
    target: str | None  # landing-relative path of the replay file; None when there is nothing to do
    content: bytes
    already: str | None = None  # why nothing is written: "resolved" or "pending"


def plan_replay(
    con: duckdb.DuckDBPyConnection, landing_root: Path, source_file: str, line: int, fixed: bytes | None = None
) -> ReplayPlan:
    """What replaying the quarantined record at `source_file` line `line` writes. `fixed` is the corrected
    raw text (the record only; for a CSV channel its rows, with or without the header); without it the record
    is replayed as quarantined (after a mapping was added, e.g. the missing SKU or store landed)."""
    record = get_record(con, source_file, line)
    if record is None:
        raise ReplayError(f"no quarantined record at {source_file} line {line}: see `orderhub quarantine list`")
    original_file, original_line = record.root_file, int(record.root_line)
    parts = PurePosixPath(original_file).parts
    if len(parts) != 4 or parts[0] != "orders":
        raise ReplayError(
            f"{original_file} is not an order file (orders/<channel>/<day>/<name>): statements and reference "
            "files are replayed by landing a corrected file"
        )
    channel = parts[1]
    spec = ADAPTERS.get(channel)
    if spec is None:
        raise ReplayError(f"{original_file}: no adapter for channel {channel!r}: nothing can load it")
    root = get_record(con, original_file, original_line) or record
    if root.status == "resolved":
        return ReplayPlan(record, original_file, original_line, channel, None, b"", already="resolved")

    if original_line == 0:  # a whole file was rejected: the replay is a whole file
        content = fixed if fixed is not None else _original_bytes(landing_root, original_file)
    elif spec.file_format == "csv":
        content = _csv_replay(spec, original_file, original_line, fixed if fixed is not None else root.raw.encode())
    else:
        content = _jsonl_replay(original_file, original_line, fixed if fixed is not None else root.raw.encode())

    original = PurePosixPath(original_file)
    for attempt in range(1000):
        # The same text replayed again after a mapping was added (it failed before) needs a new file name.
        digest = hashlib.blake2b(content + (b"#%d" % attempt if attempt else b""), digest_size=4).hexdigest()
        target = str(original.with_name(f"{REPLAY_PREFIX}{original.stem}-L{original_line}-{digest}{original.suffix}"))
        if not (landing_root / target).exists():
            return ReplayPlan(record, original_file, original_line, channel, target, content)
        processed = con.execute("SELECT count(*) FROM raw.ingest_files WHERE path = ?", [target]).fetchone()[0]
        if not processed:
            return ReplayPlan(record, original_file, original_line, channel, target, content, already="pending")
    raise ReplayError(f"{original_file} line {original_line}: 1000 replays already failed; fix the record instead")


def _original_bytes(landing_root: Path, original_file: str) -> bytes:
    path = landing_root / original_file
    if not path.is_file():
        raise ReplayError(f"{path} is not in the landing folder: pass the corrected file with --raw-file")
    return path.read_bytes()


def _jsonl_replay(original_file: str, line: int, text: bytes) -> bytes:
    lines = [row for row in _decode(text, original_file, line).splitlines() if row.strip()]
    if len(lines) != 1:
        raise ReplayError(f"{original_file} line {line}: a JSON-lines record is one line; the fix has {len(lines)}")
    return (lines[0] + "\n").encode("utf-8")


def _csv_replay(spec, original_file: str, line: int, text: bytes) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(spec.csv_header)
    header = buffer.getvalue()
    body = _decode(text, original_file, line).strip("\n")
    if body.split("\n", 1)[0].strip() == header.strip():
        body = body.split("\n", 1)[1] if "\n" in body else ""
    content = header + body + "\n"
    records = list(csv_records(content, original_file, spec.csv_header, spec.csv_key_column))
    if len(records) != 1:
        raise ReplayError(
            f"{original_file} line {line}: the fix holds {len(records)} records; a replay is one record "
            f"(the rows of one {spec.csv_key_column})"
        )
    return content.encode("utf-8")


def _decode(text: bytes, original_file: str, line: int) -> str:
    try:
        return text.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReplayError(
            f"{original_file} line {line}: the fix is not UTF-8 (byte {exc.start}): save it as UTF-8"
        ) from exc


def write_replay(landing_root: Path, plan: ReplayPlan) -> Path | None:
    """Land the replay file (a temporary name, then renamed into place, as every landing writer does)."""
    if plan.target is None:
        return None
    path = landing_root / plan.target
    if path.exists():
        return path  # the same fix, already landed: it loads once
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(plan.content)
    os.replace(temporary, path)
    return path


@dataclass(frozen=True)
class ReplayOutcome:
    state: str  # loaded | duplicate | quarantined | pending | resolved
    detail: str


def replay_outcome(con: duckdb.DuckDBPyConnection, plan: ReplayPlan) -> ReplayOutcome:
    """What happened to a replay file, from the warehouse."""
    if plan.target is None:
        root = get_record(con, plan.original_file, plan.original_line)
        return ReplayOutcome("resolved", f"already resolved by {root.resolved_by if root else '?'}: nothing to do")
    done = con.execute("SELECT batch_id FROM raw.ingest_files WHERE path = ?", [plan.target]).fetchone()
    if done is None:
        return ReplayOutcome("pending", f"{plan.target} is waiting in the landing folder for the next run")
    failed = con.execute(
        "SELECT error_code, message, count(*) OVER () FROM raw.quarantine WHERE source_file = ? "
        "AND (source_line = 0 OR ? > 0) ORDER BY source_line LIMIT 1",
        [plan.target, plan.original_line],
    ).fetchone()
    if failed:
        return ReplayOutcome("quarantined", f"quarantined again ({failed[0]}): {failed[1]}")
    loaded = con.execute("SELECT count(*) FROM raw.order_versions WHERE source_file = ?", [plan.target]).fetchone()[0]
    bad = con.execute("SELECT count(*) FROM raw.quarantine WHERE source_file = ?", [plan.target]).fetchone()[0]
    also = f"; {bad} of its records quarantined on their own (see `orderhub quarantine list`)" if bad else ""
    if loaded:
        return ReplayOutcome(
            "loaded", f"loaded in batch {done[0]} ({loaded} order version{'s' if loaded > 1 else ''}){also}"
        )
    return ReplayOutcome("duplicate", f"processed in batch {done[0]}: the same order version was already loaded{also}")
