"""Each statement parser on a file in its channel's real layout, awkward parts included (WeChat Pay's
backtick cells, BOM and summary rows; Alipay's GBK bytes, `#` lines and TAB-suffixed ids; refunds), and on
malformed files: a bad line is rejected alone with a reason, a file that cannot be trusted is rejected whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ingestion import settlements
from ingestion.records import FileError

D = Decimal
DAY = dt.date(2026, 11, 26)

# --------------------------------------------------------------------------------------------------- WeChat

WX_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)


def wx_row(
    time: str,
    txn: str,
    order: str,
    status: str,
    settle: str,
    refund: str,
    fee: str,
    refund_id: str = "",
    goods: str = "张江店鲜食订单",
) -> str:
    cells = [
        time,
        "wx8c2a5b1e3f4d6a70",
        "1601959334",
        "0",
        "",
        txn,
        order,
        "oVH167pR3yGuKo2PFcDEAIXihDNm",
        "JSAPI",
        status,
        "OTHERS",
        "CNY",
        settle,
        "0.00",
        refund_id,
        f"RF{order}" if refund_id else "",
        refund,
        "0.00",
        "ORIGINAL" if refund_id else "",
        "SUCCESS" if refund_id else "",
        goods,
        "",
        fee,
        "0.60%",
        settle,
        refund,
        "",
    ]
    return ",".join("`" + c for c in cells)


WX_ROWS = [
    wx_row(
        "2026-11-26 09:00:05", "4200002611260000000000000001", "MP2026112600001", "SUCCESS", "48.30", "0.00", "0.29000"
    ),
    wx_row(
        "2026-11-26 09:10:00",
        "4200002611260000000000000002",
        "APP2026112600007",
        "SUCCESS",
        "120.00",
        "0.00",
        "0.72000",
    ),
    wx_row(
        "2026-11-26 09:30:00",
        "4200002611260000000000000001",
        "MP2026112600001",
        "REFUND",
        "0.00",
        "48.30",
        "-0.29000",
        refund_id="503000261126000000000000000001",
    ),
]


def wx_bill(rows: list[str], summary: list[str] | None = None) -> bytes:
    summary = summary or ["3", "168.30", "48.30", "0.00", "0.72000", "168.30", "48.30"]
    lines = [
        WX_HEADER,
        *rows,
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
        ",".join("`" + c for c in summary),
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_wechatpay_bill_backticks_refunds_and_summary() -> None:
    """Backticks are stripped from every cell, SUCCESS rows are payments and REFUND rows refunds (fee given
    back negative, net negative), 5-decimal fees become fen, and the summary row is kept as a summary line."""
    parsed = settlements.parse("wechatpay", wx_bill(WX_ROWS), "settlements/wechatpay/2026-11-26/b.csv", DAY)
    assert [p.error for p in parsed] == [None] * 4
    pay, pay2, refund, summary = (p.line for p in parsed)
    assert (pay.line_type, pay.channel_order_id, pay.transaction_id) == (
        "payment",
        "MP2026112600001",
        "4200002611260000000000000001",
    )
    assert (pay.gross_amount, pay.fee_amount, pay.net_amount, pay.refund_amount) == (
        D("48.30"),
        D("0.29"),
        D("48.01"),
        D("0.00"),
    )
    assert pay.account_id == "1601959334"
    assert pay.settled_at == dt.datetime(2026, 11, 26, 1, 0, 5)  # 09:00:05 Shanghai = 01:00:05 UTC
    assert pay2.net_amount == D("119.28")
    assert (refund.line_type, refund.refund_id) == ("refund", "503000261126000000000000000001")
    assert (refund.gross_amount, refund.refund_amount, refund.fee_amount, refund.net_amount) == (
        D("0.00"),
        D("48.30"),
        D("-0.29"),
        D("-48.01"),
    )
    assert (summary.line_type, summary.txn_count, summary.net_amount) == ("summary", 3, D("119.28"))
    assert [p.record.source_line for p in parsed] == [2, 3, 4, 6]


def test_wechatpay_goods_name_with_a_unicode_line_separator_stays_one_row() -> None:
    """商品名称 is the merchant's own text: U+2028 or U+0085 in it is a character of the cell, not the end of a
    row (a CSV reader splits at LF only). Splitting there made two broken rows out of one payment."""
    first = wx_row(
        "2026-11-26 09:00:05",
        "4200002611260000000000000001",
        "MP2026112600001",
        "SUCCESS",
        "48.30",
        "0.00",
        "0.29000",
        goods="鲜食\u2028订单\u0085(2件)",
    )
    parsed = settlements.parse(
        "wechatpay", wx_bill([first, *WX_ROWS[1:]]), "settlements/wechatpay/2026-11-26/b.csv", DAY
    )
    assert [p.error for p in parsed] == [None] * 4
    assert [p.record.source_line for p in parsed] == [2, 3, 4, 6]
    assert parsed[0].line.net_amount == D("48.01")


def test_wechatpay_cut_bill_is_rejected_and_edited_summary_is_flagged() -> None:
    """A bill without its summary row was cut short and is rejected whole; one whose rows do not add up to
    its summary loads its rows and quarantines the summary as `summary_mismatch` with stated vs found."""
    cut = wx_bill(WX_ROWS).split(b"\xe6\x80\xbb\xe4\xba\xa4\xe6\x98\x93\xe5\x8d\x95\xe6\x95\xb0")[0]  # up to 总交易单数
    with pytest.raises(FileError) as err:
        settlements.parse("wechatpay", cut, "wx.csv", DAY)
    assert err.value.code == "truncated_statement" and "wx.csv" in err.value.message
    short = settlements.parse("wechatpay", wx_bill(WX_ROWS[:2]), "wx.csv", DAY)
    assert [p.error for p in short[:2]] == [None, None]
    assert short[2].line is None and short[2].error.code == "summary_mismatch"
    assert "总交易单数 stated 3, found 2" in short[2].error.message
    edited = settlements.parse(
        "wechatpay", wx_bill(WX_ROWS, ["3", "170.30", "48.30", "0.00", "0.72000", "170.30", "48.30"]), "wx.csv", DAY
    )
    assert edited[3].error.code == "summary_mismatch"
    assert "应结订单总金额 stated 170.30, rows add up to 168.30" in edited[3].error.message
    with pytest.raises(FileError) as err:
        settlements.parse("wechatpay", b"not,a,bill\n", "wx.csv", DAY)
    assert err.value.code == "bad_encoding"


def test_wechatpay_bad_row_is_rejected_alone() -> None:
    """An unreadable amount or status rejects that row with its reason; the other rows still load."""
    rows = [WX_ROWS[0], WX_ROWS[1].replace("`120.00", "`12O.00", 1), WX_ROWS[2].replace("`REFUND", "`NOTPAY")]
    parsed = settlements.parse("wechatpay", wx_bill(rows), "wx.csv", DAY)
    assert parsed[0].error is None and parsed[3].line.line_type == "summary"
    assert (parsed[1].error.code, parsed[1].record.source_line) == ("bad_value", 3)
    assert "12O.00" in parsed[1].error.message
    assert parsed[2].error.code == "bad_value" and "NOTPAY" in parsed[2].error.message


# The same rows in WeChat's other bill layouts [WF]: REFUND adds 退款申请时间 and 退款成功时间 after 代金券金额, SUCCESS
# drops the refund columns and has a 4-column summary.
WX_REFUND_HEADER = WX_HEADER.replace("代金券金额,", "代金券金额,退款申请时间,退款成功时间,")
WX_SUCCESS_DROPS = {
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "申请退款金额",
}
WX_SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def wx_refund_row(row: str, requested: str, succeeded: str) -> str:
    """A row of the ALL bill as the REFUND bill writes it."""
    cells = row.split(",")
    return ",".join([*cells[:14], "`" + requested, "`" + succeeded, *cells[14:]])


def wx_success_row(row: str) -> str:
    keep = [i for i, name in enumerate(WX_HEADER.split(",")) if name not in WX_SUCCESS_DROPS]
    cells = row.split(",")
    return ",".join(cells[i] for i in keep)


def wx_layout_bill(header: str, rows: list[str], summary_header: str, summary: list[str]) -> bytes:
    return ("\n".join([header, *rows, summary_header, ",".join("`" + c for c in summary)]) + "\n").encode()


WX_REFUND_2 = wx_row(
    "2026-11-26 11:00:00",
    "4200002611260000000000000001",
    "MP2026112600001",
    "REFUND",
    "0.00",
    "5.00",
    "-0.03000",
    refund_id="503000261126000000000000000002",
)


def wx_three_bills() -> tuple[bytes, bytes, bytes]:
    """One day's ALL bill (two payments, two partial refunds of the first) and the same rows as its REFUND and
    SUCCESS bills."""
    all_rows = [*WX_ROWS, WX_REFUND_2]
    all_bill = wx_bill(all_rows, ["4", "168.30", "53.30", "0.00", "0.69000", "168.30", "53.30"])
    refund_bill = wx_layout_bill(
        WX_REFUND_HEADER,
        [wx_refund_row(r, r.split(",")[0].lstrip("`"), "2026-11-26 12:00:00") for r in all_rows[2:]],
        WX_SUMMARY_HEADER,
        ["2", "0.00", "53.30", "0.00", "-0.32000", "0.00", "53.30"],
    )
    success_bill = wx_layout_bill(
        ",".join(c for c in WX_HEADER.split(",") if c not in WX_SUCCESS_DROPS),
        [wx_success_row(r) for r in all_rows[:2]],
        "总交易单数,应结订单总金额,手续费总金额,订单总金额",
        ["2", "168.30", "1.01000", "168.30"],
    )
    return all_bill, refund_bill, success_bill


def test_wechatpay_rows_of_another_day_are_wrong_statement_date() -> None:
    """WeChat cuts its bills at 00:00 Beijing time, so a row whose 交易时间 is of another day than the bill's
    folder is in the wrong statement, as on the other statements; the day is the Beijing one (00:10 on the 26th
    is the 25th in UTC). A bill of another day loses its summary too, since its totals are not this day's."""
    edges = [
        WX_ROWS[0].replace("`2026-11-26 09:00:05", "`2026-11-26 00:10:00"),
        WX_ROWS[1].replace("`2026-11-26 09:10:00", "`2026-11-26 23:59:59"),
        WX_ROWS[2],
    ]
    assert [p.error for p in settlements.parse("wechatpay", wx_bill(edges), "wx.csv", DAY)] == [None] * 4
    moved = settlements.parse(
        "wechatpay", wx_bill(WX_ROWS), "settlements/wechatpay/2026-11-27/b.csv", DAY.replace(day=27)
    )
    assert [p.error.code for p in moved] == ["wrong_statement_date"] * 4
    assert "交易时间 2026-11-26 does not match the statement's day 2026-11-27" in moved[0].error.message
    assert "3 of the bill's 3 rows" in moved[3].error.message
    # One row of another day among the day's rows: that row and the summary are rejected, the rest load.
    mixed = [WX_ROWS[0], WX_ROWS[1].replace("`2026-11-26 09:10:00", "`2026-11-25 09:10:00"), WX_ROWS[2]]
    parsed = settlements.parse("wechatpay", wx_bill(mixed), "wx.csv", DAY)
    assert [p.error.code if p.error else None for p in parsed] == [
        None,
        "wrong_statement_date",
        None,
        "wrong_statement_date",
    ]


def test_wechatpay_refund_row_is_of_the_day_the_refund_was_accepted() -> None:
    """A refund row is in the bill of the day WeChat accepted the refund (退款受理成功时间), which is its 交易时间 in the
    ALL bill and its 退款申请时间 in the REFUND bill, not the day it succeeded (退款成功时间, which may be the next
    day) nor the payment's day."""
    late = WX_ROWS[2].replace("`2026-11-26 09:30:00", "`2026-11-26 23:59:58")
    all_bill = wx_bill([WX_ROWS[0], WX_ROWS[1], late])
    assert settlements.parse("wechatpay", all_bill, "wx.csv", DAY)[2].error is None
    # The REFUND bill's row, with the payment's time as 交易时间 and success after midnight.
    row = wx_refund_row(
        WX_ROWS[2].replace("`2026-11-26 09:30:00", "`2026-11-20 18:00:00"), "2026-11-26 23:59:58", "2026-11-27 00:00:03"
    )
    bill = wx_layout_bill(
        WX_REFUND_HEADER, [row], WX_SUMMARY_HEADER, ["1", "0.00", "48.30", "0.00", "-0.29000", "0.00", "48.30"]
    )
    refund, summary = settlements.parse("wechatpay", bill, "refund.csv", DAY)
    assert refund.error is None and summary.line.line_type == "summary"
    assert refund.line.settled_at == dt.datetime(2026, 11, 26, 16, 0, 3)  # it succeeded 00:00:03 on the 27th
    for day in (DAY.replace(day=27), DAY.replace(day=20)):
        refund = settlements.parse("wechatpay", bill, "refund.csv", day)[0]
        assert refund.error.code == "wrong_statement_date" and "退款申请时间 2026-11-26" in refund.error.message


def test_wechatpay_transaction_has_one_identity_in_every_bill_type() -> None:
    """WeChat's ALL bill holds the day's payments and refunds, its SUCCESS and REFUND bills the same rows in
    other layouts: a payment (微信订单号) or refund (微信退款单号) gets the same duplicate key in each, so landing
    two of them the same day does not count it twice; a second partial refund of a payment stays its own line.
    Each bill's summary is still checked against its own rows."""
    all_bill, refund_bill, success_bill = wx_three_bills()
    full = settlements.parse("wechatpay", all_bill, "all.csv", DAY)
    refunds = settlements.parse("wechatpay", refund_bill, "refund.csv", DAY)
    payments = settlements.parse("wechatpay", success_bill, "success.csv", DAY)
    assert [p.error for p in full + refunds + payments] == [None] * 11
    assert [p.raw_hash for p in full[:4]] == [p.raw_hash for p in payments[:2] + refunds[:2]]
    assert [p.record.raw_hash for p in full[:4]] != [p.record.raw_hash for p in payments[:2] + refunds[:2]]
    assert len({p.raw_hash for p in full}) == 5  # the two refunds of one payment stay two lines
    # A REFUND row without its 微信退款单号 cannot be told from another refund of the payment: it keeps its text.
    anonymous = settlements.parse(
        "wechatpay", wx_bill([*WX_ROWS[:2], WX_ROWS[2].replace("`503000261126000000000000000001", "`")]), "wx.csv", DAY
    )[2]
    assert anonymous.identity is None and anonymous.raw_hash == anonymous.record.raw_hash


def test_wechatpay_bill_with_only_its_summary_is_an_empty_day() -> None:
    """A day with nothing paid is landed as the summary alone (docs/landing-formats.md), in any of the bill's
    encodings: it loads as a summary of zero, not as an encoding error; one stating trades it does not hold is
    flagged as a summary that disagrees with its (absent) rows."""
    empty = WX_SUMMARY_HEADER + "\n`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00\n"
    for data in (
        empty.encode(),
        ("\ufeff" + empty).encode(),
        empty.encode("gbk"),
        empty.replace("\n", "\r\n").encode(),
    ):
        (summary,) = settlements.parse("wechatpay", data, "wx.csv", DAY)
        assert summary.error is None
        assert (summary.line.line_type, summary.line.txn_count, summary.line.net_amount) == ("summary", 0, D("0.00"))
    (stated,) = settlements.parse("wechatpay", empty.replace("`0,`0.00,", "`2,`10.00,", 1).encode(), "wx.csv", DAY)
    assert stated.line is None and stated.error.code == "summary_mismatch"
    assert "总交易单数 2, 应结订单总金额 10.00" in stated.error.message and "no detail rows" in stated.error.message
    with pytest.raises(FileError) as err:
        settlements.parse("wechatpay", WX_SUMMARY_HEADER.encode() + b"\n", "wx.csv", DAY)
    assert err.value.code == "truncated_statement"


# --------------------------------------------------------------------------------------------------- Alipay

ALI_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def ali_row(txn: str, order: str, kind: str, amount: str, fee: str, refund_batch: str = "") -> str:
    return (
        f"{txn}\t,{order}\t,{kind}\t,张江店鲜食订单,2026-11-26 10:55:16,2026-11-26 10:55:23,SH001\t,张江店\t,orderhub\t,\t,"
        f"张**(138****5678)\t,{amount},{amount},0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,{refund_batch}\t,{fee},0.00,"
    )


def ali_bill(
    rows: list[str],
    trades: str = "#交易合计：2笔，商家实收共300.00元，商家优惠共0.00元",
    refunds: str = "#退款合计：1笔，商家实收退款共-50.00元，商家优惠退款共0.00元",
    end: bool = True,
) -> list[str]:
    lines = [
        "#支付宝业务明细查询",
        "#账号：[20880211096256330156]",
        "#起始日期：[2026年11月26日 00:00:00]   终止日期：[2026年11月27日 00:00:00]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ALI_HEADER,
        *rows,
    ]
    if end:
        lines += [
            "#-----------------------------------------业务明细列表结束------------------------------------",
            trades,
            refunds,
            "#导出时间：[2026年11月27日 05:46:49]",
        ]
    return lines


ALI_ROWS = [
    ali_row("2026112622001458860515315453", "APP2026112600003", "交易", "100.00", "-0.60"),
    ali_row("2026112622001458860515315454", "APP2026112600009", "交易", "200.00", "-1.20"),
    ali_row("2026112622001458860515315453", "APP2026112600003", "退款", "-50.00", "0.30", "RFAPP20261126000030001"),
]


def test_alipay_gbk_bill_with_comment_lines_tab_ids_and_refunds() -> None:
    """The GBK bill reads with its `#` lines skipped (the account taken from them), TAB suffixes stripped from
    ids, a 退款 row as a refund with the fee given back, and the two 合计 lines kept as summaries."""
    data = ("\r\n".join(ali_bill(ALI_ROWS)) + "\r\n").encode("gbk")
    parsed = settlements.parse("alipay", data, "settlements/alipay/2026-11-26/a.csv", DAY)
    assert [p.error for p in parsed] == [None] * 5
    pay, _, refund, trades, refunds = (p.line for p in parsed)
    assert (pay.transaction_id, pay.channel_order_id, pay.store_id) == (
        "2026112622001458860515315453",
        "APP2026112600003",
        "SH001",
    )
    assert (pay.gross_amount, pay.fee_amount, pay.net_amount, pay.account_id) == (
        D("100.00"),
        D("0.60"),
        D("99.40"),
        "20880211096256330156",
    )
    assert (refund.line_type, refund.refund_id) == ("refund", "RFAPP20261126000030001")
    assert (refund.refund_amount, refund.fee_amount, refund.net_amount) == (D("50.00"), D("-0.30"), D("-49.70"))
    assert (trades.txn_count, trades.gross_amount, refunds.txn_count, refunds.refund_amount) == (
        2,
        D("300.00"),
        1,
        D("50.00"),
    )
    assert [p.record.source_line for p in parsed] == [6, 7, 8, 10, 11]
    # A copy re-saved as UTF-8 reads the same.
    utf8 = settlements.parse("alipay", ("\n".join(ali_bill(ALI_ROWS)) + "\n").encode("utf-8"), "a.csv", DAY)
    assert [p.line for p in utf8][:3] == [p.line for p in parsed][:3]


def test_alipay_truncated_or_inconsistent_bill_is_rejected_whole() -> None:
    """No end marker: the download was cut. Totals that disagree with the rows: the file cannot be trusted."""
    with pytest.raises(FileError) as err:
        settlements.parse("alipay", "\r\n".join(ali_bill(ALI_ROWS, end=False)).encode("gbk"), "a.csv", DAY)
    assert err.value.code == "truncated_statement" and "业务明细列表结束" in err.value.message
    wrong = ali_bill(ALI_ROWS, trades="#交易合计：3笔，商家实收共300.00元，商家优惠共0.00元")
    with pytest.raises(FileError) as err:
        settlements.parse("alipay", "\r\n".join(wrong).encode("gbk"), "a.csv", DAY)
    assert err.value.code == "statement_totals_mismatch"
    short_row = ali_bill(
        [ALI_ROWS[0], "2026112622001458860515315455\t,APP1\t,交易\t", ALI_ROWS[1], ALI_ROWS[2]],
        trades="#交易合计：3笔，商家实收共310.00元，商家优惠共0.00元",
    )
    parsed = settlements.parse("alipay", "\r\n".join(short_row).encode("gbk"), "a.csv", DAY)
    assert [p.error.code if p.error else None for p in parsed] == [None, "malformed_row", None, None, None, None]


def test_alipay_row_count_is_checked_even_beside_a_rejected_row() -> None:
    """A rejected row is still one of the bill's rows: with one row unreadable and another deleted, the 合计
    counts no longer match the rows and the file is rejected, where skipping the check would have hidden the
    deleted row. The amounts cannot be added up without every row, so only the counts are compared then."""
    bad = ALI_ROWS[0].replace(",100.00,100.00,", ",100.00,1x0.00,")
    deleted = ali_bill([bad, ALI_ROWS[2]])  # ALI_ROWS[1] deleted, totals left as they were
    with pytest.raises(FileError) as err:
        settlements.parse("alipay", "\r\n".join(deleted).encode("gbk"), "a.csv", DAY)
    assert err.value.code == "statement_totals_mismatch"
    assert "笔数 (rejected rows counted as rows) 3 but its lines add up to 2" in err.value.message
    kept = settlements.parse("alipay", "\r\n".join(ali_bill([bad, *ALI_ROWS[1:]])).encode("gbk"), "a.csv", DAY)
    assert [p.error.code if p.error else None for p in kept] == ["bad_value", None, None, None, None]


def test_alipay_bill_of_another_day_or_a_row_of_another_day() -> None:
    """The bill states its period: one for another day than its folder's, or longer than a day, is refused whole.
    A row whose two times are both on another day is rejected alone (and still counted as a row); a payment
    created before midnight and completed after it is of the day either time says."""
    yesterday = [
        line.replace(
            "2026年11月26日 00:00:00]   终止日期：[2026年11月27日",
            "2026年11月25日 00:00:00]   终止日期：[2026年11月26日",
        )
        for line in ali_bill(ALI_ROWS)
    ]
    week = [line.replace("终止日期：[2026年11月27日", "终止日期：[2026年12月03日") for line in ali_bill(ALI_ROWS)]
    for lines in (yesterday, week):
        with pytest.raises(FileError) as err:
            settlements.parse("alipay", "\r\n".join(lines).encode("gbk"), "a.csv", DAY)
        assert err.value.code == "wrong_statement_date" and "not the statement's day 2026-11-26" in err.value.message
    other_day = ALI_ROWS[1].replace(
        "2026-11-26 10:55:16,2026-11-26 10:55:23", "2026-11-25 10:55:16,2026-11-25 10:55:23"
    )
    midnight = ALI_ROWS[1].replace("2026-11-26 10:55:16,2026-11-26 10:55:23", "2026-11-25 23:59:50,2026-11-26 00:00:05")
    parsed = settlements.parse(
        "alipay", "\r\n".join(ali_bill([ALI_ROWS[0], other_day, ALI_ROWS[2]])).encode("gbk"), "a.csv", DAY
    )
    assert [p.error.code if p.error else None for p in parsed] == [None, "wrong_statement_date", None, None, None]
    assert "2026-11-25" in parsed[1].error.message
    parsed = settlements.parse(
        "alipay", "\r\n".join(ali_bill([ALI_ROWS[0], midnight, ALI_ROWS[2]])).encode("gbk"), "a.csv", DAY
    )
    assert [p.error for p in parsed] == [None] * 5
    garbled = ALI_ROWS[1].replace("2026-11-26 10:55:16,2026-11-26 10:55:23", "2026/11/26 10:55:16,2026/11/26 10:55:23")
    parsed = settlements.parse(
        "alipay", "\r\n".join(ali_bill([ALI_ROWS[0], garbled, ALI_ROWS[2]])).encode("gbk"), "a.csv", DAY
    )
    assert [p.error.code if p.error else None for p in parsed][:3] == [None, "bad_value", None]


# --------------------------------------------------------------------------------------------------- platforms

MT_GOOD = (
    '{"bill_date":"2026-11-26","settle_bill_id":"MTB2026112600000001","order_id":"27012611260000001",'
    '"wm_order_id_view":"27012611260000001","app_poi_code":"SH001","settle_type":"1","order_time":"1795654800",'
    '"settle_time":"1795658400","poi_receive_detail":"{\\"wmPoiReceiveCent\\":4680,\\"onlinePayment\\":5500,'
    '\\"foodShareFeeChargeByPoi\\":320,\\"logisticsFee\\":500}"}'
)


def test_meituan_and_eleme_records_with_bad_lines() -> None:
    """Meituan fen become yuan (order_key from the order id); an Eleme refund is a refund; a broken line, a
    line dated for another day and a line without an order id are each rejected with their own reason."""
    mt = "\n".join(
        [
            MT_GOOD,
            MT_GOOD.replace('"bill_date":"2026-11-26"', '"bill_date":"2026-11-25"'),
            MT_GOOD.replace('"order_id":"27012611260000001"', '"order_id":""'),
            MT_GOOD[:80],
        ]
    ).encode()
    parsed = settlements.parse("meituan", mt, "mt.jsonl", DAY)
    good = parsed[0].line
    assert (good.order_key, good.gross_amount, good.fee_amount, good.net_amount) == (
        "meituan:27012611260000001",
        D("55.00"),
        D("3.20"),
        D("46.80"),
    )
    assert [p.error.code for p in parsed[1:]] == ["wrong_statement_date", "missing_field", "broken_json"]
    assert "2026-11-25" in parsed[1].error.message

    el = (
        '{"shopId":170001,"orderId":"5026112600000000012","billDate":"2026-11-26","transNo":"T1","detailType":"REFUND",'
        '"createAt":"2026-11-26T10:00:00","completeAt":"2026-11-26T12:00:00","checkoutAmount":-4.68,"foodAmount":0,'
        '"packingFee":0,"merchantSubsidyAmount":0,"userPaidDeliveryFee":0,"elemeSubsidyAmount":0,"commissionFee":-0.32,'
        '"refundAmount":5.0}\n'
        '{"shopId":170001,"orderId":"5026112600000000013","billDate":"2026-11-26","transNo":"T2","detailType":"ORDER",'
        '"createAt":"2026-11-26T10:00:00","completeAt":"2026-11-26T12:00:00","checkoutAmount":"x"}\n'
    ).encode()
    refund, bad = settlements.parse("eleme", el, "el.jsonl", DAY)
    assert (refund.line.line_type, refund.line.refund_amount, refund.line.net_amount, refund.line.order_key) == (
        "refund",
        D("5.00"),
        D("-4.68"),
        "eleme:5026112600000000012",
    )
    assert bad.error.code in ("bad_value", "missing_field")


# --------------------------------------------------------------------------------------------------- sheets


def test_pos_end_of_day_and_leader_statement() -> None:
    """POS tender names map exactly as the till adapter maps them, with ticket counts; a leader statement's
    refund row is a refund; a 合计 row that disagrees, or a missing one, rejects the file."""
    pos = (
        "营业日期,门店编码,支付方式,笔数,金额,手续费,实收金额\n"
        "2026-11-26,SH001,现金,3,120.50,0.00,120.50\n2026-11-26,SH001,微信,5,300.00,1.14,298.86\n"
        "合计,SH001,,8,420.50,1.14,419.36\n"
    ).encode()
    cash, wechat, total = (p.line for p in settlements.parse("pos", pos, "pos.csv", DAY))
    assert (cash.tender, cash.txn_count, cash.net_amount, cash.store_id) == ("cash", 3, D("120.50"), "SH001")
    assert (wechat.tender, wechat.fee_amount) == ("wechat", D("1.14"))
    assert (total.line_type, total.txn_count) == ("summary", 8)
    with pytest.raises(FileError) as err:
        settlements.parse("pos", pos.replace(b"419.36", b"400.00"), "pos.csv", DAY)
    assert err.value.code == "statement_totals_mismatch"
    with pytest.raises(FileError) as err:
        settlements.parse("pos", pos.rsplit(b"\xe5\x90\x88\xe8\xae\xa1", 1)[0], "pos.csv", DAY)
    assert err.value.code == "truncated_statement"

    leader = (
        "结算日期,团长编号,团长,自提点,门店编码,订单号,成员昵称,订单金额,佣金比例,团长佣金,应结金额,类型\n"
        "2026-11-26,LD11,王芳,碧云东门团长自提点,SH001,GB2026112600001,小李,45.60,10.00%,4.56,41.04,结算\n"
        "2026-11-26,LD11,王芳,碧云东门团长自提点,SH001,GB2026112600001,小李,-5.00,10.00%,-0.50,-4.50,退款\n"
        "合计,LD11,王芳,,,2笔,,40.60,,4.06,36.54,\n"
    ).encode()
    pay, refund, total = (p.line for p in settlements.parse("groupbuy", leader, "gb.csv", DAY))
    assert (pay.order_key, pay.account_id, pay.gross_amount, pay.fee_amount, pay.net_amount) == (
        "groupbuy:GB2026112600001",
        "LD11",
        D("45.60"),
        D("4.56"),
        D("41.04"),
    )
    assert (refund.line_type, refund.refund_amount, refund.net_amount) == ("refund", D("5.00"), D("-4.50"))
    assert (total.txn_count, total.net_amount) == (2, D("36.54"))


def test_unknown_statement_channel_is_a_file_error() -> None:
    """A folder no parser knows is reported with the known channels, not silently skipped."""
    with pytest.raises(FileError) as err:
        settlements.parse("unionpay", b"", "settlements/unionpay/2026-11-26/x.csv", DAY)
    assert err.value.code == "unknown_channel" and "wechatpay" in err.value.message
