"""Our own statement sheets (UTF-8 CSV, header row, a closing 合计 row): the POS end-of-day totals per store
and tender, and the group-buy leader statement per leader. Layouts in docs/landing-formats.md.

POS: one row per tender (支付方式 as the till names it: 现金 / 微信 / 支付宝 / 银行卡), reconciled as totals
by store, tender and day, never per ticket. Group-buy: one row per member order the leader settles (类型
结算) or refunds (类型 退款, negative amounts); 团长佣金 is the leader's commission, 应结金额 what we receive.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ingestion.adapters.pos import POS
from ingestion.records import FileError, RecordError
from ingestion.settlements.base import ParsedLine, StatementLine, check_totals, required, same_day, yuan
from ingestion.settlements.text import Row, decode, expect_header, named, rows

POS_HEADER = ("营业日期", "门店编码", "支付方式", "笔数", "金额", "手续费", "实收金额")
GROUPBUY_HEADER = (
    "结算日期",
    "团长编号",
    "团长",
    "自提点",
    "门店编码",
    "订单号",
    "成员昵称",
    "订单金额",
    "佣金比例",
    "团长佣金",
    "应结金额",
    "类型",
)
TOTAL = "合计"
# The till's tender names, mapped exactly as the POS order adapter maps its 支付方式.
TENDERS = dict(POS.payment_map)


def _count(text: str, what: str) -> int:
    try:
        value = int(required(text, what).removesuffix("笔"))
    except ValueError:
        raise RecordError("bad_value", f"{what} '{text}' is not a whole number") from None
    if value < 0:
        raise RecordError("bad_value", f"{what} {value} is negative")
    return value


def _split(data: bytes, source_file: str, header: tuple[str, ...], first: str) -> tuple[list[Row], Row]:
    found = list(rows(decode(data, source_file, ("utf-8-sig",), first)))
    expect_header(found[0] if found else None, header, source_file)
    if len(found) < 2 or found[-1].cells[:1] != (TOTAL,):
        raise FileError(
            "truncated_statement",
            f"{source_file}: the last row is not the {TOTAL} row: the file is incomplete; export it again",
        )
    return found[1:-1], found[-1]


def _pos_line(row: Row, statement_date: dt.date) -> StatementLine:
    r = named(row, POS_HEADER, str.strip)
    same_day(r["营业日期"], "营业日期", statement_date)
    if r["支付方式"] not in TENDERS:
        raise RecordError("bad_value", f"支付方式 '{r['支付方式']}' is not one of {', '.join(TENDERS)}")
    return StatementLine(
        line_type="payment",
        store_id=required(r["门店编码"], "门店编码"),
        account_id=r["门店编码"],
        tender=TENDERS[r["支付方式"]],
        txn_count=_count(r["笔数"], "笔数"),
        gross_amount=yuan(r["金额"], "金额"),
        fee_amount=yuan(r["手续费"], "手续费"),
        net_amount=yuan(r["实收金额"], "实收金额"),
    )


def parse_pos(data: bytes, source_file: str, statement_date: dt.date) -> list[ParsedLine]:
    details, total = _split(data, source_file, POS_HEADER, "支付方式")
    parsed = []
    for row in details:
        try:
            parsed.append(ParsedLine(row.record(source_file), _pos_line(row, statement_date)))
        except RecordError as err:
            parsed.append(ParsedLine(row.record(source_file), None, err))
    try:
        t = named(total, POS_HEADER, str.strip)
        summary = StatementLine(
            line_type="summary",
            store_id=t["门店编码"] or None,
            account_id=t["门店编码"] or None,
            txn_count=_count(t["笔数"], "笔数"),
            gross_amount=yuan(t["金额"], "金额"),
            fee_amount=yuan(t["手续费"], "手续费"),
            net_amount=yuan(t["实收金额"], "实收金额"),
        )
    except RecordError as err:
        raise FileError(
            "bad_summary", f"{source_file} line {total.line_no}: unreadable {TOTAL} row ({err.message})"
        ) from None
    good = [p.line for p in parsed if p.line is not None]
    if len(good) == len(parsed):
        check_totals(source_file, "笔数", summary.txn_count, sum(g.txn_count for g in good))
        check_totals(source_file, "实收金额", summary.net_amount, sum((g.net_amount for g in good), Decimal("0.00")))
    parsed.append(ParsedLine(total.record(source_file), summary))
    return parsed


def _groupbuy_line(row: Row, statement_date: dt.date) -> StatementLine:
    r = named(row, GROUPBUY_HEADER, str.strip)
    same_day(r["结算日期"], "结算日期", statement_date)
    kind = r["类型"]
    if kind not in ("结算", "退款"):
        raise RecordError("bad_value", f"类型 '{kind}' is neither 结算 nor 退款")
    order_id = required(r["订单号"], "订单号")
    amount = yuan(r["订单金额"], "订单金额")
    is_refund = kind == "退款"
    return StatementLine(
        line_type="refund" if is_refund else "payment",
        channel_order_id=order_id,
        order_key=f"groupbuy:{order_id}",
        transaction_id=f"{required(r['团长编号'], '团长编号')}/{order_id}/{kind}",
        store_id=r["门店编码"] or None,
        account_id=r["团长编号"],
        gross_amount=Decimal("0.00") if is_refund else amount,
        refund_amount=-amount if is_refund else Decimal("0.00"),
        fee_amount=yuan(r["团长佣金"], "团长佣金"),
        net_amount=yuan(r["应结金额"], "应结金额"),
    )


def parse_groupbuy(data: bytes, source_file: str, statement_date: dt.date) -> list[ParsedLine]:
    details, total = _split(data, source_file, GROUPBUY_HEADER, "团长编号")
    parsed = []
    for row in details:
        try:
            parsed.append(ParsedLine(row.record(source_file), _groupbuy_line(row, statement_date)))
        except RecordError as err:
            parsed.append(ParsedLine(row.record(source_file), None, err))
    try:
        t = named(total, GROUPBUY_HEADER, str.strip)
        summary = StatementLine(
            line_type="summary",
            account_id=t["团长编号"] or None,
            txn_count=_count(t["订单号"], "订单号"),
            gross_amount=yuan(t["订单金额"], "订单金额"),
            fee_amount=yuan(t["团长佣金"], "团长佣金"),
            net_amount=yuan(t["应结金额"], "应结金额"),
            refund_amount=None,
        )
    except RecordError as err:
        raise FileError(
            "bad_summary", f"{source_file} line {total.line_no}: unreadable {TOTAL} row ({err.message})"
        ) from None
    check_totals(source_file, "订单号 笔数", summary.txn_count, len(details))
    good = [p.line for p in parsed if p.line is not None]
    if len(good) == len(parsed):
        check_totals(source_file, "应结金额", summary.net_amount, sum((g.net_amount for g in good), Decimal("0.00")))
    parsed.append(ParsedLine(total.record(source_file), summary))
    return parsed
