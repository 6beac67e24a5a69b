"""Order versions: POS ticket rows are grouped by ticket key wherever they sit in the file and across till
exports; a changed re-push applies (the latest version by the channel's update time, then arrival) while every
version is kept in raw history; nothing loaded is thrown away."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from meituan_pushes import CTIME, DAY, RICE, SPINACH, meituan_push, write_jsonl, write_reference

from ingestion import contract, order_versions, warehouse
from ingestion.adapters.pos import HEADER
from ingestion.loader import run_batch
from ingestion.records import csv_records


def _row(ticket: str, sku: str) -> str:
    return ",".join(
        [
            ticket,
            "S1",
            "01",
            "c1",
            "2026-12-01 10:00:00",
            "",
            sku,
            "n",
            "1",
            "2.00",
            "2.00",
            "0",
            "2.00",
            "现金",
            "成交",
        ]
    )


def test_interleaved_ticket_rows_form_one_record_each() -> None:
    text = "\n".join([",".join(HEADER), _row("T1", "A"), _row("T2", "B"), _row("T1", "C"), _row("T2", "D")])
    records = list(csv_records(text, "f.csv", HEADER, "小票号"))
    assert [(r.source_line, [row[6] for row in r.rows]) for r in records] == [(2, ["A", "C"]), (3, ["B", "D"])]


# ---------------------------------------------------------------------------------------------------------
# Versions through the loader: a changed re-push replaces the order's header and lines, every version is
# kept with its batch, time, file and line, and landed = loaded + quarantined + duplicate holds.
# ---------------------------------------------------------------------------------------------------------


def channel_counts(con: duckdb.DuckDBPyConnection, batch_id: str, channel: str) -> tuple[int, int, int, int]:
    row = con.execute(
        "select landed, loaded, quarantined, duplicate from raw.ingest_batches where batch_id = ? and channel = ?",
        [batch_id, channel],
    ).fetchone()
    assert row is not None, f"no {channel} counts in batch {batch_id}"
    assert row[0] == row[1] + row[2] + row[3]
    return row


def test_changed_repush_replaces_lines_and_amounts_and_every_version_is_kept(tmp_path: Path) -> None:
    """v1 (spinach ×2 + rice), then v2 with the rice out of stock and removed: raw.orders / order_lines show v2,
    history keeps both with their batch, time and source line, v2 is loaded (not dropped), an identical
    re-push of v2 is a duplicate."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT1", [SPINACH, RICE], CTIME)])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    first = run_batch(con, landing)

    write_jsonl(mt / "meituan-120000-00002.jsonl", [meituan_push("MT1", [SPINACH], CTIME + 600)])
    second = run_batch(con, landing)
    assert channel_counts(con, second.batch_id, "meituan") == (1, 1, 0, 0)

    assert con.execute(
        "select goods_amount, paid_amount, merchant_receivable, batch_id, source_file from raw.orders"
    ).fetchall() == [
        (
            Decimal("20.00"),
            Decimal("20.00"),
            Decimal("18.00"),
            second.batch_id,
            f"orders/meituan/{DAY}/meituan-120000-00002.jsonl",
        )
    ]
    assert con.execute("select line_no, sku_id, quantity from raw.order_lines").fetchall() == [(1, "SKU0001", 2)]
    history = con.execute(
        "select batch_id, source_file, source_line, paid_amount, received_at is not null, raw is not null "
        "from raw.order_history order by received_at"
    ).fetchall()
    assert history == [
        (first.batch_id, f"orders/meituan/{DAY}/meituan-114300-00001.jsonl", 1, Decimal("40.00"), True, True),
        (second.batch_id, f"orders/meituan/{DAY}/meituan-120000-00002.jsonl", 1, Decimal("20.00"), True, True),
    ]
    assert con.execute(
        "select h.batch_id, l.sku_id, l.quantity from raw.order_line_history l join raw.order_history h using (order_key, raw_hash) "
        "order by h.received_at, l.line_no"
    ).fetchall() == [(first.batch_id, "SKU0001", 2), (first.batch_id, "SKU0002", 1), (second.batch_id, "SKU0001", 2)]

    write_jsonl(mt / "meituan-120500-00003.jsonl", [meituan_push("MT1", [SPINACH], CTIME + 600)])
    third = run_batch(con, landing)
    assert channel_counts(con, third.batch_id, "meituan") == (1, 0, 0, 1)
    assert con.execute("select count(*) from raw.order_history").fetchone() == (2,)
    assert con.execute("select batch_id from raw.orders").fetchone() == (second.batch_id,)
    con.close()


def test_an_older_version_delivered_late_does_not_undo_the_newer_one(tmp_path: Path) -> None:
    """The refunded version (utime 12:00) arrives first, the original (utime 11:42) is re-delivered after it:
    the original is kept in history and counted loaded, but the order stays as the newer version says."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-120000-00001.jsonl", [meituan_push("MT2", [SPINACH], CTIME + 1095)])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    write_jsonl(mt / "meituan-120100-00002.jsonl", [meituan_push("MT2", [SPINACH, RICE], CTIME)])
    late = run_batch(con, landing)

    assert channel_counts(con, late.batch_id, "meituan") == (1, 1, 0, 0)
    assert con.execute("select paid_amount from raw.orders").fetchall() == [(Decimal("20.00"),)]
    assert con.execute("select sku_id from raw.order_lines").fetchall() == [("SKU0001",)]
    assert con.execute("select count(*) from raw.order_history").fetchone() == (2,)
    con.close()


@pytest.mark.parametrize("lookup", ["a literal key list", "a registered key table"])
def test_a_superseded_version_pushed_again_is_a_duplicate(tmp_path: Path, lookup: str) -> None:
    """v1, then v2 applies, then v1 again beside a new order: v1 is found among the versions (raw.orders holds
    v2 only) and counted a duplicate; the new order, whose history is empty, loads. The loader reads the
    history by a literal key list when DuckDB can use an index for it, else by a registered table: both
    give the same answer."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    con = warehouse.connect(tmp_path / "wh.duckdb")
    if lookup == "a registered key table":
        con.execute("SET index_scan_max_count = 0")
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT4", [SPINACH, RICE], CTIME)])
    run_batch(con, landing)
    write_jsonl(mt / "meituan-120000-00002.jsonl", [meituan_push("MT4", [SPINACH], CTIME + 600)])
    run_batch(con, landing)
    write_jsonl(
        mt / "meituan-120500-00003.jsonl",
        [meituan_push("MT4", [SPINACH, RICE], CTIME), meituan_push("MT5", [RICE], CTIME + 700)],
    )
    third = run_batch(con, landing)
    assert channel_counts(con, third.batch_id, "meituan") == (2, 1, 0, 1)
    assert con.execute("select order_key, count(*) from raw.order_history group by all order by 1").fetchall() == [
        ("meituan:MT4", 2),
        ("meituan:MT5", 1),
    ]
    assert con.execute("select sku_id from raw.order_lines where order_key = 'meituan:MT4'").fetchall() == [
        ("SKU0001",)
    ]
    con.close()


def test_same_update_time_the_later_arrival_wins(tmp_path: Path) -> None:
    """Meituan's utime has one-second resolution: two versions stamped in the same second are ordered by
    arrival, so the one received later applies."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT3", [SPINACH, RICE], CTIME)])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    write_jsonl(mt / "meituan-114301-00002.jsonl", [meituan_push("MT3", [RICE], CTIME)])
    run_batch(con, landing)
    assert con.execute("select sku_id from raw.order_lines").fetchall() == [("SKU0002",)]
    con.close()


def test_an_order_loaded_before_history_was_kept_keeps_its_first_version(tmp_path: Path) -> None:
    """A warehouse from before versions were kept has the order in raw.orders only (no history, no
    received_at): opening it copies the applied version into history, once, so a changed re-push applies and
    the old version is kept."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT4", [SPINACH, RICE], CTIME)])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    for table in ("order_history", "order_line_history"):
        con.execute(f"delete from raw.{table}")
    con.execute("update raw.order_versions set received_at = null, updated_at = null")
    con.execute("update raw.orders set updated_at = null")
    con.execute("drop table raw.migrations")  # that warehouse had run none
    con.close()
    con = warehouse.connect(tmp_path / "wh.duckdb")
    assert con.execute("select count(*) from raw.order_history").fetchone() == (1,)

    write_jsonl(mt / "meituan-120000-00002.jsonl", [meituan_push("MT4", [SPINACH], CTIME + 600)])
    run_batch(con, landing)
    assert con.execute("select paid_amount from raw.orders").fetchall() == [(Decimal("20.00"),)]
    assert con.execute("select paid_amount from raw.order_history order by paid_amount").fetchall() == [
        (Decimal("20.00"),),
        (Decimal("40.00"),),
    ]
    assert con.execute("select count(*) from raw.order_line_history").fetchone() == (3,)
    con.close()


def test_lines_loaded_before_they_carried_a_batch_get_their_orders_batch(tmp_path: Path) -> None:
    """Lines written before raw.order_lines had batch_id are stamped, once, with their order row's batch (the
    micro-batch reads lines bounded by it); lines loaded since carry it from the loader."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT5", [SPINACH, RICE], CTIME)])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    stamped = "select count(*) from raw.order_lines l join raw.orders o using (order_key, batch_id)"
    assert con.execute(stamped).fetchone() == (2,)
    con.execute("update raw.order_lines set batch_id = null")
    con.execute("delete from raw.migrations where name = 'order_lines_batch_id'")  # as before the column
    con.close()
    con = warehouse.connect(tmp_path / "wh.duckdb")
    assert con.execute(stamped).fetchone() == (2,)
    con.close()


# ---------------------------------------------------------------------------------------------------------
# Till tickets across files: a till export is an append-only journal, so rows of one ticket in a later file
# are more rows of that ticket, and a re-export of rows already loaded adds nothing.
# ---------------------------------------------------------------------------------------------------------


def _till_row(ticket: str, sku: str, qty: int, price: str, status: str = "成交") -> str:
    amount = f"{Decimal(price) * qty:.2f}"
    return ",".join(
        [
            ticket,
            "SH001",
            "01",
            "c1",
            "2026-11-26 10:00:00",
            "",
            sku,
            "n",
            str(qty),
            price,
            price,
            "0",
            amount,
            "现金",
            status,
        ]
    )


def _till_file(path: Path, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([",".join(HEADER), *rows]) + "\n", encoding="utf-8")


def test_a_ticket_spanning_two_till_exports_keeps_the_rows_of_both(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_reference(landing)
    pos = landing / "orders" / "pos" / DAY
    _till_file(pos / "pos-1000.csv", [_till_row("T9", "SKU0001", 2, "10.00"), _till_row("T8", "SKU0002", 1, "20.00")])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    _till_file(pos / "pos-1100.csv", [_till_row("T9", "SKU0002", 1, "20.00")])
    later = run_batch(con, landing)

    assert channel_counts(con, later.batch_id, "pos") == (1, 1, 0, 0)
    assert con.execute(
        "select sku_id, quantity from raw.order_lines where order_key = 'pos:T9' order by line_no"
    ).fetchall() == [("SKU0001", 2), ("SKU0002", 1)]
    assert con.execute("select paid_amount, source_file from raw.orders where order_key = 'pos:T9'").fetchone() == (
        Decimal("40.00"),
        f"orders/pos/{DAY}/pos-1100.csv",
    )

    # An overlapping re-export (the whole ticket again) and a re-export of just the later row add nothing.
    _till_file(
        pos / "pos-1100-again.csv", [_till_row("T9", "SKU0001", 2, "10.00"), _till_row("T9", "SKU0002", 1, "20.00")]
    )
    _till_file(pos / "pos-1100-redo.csv", [_till_row("T9", "SKU0002", 1, "20.00")])
    again = run_batch(con, landing)
    assert channel_counts(con, again.batch_id, "pos") == (2, 0, 0, 2)
    assert con.execute("select count(*) from raw.order_lines where order_key = 'pos:T9'").fetchone() == (2,)
    con.close()


@pytest.mark.parametrize("cut", ["whole", "a chunk and commit group per file"])
def test_a_ticket_in_two_files_of_one_batch_is_whole(tmp_path: Path, monkeypatch, cut: str) -> None:
    if cut != "whole":
        monkeypatch.setenv("ORDERHUB_CHUNK_MB", "0.00001")
        monkeypatch.setenv("ORDERHUB_COMMIT_MB", "0.00001")
    landing = tmp_path / "landing"
    write_reference(landing)
    pos = landing / "orders" / "pos" / DAY
    _till_file(pos / "pos-1000.csv", [_till_row("T7", "SKU0001", 1, "10.00")])
    _till_file(pos / "pos-1100.csv", [_till_row("T7", "SKU0002", 3, "20.00")])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    result = run_batch(con, landing)
    assert len(result.batch_ids) == (1 if cut == "whole" else 2)
    per_batch = [channel_counts(con, batch_id, "pos") for batch_id in result.batch_ids]
    assert tuple(map(sum, zip(*per_batch, strict=True))) == (2, 2, 0, 0)
    assert con.execute("select paid_amount from raw.orders").fetchall() == [(Decimal("70.00"),)]
    assert con.execute("select sku_id, quantity from raw.order_lines order by line_no").fetchall() == [
        ("SKU0001", 1),
        ("SKU0002", 3),
    ]
    con.close()


def test_a_ticket_voided_in_a_later_export_is_cancelled_not_doubled(tmp_path: Path) -> None:
    """The later export carries the ticket's rows again with 状态 作废: the same rows with a new status, so the
    ticket is cancelled with its two lines, not a four-line sale."""
    landing = tmp_path / "landing"
    write_reference(landing)
    pos = landing / "orders" / "pos" / DAY
    _till_file(pos / "pos-1000.csv", [_till_row("T6", "SKU0001", 1, "10.00"), _till_row("T6", "SKU0002", 1, "20.00")])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    _till_file(
        pos / "pos-1100.csv",
        [_till_row("T6", "SKU0001", 1, "10.00", "作废"), _till_row("T6", "SKU0002", 1, "20.00", "作废")],
    )
    later = run_batch(con, landing)
    assert channel_counts(con, later.batch_id, "pos") == (1, 1, 0, 0)
    assert con.execute("select status, paid_amount from raw.orders").fetchall() == [("cancelled", Decimal("30.00"))]
    assert con.execute("select count(*) from raw.order_lines").fetchone() == (2,)
    assert ("cancelled",) in con.execute("select status from raw.order_events").fetchall()
    con.close()


def test_an_older_warehouse_keeps_its_history_rows_without_the_history_keys(tmp_path: Path) -> None:
    """A warehouse made when the history tables declared primary keys is rebuilt without them on connect, with
    every row; the next changed re-push is kept beside them and an identical one is still a duplicate (the
    loader, not the key, decides)."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    write_jsonl(mt / "meituan-114300-00001.jsonl", [meituan_push("MT9", [SPINACH, RICE], CTIME)])
    path = tmp_path / "wh.duckdb"
    con = warehouse.connect(path)
    run_batch(con, landing)
    for table, key in OLDER_HISTORY_KEYS.items():  # as an older release made them
        columns = ", ".join(f'"{c}"' for c in contract.all_tables()[table])
        con.execute(f"CREATE TABLE raw.{table}__old AS SELECT * FROM raw.{table}")
        con.execute(f"DROP TABLE raw.{table}")
        con.execute(contract.create_table_sql(table, contract.all_tables()[table], key))
        con.execute(f"INSERT INTO raw.{table} ({columns}) SELECT {columns} FROM raw.{table}__old")
        con.execute(f"DROP TABLE raw.{table}__old")
    keyed = con.execute(KEYED_HISTORY).fetchall()
    con.close()
    assert sorted(table for (table,) in keyed) == sorted(OLDER_HISTORY_KEYS)

    con = warehouse.connect(path)
    try:
        assert con.execute(KEYED_HISTORY).fetchall() == []
        assert [con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in OLDER_HISTORY_KEYS] == [1, 1, 2]
        write_jsonl(mt / "meituan-120000-00002.jsonl", [meituan_push("MT9", [SPINACH], CTIME + 600)])
        write_jsonl(mt / "meituan-120500-00003.jsonl", [meituan_push("MT9", [SPINACH], CTIME + 600)])
        later = run_batch(con, landing)
        assert channel_counts(con, later.batch_id, "meituan") == (2, 1, 0, 1)
        assert [con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in OLDER_HISTORY_KEYS] == [2, 2, 3]
    finally:
        con.close()


OLDER_HISTORY_KEYS = order_versions.HISTORY_KEYS  # the keys an older release declared
KEYED_HISTORY = (
    "select table_name from duckdb_constraints() where schema_name = 'raw' and constraint_type = 'PRIMARY KEY' "
    "and table_name in ('order_versions', 'order_history', 'order_line_history')"
)


def test_a_duplicated_history_key_is_found_among_the_batch_orders(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_reference(landing)
    write_jsonl(landing / "orders" / "meituan" / DAY / "meituan-1.jsonl", [meituan_push("MT7", [SPINACH], CTIME)])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        batch = run_batch(con, landing)
        assert order_versions.history_key_duplicates(con, batch.batch_ids) == {}
        # What a loader bug would leave without the key: the same version written twice.
        con.execute("INSERT INTO raw.order_line_history SELECT * FROM raw.order_line_history")
        con.execute("INSERT INTO raw.order_versions SELECT * FROM raw.order_versions")
        assert order_versions.history_key_duplicates(con, batch.batch_ids) == {
            "order_versions": 1,
            "order_line_history": 1,
        }
        assert order_versions.history_key_duplicates(con, ["another-batch"]) == {}
    finally:
        con.close()


def test_a_retried_push_with_a_new_signature_is_a_duplicate(tmp_path: Path) -> None:
    """Meituan signs every push (`timestamp`, `sig`, `app_id` beside the order's fields, as in the real push of
    ../shared/real-samples): a retry of an unanswered push is a new request with a new timestamp and signature
    and the same order, so it is a duplicate; the same push with the order changed is a new version."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY

    def signed(push: dict[str, str], sent_at: int) -> dict[str, str]:
        return {**push, "app_id": "409", "timestamp": str(sent_at), "sig": f"{sent_at:032x}"}

    first_push = meituan_push("MT9", [SPINACH], CTIME)
    write_jsonl(mt / "meituan-114300-00001.jsonl", [signed(first_push, CTIME + 1)])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    write_jsonl(mt / "meituan-114400-00002.jsonl", [signed(first_push, CTIME + 61)])
    retry = run_batch(con, landing)
    assert channel_counts(con, retry.batch_id, "meituan") == (1, 0, 0, 1)

    confirmed = meituan_push("MT9", [SPINACH], CTIME + 120, status="4")
    write_jsonl(mt / "meituan-114500-00003.jsonl", [signed(confirmed, CTIME + 121)])
    change = run_batch(con, landing)
    assert channel_counts(con, change.batch_id, "meituan") == (1, 1, 0, 0)
    assert con.execute("select count(*) from raw.order_history").fetchone() == (2,)
    assert con.execute("select status from raw.orders").fetchall() == [("picking",)]
    con.close()


def test_a_push_kept_without_its_request_parameters_is_the_same_version_as_one_with_them(tmp_path: Path) -> None:
    """Some integrations store the form without `timestamp`/`sig`/`app_id`; the platform's retry has them."""
    landing = tmp_path / "landing"
    write_reference(landing)
    mt = landing / "orders" / "meituan" / DAY
    push = meituan_push("MT10", [SPINACH], CTIME)
    write_jsonl(mt / "meituan-114300-00001.jsonl", [push])
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    write_jsonl(mt / "meituan-114400-00002.jsonl", [{"timestamp": str(CTIME + 61), "sig": "0f" * 16, **push}])
    retry = run_batch(con, landing)
    assert channel_counts(con, retry.batch_id, "meituan") == (1, 0, 0, 1)
    con.close()
