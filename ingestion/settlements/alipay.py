"""Alipay merchant trade bill (业务明细), as downloaded: GBK CSV with `#` comment lines before the header and
after the data (the end marker, then 交易合计 / 退款合计 totals), id-like cells suffixed with a TAB.

业务类型 交易 is a payment, 退款 a refund (退款批次号 filled). gross = 商家实收: the order amount less what the
merchant funded (商家优惠), i.e. what Alipay settles before its fee, like WeChat's 应结订单金额; 支付宝红包, 集分宝 and
支付宝优惠 are funded by others and do not reduce it. 服务费 is the service fee; neither its sign nor a refund's
is documented (the one real bill found has refunds negative, fees zero), so both are taken by size and signed by
the line type (a fee charged on a payment, given back on a refund). net = 商家实收 − fee. The two `#…合计` lines
are kept as `summary` lines and checked against the rows. Sources: docs/channel-semantics.md.

A bill states the period it covers (`#起始日期：[…]   终止日期：[…]`); one that is not the day of its landing folder
is refused whole as `wrong_statement_date`. Which of a row's two times decides its day is not documented, so a
row is of another day only when neither 创建时间 nor 完成时间 falls on the statement's day.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from ingestion.records import FileError, RawRecord, RecordError
from ingestion.settlements.base import ParsedLine, StatementLine, check_totals, exact, local_time, required, yuan
from ingestion.settlements.text import Row, decode, expect_header, named, rows

HEADER = (
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
)
LIST_START = "业务明细列表"
LIST_END = "业务明细列表结束"
_ACCOUNT = re.compile(r"#账号：\[(?P<account>[^\]]*)\]")
_TRADES = re.compile(r"#交易合计：(?P<count>\d+)笔，商家实收共(?P<amount>-?[\d.]+)元")
_PERIOD = re.compile(r"#起始日期：\[(?P<start>[^\]]*)\]\s*终止日期：\[(?P<end>[^\]]*)\]")
_REFUNDS = re.compile(r"#退款合计：(?P<count>\d+)笔，商家实收退款共(?P<amount>-?[\d.]+)元")


def cell(text: str) -> str:
    """Alipay appends a TAB to id-like cells (`2019091622001458860515315453\\t`) so spreadsheets keep them as text."""
    return text.strip().strip("\t").strip()


def _check_period(lines: list[str], source_file: str, statement_date: dt.date) -> None:
    """The bill's own period must be the statement's day: from its midnight to the next (or to 23:59:59)."""
    match = next((m for text in lines if (m := _PERIOD.match(text.strip()))), None)
    if match is None:
        return
    try:
        start, end = (dt.datetime.strptime(match[k].strip(), "%Y年%m月%d日 %H:%M:%S") for k in ("start", "end"))
    except ValueError:
        return  # a comment line in another form says nothing the rows do not
    if start.date() != statement_date or end - start > dt.timedelta(days=1) or end <= start:
        raise FileError(
            "wrong_statement_date",
            f"{source_file}: the bill covers {match['start']} to {match['end']}, not the statement's day "
            f"{statement_date} (its landing folder): land each day's bill under its own day",
        )


def _on_day(r: dict[str, str], statement_date: dt.date) -> None:
    days = {r[k].strip()[:10] for k in ("创建时间", "完成时间") if r[k].strip()}
    if days and statement_date.isoformat() not in days:
        raise RecordError(
            "wrong_statement_date",
            f"创建时间 and 完成时间 ({', '.join(sorted(days))}) are not the statement's day {statement_date} "
            "(its landing folder): move the row to that day's bill",
        )


def _line(row: Row, account: str | None, statement_date: dt.date) -> StatementLine:
    r = named(row, HEADER, cell)
    settled_at = local_time(r["完成时间"] or r["创建时间"], "完成时间")  # an unreadable time is said to be one
    _on_day(r, statement_date)
    kind = r["业务类型"]
    if kind not in ("交易", "退款"):
        raise RecordError("bad_value", f"业务类型 '{kind}' is neither 交易 nor 退款")
    is_refund = kind == "退款"
    received = exact(r["商家实收（元）"], "商家实收（元）")
    received = -abs(received) if is_refund else received
    fee = abs(exact(r["服务费（元）"] or "0", "服务费（元）"))
    fee = -fee if is_refund else fee
    return StatementLine(
        line_type="refund" if is_refund else "payment",
        channel_order_id=required(r["商户订单号"], "商户订单号"),
        transaction_id=required(r["支付宝交易号"], "支付宝交易号"),
        refund_id=(r["退款批次号/请求号"] or None) if is_refund else None,
        store_id=r["门店编号"] or None,
        account_id=account,
        gross_amount=Decimal("0.00") if is_refund else yuan(str(received), "商家实收（元）"),
        refund_amount=yuan(str(-received), "商家实收（元）") if is_refund else Decimal("0.00"),
        fee_amount=yuan(str(fee), "服务费（元）"),
        net_amount=yuan(str(received - fee), "net"),
        settled_at=settled_at,
    )


def _reject_personal_export(data: bytes, source_file: str) -> None:
    """A consumer's own record export (电子客户回单, 交易订单号/商家订单号 columns) looks like a bill but is the
    payer's view, not the merchant's settlement: say so instead of calling it an encoding problem."""
    text = data.decode("gb18030", errors="replace")
    if "支付宝交易号" not in text and ("电子客户回单" in text or "交易订单号" in text):
        raise FileError(
            "not_a_merchant_bill",
            f"{source_file}: an Alipay personal record export (电子客户回单), not the merchant bill (业务明细); "
            "download the merchant bill from the Alipay merchant portal",
        )


def parse(data: bytes, source_file: str, statement_date: dt.date) -> list[ParsedLine]:
    # GB18030 is the superset of GBK that Python decodes strictly; a UTF-8 re-save is accepted too.
    _reject_personal_export(data, source_file)
    lines = decode(data, source_file, ("gb18030", "utf-8-sig"), "支付宝交易号")
    _check_period(lines, source_file, statement_date)
    account = next((m["account"] for text in lines if (m := _ACCOUNT.match(text.strip()))), None)
    start = next(
        (i for i, text in enumerate(lines) if text.startswith("#") and LIST_START in text and LIST_END not in text),
        None,
    )
    end = next((i for i, text in enumerate(lines) if text.startswith("#") and LIST_END in text), None)
    if start is None:
        raise FileError(
            "bad_header", f"{source_file}: no '#---{LIST_START}---' line before the header: not an Alipay 业务明细 bill"
        )
    if end is None:
        raise FileError(
            "truncated_statement",
            f"{source_file}: no '#---{LIST_END}---' line after the data: the download was cut short; fetch the bill again",
        )
    body = list(rows(lines[:end], start + 1))
    expect_header(body[0] if body else None, HEADER, source_file, clean=cell)

    parsed: list[ParsedLine] = []
    counts = {"payment": 0, "refund": 0}
    received = {"payment": Decimal(0), "refund": Decimal(0)}
    all_good = True
    for row in body[1:]:
        record = row.record(source_file)
        if row.text.lstrip().startswith("#"):
            continue
        try:
            line = _line(row, account, statement_date)
        except RecordError as err:
            parsed.append(ParsedLine(record, None, err))
            all_good = False
            continue
        parsed.append(ParsedLine(record, line))
        counts[line.line_type] += 1
        received[line.line_type] += (line.net_amount or 0) + (line.fee_amount or 0)
    rejected = len(parsed) - sum(counts.values())

    totals = []
    for pattern, kind, label in ((_TRADES, "payment", "交易合计"), (_REFUNDS, "refund", "退款合计")):
        index, match = next(
            ((i, m) for i, text in enumerate(lines) if i > end and (m := pattern.match(text.strip()))), (None, None)
        )
        if match is None:
            raise FileError(
                "truncated_statement", f"{source_file}: no '#{label}' line after the data: fetch the bill again"
            )
        stated_amount = exact(match["amount"], label)
        totals.append(
            (index, kind, label, int(match["count"]), -abs(stated_amount) if kind == "refund" else stated_amount)
        )

    # A rejected row is still a row of the bill, so the number of rows is compared whatever was rejected (a row
    # missing beside a bad one would otherwise go unseen); which 合计 a rejected row belongs to may not be
    # readable, so then only the two counts together are. The amounts need every row read.
    if all_good:
        for _, kind, label, stated_count, stated_amount in totals:
            check_totals(source_file, f"{label} 笔数", stated_count, counts[kind])
            check_totals(source_file, f"{label} 商家实收", stated_amount, received[kind])
    else:
        check_totals(
            source_file,
            "交易合计 + 退款合计 笔数 (rejected rows counted as rows)",
            sum(t[3] for t in totals),
            sum(counts.values()) + rejected,
        )
    for index, kind, label, stated_count, stated_amount in totals:
        summary = StatementLine(
            line_type="summary",
            txn_count=stated_count,
            account_id=account,
            # Alipay states what the merchant received before the service fee: no net to compare with.
            gross_amount=yuan(str(stated_amount), label) if kind == "payment" else Decimal("0.00"),
            refund_amount=yuan(str(-stated_amount), label) if kind == "refund" else Decimal("0.00"),
            fee_amount=None,
            net_amount=None,
        )
        parsed.append(ParsedLine(RawRecord(source_file, index + 1, lines[index]), summary))
    return parsed
