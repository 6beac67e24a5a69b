"""The landing zone: which files are there, and which of them the checkpoint says are new.

Walking it costs one `stat` per business-day folder, not per file: a folder's listing is read only when the
folder changed. Adding, renaming or removing an entry moves the folder's ctime (the file's own mtime plays no
part, so a file copied in with an old mtime is still seen), and nothing can set a ctime back. The checkpoint
remembers, per folder, the signature at which every file in it was done (`ingest_folders`), so `pending`
lists only folders that changed since and asks the warehouse about their files only.

Files are immutable once they appear (docs/landing-formats.md): a path is loaded once. A file loaded before
that is found again with another size (a bill downloaded again into the same name, a writer appending after
the rename) is not loaded again, but it is not ignored in silence either: it is recorded once per size seen in
`ingest_file_changes`, and the batch reports it (`look`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contract import RAW_SCHEMA
from ingestion.warehouse import has_table

# A quarantined record re-delivered by `orderhub quarantine replay` (data_quality/quarantine.py) lands beside
# its original as `replay-<original stem>-L<line>-<hash>.<ext>`; it is counted as `replay/<channel>`, so a
# record that was quarantined and then replayed is not landed twice in its channel's numbers.
REPLAY_PREFIX = "replay-"

KINDS = ("reference", "orders", "settlements")  # reference first: orders are checked against it

# A folder changed this recently may change again within the same timestamp tick (coarse on most file
# systems, 2 s on FAT and some NFS servers): its signature is not trusted until it has been still this long.
SETTLE_NS = 2_000_000_000
FOLDERS_TABLE = f"{RAW_SCHEMA}.ingest_folders"
FOLDERS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {FOLDERS_TABLE} "
    "(folder VARCHAR PRIMARY KEY, signature VARCHAR NOT NULL, files INTEGER NOT NULL, checked_at TIMESTAMP)"
)
CHANGES_TABLE = f"{RAW_SCHEMA}.ingest_file_changes"
CHANGES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} (path VARCHAR NOT NULL, size_loaded BIGINT, "
    "size_seen BIGINT NOT NULL, seen_at TIMESTAMP, PRIMARY KEY (path, size_seen))"
)


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


@dataclass(frozen=True)
class Folder:
    """One business-day folder, `<kind>/<source>/<YYYY-MM-DD>`, with the signature of its listing."""

    root: Path
    kind: str
    source: str
    business_date: str
    signature: str  # inode:mtime_ns:ctime_ns; any entry added, renamed or removed changes it
    changed_ns: int  # the newer of mtime and ctime

    @property
    def relative(self) -> str:
        return f"{self.kind}/{self.source}/{self.business_date}"

    @property
    def path(self) -> Path:
        return self.root / self.relative

    def settled(self, now_ns: int) -> bool:
        return self.changed_ns < now_ns - SETTLE_NS

    def names(self) -> list[str]:
        """The visible files in it, by name (names sort in write order by contract)."""
        try:
            with os.scandir(self.path) as entries:
                return sorted(e.name for e in entries if visible_name(e.name) and e.is_file())
        except FileNotFoundError:
            return []

    def file(self, name: str, size_bytes: int | None = None) -> LandingFile:
        if size_bytes is None:
            size_bytes = (self.path / name).stat().st_size
        return LandingFile(self.root, f"{self.relative}/{name}", self.kind, self.source, self.business_date, size_bytes)


def visible_name(name: str) -> bool:
    return not name.startswith((".", "_")) and not name.endswith(".tmp")


def visible(path: Path) -> bool:
    """Writers rename finished files into place; temp and hidden names are never read."""
    return visible_name(path.name) and path.is_file()


def _subfolders(path: Path) -> Iterator[os.DirEntry]:
    try:
        with os.scandir(path) as entries:
            found = [e for e in entries if not e.name.startswith(".") and e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return
    yield from sorted(found, key=lambda e: e.name)


def folders(root: Path) -> Iterator[Folder]:
    """Every business-day folder, by kind (in KINDS order), source and day: one stat each, no file stats."""
    for kind in KINDS:
        for source in _subfolders(root / kind):
            for day in _subfolders(Path(source.path)):
                try:
                    st = day.stat()
                except FileNotFoundError:
                    continue
                yield Folder(
                    root,
                    kind,
                    source.name,
                    day.name,
                    f"{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}",
                    max(st.st_mtime_ns, st.st_ctime_ns),
                )


def _ordered(files: list[LandingFile]) -> list[LandingFile]:
    # Within a kind, by business day then name: names sort in write order by contract.
    return sorted(files, key=lambda f: (KINDS.index(f.kind), f.business_date, f.relative))


def discover(root: Path) -> list[LandingFile]:
    """Every visible landing file, in load order."""
    return _ordered([folder.file(name) for folder in folders(root) for name in folder.names()])


@dataclass(frozen=True)
class ChangedFile:
    """A file loaded before, found with another size than it was loaded at: its new content is not loaded."""

    relative: str
    size_loaded: int
    size_seen: int

    def describe(self) -> str:
        return (
            f"{self.relative} changed after it was loaded ({self.size_loaded:,} → {self.size_seen:,} bytes); "
            "landing files are immutable, so its new content was not loaded: land it under a new name"
        )


@dataclass(frozen=True)
class Look:
    files: list[LandingFile]  # not loaded yet, in load order
    changed: list[ChangedFile]  # loaded before and changed since, not reported before


def done_paths(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(f"SELECT path FROM {RAW_SCHEMA}.ingest_files").fetchall()}


def _known_folders(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not has_table(con, FOLDERS_TABLE):
        return {}
    return dict(con.execute(f"SELECT folder, signature FROM {FOLDERS_TABLE}").fetchall())


def pending(con: duckdb.DuckDBPyConnection, root: Path, *, remember: bool = True) -> list[LandingFile]:
    """The visible files the checkpoint has not seen, in load order (`look`)."""
    return look(con, root, remember=remember).files


def look(con: duckdb.DuckDBPyConnection, root: Path, *, remember: bool = True) -> Look:
    """The visible files the checkpoint has not seen, in load order, and the files it has seen that changed.

    Folders whose signature matches the one at which all their files were last found done are not listed;
    the others are, and only their files are looked up in the checkpoint. Folders found all done (and
    settled) are remembered at their new signature. Rows of `ingest_folders` are facts about files already
    committed as done, so writing them outside the batch's transaction cannot lose a file; so are the rows of
    `ingest_file_changes`, written for the changed files not recorded before. With `remember` false nothing
    is written (a read-only connection)."""
    if remember:
        con.execute(FOLDERS_DDL)
        con.execute(CHANGES_DDL)
    known = _known_folders(con)
    now_ns = time.time_ns()
    changed = [(folder, folder.names()) for folder in folders(root) if known.get(folder.relative) != folder.signature]
    candidates = [f"{folder.relative}/{name}" for folder, names in changed for name in names]
    done: dict[str, int | None] = {}
    if candidates:
        done = dict(
            con.execute(
                f"SELECT path, size_bytes FROM {RAW_SCHEMA}.ingest_files WHERE path IN (SELECT unnest(?::VARCHAR[]))",
                [candidates],
            ).fetchall()
        )
    files: list[LandingFile] = []
    rewritten: list[ChangedFile] = []
    all_done: list[tuple[str, str, int]] = []
    for folder, names in changed:
        new = [name for name in names if f"{folder.relative}/{name}" not in done]
        for name in new:
            try:
                files.append(folder.file(name))
            except FileNotFoundError:  # removed since it was listed: nothing to load
                continue
        rewritten += _changed_since_loaded(folder, names, done)
        if not new and folder.settled(now_ns):
            all_done.append((folder.relative, folder.signature, len(names)))
    rewritten = _not_reported(con, rewritten)
    if remember and rewritten:
        con.execute(
            f"INSERT OR IGNORE INTO {CHANGES_TABLE} SELECT unnest(?::VARCHAR[]), unnest(?::BIGINT[]), "
            "unnest(?::BIGINT[]), now()::TIMESTAMP",
            [[c.relative for c in rewritten], [c.size_loaded for c in rewritten], [c.size_seen for c in rewritten]],
        )
    if all_done and remember:
        folder_names, signatures, counts = (list(column) for column in zip(*all_done, strict=True))
        # One statement for all rows: the first batch over a long history remembers every folder at once.
        con.execute(
            f"INSERT OR REPLACE INTO {FOLDERS_TABLE} "
            "SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]), now()::TIMESTAMP",
            [folder_names, signatures, counts],
        )
    return Look(_ordered(files), rewritten)


def _changed_since_loaded(folder: Folder, names: list[str], done: dict[str, int | None]) -> list[ChangedFile]:
    """The files of a changed folder that were loaded at another size than they have now (one stat each)."""
    out = []
    directory = str(folder.path)  # os.stat on strings: pathlib's joins cost more than the stats themselves
    for name in names:
        relative = f"{folder.relative}/{name}"
        size_loaded = done.get(relative)
        if size_loaded is None:
            continue
        try:
            size_seen = os.stat(os.path.join(directory, name)).st_size
        except FileNotFoundError:
            continue
        if size_seen != size_loaded:
            out.append(ChangedFile(relative, size_loaded, size_seen))
    return out


def _not_reported(con: duckdb.DuckDBPyConnection, changed: list[ChangedFile]) -> list[ChangedFile]:
    if not changed or not has_table(con, CHANGES_TABLE):
        return changed
    reported = set(
        con.execute(
            f"SELECT path, size_seen FROM {CHANGES_TABLE} WHERE path IN (SELECT unnest(?::VARCHAR[]))",
            [[c.relative for c in changed]],
        ).fetchall()
    )
    return [c for c in changed if (c.relative, c.size_seen) not in reported]
