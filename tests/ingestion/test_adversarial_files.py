"""Hostile landing *files* through a real micro-batch: empty files of every channel, GBK bytes in a UTF-8
channel, a file cut in the middle of a record, a huge field, a CSV cell over the csv module's limit,
SQL-looking text and emoji in names, and a 200 MB file. None may crash the batch; what cannot be loaded is
quarantined with a reason, the rest loads, and the accounting identity holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ingestion import settlements, warehouse
from ingestion.adapters import ADAPTERS
from ingestion.loader import run_batch

DAY = "2026-11-26"


def app_line(order_no: str, **receiver) -> str:
    order = {
        "order_no": order_no,
        "member_id": "M1",
        "store_code": "SH001",
        "status": "paid",
        "fulfilment": "delivery",
        "created_at": f"{DAY}T11:32:05+08:00",
        "paid_at": f"{DAY}T11:32:30+08:00",
        "receiver": {
            "name": "张伟",
            "phone": "13812345678",
            "address": "上海市浦东新区张江镇碧波路690号501室",
            "lat": 31.2035,
            "lng": 121.5903,
            **receiver,
        },
        "items": [
            {"sku": "SKU0001", "name": "苹果", "qty": 2, "unit_price": 7.5, "original_price": 7.5, "discount": 0}
        ],
        "amounts": {
            "goods": 15.0,
            "merchant_discount": 0,
            "platform_discount": 0,
            "delivery_fee": 3.0,
            "packaging_fee": 0.5,
            "paid": 18.5,
        },
        "payment_method": "wechat",
    }
    return json.dumps(order, ensure_ascii=False)


def reference_landing(root: Path) -> Path:
    """A landing zone with one store and one product, so valid app orders load."""
    for table, row in (
        (
            "stores",
            {
                "store_id": "SH001",
                "name": "张江",
                "kind": "dark_store",
                "city": "上海市",
                "district": "浦东新区",
                "address": "碧波路690号",
                "lat": 31.2,
                "lng": 121.59,
            },
        ),
        (
            "products",
            {
                "sku_id": "SKU0001",
                "name": "苹果",
                "category": "水果",
                "unit_price": 7.5,
                "weight_g": 500,
                "volume_ml": 800,
                "temp_zone": "ambient",
            },
        ),
    ):
        path = root / "reference" / table / DAY / f"{table}.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def landing(tmp_path) -> Path:
    return reference_landing(tmp_path / "landing")


def put(root: Path, relative: str, data: bytes) -> str:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative


def load(root: Path, tmp_path: Path):
    con = warehouse.connect(tmp_path / "wh.duckdb")
    result = run_batch(con, root)
    return con, result


def assert_balanced(con) -> None:
    unbalanced = con.execute(
        "SELECT channel FROM raw.ingest_batches WHERE landed <> loaded + quarantined + duplicate"
    ).fetchall()
    assert not unbalanced
    pending = con.execute("SELECT count(*) FROM raw.quarantine WHERE error_code IS NULL OR message IS NULL").fetchone()[
        0
    ]
    assert pending == 0


def test_empty_files_of_every_channel_load_as_nothing(landing, tmp_path):
    """An empty file of any order or statement channel commits the batch and is checkpointed; an order file
    has no records, a statement without its header or summary is quarantined whole with a reason."""
    for channel, spec in ADAPTERS.items():
        put(landing, f"orders/{channel}/{DAY}/{channel}-empty.{'csv' if spec.file_format == 'csv' else 'jsonl'}", b"")
    for channel in settlements.PARSERS:
        put(landing, f"settlements/{channel}/{DAY}/{channel}-empty.csv", b"")
    con, result = load(landing, tmp_path)
    assert_balanced(con)
    files = con.execute("SELECT count(*) FROM raw.ingest_files WHERE path LIKE '%-empty.%'").fetchone()[0]
    assert files == len(ADAPTERS) + len(settlements.PARSERS)
    for channel in ADAPTERS:
        assert result.counts[channel].landed == 0
    reasons = dict(con.execute("SELECT channel, error_code FROM raw.quarantine WHERE source_line = 0").fetchall())
    for channel in ("wechatpay", "alipay"):  # statements that cannot be empty
        assert reasons.get(f"settlement/{channel}"), f"an empty {channel} bill was not quarantined"


def test_gbk_bytes_in_a_utf8_channel_quarantine_the_file_and_nothing_else(landing, tmp_path):
    """A file saved as GBK in a UTF-8 channel is quarantined whole (bad_encoding, line 0, its first bytes
    kept); a good file of the same channel in the same batch loads."""
    put(landing, f"orders/app/{DAY}/app-gbk.jsonl", (app_line("GBK1") + "\n").encode("gbk"))
    put(landing, f"orders/app/{DAY}/app-good.jsonl", (app_line("OK1") + "\n").encode("utf-8"))
    con, result = load(landing, tmp_path)
    assert_balanced(con)
    rows = con.execute("SELECT source_file, source_line, error_code, message FROM raw.quarantine").fetchall()
    assert rows == [(f"orders/app/{DAY}/app-gbk.jsonl", 0, "bad_encoding", rows[0][3])]
    assert "UTF-8" in rows[0][3]
    assert con.execute("SELECT order_key FROM raw.orders").fetchall() == [("app:OK1",)]


def test_truncated_file_quarantines_the_cut_record(landing, tmp_path):
    """A file cut in the middle of its last record (a half-finished upload): that record is quarantined as
    broken_json, the complete ones load."""
    text = app_line("T1") + "\n" + app_line("T2") + "\n" + app_line("T3")[:57]
    put(landing, f"orders/app/{DAY}/app-cut.jsonl", text.encode())
    con, result = load(landing, tmp_path)
    assert_balanced(con)
    assert result.counts["app"].loaded == 2
    assert con.execute("SELECT source_line, error_code FROM raw.quarantine").fetchall() == [(3, "broken_json")]


def test_hostile_text_is_stored_verbatim_and_huge_fields_do_not_break_the_batch(landing, tmp_path):
    """SQL-looking names and emoji are data, stored exactly (inserts are parameterised); a 1 MB name and a
    CSV cell over the csv module's 128 KiB field limit do not stop the batch (the till file is quarantined
    whole, with the reason)."""
    sql = "Robert'); DROP TABLE raw.orders; --"
    emoji = "王🍎👩‍👩‍👧‍👦"
    put(
        landing,
        f"orders/app/{DAY}/app-hostile.jsonl",
        "\n".join(
            [
                app_line("SQL1", name=sql),
                app_line("EMOJI1", name=emoji),
                app_line("HUGE1", name="长" * 1_000_000),
            ]
        ).encode(),
    )
    header = ",".join(ADAPTERS["pos"].csv_header)
    put(
        landing,
        f"orders/pos/{DAY}/pos-huge.csv",
        (
            header
            + "\nT1,SH001,01,C1,2026-11-26 09:00:00,,SKU0001,"
            + "x" * 200_000
            + ",1,7.50,7.50,0,7.50,现金,成交\n"
        ).encode(),
    )
    con, result = load(landing, tmp_path)
    assert_balanced(con)
    names = dict(con.execute("SELECT order_key, recipient_name FROM raw.orders").fetchall())
    assert names["app:SQL1"] == sql and names["app:EMOJI1"] == emoji
    assert len(names["app:HUGE1"]) == 1_000_000
    assert con.execute("SELECT error_code FROM raw.quarantine WHERE source_file LIKE '%pos-huge.csv'").fetchall() == [
        ("unreadable_file",)
    ]


_MEASURE = textwrap.dedent("""
    import resource, sys, time
    from pathlib import Path
    from ingestion import warehouse
    from ingestion.loader import run_batch
    started = time.perf_counter()
    con = warehouse.connect(Path(sys.argv[2]))
    result = run_batch(con, Path(sys.argv[1]))
    code = con.execute("SELECT error_code FROM raw.quarantine WHERE source_line = 0").fetchall()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(peak_mb, round(time.perf_counter() - started, 2), code, result.counts["app"].__dict__)
""")


def measure(landing: Path, db: Path) -> tuple[int, float, str, str]:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(landing), str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    peak_mb, seconds, codes, counts = out.stdout.strip().split(" ", 3)
    return int(peak_mb), float(seconds), codes, counts


@pytest.mark.slow
def test_a_200_mb_file_is_quarantined_whole_without_being_read(tmp_path):
    """A 200 MB order file (generated here, streamed to disk) is over the per-file limit: it is quarantined
    whole as file_too_large, quickly, and the batch's peak memory stays within 100 MB of a batch with a tiny
    file (measured in subprocesses, the same run): it is never read into memory."""
    small, big = tmp_path / "small", tmp_path / "big"
    for root in (small, big):
        reference_landing(root)
        put(root, f"orders/app/{DAY}/app-0001.jsonl", (app_line("A1") + "\n").encode())
    line = (app_line("BIG") + "\n").encode()
    path = big / "orders" / "app" / DAY / "app-0002.jsonl"
    started = time.perf_counter()
    with path.open("wb") as handle:
        block = line * max(1, (8 << 20) // len(line))
        while handle.tell() < 200 << 20:
            handle.write(block)
    assert path.stat().st_size >= 200 << 20
    baseline_mb, _, baseline_codes, _ = measure(small, tmp_path / "small.duckdb")
    peak_mb, seconds, codes, counts = measure(big, tmp_path / "big.duckdb")
    assert baseline_codes == "[]"
    assert codes == "[('file_too_large',)]", codes
    assert "'landed': 2" in counts and "'loaded': 1" in counts and "'quarantined': 1" in counts, counts
    assert peak_mb - baseline_mb < 100, (peak_mb, baseline_mb)
    assert seconds < 20 and time.perf_counter() - started < 60
