"""The finance page's drill-down, T+1 totals and Excel export (issue 8), against the small snapshot of
dashboard_snapshots.py; the export is compared cell by cell with the workbook `orderhub recon report` writes
from the same rows."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import duckdb
from dashboard_snapshots import RECON_DAY, Snapshot, publish, write_snapshot
from openpyxl import load_workbook
from test_dashboard_pages import open_page, rerun

from dashboards import export, queries
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
        "结算渠道": "合计", "到账日": "—", "收款行": "167", "退款行": "1", "交易额": "¥7,717.00", "退款额": "¥50.00",
        "手续费": "¥167.00", "净额": "¥7,500.00", "账单声明净额": "—", "合计一致": "否",
    }


def test_download_offers_the_days_workbook(serving: Path):
    """The page has a download button for the chosen day's workbook; built from the snapshot it holds the
    summary (the six channels, the T+1 payout) and every line of the day on its channel's sheet, the open
    alipay line included, with phones and names masked in the explanations."""
    at = open_page("reconciliation")
    buttons = at.get("download_button")
    assert len(buttons) == 1 and buttons[0].proto.label == "下载对账工作簿（Excel）"
    assert not [c.value for c in at.caption if "只包含差异行" in c.value]
    workbook = load_workbook(io.BytesIO(reconciliation.workbook_builder(serving, DAY)()))
    assert workbook.sheetnames == ["汇总 Summary", *export.CHANNEL_SHEETS.values()]
    summary = workbook["汇总 Summary"]
    assert summary["A1"].value == "渠道对账报告 Settlement reconciliation — 2026-11-25"
    assert [summary.cell(row=r, column=1).value for r in range(5, 11)] == sorted(
        ["meituan", "eleme", "wechatpay", "alipay", "pos", "groupbuy"])
    alipay = workbook["支付宝 alipay"]
    assert [alipay.cell(row=2, column=c).value for c in (1, 3, 4)] == ["待结 open", "awaiting_settlement",
                                                                      "app:APP2026112500003"]
    explanations = [row[19].value for row in workbook["社区团购 groupbuy"].iter_rows(min_row=2)]
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


def test_export_is_the_workbook_orderhub_recon_report_writes(serving: Path, tmp_path: Path):
    """From the same rows, the dashboard's workbook and `orderhub recon report`'s have the same sheets, and
    every cell the same value, number format, font and fill; the same frozen panes, filters, row heights and
    column widths. The only differences are the deliberate ones: the generated-at line (A2) names the snapshot,
    and explanations are masked (so that column's width may differ)."""
    from orchestration import recon_report
    warehouse = tmp_path / "warehouse.duckdb"
    _warehouse_with_finance_marts(warehouse)
    cli_path = tmp_path / "cli.xlsx"
    recon_report.write_report(warehouse, DAY, cli_path)
    cli = load_workbook(cli_path)
    rows = queries.read_page(serving, "recon_export", recon_date=DAY)
    assert rows.complete_lines
    ours = load_workbook(io.BytesIO(reconciliation.workbook_bytes(rows, "serving.duckdb", now=datetime(2026, 11, 26))))

    assert ours.sheetnames == cli.sheetnames
    explanation = 1 + [c.field for c in export.LINE_COLUMNS].index("explanation")
    for name in cli.sheetnames:
        a, b = cli[name], ours[name]
        assert (b.max_row, b.max_column) == (a.max_row, a.max_column), name
        assert (b.freeze_panes, b.auto_filter.ref) == (a.freeze_panes, a.auto_filter.ref), name
        for row_a, row_b in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for x, y in zip(row_a, row_b, strict=True):
                where = (name, x.coordinate)
                if name == "汇总 Summary" and x.coordinate == "A2":
                    assert y.value.startswith("生成 Generated 2026-11-26 08:00") and "serving.duckdb (run run-001)" in y.value
                elif name != "汇总 Summary" and x.column == explanation and x.row > 1 and x.value:
                    assert y.value == mask_text(x.value.replace("王秀英", "王**")), where
                else:
                    assert y.value == x.value, where
                assert (y.number_format, y.font.b, y.fill.fgColor.rgb) == (x.number_format, x.font.b,
                                                                           x.fill.fgColor.rgb), where
        for letter, dimension in a.column_dimensions.items():
            if name != "汇总 Summary" and letter == "T":
                continue
            assert b.column_dimensions[letter].width == dimension.width, (name, letter)
        assert {r: d.height for r, d in b.row_dimensions.items() if d.height} == {
            r: d.height for r, d in a.row_dimensions.items() if d.height}, name
