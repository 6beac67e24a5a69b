"""Finding the snapshot and telling published versions apart (the cache key)."""

from __future__ import annotations

import os
from pathlib import Path

from dashboard_snapshots import Snapshot, publish, write_snapshot

from dashboards.snapshot import load_live, snapshot_version


def test_missing_snapshot_has_no_version(tmp_path: Path):
    """No file yet: no version and no data (the page shows its info message), not an error."""
    assert snapshot_version(tmp_path / "serving.duckdb") is None
    assert load_live(tmp_path / "serving.duckdb") is None


def test_version_changes_when_republished_within_one_mtime_tick(serving: Path):
    """A publish whose file has the very same mtime as the previous one (coarse file-system clocks) is
    still a new version: os.replace brings a new inode."""
    version = snapshot_version(serving)
    before = serving.stat()
    tmp = serving.with_name("next.tmp")
    write_snapshot(tmp, Snapshot(run_id="run-002"))
    os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(tmp, serving)
    assert serving.stat().st_mtime_ns == before.st_mtime_ns
    assert snapshot_version(serving) != version


def test_version_is_stable_for_an_unchanged_file(serving: Path):
    """Reading the snapshot does not change its version (read-only), so it is not re-queried."""
    version = snapshot_version(serving)
    load_live(serving)
    assert snapshot_version(serving) == version
    publish(serving, Snapshot(run_id="run-002"))
    assert snapshot_version(serving) != version
