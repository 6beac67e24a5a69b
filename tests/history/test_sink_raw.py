"""The raw order tables in ClickHouse: copied by batch past a watermark, a replayed batch leaves one row per
key, a changed re-push leaves its newest version only (its removed line and its old partition retracted), and
a sync that fails half-way is made good by the next. Real chdb, real DuckDB filled by the real loader."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from history_harness import clickhouse, duck_count, final_count, stored_count
from meituan_pushes import CTIME, DAY, RICE, SPINACH, meituan_push, write_jsonl, write_reference

from history import scope, sink
from history.schema import RAW
from ingestion import warehouse
from ingestion.loader import run_batch

RAW_TABLES = [spec.name for spec in RAW]
OCT_31 = 1793426400  # 2026-10-31 06:00:00 UTC: another month than CTIME's


@pytest.fixture(scope="module")
def small_day(tmp_path_factory) -> Path:
    """A simulated day of 300 orders on all six channels (bad records included)."""
    from simulator import simulate_day

    landing = tmp_path_factory.mktemp("landing")
    simulate_day(dt.date(2026, 11, 26), orders=300, seed=5, out=landing)
    return landing


def loaded(landing: Path, path: Path):
    con = warehouse.connect(path)
    run_batch(con, landing)
    return con


def test_a_simulated_day_arrives_whole_and_a_replay_changes_no_count(small_day, tmp_path):
    duck = loaded(small_day, tmp_path / "wh.duckdb")
    with clickhouse(tmp_path / "ch") as client:
        # Small chunks: many inserts per table, as a large replay would make.
        written = sink.sync(duck, client, tables=RAW_TABLES, chunk_rows=97)
        counts = {spec.name: duck_count(duck, spec.source) for spec in RAW}
        assert counts["orders"] > 200 and counts["order_lines"] > counts["orders"]
        assert written == counts
        assert {t: final_count(client, t) for t in RAW_TABLES} == counts
        assert client.query("SELECT sum(paid_amount), min(created_at), max(created_at) FROM orders FINAL").result_rows[
            0
        ] == tuple(duck.execute("SELECT sum(paid_amount), min(created_at), max(created_at) FROM raw.orders").fetchone())

        # A sync with nothing new writes nothing.
        assert sink.sync(duck, client, tables=RAW_TABLES) == dict.fromkeys(RAW_TABLES, 0)

        # The same batches again (a run that wrote them and failed before its watermark moved): every row is
        # stored twice, once per version, and FINAL (and a merge) leaves one per key.
        client.command(f"TRUNCATE TABLE {sink.WATERMARKS}")
        for table in RAW_TABLES:
            client.command(f"SYSTEM STOP MERGES {table}")  # a background merge would collapse the copies early
        assert sink.sync(duck, client, tables=RAW_TABLES) == counts
        assert {t: stored_count(client, t) for t in RAW_TABLES} == {t: 2 * n for t, n in counts.items()}
        assert {t: final_count(client, t) for t in RAW_TABLES} == counts
        for table in RAW_TABLES:
            client.command(f"SYSTEM START MERGES {table}")
            client.command(f"OPTIMIZE TABLE {table} FINAL")
        assert {t: stored_count(client, t) for t in RAW_TABLES} == counts
    duck.close()


def test_a_redelivered_file_loads_as_duplicates_and_changes_nothing(small_day, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(small_day, landing)
    duck = loaded(landing, tmp_path / "wh.duckdb")
    with clickhouse(tmp_path / "ch") as client:
        sink.sync(duck, client, tables=RAW_TABLES)
        before = {t: final_count(client, t) for t in RAW_TABLES}
        app_file = sorted((landing / "orders" / "app").rglob("*.jsonl"))[0]
        shutil.copyfile(app_file, app_file.with_name("again-" + app_file.name))
        again = run_batch(duck, landing)
        assert again.files == 1
        sink.sync(duck, client, tables=RAW_TABLES)
        assert {t: final_count(client, t) for t in RAW_TABLES} == before
    duck.close()


def test_a_changed_repush_leaves_one_row_with_the_new_values_and_drops_the_removed_line(tmp_path):
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT1", [SPINACH, RICE], CTIME)])
    duck = loaded(landing, tmp_path / "wh.duckdb")
    with clickhouse(tmp_path / "ch") as client:
        sink.sync(duck, client, tables=RAW_TABLES)
        assert client.query("SELECT paid_amount FROM orders FINAL").result_rows == [(Decimal("40.00"),)]
        assert final_count(client, "order_lines") == 2

        # Rice out of stock: the order is re-pushed without it, refunded.
        write_jsonl(mt / "meituan-120000-00002.jsonl", [meituan_push("MT1", [SPINACH], CTIME + 600)])
        run_batch(duck, landing)
        sink.sync(duck, client, tables=RAW_TABLES)
        assert client.query("SELECT order_key, paid_amount, goods_amount FROM orders FINAL").result_rows == [
            ("meituan:MT1", Decimal("20.00"), Decimal("20.00"))
        ]
        assert client.query("SELECT line_no, sku_id FROM order_lines FINAL").result_rows == [(1, "SKU0001")]
        # Merged, the old version is gone from storage; the removed line stays only as its retraction.
        client.command("OPTIMIZE TABLE orders FINAL")
        assert stored_count(client, "orders") == 1
    duck.close()


def test_a_repush_into_another_month_leaves_no_copy_in_the_old_partition(tmp_path):
    """ReplacingMergeTree collapses a key only within a partition: the order's old row, in November's
    partition, would stay current beside the new one in October's. The sink retracts it."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT9", [SPINACH, RICE], CTIME)])
    duck = loaded(landing, tmp_path / "wh.duckdb")
    with clickhouse(tmp_path / "ch") as client:
        sink.sync(duck, client, tables=RAW_TABLES)
        write_jsonl(
            mt / "meituan-120000-00002.jsonl", [meituan_push("MT9", [SPINACH, RICE], CTIME + 600, ctime=OCT_31)]
        )
        run_batch(duck, landing)
        assert duck.execute("SELECT created_at FROM raw.orders").fetchall() == [(dt.datetime(2026, 10, 31, 6, 0),)]
        sink.sync(duck, client, tables=RAW_TABLES)
        for table in ("orders", "order_lines"):
            client.command(f"OPTIMIZE TABLE {table} FINAL")
        assert client.query("SELECT _partition_id, created_at FROM orders FINAL").result_rows == [
            ("202610", dt.datetime(2026, 10, 31, 6, 0))
        ]
        assert client.query("SELECT DISTINCT _partition_id FROM order_lines FINAL").result_rows == [("202610",)]
        assert final_count(client, "order_lines") == 2
        # The marts' days this batch can have changed: the order's new day and its old one, each with its
        # neighbours (Shanghai days against UTC times).
        last = sink.new_batches(duck, client, "fct_orders")[-1:]
        assert {dt.date(2026, 10, 31), dt.date(2026, 11, 26)} <= scope.touched_days(duck, last)
        assert dt.date(2026, 11, 15) not in scope.touched_days(duck, last)
    duck.close()


def test_a_sync_that_fails_before_its_watermark_moves_is_made_good_by_the_next(small_day, tmp_path, monkeypatch):
    duck = loaded(small_day, tmp_path / "wh.duckdb")
    with clickhouse(tmp_path / "ch") as client:

        def fail(*args, **kwargs):
            raise RuntimeError("ClickHouse went away")

        with monkeypatch.context() as patch:
            patch.setattr(sink, "_advance", fail)
            with pytest.raises(RuntimeError, match="went away"):
                sink.sync(duck, client, tables=RAW_TABLES)
        assert sink.watermark(client, "orders") == (sink._EPOCH, "")
        sink.sync(duck, client, tables=RAW_TABLES)
        assert {t: final_count(client, t) for t in RAW_TABLES} == {s.name: duck_count(duck, s.source) for s in RAW}
        last = duck.execute("SELECT max(finished_at) FROM raw.ingest_batches").fetchone()[0]
        assert sink.watermark(client, "orders")[0] == last
    duck.close()


def test_the_watermark_is_kept_in_utc_whatever_the_hosts_zone(tmp_path):
    """The warehouse's times are naive UTC; a naive time handed to clickhouse-connect is read in the host's
    zone. Under Asia/Shanghai that would put the watermark 8 hours early (batches copied again and again) or,
    west of Greenwich, late (batches skipped). Run in a process of its own, with TZ set."""
    script = (
        "import datetime as dt, sys\n"
        "from history.client import connect\n"
        "from history import sink\n"
        "client = connect(sys.argv[1])\n"
        "for statement in sink.BOOKKEEPING_DDL: client.command(statement)\n"
        "mark = dt.datetime(2026, 11, 26, 3, 0, 0, 123456)\n"
        "sink._advance(client, 'orders', (mark, 'b1'), 1)\n"
        "assert sink.watermark(client, 'orders') == (mark, 'b1'), sink.watermark(client, 'orders')\n"
    )
    for zone in ("Asia/Shanghai", "America/Los_Angeles"):
        env = {**os.environ, "TZ": zone}
        done = subprocess.run(
            [sys.executable, "-c", script, f"chdb://{tmp_path / zone.replace('/', '-')}"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]


def test_orders_keyed_again_under_new_address_rules_replace_their_copies(small_day, tmp_path):
    """A change of the address rules rewrites stored orders' address columns in place, in no batch
    (ingestion/address_rekey.py): the sink copies exactly those orders again, once per edition."""
    from ingestion import address_rekey

    duck = loaded(small_day, tmp_path / "wh.duckdb")
    keys = "SELECT order_key, address_key, street FROM {} ORDER BY order_key"
    with clickhouse(tmp_path / "ch") as client:
        sink.sync(duck, client, tables=RAW_TABLES)
        # As if the warehouse and ClickHouse had been filled under older rules.
        for table in ("raw.orders", "raw.order_history"):
            duck.execute(f"UPDATE {table} SET address_key = address_key || '-old' WHERE address_key IS NOT NULL")
        duck.execute(f"DELETE FROM {warehouse.MIGRATIONS} WHERE name = ?", [address_rekey.migration_name()])
        client.command(f"TRUNCATE TABLE {sink.WATERMARKS}")
        client.command("TRUNCATE TABLE orders")
        sink.sync(duck, client, tables=RAW_TABLES)
        assert all(k.endswith("-old") for _, k, _ in client.query(keys.format("orders FINAL")).result_rows if k)

        done = address_rekey.rekey(duck)
        written = sink.sync(duck, client, tables=RAW_TABLES)

        assert written["orders"] == done.changed_orders > 0
        assert (
            client.query(keys.format("orders FINAL")).result_rows == duck.execute(keys.format("raw.orders")).fetchall()
        )
        assert final_count(client, "orders") == duck_count(duck, "raw.orders")
        assert sink.sync(duck, client, tables=RAW_TABLES)["orders"] == 0, "the same edition copied twice"
    duck.close()
