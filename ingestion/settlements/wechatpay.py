"""WeChat Pay merchant trade bill (交易账单, bill_type=ALL), as downloaded: UTF-8 CSV, a header row, data
rows in which every cell starts with a backtick, then a summary header and one backtick summary row.

A SUCCESS row is a payment (商户订单号 = our order number), a REFUND row a refund; net = 应结订单金额 −
退款金额 − 手续费 (a refund row carries the fee given back as a negative 手续费). The summary row is kept as a
`summary` line, and the file is rejected whole when the rows do not add up to it (a truncated download).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ingestion.records import FileError, RecordError
from ingestion.settlements.base import ParsedLine, StatementLine, check_totals, exact, local_time, required, yuan
from ingestion.settlements.text import Row, decode, expect_header, named, rows

HEADER = (
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
    "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
    "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额",
    "费率备注",
)
SUMMARY_HEADER = ("总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额")


def cell(text: str) -> str:
    """`` `4200000925… `` → ``4200000925…``: WeChat prefixes every value with a backtick so that spreadsheets
    keep long ids as text."""
    text = text.strip()
    return text[1:].strip() if text.startswith("`") else text


def _line(row: Row) -> tuple[StatementLine, tuple[Decimal, Decimal, Decimal]]:
    r = named(row, HEADER, cell)
    status = r["交易状态"]
    if status not in ("SUCCESS", "REFUND"):
        raise RecordError("bad_value", f"交易状态 '{status}' is neither SUCCESS nor REFUND")
    settle = exact(r["应结订单金额"], "应结订单金额")
    refund = exact(r["退款金额"] or "0", "退款金额")
    fee = exact(r["手续费"], "手续费")
    is_refund = status == "REFUND"
    line = StatementLine(
        line_type="refund" if is_refund else "payment",
        channel_order_id=required(r["商户订单号"], "商户订单号"),
        transaction_id=required(r["微信订单号"], "微信订单号"),
        refund_id=(r["微信退款单号"] or None) if is_refund else None,
        account_id=r["商户号"] or None,
        gross_amount=yuan(r["应结订单金额"], "应结订单金额"),
        fee_amount=yuan(r["手续费"], "手续费"),
        refund_amount=yuan(r["退款金额"] or "0", "退款金额"),
        net_amount=yuan(str(settle - refund - fee), "net"),
        settled_at=local_time(r["交易时间"], "交易时间"),
    )
    return line, (settle, refund, fee)


def parse(data: bytes, source_file: str, statement_date: dt.date) -> list[ParsedLine]:
    found = list(rows(decode(data, source_file, ("utf-8-sig",), "商户订单号")))
    expect_header(found[0] if found else None, HEADER, source_file)
    summary_at = next((i for i, row in enumerate(found) if tuple(c.strip() for c in row.cells) == SUMMARY_HEADER), None)
    if summary_at is None or summary_at + 1 >= len(found):
        raise FileError(
            "truncated_statement",
            f"{source_file}: no summary row (总交易单数…) after the data rows: the download was cut short; fetch the bill again",
        )
    details, summary_row = found[1:summary_at], found[summary_at + 1]

    parsed: list[ParsedLine] = []
    sums = [Decimal(0), Decimal(0), Decimal(0)]
    all_good = True
    for row in details:
        try:
            line, amounts = _line(row)
        except RecordError as err:
            parsed.append(ParsedLine(row.record(source_file), None, err))
            all_good = False
            continue
        parsed.append(ParsedLine(row.record(source_file), line))
        sums = [a + b for a, b in zip(sums, amounts, strict=True)]

    try:
        s = named(summary_row, SUMMARY_HEADER, cell)
        count = int(required(s["总交易单数"], "总交易单数"))
        stated = (exact(s["应结订单总金额"], "应结订单总金额"), exact(s["退款总金额"], "退款总金额"),
                  exact(s["手续费总金额"], "手续费总金额"))
    except (RecordError, ValueError) as err:
        raise FileError("bad_summary", f"{source_file} line {summary_row.line_no}: unreadable summary row ({err})") from None
    check_totals(source_file, "总交易单数", count, len(details))
    if all_good:
        for name, stated_value, counted in zip(("应结订单总金额", "退款总金额", "手续费总金额"), stated, sums, strict=True):
            check_totals(source_file, name, stated_value, counted)
    settle_total, refund_total, fee_total = stated
    parsed.append(ParsedLine(summary_row.record(source_file), StatementLine(
        line_type="summary", txn_count=count,
        gross_amount=yuan(str(settle_total), "应结订单总金额"), refund_amount=yuan(str(refund_total), "退款总金额"),
        fee_amount=yuan(str(fee_total), "手续费总金额"),
        net_amount=yuan(str(settle_total - refund_total - fee_total), "net"),
    )))
    return parsed
