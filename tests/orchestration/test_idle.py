"""`orderhub run` with nothing new starts no run: one line, exit 0, the snapshot untouched. Anything the next
run would change (a new file, whatever its mtime; a failed last run; a write to the warehouse after the
snapshot; another clock asked for) makes it run. Real files, a real loaded warehouse, a real published
snapshot; the one full run is left to the e2e tests."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingestion import warehouse as contract_warehouse
from ingestion.loader import run_batch
from orchestration import idle
from orchestration.defs.serving.publish import publish
from orchestration.settings import Settings

AS_OF = dt.datetime(2026, 11, 26, 15, 59, 59)
LONG_AGO = time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, -1))


def land(root: Path, relative: str, mtime: float | None = None) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text('{"order_no": "A1"}\n')
    if mtime is not None:
        os.utime(temporary, (mtime, mtime))
    temporary.rename(path)


@pytest.fixture
def published(tmp_path) -> Settings:
    """A landing zone fully loaded into a warehouse, and the snapshot a successful run published after."""
    landing = tmp_path / "landing"
    land(landing, "orders/app/2026-11-25/app-000001.jsonl")
    land(landing, "orders/app/2026-11-26/app-000001.jsonl")
    settings = Settings.from_env({}, landing=landing, warehouse=tmp_path / "wh" / "orderhub.duckdb")
    con = contract_warehouse.connect(settings.warehouse)
    try:
        assert run_batch(con, landing).files == 2
    finally:
        con.close()
    publish(settings.warehouse, settings.serving, "run-1", as_of=AS_OF)
    return settings


def snapshot_meta(settings: Settings) -> tuple:
    con = duckdb.connect(str(settings.serving), read_only=True)
    try:
        return con.execute("SELECT published_at, run_id FROM snapshot_meta").fetchone()
    finally:
        con.close()


def test_orderhub_run_with_nothing_new_starts_no_run(published):
    """One line, exit 0, and the snapshot is the one published before (no run replaced it)."""
    before = snapshot_meta(published)
    env = {k: v for k, v in os.environ.items() if k not in ("ORDERHUB_AS_OF", "DAGSTER_HOME")}
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(published.landing),
         "--warehouse", str(published.warehouse)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "nothing new to load; the snapshot (as of 2026-11-26 15:59:59 UTC) is current: no run started"
    ]
    assert snapshot_meta(published) == before


def test_the_snapshot_clock_given_again_is_idle_and_another_clock_is_not(published):
    assert idle.check(published, AS_OF).idle
    later = idle.check(published, AS_OF + dt.timedelta(hours=1))
    assert not later.idle and "as of" in later.reason


def test_a_new_file_with_an_old_mtime_in_an_old_folder_needs_a_run(published):
    """Even once the checkpoint trusts the old day's folder as all done, a file copied into it is new."""
    time.sleep(2.2)  # the folders settle; the next look at the checkpoint remembers them as done
    con = duckdb.connect(str(published.warehouse))
    try:
        from ingestion.landing import pending

        assert pending(con, published.landing) == []
        remembered = con.execute("SELECT count(*) FROM raw.ingest_folders").fetchone()[0]
    finally:
        con.close()
    assert remembered == 2
    publish(published.warehouse, published.serving, "run-2", as_of=AS_OF)  # after the write above
    assert idle.check(published).idle

    land(published.landing, "orders/app/2026-11-25/app-000000.jsonl", mtime=LONG_AGO)
    verdict = idle.check(published)
    assert not verdict.idle and verdict.reason == "1 new landing files"


def test_a_failed_last_run_is_run_again(published):
    publish(published.warehouse, published.serving, "run-2", for_run="run-1", failures=["step dbt failed: boom"])
    verdict = idle.check(published)
    assert not verdict.idle and verdict.reason == "the last run failed"


def test_a_warehouse_written_after_the_snapshot_is_published_again(published):
    """E.g. the daily reconciliation built finance marts the dashboards show, or a run crashed after loading."""
    time.sleep(0.05)
    con = duckdb.connect(str(published.warehouse))
    try:
        con.execute("CREATE TABLE main.written_later AS SELECT 1 AS x")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    verdict = idle.check(published)
    assert not verdict.idle and "warehouse changed" in verdict.reason


def test_no_snapshot_or_no_warehouse_needs_a_run(published, tmp_path):
    published.serving.unlink()
    assert idle.check(published).reason == "no snapshot published yet"
    fresh = Settings.from_env({}, landing=published.landing, warehouse=tmp_path / "none" / "wh.duckdb")
    assert idle.check(fresh).reason == "no warehouse yet"


def test_a_loaded_file_rewritten_under_its_name_needs_one_run_to_report_it(published):
    """Its new content is not loaded (files are immutable), but the run records and reports it; then idle."""
    path = published.landing / "orders/app/2026-11-26/app-000001.jsonl"
    temporary = path.with_name(".rewrite")
    temporary.write_text('{"order_no": "A1"}\n{"order_no": "A2"}\n')
    temporary.rename(path)
    verdict = idle.check(published)
    assert not verdict.idle and verdict.reason == "1 landing files changed after they were loaded"

    con = contract_warehouse.connect(published.warehouse)
    try:
        assert [c.relative for c in run_batch(con, published.landing).changed_files] == [
            "orders/app/2026-11-26/app-000001.jsonl"
        ]
    finally:
        con.close()
    publish(published.warehouse, published.serving, "run-2", as_of=AS_OF)
    assert idle.check(published).idle
