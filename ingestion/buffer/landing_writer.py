"""The buffer's consumer: turns intake-log entries into landing files the batch loader already reads.

Exactly once in the files, at-least-once from the log: an entry is acked only after its file is durable
(temp name, fsync, os.replace, fsync of the folder). A file is named after its first entry's id. Landing
files are immutable (readers checkpoint by path), so a file is never rewritten; instead a hidden
`.<name>.ids` beside it, made durable before the file, lists the entry ids it holds until they are acked.
An entry that comes back (its consumer died before acking) and is in such a list is acked as done; the rest
of its batch is landed under the name of the first of them. The lists, not the names, decide, because a
claimed batch of a dead consumer may be cut differently from the batch it wrote.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ingestion.buffer.log import IntakeEntry, IntakeLog, RejectedEntry
from ingestion.faults import crash_point

log = logging.getLogger(__name__)

LOCAL = ZoneInfo("Asia/Shanghai")
REJECTS = "_intake_rejects"  # landing readers skip `_` names


def file_stem(channel: str, entry_id: str) -> str:
    """`<channel>-<HHMMSS>-<ms>-<seq>`: local time of the id first (the landing convention), then the whole
    id zero-padded, so names sort in stream order and two entries never share a name."""
    ms, _, seq = entry_id.partition("-")
    local = datetime.fromtimestamp(int(ms) / 1000, UTC).astimezone(LOCAL)
    return f"{channel}-{local:%H%M%S}-{int(ms):013d}-{int(seq or 0):06d}"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, text: str) -> None:
    """Readers never see half a file, and once this returns the file survives a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class LandingWriter:
    def __init__(
        self,
        log: IntakeLog,
        landing_root: Path,
        consumer: str,
        max_records: int = 2000,
        *,
        claim_idle_ms: int | None = 60_000,
    ) -> None:
        if max_records < 1:
            raise ValueError(f"max_records must be at least 1, got {max_records}")
        self.log, self.root, self.consumer, self.max_records = log, Path(landing_root), consumer, max_records
        self.claim_idle_ms = claim_idle_ms
        self.landed = 0  # records written to landing files by this writer
        self.rejected = 0  # malformed entries written to the rejects folder
        self.duplicate_deliveries = 0  # entries found already landed (re-delivered after a crash)

    def drain_once(self, block_ms: int = 500) -> list[Path]:
        """Land one batch; returns the files written (landing files, then any rejects file)."""
        if self.claim_idle_ms is not None:
            self.log.claim_stale(self.consumer, self.claim_idle_ms)
        batch = self.log.read(self.consumer, self.max_records, block_ms)
        if not batch:
            return []
        groups: dict[tuple[str, str], list[tuple[str, IntakeEntry]]] = defaultdict(list)
        rejects: list[tuple[str, RejectedEntry]] = []
        for entry_id, item in batch:
            if isinstance(item, RejectedEntry):
                rejects.append((entry_id, item))
            else:
                groups[(item.channel, item.business_date)].append((entry_id, item))

        written: list[Path] = []
        id_lists: dict[Path, set[str]] = {}
        for (channel, date), items in groups.items():
            written += self._land(self.root / "orders" / channel / date, channel, items, id_lists)
            if len(written) == 1:
                crash_point("intake.after_first_file")
        if rejects:
            written += self._reject(rejects)
        crash_point("intake.before_ack")
        acked = [entry_id for entry_id, _ in batch]
        self.log.ack(acked)
        self._forget(id_lists, set(acked))
        return written

    def _land(self, folder: Path, channel: str, items, id_lists: dict[Path, set[str]]) -> list[Path]:
        landed: set[str] = set()
        for ids_path in folder.glob(".*.ids"):
            ids = id_lists.setdefault(ids_path, set(ids_path.read_text().split()))
            # A list whose file is missing was cut off by a crash between the two writes: its entries are
            # not landed. (The list goes first, so a file that exists always has its list.)
            if (folder / f"{ids_path.name[1 : -len('.ids')]}.jsonl").exists():
                landed |= ids
        fresh = [(entry_id, entry) for entry_id, entry in items if entry_id not in landed]
        self.duplicate_deliveries += len(items) - len(fresh)
        if not fresh:
            return []
        stem = file_stem(channel, fresh[0][0])
        path, ids_path = folder / f"{stem}.jsonl", folder / f".{stem}.ids"
        if path.exists():
            # Its id list is gone although the entry came back (a hand-made change): never rewrite a file the
            # loader may have read; land beside it (the loader counts an identical re-push as a duplicate).
            log.warning("%s exists without its id list; landing %d entries beside it", path, len(fresh))
            path = folder / f"{stem}-again.jsonl"
        else:
            ids = [entry_id for entry_id, _ in fresh]
            write_durably(ids_path, "".join(f"{entry_id}\n" for entry_id in ids))
            id_lists[ids_path] = set(ids)
            crash_point("intake.between_ids_and_file")
        write_durably(path, "".join(f"{entry.record}\n" for _, entry in fresh))
        self.landed += len(fresh)
        return [path]

    @staticmethod
    def _forget(id_lists: dict[Path, set[str]], acked: set[str]) -> None:
        """Acked entries never come back, so their ids need no record; a list empties when its file's last
        entry is acked (possibly drains later, when a crash cut the batch). Not fsynced: losing this update
        only leaves ids that are never asked about again. Two consumers racing here can only leave ids in."""
        for ids_path, ids in id_lists.items():
            left = ids - acked
            if left == ids:
                continue
            if not left:
                ids_path.unlink(missing_ok=True)
                continue
            tmp = ids_path.with_name(f"{ids_path.name}.tmp")
            tmp.write_text("".join(f"{entry_id}\n" for entry_id in sorted(left)))
            os.replace(tmp, ids_path)

    def _reject(self, rejects: list[tuple[str, RejectedEntry]]) -> list[Path]:
        """Rejects files carry their entry ids in every line, so a repeated drain skips what is there."""
        folder = self.root / REJECTS
        done: set[str] = set()
        if folder.is_dir():
            for existing in folder.glob("*.jsonl"):
                done |= {json.loads(line)["id"] for line in existing.read_text().splitlines() if line.strip()}
        fresh = [(entry_id, item) for entry_id, item in rejects if entry_id not in done]
        if not fresh:
            return []
        lines = [
            json.dumps({"id": entry_id, "reason": item.reason, "fields": dict(item.fields)}, ensure_ascii=False)
            for entry_id, item in fresh
        ]
        path = folder / f"{file_stem('intake', fresh[0][0])}.jsonl"
        write_durably(path, "\n".join(lines) + "\n")
        self.rejected += len(fresh)
        for entry_id, item in fresh:
            log.warning("intake entry %s rejected to %s: %s", entry_id, path, item.reason)
        return [path]

    def run(self, stop: threading.Event, block_ms: int = 500) -> None:
        """Drain until `stop` is set; a failed drain (Redis away, disk full) is retried, never fatal: its
        entries stay unacked and come back."""
        backoff = 0.5
        while not stop.is_set():
            try:
                self.drain_once(block_ms)
                backoff = 0.5
            except Exception:
                log.exception("landing drain failed; retrying in %.1f s", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
