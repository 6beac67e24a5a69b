"""The landing reader's checkpoint shortcut: folders found all loaded are not listed again until they change,
and a file moved into such a folder, with however old an mtime, is still loaded by the next batch."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ingestion import landing, warehouse
from ingestion.loader import run_batch

LONG_AGO = time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, -1))


def land(root: Path, relative: str, mtime: float | None = None) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}")
    temporary.write_text('{"order_no": "A1"}\n')
    if mtime is not None:
        os.utime(temporary, (mtime, mtime))
    temporary.rename(path)


def test_a_file_moved_into_a_folder_already_loaded_is_loaded(tmp_path):
    root = tmp_path / "landing"
    for day in ("2026-11-01", "2026-11-02"):
        land(root, f"orders/app/{day}/app-000001.jsonl")
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        assert run_batch(con, root).files == 2
        time.sleep(landing.SETTLE_NS / 1e9 + 0.2)
        assert landing.pending(con, root) == []
        remembered = dict(con.execute(f"SELECT folder, files FROM {landing.FOLDERS_TABLE}").fetchall())
        assert remembered == {"orders/app/2026-11-01": 1, "orders/app/2026-11-02": 1}

        land(root, "orders/app/2026-11-01/app-000000.jsonl", mtime=LONG_AGO)
        assert [f.relative for f in landing.pending(con, root)] == ["orders/app/2026-11-01/app-000000.jsonl"]
        assert run_batch(con, root).files == 1
        assert landing.pending(con, root) == []
    finally:
        con.close()


def test_discover_skips_hidden_and_temporary_names_and_the_watch_state(tmp_path):
    root = tmp_path / "landing"
    land(root, "orders/app/2026-11-01/app-000001.jsonl")
    (root / "orders/app/2026-11-01/app-000002.jsonl.tmp").write_text("{}\n")
    (root / ".orderhub/landing-watch").mkdir(parents=True)
    (root / ".orderhub/landing-watch/abc.json").write_text("{}")
    (root / "orders/app/.hidden-day").mkdir()
    (root / "orders/app/.hidden-day/x.jsonl").write_text("{}\n")
    assert [f.relative for f in landing.discover(root)] == ["orders/app/2026-11-01/app-000001.jsonl"]


def test_a_loaded_file_rewritten_under_its_name_is_reported_once_not_loaded_again(tmp_path):
    """Landing files are immutable: a bill downloaded again into the same name is not loaded twice, but it is
    not ignored in silence either: the batch reports it (and the record keeps it) once per size seen."""
    root = tmp_path / "landing"
    land(root, "orders/app/2026-11-01/app-000001.jsonl")
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        first = run_batch(con, root)
        assert (first.files, first.changed_files) == (1, [])
        path = root / "orders/app/2026-11-01/app-000001.jsonl"
        size_loaded = path.stat().st_size
        rewritten = path.with_name(".app-000001.jsonl")
        rewritten.write_text('{"order_no": "A1"}\n{"order_no": "A2"}\n')
        rewritten.rename(path)  # written whole and renamed into place, as writers do

        again = run_batch(con, root)
        assert again.files == 0, "its new content is not loaded under a name already done"
        assert [(c.relative, c.size_loaded, c.size_seen) for c in again.changed_files] == [
            ("orders/app/2026-11-01/app-000001.jsonl", size_loaded, path.stat().st_size)
        ]
        assert "changed after it was loaded" in again.changed_files[0].describe()
        assert run_batch(con, root).changed_files == [], "reported once"
        recorded = con.execute(f"SELECT path, size_loaded, size_seen FROM {landing.CHANGES_TABLE}").fetchall()
        assert recorded == [("orders/app/2026-11-01/app-000001.jsonl", size_loaded, path.stat().st_size)]
    finally:
        con.close()
