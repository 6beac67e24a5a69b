"""The finance page's drill-down, T+1 totals and Excel export, against the small snapshot of
dashboard_snapshots.py; the export is the workbook `orderhub recon report` writes from the same rows, masked."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import duckdb
from dashboard_snapshots import RECON_DAY, Snapshot, publish, write_snapshot
from openpyxl import load_workbook
from test_dashboard_pages import open_page, rerun

from dashboards import queries, workbook
from dashboards.masking import mask_text
from dashboards.views import reconciliation

DAY = date.fromisoformat(RECON_DAY)


def variance_amounts(at) -> list[str]:
    return list(at.dataframe[1].value["差异金额"])


def test_variances_drill_down_by_channel_and_category(serving: Path):
    """Choosing a statement channel narrows the variance lines to it (with their count and sums above the
    list) and the category filter to its categories; a category then narrows further; switching to a channel
    without that category falls back to all of the channel's lines."""
    at = open_page("reconciliation")
    assert "所选差异 4 笔 · 差异净额 -¥15.46 · 差异绝对值 ¥75.46" in [c.value for c in at.caption]
    at.selectbox(key="recon_channel").set_value("meituan")
    rerun(at)
    assert variance_amounts(at) == ["-¥35.50", "¥5.00"]
    assert "所选差异 2 笔 · 差异净额 -¥30.50 · 差异绝对值 ¥40.50" in [c.value for c in at.caption]
    assert at.selectbox(key="recon_category").options == ["全部类型", "金额不符", "手续费不符"]
    at.selectbox(key="recon_category").set_value("fee_mismatch")
    rerun(at)
    assert list(at.dataframe[1].value["说明"]) == ["fee 0.00, contract 5.00"]
    at.selectbox(key="recon_channel").set_value("pos")
    rerun(at)
    assert variance_amounts(at) == ["-¥9.96"] and at.selectbox(key="recon_category").value is None
    assert at.dataframe[0].value["结算渠道"].iloc[0] == "美团"  # the per-channel table is not filtered


def test_t1_settlement_has_a_totals_row(serving: Path):
    """Under the day's statements, one totals row: lines and money summed; the stated net only if every
    statement states one; "totals agree" is no when any statement disagrees."""
    at = open_page("reconciliation")
    total = at.dataframe[2].value.to_dict("records")[-1]
    assert total == {
        "结算渠道": "合计",
        "到账日": "—",
        "收款行": "167",
        "退款行": "1",
        "交易额": "¥7,717.00",
        "退款额": "¥50.00",
        "手续费": "¥167.00",
        "净额": "¥7,500.00",
        "账单声明净额": "—",
        "合计一致": "否",
    }


def test_download_offers_the_days_workbook(serving: Path):
    """The page has a download button for the chosen day's workbook; built from the snapshot it holds the
    summary (the six channels, the T+1 payout) and every line of the day on its channel's sheet, the open
    alipay line included, with phones and names masked in the explanations."""
    at = open_page("reconciliation")
    buttons = at.get("download_button")
    assert len(buttons) == 1 and buttons[0].proto.label == "下载对账工作簿（Excel）"
    assert not [c.value for c in at.caption if "只包含差异行" in c.value]
    book = load_workbook(io.BytesIO(reconciliation.workbook_builder(serving, DAY)()))
    assert book.sheetnames == ["汇总 Summary", *workbook.CHANNEL_SHEETS.values()]
    summary = book["汇总 Summary"]
    assert summary["A1"].value == "渠道对账报告 Settlement reconciliation — 2026-11-25"
    assert [summary.cell(row=r, column=1).value for r in range(5, 11)] == sorted(
        ["meituan", "eleme", "wechatpay", "alipay", "pos", "groupbuy"]
    )
    alipay = book["支付宝 alipay"]
    assert [alipay.cell(row=2, column=c).value for c in (1, 3, 4)] == [
        "待结 open",
        "awaiting_settlement",
        "app:APP2026112500003",
    ]
    explanations = [row[19].value for row in book["社区团购 groupbuy"].iter_rows(min_row=2)]
    assert explanations == ["团长王**（139****5678）结算行没有对应订单"]


def test_export_of_a_day_without_all_its_lines_says_so(serving: Path):
    """A recon day the snapshot no longer holds every line of (only the latest 7 days are kept whole) is
    exported with its variance lines, and the page says so next to the button."""
    publish(serving, Snapshot(recon_lines_recent=[]))
    at = open_page("reconciliation")
    assert [c.value for c in at.caption if "只包含差异行" in c.value]
    rows = queries.read_page(serving, "recon_export", recon_date=DAY)
    assert not rows.complete_lines and {line["recon_status"] for line in rows.lines} == {"variance"}


def _warehouse_with_finance_marts(path: Path) -> None:
    scratch = path.with_name("finance_rows.duckdb")
    write_snapshot(scratch, Snapshot())
    con = duckdb.connect(str(path))
    try:
        con.execute(f"ATTACH '{scratch}' AS rows (READ_ONLY)")
        con.execute("CREATE SCHEMA marts")
        for table in ("fct_reconciliation_daily", "fct_reconciliation_lines", "fct_settlement_t1"):
            con.execute(f"CREATE TABLE marts.{table} AS SELECT * FROM rows.main.{table}")
        con.execute("DETACH rows")
    finally:
        con.close()


def test_cli_and_download_differ_only_where_meant(serving: Path, tmp_path: Path):
    """`orderhub recon report` and the download are one writer (dashboards/workbook.py) over the same rows; the
    deliberate differences: the download's explanations are masked (the CLI's are not, for people with
    warehouse access), and its generated-at line (A2) names the snapshot and its run, the CLI's the warehouse."""
    from orchestration.defs.reconciliation import report as recon_report

    warehouse = tmp_path / "warehouse.duckdb"
    _warehouse_with_finance_marts(warehouse)
    cli_path = tmp_path / "cli.xlsx"
    recon_report.write_report(warehouse, DAY, cli_path)
    cli = load_workbook(cli_path)
    rows = queries.read_page(serving, "recon_export", recon_date=DAY)
    assert rows.complete_lines
    ours = load_workbook(io.BytesIO(reconciliation.workbook_bytes(rows, "serving.duckdb", now=datetime(2026, 11, 26))))

    assert ours.sheetnames == cli.sheetnames
    assert "warehouse.duckdb" in cli["汇总 Summary"]["A2"].value
    generated = ours["汇总 Summary"]["A2"].value
    assert generated.startswith("生成 Generated 2026-11-26 08:00") and "serving.duckdb (run run-001)" in generated
    explanation = 1 + [c.field for c in workbook.LINE_COLUMNS].index("explanation")
    sheet = workbook.CHANNEL_SHEETS["groupbuy"]
    unmasked = [row[explanation - 1].value for row in cli[sheet].iter_rows(min_row=2)]
    masked = [row[explanation - 1].value for row in ours[sheet].iter_rows(min_row=2)]
    assert unmasked and all("王秀英" in text for text in unmasked)
    assert masked == [mask_text(text.replace("王秀英", "王**")) for text in unmasked]
