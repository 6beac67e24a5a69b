"""Reference data over several days: a promotion restated every day with a window around that day keeps each
window (the orders of an earlier day are priced against the calendar they were sold under), one restated
with the same start replaces its window, one without a start is quarantined; and a warehouse made under the
older key (promo_id alone) is re-keyed with its rows when opened."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from ingestion import warehouse
from ingestion.loader import run_batch


def promo(promo_id: str, starts: str, ends: str, amount: float = 10.0) -> dict:
    return {
        "promo_id": promo_id,
        "channel": "app",
        "kind": "full_reduction",
        "threshold": 59.0,
        "amount": amount,
        "sku_id": None,
        "starts_at": starts,
        "ends_at": ends,
        "platform_share": 0.0,
    }


def land_calendar(root: Path, day: str, promotions: list[dict]) -> None:
    folder = root / "reference" / "promotions" / day
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / ".promotions.jsonl"
    temporary.write_text("".join(json.dumps(p) + "\n" for p in promotions), encoding="utf-8")
    temporary.rename(folder / "promotions.jsonl")


def test_each_window_of_a_restated_promotion_is_kept(tmp_path):
    root = tmp_path / "landing"
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        land_calendar(root, "2026-10-01", [promo("PRM001", "2026-09-28T00:00:00+08:00", "2026-10-05T00:00:00+08:00")])
        run_batch(con, root)
        land_calendar(
            root,
            "2026-10-20",
            [
                promo("PRM001", "2026-10-17T00:00:00+08:00", "2026-10-24T00:00:00+08:00"),
                promo("PRM001", "2026-09-28T00:00:00+08:00", "2026-10-06T00:00:00+08:00", amount=12.0),
                promo("PRM002", "", "2026-10-24T00:00:00+08:00"),
            ],
        )
        run_batch(con, root)
        windows = con.execute("SELECT starts_at, ends_at, amount FROM raw.promotions ORDER BY starts_at").fetchall()
        quarantined = con.execute(
            "SELECT error_code, message FROM raw.quarantine WHERE channel = 'reference/promotions'"
        ).fetchall()
    finally:
        con.close()
    assert [(s, e, float(a)) for s, e, a in windows] == [
        # The same start restated: the window's end and terms corrected.
        (dt.datetime(2026, 9, 27, 16), dt.datetime(2026, 10, 5, 16), 12.0),
        (dt.datetime(2026, 10, 16, 16), dt.datetime(2026, 10, 23, 16), 10.0),
    ]
    assert [code for code, _ in quarantined] == ["bad_reference"] and "starts_at" in quarantined[0][1]


def test_a_warehouse_keyed_by_the_older_key_is_rekeyed_with_its_rows(tmp_path):
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE raw.promotions (promo_id VARCHAR, channel VARCHAR, kind VARCHAR, threshold DECIMAL(18,2), "
        "amount DECIMAL(18,2), sku_id VARCHAR, starts_at TIMESTAMP, ends_at TIMESTAMP, platform_share DOUBLE, "
        "PRIMARY KEY (promo_id))"
    )
    con.execute(
        "INSERT INTO raw.promotions VALUES ('PRM001', 'app', 'coupon', 0, 5, NULL, '2026-10-01', '2026-10-08', 0)"
    )
    con.close()

    con = warehouse.connect(path)
    try:
        key = con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() WHERE schema_name = 'raw' "
            "AND table_name = 'promotions' AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        rows = con.execute("SELECT promo_id, starts_at FROM raw.promotions").fetchall()
        # The new key takes a second window of the same promotion.
        con.execute(
            "INSERT INTO raw.promotions (promo_id, starts_at) VALUES ('PRM001', TIMESTAMP '2026-10-08 00:00:00')"
        )
    finally:
        con.close()
    assert key == [(["promo_id", "starts_at"],)]
    assert rows == [("PRM001", dt.datetime(2026, 10, 1))]


def test_reference_times_in_rfc3339_load_as_the_same_instants() -> None:
    """`Z` and fractions of a second are RFC 3339 as the order files' times are: a promotion written with them
    loads (one quarantined would turn every order sold under it into a price mismatch), at the same instant as
    its +08:00 form; a time without an offset is still refused."""
    from ingestion import reference
    from ingestion.records import RawRecord

    written = [
        promo("Z", "2026-11-26T02:00:00Z", "2026-11-26T03:00:00.500Z"),
        promo("OFFSET", "2026-11-26T10:00:00+08:00", "2026-11-26T11:00:00.5+08:00"),
        promo("NAIVE", "2026-11-26 10:00:00", "2026-11-26T11:00:00+08:00"),
    ]
    records = [RawRecord("reference/promotions/2026-11-26/p.jsonl", n, json.dumps(p)) for n, p in enumerate(written, 1)]
    parsed = reference.parse("promotions", records)
    windows = {r["promo_id"]: (r["starts_at"], r["ends_at"]) for r in parsed.rows.to_dicts()}
    assert windows == {
        "Z": (dt.datetime(2026, 11, 26, 2), dt.datetime(2026, 11, 26, 3, 0, 0, 500000)),
        "OFFSET": (dt.datetime(2026, 11, 26, 2), dt.datetime(2026, 11, 26, 3, 0, 0, 500000)),
    }
    assert parsed.quarantine["source_line"].to_list() == [3]
