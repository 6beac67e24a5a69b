"""The ClickHouse schema: types mapped from the warehouse's, tables created and migrated by the platform (a
table made from an older column list gets the new column and its values), changes it cannot make in place
refused with what to do, and the engine fact the partition choice rests on. Real chdb, real DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from history_harness import clickhouse, final_count
from meituan_pushes import CTIME, DAY, RICE, SPINACH, meituan_push, write_jsonl, write_reference

from history import schema, sink
from ingestion import warehouse
from ingestion.loader import run_batch


@pytest.mark.parametrize(
    ("duck_type", "nullable", "expected"),
    [
        ("DECIMAL(18,2)", True, "Nullable(Decimal(18, 2))"),
        ("TIMESTAMP", False, "DateTime64(6, 'UTC')"),
        ("TIMESTAMP WITH TIME ZONE", True, "Nullable(DateTime64(6, 'UTC'))"),
        ("VARCHAR", False, "String"),
        ("VARCHAR", True, "Nullable(String)"),
        ("DATE", True, "Nullable(Date32)"),
        ("BIGINT", True, "Nullable(Int64)"),
        ("INTEGER", True, "Nullable(Int32)"),
        ("DOUBLE", True, "Nullable(Float64)"),
        ("BOOLEAN", True, "Nullable(Bool)"),
    ],
)
def test_types(duck_type, nullable, expected):
    assert schema.clickhouse_type(duck_type, nullable=nullable) == expected


def test_a_type_without_a_mapping_is_named():
    with pytest.raises(TypeError, match="INTERVAL"):
        schema.clickhouse_type("INTERVAL", nullable=True)


def test_sort_key_columns_are_not_nullable_and_the_rest_are(tmp_path):
    duck = warehouse.connect(tmp_path / "wh.duckdb")
    columns = {c.name: c for c in schema.source_columns(duck, schema.SPECS["orders"])}
    assert columns["created_at"].clickhouse_type == "DateTime64(6, 'UTC')"
    assert columns["store_id"].clickhouse_type == "String"
    assert columns["paid_amount"].clickhouse_type == "Nullable(Decimal(18, 2))"
    lines = [c.name for c in schema.source_columns(duck, schema.SPECS["order_lines"])]
    assert lines[-1] == "order_created_at"  # the order's time, for the lines' partition
    duck.close()


def one_order_warehouse(tmp_path):
    landing = tmp_path / "landing"
    write_reference(landing)
    write_jsonl(landing / "orders" / "meituan" / DAY / "mt-1.jsonl", [meituan_push("MT1", [SPINACH, RICE], CTIME)])
    duck = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(duck, landing)
    return duck


def test_a_table_from_an_older_column_list_gets_the_new_column_and_its_values(tmp_path):
    duck = one_order_warehouse(tmp_path)
    spec = schema.SPECS["orders"]
    older = [c for c in schema.source_columns(duck, spec) if c.name != "merchant_receivable"]
    with clickhouse(tmp_path / "ch") as client:
        client.command(schema.create_sql(spec, older))
        for statement in sink.BOOKKEEPING_DDL:
            client.command(statement)
        # What a sync by the older version left: the order without the column, its batch past the watermark.
        client.insert(
            "orders",
            duck.execute(f"SELECT {', '.join(c.name for c in older)}, 1, 0 FROM raw.orders").fetchall(),
            column_names=[*(c.name for c in older), "_version", "_deleted"],
        )
        finished, batch = duck.execute("SELECT max(finished_at), max(batch_id) FROM raw.ingest_batches").fetchone()
        finished = finished.replace(tzinfo=dt.UTC)
        client.insert(
            sink.WATERMARKS,
            [["orders", finished, batch, 1]],
            column_names=["table", "finished_at", "batch_id", "_version"],
        )
        client.insert(
            sink.SYNCS,
            [[1, finished, finished, 1, {}]],
            column_names=["version", "started_at", "finished_at", "batches", "rows"],
        )

        sink.sync(duck, client, tables=["orders"])
        names = [
            r[0]
            for r in client.query(
                "SELECT name FROM system.columns WHERE table = 'orders' AND database = currentDatabase()"
            ).result_rows
        ]
        assert "merchant_receivable" in names
        # Copied again from the first batch, so the rows copied before the column existed have its value.
        assert client.query("SELECT order_key, merchant_receivable FROM orders FINAL").result_rows == [
            ("meituan:MT1", Decimal("36.00"))
        ]
        assert client.query(
            "SELECT change FROM _schema_versions WHERE table = 'orders' ORDER BY applied_at"
        ).result_rows == [("added merchant_receivable",)]
        # Migrated once: the next sync changes nothing.
        assert sink.sync(duck, client, tables=["orders"]) == {"orders": 0}
    duck.close()


def ten_days_summary_warehouse(tmp_path, more_columns: str = ""):
    """A warehouse with one order and a daily summary mart of ten days (plus `more_columns`, as SQL)."""
    duck = one_order_warehouse(tmp_path)
    duck.execute("CREATE SCHEMA marts")
    duck.execute(
        "CREATE TABLE marts.fct_daily_channel_summary AS SELECT DATE '2026-11-01' + CAST(i AS INTEGER) AS business_date, "
        f"'meituan' AS channel, 3::BIGINT AS orders{more_columns} FROM range(10) t(i)"
    )
    return duck


def test_a_mart_that_gains_a_column_is_copied_again_whole_even_after_a_failed_sync(tmp_path, monkeypatch):
    """Every day, not only the newest a micro-batch compares; and a sync that fails after adding the column
    leaves that for the next."""
    duck = ten_days_summary_warehouse(tmp_path)
    mart = ["fct_daily_channel_summary"]
    with clickhouse(tmp_path / "ch") as client:
        assert sink.sync(duck, client, tables=mart) == {"fct_daily_channel_summary": 10}
        duck.execute("ALTER TABLE marts.fct_daily_channel_summary ADD COLUMN cancelled_orders BIGINT DEFAULT 1")

        def fail(*args, **kwargs):
            raise RuntimeError("ClickHouse went away")

        with monkeypatch.context() as patch:
            patch.setattr(sink, "_sync_mart", fail)
            with pytest.raises(RuntimeError, match="went away"):
                sink.sync(duck, client, tables=mart)
        assert sink.sync(duck, client, tables=mart) == {"fct_daily_channel_summary": 10}
        assert client.query(
            "SELECT count(), countIf(cancelled_orders = 1) FROM fct_daily_channel_summary FINAL"
        ).result_rows == [(10, 10)]
        assert sink.sync(duck, client, tables=mart) == {"fct_daily_channel_summary": 0}
    duck.close()


def test_the_run_that_wrote_a_row_is_not_copied_so_a_rebuild_sends_nothing_new(tmp_path):
    """rebuilt_seq (dbt_project/macros/rebuilt_seq.sql) changes on every row a full rebuild writes; copied, it
    would make every row of history look changed to the sink."""
    duck = ten_days_summary_warehouse(tmp_path, ", 7::BIGINT AS rebuilt_seq")
    mart = ["fct_daily_channel_summary"]
    with clickhouse(tmp_path / "ch") as client:
        assert sink.sync(duck, client, tables=mart) == {"fct_daily_channel_summary": 10}
        duck.execute("UPDATE marts.fct_daily_channel_summary SET rebuilt_seq = 8")  # what a full rebuild does
        assert sink.sync(duck, client, tables=mart, every_day=True) == {"fct_daily_channel_summary": 0}
        assert (
            client.query(
                "SELECT name FROM system.columns WHERE table = 'fct_daily_channel_summary' AND database = currentDatabase() "
                "AND name = 'rebuilt_seq'"
            ).result_rows
            == []
        )
    duck.close()


def test_a_changed_sorting_key_or_type_is_refused_with_what_to_drop(tmp_path):
    duck = one_order_warehouse(tmp_path)
    with clickhouse(tmp_path / "ch") as client:
        client.command("CREATE TABLE orders (order_key String, _version UInt64, _deleted UInt8) "
                       "ENGINE = ReplacingMergeTree(_version, _deleted) ORDER BY order_key")  # fmt: skip
        with pytest.raises(schema.SchemaError, match="DROP TABLE orders"):
            sink.sync(duck, client, tables=["orders"])
        client.command("DROP TABLE orders")
        sink.sync(duck, client, tables=["orders"])
        client.command("ALTER TABLE orders MODIFY COLUMN paid_amount Nullable(Float64)")
        with pytest.raises(schema.SchemaError, match="paid_amount is Nullable.Float64."):
            sink.sync(duck, client, tables=["orders"])
    duck.close()


def test_merges_collapse_a_key_only_within_its_partition(tmp_path):
    """Why the sink retracts an old copy when a row's partition changes: ClickHouse merges parts of one
    partition only, so two versions of a key in two months both stay stored, even after OPTIMIZE … FINAL."""
    with clickhouse(tmp_path / "ch") as client:
        client.command("CREATE TABLE t (k String, at DateTime64(6, 'UTC'), _version UInt64, _deleted UInt8) "
                       "ENGINE = ReplacingMergeTree(_version, _deleted) PARTITION BY toYYYYMM(at) ORDER BY k")  # fmt: skip
        client.command("INSERT INTO t VALUES ('a', '2026-11-26 00:00:00', 1, 0)")
        client.command("INSERT INTO t VALUES ('a', '2026-10-31 00:00:00', 2, 0)")
        client.command("OPTIMIZE TABLE t FINAL")
        assert client.query("SELECT count() FROM t").result_rows == [(2,)]
        # With the time in the sorting key too (as the sink's tables have it), FINAL keeps both as current.
        client.command("CREATE TABLE u (k String, at DateTime64(6, 'UTC'), _version UInt64, _deleted UInt8) "
                       "ENGINE = ReplacingMergeTree(_version, _deleted) PARTITION BY toYYYYMM(at) ORDER BY (at, k)")  # fmt: skip
        client.command("INSERT INTO u VALUES ('a', '2026-11-26 00:00:00', 1, 0)")
        client.command("INSERT INTO u VALUES ('a', '2026-10-31 00:00:00', 2, 0)")
        assert final_count(client, "u") == 2


def test_an_empty_warehouse_syncs_nothing_and_a_missing_mart_is_named(tmp_path):
    duck = warehouse.connect(tmp_path / "wh.duckdb")
    with clickhouse(tmp_path / "ch") as client:
        assert sink.sync(duck, client, tables=["orders", "order_lines", "order_events"]) == {
            "orders": 0,
            "order_lines": 0,
            "order_events": 0,
        }
        with pytest.raises(schema.SchemaError, match="no table marts.fct_orders"):
            sink.sync(duck, client, tables=["fct_orders"])
        with pytest.raises(ValueError, match="no ClickHouse table fct_nope"):
            sink.sync(duck, client, tables=["fct_nope"])
    duck.close()
