"""Settlement statements go through the same micro-batch as orders: loaded in the batch transaction with
the checkpoint, counted per statement channel (landed = loaded + quarantined + duplicate), a re-delivered
statement's lines counted as duplicates, and a malformed file or line quarantined with file and line."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion import warehouse
from ingestion.loader import run_batch
from simulator import simulate_day

DAYS = [dt.date(2026, 11, 16), dt.date(2026, 11, 17)]


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    landing = tmp_path_factory.mktemp("settle_landing")
    for day in DAYS:
        simulate_day(day, orders=300, seed=5, out=landing)
    return landing


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_statements_load_with_their_accounting_and_checkpoint(two_days, tmp_path):
    """Every simulated statement line loads (nothing quarantined), each statement channel's counts balance
    and equal the lines in raw.settlement_lines, statement files are checkpointed, and a second batch over
    the same landing zone loads nothing."""
    con = warehouse.connect(tmp_path / "wh.duckdb")
    result = run_batch(con, two_days)
    channels = {k: c for k, c in result.counts.items() if k.startswith("settlement/")}
    assert set(channels) == {f"settlement/{c}" for c in ("meituan", "eleme", "wechatpay", "alipay", "pos", "groupbuy")}
    stored = dict(
        con.execute("select 'settlement/' || channel, count(*) from raw.settlement_lines group by 1").fetchall()
    )
    for label, c in channels.items():
        assert c.landed == c.loaded + c.quarantined + c.duplicate, label
        assert (c.quarantined, c.duplicate, c.loaded) == (0, 0, stored[label]), label
    batches = con.execute(
        "select count(*) from raw.ingest_batches where channel like 'settlement/%' and landed <> loaded + quarantined + duplicate"
    ).fetchone()[0]
    assert batches == 0
    files = con.execute("select count(*) from raw.ingest_files where kind = 'settlements'").fetchone()[0]
    assert files == sum(c.files for c in channels.values()) == len(list((two_days / "settlements").rglob("*.*")))
    assert con.execute("select count(distinct statement_date) from raw.settlement_lines").fetchone()[0] == 2
    assert run_batch(con, two_days).files == 0
    con.close()


def test_redelivered_and_malformed_statements(two_days, tmp_path):
    """A bill delivered again under another name adds no line (all duplicates); a truncated Alipay bill is
    quarantined whole; a Meituan statement with one broken line loses only that line; the messages name
    the file and line."""
    landing = _copy(two_days, tmp_path / "landing")
    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    before = con.execute("select count(*) from raw.settlement_lines").fetchone()[0]

    day = DAYS[1].isoformat()
    bill = next((landing / "settlements" / "wechatpay" / day).glob("*.csv"))
    shutil.copyfile(bill, bill.with_name("wechatpay-bill-redownload.csv"))
    alipay = next((landing / "settlements" / "alipay" / day).glob("*.csv"))
    cut = alipay.read_bytes()
    # A download cut in half (at a line end, so it still decodes).
    (alipay.parent / "alipay-trade-partial.csv").write_bytes(cut[: cut.index(b"\r\n", len(cut) // 2) + 2])
    mt_dir = landing / "settlements" / "meituan" / day
    mt_lines = next(mt_dir.glob("*.jsonl")).read_text(encoding="utf-8").splitlines()
    new_mt = [
        mt_lines[0].replace('"settle_bill_id":"', '"settle_bill_id":"X'),
        '{"bill_date": "2026-11-17", "order_id": ',
    ]
    (mt_dir / "meituan-settlement-extra.jsonl").write_text("\n".join(new_mt) + "\n", encoding="utf-8")

    result = run_batch(con, landing)
    wx, ali, mt = (result.counts[f"settlement/{c}"] for c in ("wechatpay", "alipay", "meituan"))
    bill_lines = sum(1 for line in bill.read_text(encoding="utf-8-sig").splitlines() if line.startswith("`"))
    assert (wx.landed, wx.loaded, wx.duplicate, wx.quarantined) == (bill_lines, 0, bill_lines, 0)
    assert (ali.landed, ali.quarantined, ali.loaded) == (1, 1, 0)
    assert (mt.landed, mt.loaded, mt.quarantined, mt.duplicate) == (2, 1, 1, 0)
    assert con.execute("select count(*) from raw.settlement_lines").fetchone()[0] == before + 1
    quarantined = dict(
        con.execute(
            "select source_file, error_code || ': ' || message from raw.quarantine where channel like 'settlement/%'"
        ).fetchall()
    )
    partial = f"settlements/alipay/{day}/alipay-trade-partial.csv"
    assert quarantined[partial].startswith("truncated_statement: ") and partial in quarantined[partial]
    extra = f"settlements/meituan/{day}/meituan-settlement-extra.jsonl"
    assert quarantined[extra].startswith("broken_json: ") and f"{extra} line 2" in quarantined[extra]
    con.close()


def test_injected_discrepancies_are_on_the_statements_truth_names(two_days, tmp_path):
    """Ground truth and statements agree before any reconciliation: a line-type discrepancy (unknown order,
    duplicate, refund, mismatch, late payment) is a loaded line on the statement day truth gives, and a
    missing settlement is on no statement up to its day."""
    from simulator import load_truth

    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, two_days)
    days = {d.isoformat() for d in DAYS}
    variances = [
        v for d in DAYS for v in load_truth(two_days, d)["settlement_variances"] if v["statement_date"] in days
    ]
    assert {v["category"] for v in variances} >= {
        "unknown_order",
        "duplicate_settlement",
        "unexpected_refund",
        "amount_mismatch",
        "fee_mismatch",
        "timing_difference",
        "tender_total_mismatch",
    }
    for v in variances:
        if v["category"] == "tender_total_mismatch":
            continue
        lines = con.execute(
            "select line_type, count(*) from raw.settlement_lines where channel = ? and channel_order_id = ? "
            "and statement_date <= ? group by 1",
            [v["channel"], v["ref"], v["statement_date"]],
        ).fetchall()
        found = dict(lines)
        if v["category"] == "missing_settlement":
            assert "payment" not in found, v
        elif v["category"] == "duplicate_settlement":
            assert found.get("payment", 0) >= 2, v
        elif v["category"] == "unexpected_refund":
            assert found.get("refund", 0) >= 1, v
        else:
            assert found.get("payment", 0) >= 1, v
    con.close()


def test_wechatpay_bills_of_one_day_in_several_layouts_count_each_transaction_once(tmp_path):
    """WeChat's ALL, REFUND and SUCCESS bills of one day landed together hold the same payments and refunds in
    different layouts: each loads once (the other copies are duplicates), a second partial refund of a payment
    is its own line, and each bill's summary loads. A later day's bill with only its summary is an empty day."""
    from test_settlement_parsers import WX_SUMMARY_HEADER, wx_three_bills

    day = tmp_path / "landing" / "settlements" / "wechatpay" / "2026-11-26"
    day.mkdir(parents=True)
    for name, data in zip(("all.csv", "refund.csv", "success.csv"), wx_three_bills(), strict=True):
        (day / name).write_bytes(data)
    empty = day.parent / "2026-11-27"
    empty.mkdir()
    (empty / "b.csv").write_text(WX_SUMMARY_HEADER + "\n`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00\n", encoding="utf-8")
    con = warehouse.connect(tmp_path / "wh.duckdb")
    wx = run_batch(con, tmp_path / "landing").counts["settlement/wechatpay"]
    assert (wx.landed, wx.loaded, wx.duplicate, wx.quarantined) == (12, 8, 4, 0)
    lines = con.execute(
        "select statement_date::varchar, line_type, count(*), sum(net_amount) from raw.settlement_lines "
        "group by all order by all"
    ).fetchall()
    assert [(d, t, n) for d, t, n, _ in lines] == [
        ("2026-11-26", "payment", 2),
        ("2026-11-26", "refund", 2),
        ("2026-11-26", "summary", 3),
        ("2026-11-27", "summary", 1),
    ]
    # The ALL bill's alone: 应结订单总金额 168.30 − 退款总金额 53.30 − 手续费总金额 0.69.
    assert sum(net for d, t, _, net in lines if t != "summary") == Decimal("114.31")
    # Each summary says which lines it totals, so the day's stated total is the ALL bill's and not all three.
    scopes = con.execute(
        "select source_file, summary_of, net_amount from raw.settlement_lines "
        "where line_type = 'summary' and statement_date = date '2026-11-26' order by source_file"
    ).fetchall()
    assert [(Path(f).name, of) for f, of, _ in scopes] == [
        ("all.csv", None),
        ("refund.csv", "refund"),
        ("success.csv", "payment"),
    ]
    assert scopes[0][2] == Decimal("114.31")

    # A later copy of a refund with another amount (its bill edited to match) is not a duplicate to drop but a
    # conflict to show.
    edited = wx_three_bills()[1].replace(b"`5.00,", b"`6.00,").replace(b"`53.30", b"`54.30")
    (day / "refund-edited.csv").write_bytes(edited)
    wx = run_batch(con, tmp_path / "landing").counts["settlement/wechatpay"]
    assert (wx.landed, wx.loaded, wx.duplicate, wx.quarantined) == (3, 1, 1, 1)
    (code, message), *_ = con.execute("select error_code, message from raw.quarantine").fetchall()
    assert code == "conflicting_duplicate" and "refund_amount 5.00 there, 6.00 here" in message
    assert "503000261126000000000000000002" in message
    con.close()
