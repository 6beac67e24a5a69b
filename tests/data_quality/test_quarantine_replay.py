"""Quarantine and replay: a quarantined record can be listed, fixed (its raw text edited, or the missing
mapping landed) and replayed through the same adapters and transactional loader; it then loads exactly once,
the original row is marked resolved (not deleted), a failed attempt is kept as such, and the accounting
identity holds with nothing counted twice."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from typer.testing import CliRunner

from data_quality import accounting
from data_quality.quarantine import ReplayError, list_records, plan_replay, replay_outcome, write_replay
from ingestion import warehouse
from ingestion.adapters.pos import HEADER as POS_HEADER
from ingestion.loader import run_batch
from simulator import simulate_day

DAY = "2026-11-26"


def app_order(order_no: str, *, phone: str = "13812345678", sku: str = "SKU0001") -> dict:
    return {
        "order_no": order_no,
        "member_id": "M1",
        "store_code": "SH001",
        "status": "paid",
        "fulfilment": "delivery",
        "created_at": f"{DAY}T11:32:05+08:00",
        "paid_at": f"{DAY}T11:32:30+08:00",
        "receiver": {
            "name": "张伟",
            "phone": phone,
            "address": "上海市浦东新区张江镇碧波路690号3号楼501室",
            "lat": 31.2035,
            "lng": 121.5903,
        },
        "items": [{"sku": sku, "name": "苹果", "qty": 2, "unit_price": 7.5, "original_price": 7.5, "discount": 0}],
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


def pos_rows(ticket: str, quantity: str) -> list[list[str]]:
    return [
        [
            ticket,
            "SH001",
            "01",
            "C01",
            f"{DAY} 09:00:00",
            "",
            "SKU0001",
            "苹果",
            quantity,
            "7.50",
            "7.50",
            "0.00",
            f"{7.5 * max(float(quantity), 0):.2f}",
            "微信",
            "成交",
        ]
    ]


def csv_text(rows: list[list[str]], header: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(POS_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.fixture
def day(tmp_path):
    """A small simulated day plus three crafted bad records: a bad phone and an unknown SKU (app) and a zero
    quantity (pos), and a whole app file saved as GBK. Loaded once; yields (con, landing)."""
    landing = tmp_path / "landing"
    simulate_day(dt.date.fromisoformat(DAY), orders=150, seed=5, out=landing)
    folder = landing / "orders" / "app" / DAY
    (folder / "app-zz-crafted.jsonl").write_text(
        json.dumps(app_order("BADPHONE", phone="tel:none"), ensure_ascii=False)
        + "\n"
        + json.dumps(app_order("NEWSKU", sku="SKU9999"), ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    (folder / "app-zz-gbk.jsonl").write_bytes((json.dumps(app_order("GBK1"), ensure_ascii=False) + "\n").encode("gbk"))
    (landing / "orders" / "pos" / DAY).mkdir(parents=True, exist_ok=True)
    (landing / "orders" / "pos" / DAY / "pos-zz-crafted.csv").write_text(
        csv_text(pos_rows("T-ZERO", "0")), encoding="utf-8"
    )
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    yield con, landing
    con.close()


def order_count(con, key: str) -> int:
    return con.execute("SELECT count(*) FROM raw.orders WHERE order_key = ?", [key]).fetchone()[0]


def replay(con, landing, source_file, line, fixed: bytes | None = None):
    plan = plan_replay(con, landing, source_file, line, fixed)
    write_replay(landing, plan)
    run_batch(con, landing)
    return plan, replay_outcome(con, plan)


def status(con, source_file, line) -> str:
    return next(
        r.status
        for r in list_records(con, status="all", limit=None)
        if (r.source_file, r.source_line) == (source_file, line)
    )


def test_fixed_text_loads_once_and_resolves_the_original(day):
    """The bad phone fixed in the raw text loads as a new order; the original row stays, marked resolved;
    replaying it again changes nothing."""
    con, landing = day
    source = f"orders/app/{DAY}/app-zz-crafted.jsonl"
    [record] = [r for r in list_records(con, channel="app", code="bad_phone") if r.source_file == source]
    assert record.status == "open" and order_count(con, "app:BADPHONE") == 0
    fixed = json.dumps(app_order("BADPHONE"), ensure_ascii=False).encode()
    plan, outcome = replay(con, landing, source, record.source_line, fixed)
    assert outcome.state == "loaded", outcome.detail
    assert order_count(con, "app:BADPHONE") == 1
    assert status(con, source, record.source_line) == "resolved"
    again, outcome = replay(con, landing, source, record.source_line, fixed)
    assert again.target is None and outcome.state == "resolved"
    assert order_count(con, "app:BADPHONE") == 1
    assert con.execute("SELECT count(*) FROM raw.quarantine WHERE source_file = ?", [source]).fetchone()[0] == 2


def test_replay_after_a_mapping_is_added(day):
    """Replayed as it was, the unknown SKU fails again (an attempt, kept); once the product lands in the
    catalogue, the same text replayed loads and resolves the original and the failed attempt is not open."""
    con, landing = day
    source = f"orders/app/{DAY}/app-zz-crafted.jsonl"
    [record] = [r for r in list_records(con, code="unknown_sku") if r.source_file == source]
    _, first = replay(con, landing, source, record.source_line)
    assert first.state == "quarantined" and "unknown_sku" in first.detail
    assert status(con, source, record.source_line) == "open"
    products = landing / "reference" / "products" / DAY / "products-zz-new.jsonl"
    products.write_text(
        json.dumps(
            {
                "sku_id": "SKU9999",
                "name": "新品",
                "category": "水果",
                "unit_price": 7.5,
                "weight_g": 500,
                "volume_ml": 800,
                "temp_zone": "ambient",
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    _, second = replay(con, landing, source, record.source_line)
    assert second.state == "loaded", second.detail
    assert order_count(con, "app:NEWSKU") == 1
    assert status(con, source, record.source_line) == "resolved"
    assert [
        r.status
        for r in list_records(con, channel="app", code="unknown_sku", status="all", limit=None)
        if r.source_file.split("/")[-1].startswith("replay-")
    ] == ["replay_failed"]
    assert not [
        r
        for r in list_records(con, status="open", limit=None)
        if r.source_file == source and r.error_code == "unknown_sku"
    ]


def test_csv_record_and_whole_file_replays(day):
    """A till ticket fixed in its CSV rows (header optional) loads; a file rejected whole for its encoding
    loads once re-saved as UTF-8."""
    con, landing = day
    ticket_file = f"orders/pos/{DAY}/pos-zz-crafted.csv"
    [ticket] = [r for r in list_records(con, channel="pos") if r.source_file == ticket_file]
    assert ticket.error_code == "bad_quantity"
    _, outcome = replay(
        con, landing, ticket_file, ticket.source_line, csv_text(pos_rows("T-ZERO", "1"), header=False).encode()
    )
    assert outcome.state == "loaded", outcome.detail
    assert order_count(con, "pos:T-ZERO") == 1

    gbk_file = f"orders/app/{DAY}/app-zz-gbk.jsonl"
    [whole] = [r for r in list_records(con, code="bad_encoding") if r.source_file == gbk_file]
    assert whole.source_line == 0
    utf8 = (landing / gbk_file).read_bytes().decode("gbk").encode("utf-8")
    _, outcome = replay(con, landing, gbk_file, 0, utf8)
    assert outcome.state == "loaded" and order_count(con, "app:GBK1") == 1
    assert status(con, gbk_file, 0) == "resolved"


def test_accounting_counts_a_replayed_record_once(day):
    """After replays, each sales channel's row is what it was (the record counted once, as quarantined), the
    replays are counted as replay/<channel>, and every identity (recorded and against the rows) holds."""
    con, landing = day
    before = {c.label: c for c in accounting.collect(con).channels}
    source = f"orders/app/{DAY}/app-zz-crafted.jsonl"
    [record] = [r for r in list_records(con, code="bad_phone") if r.source_file == source]
    replay(con, landing, source, record.source_line, json.dumps(app_order("BADPHONE"), ensure_ascii=False).encode())
    replay(con, landing, source, record.source_line + 1)  # the unknown SKU, still unknown: fails again
    after = accounting.collect(con)
    assert after.identity_holds, [(c.label, c.mismatches) for c in after.channels]
    channels = {c.label: c for c in after.channels}
    assert channels["app"] == before["app"]
    replayed = channels["replay/app"]
    assert (replayed.landed, replayed.loaded, replayed.quarantined, replayed.duplicate) == (2, 1, 1, 0)
    reasons = {(r.label, r.error_code): r for r in after.reasons}
    assert reasons[("app", "bad_phone")].resolved >= 1
    assert reasons[("replay/app", "unknown_sku")].replay_failed == 1


def test_replay_refuses_what_it_cannot_do(day):
    """No such record, two records in one fix, and a statement line each get a message saying what to do."""
    con, landing = day
    with pytest.raises(ReplayError, match="no quarantined record"):
        plan_replay(con, landing, "orders/app/2026-11-26/nope.jsonl", 3)
    source = f"orders/app/{DAY}/app-zz-crafted.jsonl"
    two = (json.dumps(app_order("A")) + "\n" + json.dumps(app_order("B")) + "\n").encode()
    with pytest.raises(ReplayError, match="one line"):
        plan_replay(con, landing, source, 1, two)


def test_cli_list_show_replay_and_report(day, tmp_path):
    """`orderhub quarantine list/show/replay --no-run` and `orderhub dq report` work on a warehouse file."""
    from orchestration.cli import app

    con, landing = day
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    con.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["quarantine", "list", "--warehouse", db, "--channel", "app", "--code", "bad_phone"])
    assert listed.exit_code == 0 and "app-zz-crafted.jsonl" in listed.output
    shown = runner.invoke(
        app,
        [
            "quarantine",
            "show",
            "--warehouse",
            db,
            "--source-file",
            f"orders/app/{DAY}/app-zz-crafted.jsonl",
            "--line",
            "1",
        ],
    )
    assert shown.exit_code == 0 and "tel:none" in shown.stdout
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(json.dumps(app_order("BADPHONE"), ensure_ascii=False), encoding="utf-8")
    replayed = runner.invoke(
        app,
        [
            "quarantine",
            "replay",
            "--warehouse",
            db,
            "--landing",
            str(landing),
            "--source-file",
            f"orders/app/{DAY}/app-zz-crafted.jsonl",
            "--line",
            "1",
            "--raw-file",
            str(fixed),
            "--no-run",
        ],
    )
    assert replayed.exit_code == 0, replayed.output
    assert list((landing / "orders" / "app" / DAY).glob("replay-app-zz-crafted-L1-*.jsonl"))
    report = runner.invoke(app, ["dq", "report", "--warehouse", db, "--date", DAY, "--truth", str(landing)])
    assert report.exit_code == 0, report.output
    assert "Accounting identity landed = loaded + quarantined + duplicate holds" in report.output
