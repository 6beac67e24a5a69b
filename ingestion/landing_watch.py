"""What a watcher of the landing zone has seen: per business-day folder, its signature and a digest of its
file names, so a look costs one stat per folder and a listing of the folders that changed only.

A file is new when its name was not in its folder's listing before, whatever its mtime (an unzipped or
copied-in file keeps an old one). The state is kept in a file under the landing root's hidden folder, named
by the digest of its content; the watcher's cursor is that name, a few bytes. A watcher that records the
new name only after acting on it (a Dagster sensor commits its cursor with its run requests) keeps the
previous file until then, so a tick that failed half-way is simply repeated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from ingestion.landing import folders

STATE_DIR = Path(".orderhub") / "landing-watch"
INLINE = "inline:"  # a cursor carrying the state itself, when the landing root is read-only
# folder -> [signature ("" until the folder has settled: listed again next time), file count, names digest]
State = dict[str, list]


@dataclass(frozen=True)
class Look:
    state: State
    new_in: dict[str, int]  # folder -> files now in it, for folders with a name not seen before

    @property
    def new_files(self) -> bool:
        return bool(self.new_in)


def _digest(names: list[str]) -> str:
    return hashlib.sha1("\n".join(names).encode()).hexdigest()[:16]


def look(root: Path, seen: State) -> Look:
    """Compare the landing zone with `seen`: list only folders that are new or whose signature changed."""
    now_ns = time.time_ns()
    state: State = {}
    new_in: dict[str, int] = {}
    for folder in folders(root):
        before = seen.get(folder.relative)
        if before is not None and before[0] and before[0] == folder.signature:
            state[folder.relative] = before
            continue
        names = folder.names()
        digest = _digest(names)
        state[folder.relative] = [folder.signature if folder.settled(now_ns) else "", len(names), digest]
        # A changed digest with files in it: a name was added (a removal alone is not expected in a zone
        # whose files are immutable; it costs at most one run that finds nothing to load).
        if names and (before is None or before[2] != digest):
            new_in[folder.relative] = len(names)
    return Look(state, new_in)


def load(root: Path, cursor: str | None) -> State:
    """The state a cursor names; empty (everything is new) for no cursor, an older cursor format or a
    state file that is gone."""
    if not cursor:
        return {}
    try:
        if cursor.startswith(INLINE):
            return json.loads(zlib.decompress(base64.b64decode(cursor[len(INLINE) :])))
        return json.loads((root / STATE_DIR / f"{cursor}.json").read_text())
    except (OSError, ValueError, zlib.error):
        return {}


def save(root: Path, state: State, keep: str | None = None) -> str:
    """Write `state` and return its cursor. Older state files go, except `keep` (the cursor still committed)."""
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    name = hashlib.sha1(text.encode()).hexdigest()[:20]
    folder = root / STATE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_text(text)
        os.replace(temporary, folder / f"{name}.json")
    except OSError:
        return INLINE + base64.b64encode(zlib.compress(text.encode(), 9)).decode()
    for old in folder.glob("*.json"):
        if old.stem not in (name, keep):
            old.unlink(missing_ok=True)
    return name
