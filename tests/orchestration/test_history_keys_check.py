"""The raw history's keys, checked by the checks job (orchestration/defs/ingest/checks.py) for every batch
loaded since the check last passed: a duplicate is found whichever batch made it, a failing check keeps failing
until the rows are mended, and a batch is read once it has passed."""

from __future__ import annotations

from pathlib import Path

import duckdb
from meituan_pushes import CTIME, DAY, RICE, SPINACH, meituan_push, write_jsonl, write_reference

from ingestion import order_versions, warehouse
from ingestion.loader import run_batch
from orchestration.defs.ingest.checks import history_keys_unique
from orchestration.resources import Warehouse


def _load(landing: Path, wh: Path, name: str, order: str) -> None:
    write_jsonl(landing / "orders" / "meituan" / DAY / f"meituan-{name}.jsonl", [meituan_push(order, [SPINACH], CTIME)])
    con = warehouse.connect(wh)
    try:
        run_batch(con, landing)
    finally:
        con.close()


def _check(wh: Path):
    return history_keys_unique(warehouse=Warehouse(path=str(wh)))


def test_the_history_keys_of_every_batch_since_the_last_pass_are_checked_once(tmp_path: Path) -> None:
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_reference(landing)
    _load(landing, wh, "1", "MT1")
    _load(landing, wh, "2", "MT2")
    first = _check(wh)
    assert first.passed and first.metadata["batches_checked"].value == 2

    # What a loader bug would leave: a version of MT1 (the first batch's) written again, then a new batch.
    with duckdb.connect(str(wh)) as con:
        con.execute("INSERT INTO raw.order_history SELECT * FROM raw.order_history WHERE order_key = 'meituan:MT1'")
    write_jsonl(landing / "orders" / "meituan" / DAY / "meituan-3.jsonl", [meituan_push("MT1", [RICE], CTIME + 60)])
    con = warehouse.connect(wh)
    run_batch(con, landing)
    con.close()
    for _ in range(2):  # still failing on the next run: the batch stays unchecked
        failed = _check(wh)
        assert not failed.passed and failed.metadata["duplicated_keys"].value == 1

    with duckdb.connect(str(wh)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE raw.order_history AS SELECT DISTINCT ON (order_key, raw_hash) * FROM raw.order_history"
        )
    mended = _check(wh)
    assert mended.passed and mended.metadata["batches_checked"].value == 1
    assert _check(wh).metadata["batches_checked"].value == 0


def test_a_warehouse_made_before_the_check_moved_counts_its_batches_as_checked(tmp_path: Path) -> None:
    """Its raw load checked each batch as it landed: the migration records them, so the first scheduled check
    reads nothing old."""
    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_reference(landing)
    _load(landing, wh, "1", "MT1")
    with duckdb.connect(str(wh)) as con:
        con.execute("DROP TABLE raw.history_keys_checked")
        con.execute("DELETE FROM raw.migrations WHERE name = 'history_keys_checked'")
    warehouse.connect(wh).close()
    with duckdb.connect(str(wh)) as con:
        assert order_versions.unchecked_history_batches(con) == []
    assert _check(wh).metadata["batches_checked"].value == 0


def test_a_long_backlog_is_checked_a_part_at_a_time(tmp_path: Path, monkeypatch) -> None:
    from orchestration.defs.ingest import checks

    landing, wh = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_reference(landing)
    for n in range(3):
        _load(landing, wh, str(n), f"MT{n}")
    monkeypatch.setattr(checks, "MOST_BATCHES_PER_RUN", 2)
    seen = [(r.metadata["batches_checked"].value, r.metadata["batches_left"].value) for r in (_check(wh), _check(wh))]
    assert seen == [(2, 1), (1, 0)]  # three batches: the first carried the reference files too
