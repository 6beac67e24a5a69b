"""Micro-batches merge the warehouse's small row groups on a cadence, everything else always
(orchestration/compaction.py); and what the cadence relies on in DuckDB itself: with the checkpoint vacuum off,
appends stay row groups of their own, and the next checkpoint with it on merges them."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from ingestion.warehouse import defer_compaction
from orchestration.compaction import defer_this_run

EVERY = timedelta(minutes=10)
T0 = datetime(2026, 12, 5, 8, 0)


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "orderhub.duckdb"))
    yield con
    con.close()


def test_a_warehouse_never_merged_merges_first(con):
    assert not defer_this_run(con, micro_batch=True, every=EVERY, now=T0)


def test_micro_batches_between_merges_defer_and_the_first_one_due_merges(con):
    defer_this_run(con, micro_batch=True, every=EVERY, now=T0)
    assert defer_this_run(con, micro_batch=True, every=EVERY, now=T0 + timedelta(minutes=3))
    # Deferring does not move the last merge: the cadence is from it, not from the last batch.
    assert defer_this_run(con, micro_batch=True, every=EVERY, now=T0 + timedelta(minutes=9))
    assert not defer_this_run(con, micro_batch=True, every=EVERY, now=T0 + timedelta(minutes=10))
    assert defer_this_run(con, micro_batch=True, every=EVERY, now=T0 + timedelta(minutes=11))


def test_other_runs_always_merge(con):
    defer_this_run(con, micro_batch=True, every=EVERY, now=T0)
    assert not defer_this_run(con, micro_batch=False, every=EVERY, now=T0 + timedelta(minutes=1))
    # ... and count as the last merge.
    assert defer_this_run(con, micro_batch=True, every=EVERY, now=T0 + timedelta(minutes=2))


def test_a_clock_set_back_merges_rather_than_deferring_for_ever(con):
    defer_this_run(con, micro_batch=True, every=EVERY, now=T0)
    assert not defer_this_run(con, micro_batch=True, every=EVERY, now=T0 - timedelta(days=1))


def test_the_decision_is_kept_for_dbt(con):
    defer_this_run(con, micro_batch=True, every=EVERY, now=T0)
    defer_this_run(con, micro_batch=True, every=EVERY, now=T0 + timedelta(minutes=1))
    assert con.execute("SELECT merged_at, deferred FROM pipeline.compaction").fetchall() == [(T0, True)]


def _row_groups(con) -> int:
    return con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')").fetchone()[0]


def test_deferred_appends_stay_apart_until_a_checkpoint_with_vacuum_merges_them(tmp_path):
    path = str(tmp_path / "rows.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT range AS id, repeat('x', 200) AS raw FROM range(50000)")
    con.execute("CHECKPOINT")
    before = _row_groups(con)
    defer_compaction(con, True)
    for n in range(8):
        con.execute(f"INSERT INTO t SELECT range, 'y' FROM range({100000 + n * 500}, {100000 + n * 500 + 500})")
        con.execute("CHECKPOINT")
    assert _row_groups(con) == before + 8
    con.close()

    # A later run with vacuum on (a fresh process: the setting's default) and any write merges them.
    con = duckdb.connect(path)
    defer_compaction(con, False)
    con.execute("CREATE TABLE other AS SELECT 1 AS x")
    con.execute("CHECKPOINT")
    assert _row_groups(con) <= before + 1
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 54000
    con.close()
