"""The reconciliation workbook finance opens: a summary sheet (one row per statement channel with SUM totals,
then the T+1 payout of the day's statements) and one sheet per statement channel with its lines, variances
first by size; bilingual headers, number formats, fills, frozen panes, filters and widths.

The one writer of it: ``orderhub recon report`` (``orchestration/defs/reconciliation/report.py``, rows from the warehouse)
and the reconciliation page's download (``dashboards/export.py``, rows from the serving snapshot, explanations
masked) both call :func:`recon_workbook`. It lives here because the dashboards may not import the pipeline's
packages while the pipeline may import anything; it needs only openpyxl (no Streamlit, no other dashboards
module), so the CLI that imports it pulls in nothing of the app.

Pure: rows in, an openpyxl ``Workbook`` out.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

Row = dict[str, Any]

CHANNEL_SHEETS: dict[str, str] = {
    "meituan": "美团 meituan",
    "eleme": "饿了么 eleme",
    "wechatpay": "微信支付 wechatpay",
    "alipay": "支付宝 alipay",
    "pos": "门店POS pos",
    "groupbuy": "社区团购 groupbuy",
}
CATEGORY_LABELS: dict[str, str] = {
    "matched": "相符",
    "timing_difference": "时间差（延后到账）",
    "awaiting_settlement": "待结算",
    "missing_settlement": "漏结算",
    "unknown_order": "系统无此订单",
    "amount_mismatch": "金额不符",
    "fee_mismatch": "手续费不符",
    "duplicate_settlement": "重复结算",
    "unexpected_refund": "异常退款",
    "unexpected_settlement": "异常结算",
    "tender_total_mismatch": "收银汇总不符",
    "unallocated_adjustment": "未分配调整",
}
STATUS_LABELS = {"variance": "差异 variance", "open": "待结 open", "cleared": "已清 cleared", "matched": "相符 matched"}
DAY_STATUS_LABELS = {
    "variances": "有差异 variances",
    "balanced": "平 balanced",
    "no_statement": "未收到对账单 no statement",
    "statement_incomplete": "对账单不完整 statement incomplete",
}

MONEY = "#,##0.00;[Red]-#,##0.00"
DATE = "yyyy-mm-dd"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
VARIANCE_FILL = PatternFill("solid", fgColor="FCE4D6")
OPEN_FILL = PatternFill("solid", fgColor="FFF2CC")
TOTAL_FONT = Font(bold=True)
THIN = Border(bottom=Side(style="thin", color="808080"))


@dataclass(frozen=True)
class Column:
    title: str
    field: str
    kind: str = "text"  # text | money | date | int


SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("渠道 Channel", "settlement_channel"),
    Column("状态 Status", "day_status"),
    Column("对账单文件 Files", "statement_files", "int"),
    Column("明细行 Lines", "statement_lines", "int"),
    Column("结算净额 Settled net", "settled_net", "money"),
    Column("相符 Matched", "matched", "int"),
    Column("时间差 Timing", "timing_differences", "int"),
    Column("时间差金额 Timing amount", "cleared_amount", "money"),
    Column("待结 Awaiting", "awaiting", "int"),
    Column("待结金额 Awaiting amount", "awaiting_amount", "money"),
    Column("差异 Variances", "variances", "int"),
    Column("差异净额 Variance net", "variance_amount", "money"),
    Column("差异绝对额 Variance abs", "variance_abs_amount", "money"),
    Column("漏结算 Missing", "missing_settlements", "int"),
    Column("无此订单 Unknown", "unknown_orders", "int"),
    Column("金额不符 Amount", "amount_mismatches", "int"),
    Column("手续费不符 Fee", "fee_mismatches", "int"),
    Column("重复结算 Duplicate", "duplicate_settlements", "int"),
    Column("异常退款 Refund", "unexpected_refunds", "int"),
    Column("异常结算 Unexpected", "unexpected_settlements", "int"),
    Column("收银不符 Tender", "tender_total_mismatches", "int"),
    Column("账单未能入账 Statement rejects", "statement_rejects", "int"),
)
PAYOUT_COLUMNS: tuple[Column, ...] = (
    Column("渠道 Channel", "settlement_channel"),
    Column("到账日 Payout date", "payout_date", "date"),
    Column("付款行 Payments", "payment_lines", "int"),
    Column("退款行 Refunds", "refund_lines", "int"),
    Column("交易额 Gross", "gross_amount", "money"),
    Column("退款额 Refunded", "refund_amount", "money"),
    Column("手续费 Fees", "fee_amount", "money"),
    Column("到账净额 Net payout", "net_amount", "money"),
    Column("对账单合计 Stated net", "stated_net", "money"),
    Column("合计一致 Totals agree", "totals_agree"),
)
LINE_COLUMNS: tuple[Column, ...] = (
    Column("状态 Status", "recon_status"),
    Column("类别 Category", "category_label"),
    Column("代码 Code", "category"),
    Column("订单 Order key", "order_key"),
    Column("单号 Order id", "channel_order_id"),
    Column("交易号 Transaction", "transaction_id"),
    Column("门店 Store", "store_id"),
    Column("支付方式 Tender", "tender"),
    Column("业务日期 Business date", "business_date", "date"),
    Column("对账单日期 Statement date", "statement_date", "date"),
    Column("延迟天数 Days late", "days_late", "int"),
    Column("应收总额 Expected gross", "expected_gross", "money"),
    Column("应收手续费 Expected fee", "expected_fee", "money"),
    Column("应收净额 Expected net", "expected_net", "money"),
    Column("结算总额 Gross", "gross_amount", "money"),
    Column("手续费 Fee", "fee_amount", "money"),
    Column("结算净额 Net", "net_amount", "money"),
    Column("退款 Refund", "refund_amount", "money"),
    Column("差异金额 Variance", "variance_amount", "money"),
    Column("说明 Explanation", "explanation"),
    Column("来源 Source", "source"),
)
STATUS_ORDER = {"variance": 0, "open": 1, "cleared": 2, "matched": 3}


def _value(row: Row, column: Column) -> Any:
    value = row.get(column.field)
    if column.field == "day_status":
        return DAY_STATUS_LABELS.get(value, value)
    if column.field == "recon_status":
        return STATUS_LABELS.get(value, value)
    if column.field == "totals_agree":
        return {True: "是 yes", False: "否 NO", None: "—"}[value]
    return value


def _write_table(ws: Worksheet, top: int, columns: Sequence[Column], rows: Sequence[Row]) -> int:
    """Header at row ``top``, data below; returns the last row written."""
    for c, column in enumerate(columns, start=1):
        cell = ws.cell(row=top, column=c, value=column.title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(rows, start=top + 1):
        for c, column in enumerate(columns, start=1):
            cell = ws.cell(row=r, column=c, value=_value(row, column))
            if column.kind == "money":
                cell.number_format = MONEY
            elif column.kind == "date":
                cell.number_format = DATE
    return top + len(rows)


def _fit_widths(ws: Worksheet, columns: Sequence[Column], first_row: int, cap: int = 60) -> None:
    """Width from the longest value (CJK characters count double), within sensible bounds."""

    def width(value: Any) -> int:
        text = f"{value:,.2f}" if isinstance(value, Decimal) else str(value or "")
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    for c, column in enumerate(columns, start=1):
        letter = get_column_letter(c)
        longest = max((width(ws.cell(row=r, column=c).value) for r in range(first_row + 1, ws.max_row + 1)), default=0)
        title = max(width(part) for part in column.title.split(" ")) if column.title else 0
        ws.column_dimensions[letter].width = min(cap, max(10, longest + 2, title + 2))


def _summary_sheet(
    wb: Workbook, day: dt.date, daily: Sequence[Row], payout: Sequence[Row], source: str, generated: dt.datetime
) -> None:
    ws = wb.active
    ws.title = "汇总 Summary"
    ws["A1"] = f"渠道对账报告 Settlement reconciliation — {day.isoformat()}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"生成 Generated {generated:%Y-%m-%d %H:%M} (Asia/Shanghai) · 数据 {source} · 金额单位 元 (CNY)"
    ws["A2"].font = Font(italic=True, color="595959")
    top = 4
    last = _write_table(ws, top, SUMMARY_COLUMNS, daily)
    total_row = last + 1
    ws.cell(row=total_row, column=1, value="合计 Total").font = TOTAL_FONT
    for c, column in enumerate(SUMMARY_COLUMNS, start=1):
        if column.kind in ("money", "int") and daily:
            letter = get_column_letter(c)
            cell = ws.cell(row=total_row, column=c, value=f"=SUM({letter}{top + 1}:{letter}{last})")
            cell.font = TOTAL_FONT
            cell.border = THIN
            if column.kind == "money":
                cell.number_format = MONEY
    for r, row in enumerate(daily, start=top + 1):
        if row["day_status"] != "balanced":
            ws.cell(row=r, column=2).fill = VARIANCE_FILL
    ws.freeze_panes = ws.cell(row=top + 1, column=2)
    payout_top = total_row + 3
    ws.cell(row=payout_top - 1, column=1, value="T+1 到账 Payout of this day's statements").font = Font(
        bold=True, size=12
    )
    _write_table(ws, payout_top, PAYOUT_COLUMNS, payout)
    _fit_widths(ws, SUMMARY_COLUMNS, top, cap=26)
    ws.row_dimensions[top].height = 32
    ws.row_dimensions[payout_top].height = 32


def _lines_sheet(wb: Workbook, channel: str, lines: Sequence[Row]) -> None:
    ws = wb.create_sheet(CHANNEL_SHEETS[channel])
    rows = sorted(
        (
            dict(
                line,
                category_label=CATEGORY_LABELS.get(line["category"], line["category"]),
                source=f"{line['source_file']}:{line['source_line']}" if line["source_file"] else None,
            )
            for line in lines
        ),
        key=lambda r: (
            STATUS_ORDER.get(r["recon_status"], 9),
            -abs(r["variance_amount"] or 0),
            r["category"],
            r["channel_order_id"] or "",
            r["store_id"] or "",
            r["tender"] or "",
        ),
    )
    last = _write_table(ws, 1, LINE_COLUMNS, rows)
    for r, row in enumerate(rows, start=2):
        fill = (
            VARIANCE_FILL if row["recon_status"] == "variance" else OPEN_FILL if row["recon_status"] == "open" else None
        )
        if fill:
            for c in (1, 2):
                ws.cell(row=r, column=c).fill = fill
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(LINE_COLUMNS))}{max(last, 1)}"
    _fit_widths(ws, LINE_COLUMNS, 1)
    ws.row_dimensions[1].height = 32


def recon_workbook(
    day: dt.date,
    daily: Sequence[Row],
    lines: Sequence[Row],
    payout: Sequence[Row],
    *,
    source: str,
    generated: dt.datetime,
) -> Workbook:
    """The workbook for ``day``. ``daily`` / ``payout`` are the day's rows of ``fct_reconciliation_daily``
    (sorted by channel) and ``fct_settlement_t1``; ``lines`` its lines of ``fct_reconciliation_lines``, written
    as given (a caller that must not show names or phones masks the explanations first); ``source`` names where
    the rows come from and ``generated`` (Shanghai wall time) when, on the summary sheet."""
    wb = Workbook()
    _summary_sheet(wb, day, daily, payout, source, generated)
    by_channel: dict[str, list[Row]] = {channel: [] for channel in CHANNEL_SHEETS}
    for line in lines:
        by_channel.setdefault(line["settlement_channel"], []).append(line)
    for channel in CHANNEL_SHEETS:
        _lines_sheet(wb, channel, by_channel[channel])
    return wb


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook as ``.xlsx`` bytes (for a download)."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
