"""The landing zone: which files are there, and which of them the checkpoint says are new."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contract import RAW_SCHEMA

# A quarantined record re-delivered by `orderhub quarantine replay` (data_quality/quarantine.py) lands beside
# its original as `replay-<original stem>-L<line>-<hash>.<ext>`; it is counted as `replay/<channel>`, so a
# record that was quarantined and then replayed is not landed twice in its channel's numbers.
REPLAY_PREFIX = "replay-"

KINDS = ("reference", "orders", "settlements")  # reference first: orders are checked against it


@dataclass(frozen=True)
class LandingFile:
    root: Path
    relative: str  # e.g. orders/meituan/2026-11-26/meituan-113000-00003.jsonl: the checkpoint key
    kind: str  # orders | reference | settlements
    source: str  # the channel (sales or settlement), or the reference table
    business_date: str
    size_bytes: int

    @property
    def path(self) -> Path:
        return self.root / self.relative


def visible(path: Path) -> bool:
    """Writers rename finished files into place; temp and hidden names are never read."""
    name = path.name
    return path.is_file() and not name.startswith((".", "_")) and not name.endswith(".tmp")


def discover(root: Path) -> list[LandingFile]:
    files: list[LandingFile] = []
    for kind in KINDS:
        base = root / kind
        if not base.is_dir():
            continue
        for path in sorted(base.glob("*/*/*")):
            if not visible(path):
                continue
            source, business_date = path.parent.parent.name, path.parent.name
            files.append(
                LandingFile(root, path.relative_to(root).as_posix(), kind, source, business_date, path.stat().st_size)
            )
    # Within a kind, by business day then name: names sort in write order by contract.
    files.sort(key=lambda f: (KINDS.index(f.kind), f.business_date, f.relative))
    return files


def done_paths(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(f"SELECT path FROM {RAW_SCHEMA}.ingest_files").fetchall()}


def pending(con: duckdb.DuckDBPyConnection, root: Path) -> list[LandingFile]:
    done = done_paths(con)
    return [f for f in discover(root) if f.relative not in done]
