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
