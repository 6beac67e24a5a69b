"""The stock_movements reference feed lands like the other reference data: a WMS export of
goods receipts, transfers and write-offs under landing/reference/stock_movements/<day>/ loads into
raw.stock_movements with times in UTC; a row with an unknown type, a non-positive quantity or no time is
quarantined with its reason; and the simulator's goods receipts are written in exactly that format."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ingestion import warehouse
from ingestion.loader import run_batch
from simulator import simulate_day

DAY = "2026-11-26"
ROWS = [
    {
        "movement_id": "GR-1",
        "store_id": "SH001",
        "sku_id": "SKU0001",
        "movement_type": "receipt",
        "quantity": 12,
        "moved_at": f"{DAY}T10:00:00+08:00",
        "reference": "送货单 DN-778",
    },
    {
        "movement_id": "TO-1",
        "store_id": "SH001",
        "sku_id": "SKU0002",
        "movement_type": "transfer_out",
        "quantity": "3",
        "moved_at": f"{DAY}T11:30:00+08:00",
        "reference": "调拨 SH002",
    },
    {
        "movement_id": "WO-1",
        "store_id": "SH001",
        "sku_id": "SKU0002",
        "movement_type": "write_off",
        "quantity": 1,
        "moved_at": f"{DAY}T12:00:00+08:00",
        "reference": "破损",
    },
    {
        "movement_id": "BAD-TYPE",
        "store_id": "SH001",
        "sku_id": "SKU0001",
        "movement_type": "stocktake",
        "quantity": 5,
        "moved_at": f"{DAY}T12:00:00+08:00",
    },
    {
        "movement_id": "BAD-QTY",
        "store_id": "SH001",
        "sku_id": "SKU0001",
        "movement_type": "receipt",
        "quantity": -5,
        "moved_at": f"{DAY}T12:00:00+08:00",
    },
    {
        "movement_id": "BAD-TIME",
        "store_id": "SH001",
        "sku_id": "SKU0001",
        "movement_type": "receipt",
        "quantity": 5,
        "moved_at": "yesterday",
    },
]


def test_movements_load_in_utc_and_bad_rows_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "landing" / "reference" / "stock_movements" / DAY / "wms-moves.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        run_batch(con, tmp_path / "landing")
        loaded = con.execute(
            "SELECT movement_id, movement_type, quantity, moved_at, reference FROM raw.stock_movements "
            "ORDER BY movement_id"
        ).fetchall()
        quarantined = dict(
            con.execute(
                "SELECT json_extract_string(raw, '$.movement_id'), message FROM raw.quarantine "
                "WHERE channel = 'reference/stock_movements'"
            ).fetchall()
        )
    finally:
        con.close()
    assert loaded == [
        ("GR-1", "receipt", 12, dt.datetime(2026, 11, 26, 2, 0), "送货单 DN-778"),
        ("TO-1", "transfer_out", 3, dt.datetime(2026, 11, 26, 3, 30), "调拨 SH002"),
        ("WO-1", "write_off", 1, dt.datetime(2026, 11, 26, 4, 0), "破损"),
    ]
    assert set(quarantined) == {"BAD-TYPE", "BAD-QTY", "BAD-TIME"}
    assert "movement_type is not one of receipt" in quarantined["BAD-TYPE"]
    assert "quantity must be a positive" in quarantined["BAD-QTY"]
    assert "moved_at" in quarantined["BAD-TIME"] and "line 6" in quarantined["BAD-TIME"]


def test_the_simulators_goods_receipts_load_without_a_quarantined_row(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    simulate_day(dt.date(2026, 11, 26), orders=400, seed=7, out=landing)
    written = [
        json.loads(line)
        for f in (landing / "reference" / "stock_movements").rglob("*.jsonl")
        for line in f.read_text(encoding="utf-8").splitlines()
    ]
    assert written, "the simulator writes goods receipts where the contract has stock_movements"
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        run_batch(con, landing)
        loaded = con.execute(
            "SELECT count(*), min(movement_type), max(movement_type) FROM raw.stock_movements"
        ).fetchone()
        rejected = con.execute(
            "SELECT count(*) FROM raw.quarantine WHERE channel = 'reference/stock_movements'"
        ).fetchone()[0]
    finally:
        con.close()
    assert loaded == (len(written), "receipt", "receipt") and rejected == 0
