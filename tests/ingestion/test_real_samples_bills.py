"""The real WeChat Pay bills and Alipay exports under ../shared/real-samples (provenance in its README) parse
into the values they hold: every trade-bill layout by header (ALL v3 plain and gzip, REFUND 29 columns, the
legacy 24-column documentation sample with full-width colons), the fund-flow bill rejected as not a trade
bill, summaries that disagree with the rows flagged, and variants built here from a real bill (BOM, `?` BOM,
CRLF, gzip, a SUCCESS bill of 20 columns)."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion import settlements
from ingestion.records import FileError

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-samples"
WX = SAMPLES / "wechatpay"
ALI = SAMPLES / "alipay_personal"
DAY = dt.date(2021, 1, 28)
D = Decimal

pytestmark = pytest.mark.skipif(not WX.is_dir(), reason=f"real samples not present at {SAMPLES}")

ALL_V3 = "gunsluo_wechatpay-go_tradebill_ALL_v3.csv"
ALL_IDS = ["S20210128170702357723", "S20210128153505214586", "S20210128165824499930"]


# The day of each sample's rows: a bill parses under the day its rows are of (its landing folder's).
REFUND_DAY = dt.date(2019, 7, 23)
LEGACY_DAY = dt.date(2014, 11, 10)


def parse(data: bytes, name: str = "wx.csv", day: dt.date = DAY) -> list:
    return settlements.parse("wechatpay", data, name, day)


def check_all_v3(parsed: list) -> None:
    assert [p.error for p in parsed] == [None] * 4
    *pays, summary = (p.line for p in parsed)
    assert [p.channel_order_id for p in pays] == ALL_IDS
    assert pays[0].transaction_id == "4200000925202101284997714292" and pays[0].account_id == "1601959334"
    assert {(p.line_type, p.gross_amount, p.fee_amount, p.net_amount) for p in pays} == {
        ("payment", D("0.01"), D("0"), D("0.01"))
    }
    assert pays[0].settled_at == dt.datetime(2021, 1, 28, 9, 7, 11)  # 17:07:11 Shanghai
    assert (summary.line_type, summary.txn_count, summary.gross_amount) == ("summary", 3, D("0.03"))


def test_all_v3_plain_and_gzip() -> None:
    check_all_v3(parse((WX / ALL_V3).read_bytes()))
    check_all_v3(parse((WX / (ALL_V3 + ".gz")).read_bytes(), "wx.csv.gz"))


def test_variants_of_a_real_bill_bom_mangled_bom_crlf_gzip_gbk() -> None:
    raw = (WX / ALL_V3).read_bytes()
    for variant in (
        b"\xef\xbb\xbf" + raw,
        b"?" + raw,
        raw.replace(b"\n", b"\r\n"),
        gzip.compress(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n")),
        raw.decode().encode("gbk"),
    ):
        check_all_v3(parse(variant))


def test_success_bill_of_20_columns_built_by_header() -> None:
    """The SUCCESS bill drops the seven refund columns; the same rows read by name give the same values."""
    refund_cols = {"微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "申请退款金额"}
    lines = (WX / ALL_V3).read_text("utf-8").splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name not in refund_cols]
    assert len(keep) == 20
    body = [",".join(line.split(",")[i] for i in keep) for line in lines[:4]]
    check_all_v3(parse(("\n".join(body + lines[4:]) + "\n").encode()))


def test_refund_bill_29_columns_flags_its_summary() -> None:
    parsed = parse((WX / "wxjava_bill_REFUND_masked.csv").read_bytes(), day=REFUND_DAY)
    refund = parsed[0].line
    assert (refund.line_type, refund.refund_amount, refund.net_amount, refund.refund_id) == (
        "refund",
        D("0.01"),
        D("-0.01"),
        "xxxx",
    )
    assert refund.settled_at == dt.datetime(2019, 7, 23, 12, 53, 40)  # 退款成功时间 20:53:40 Shanghai
    flag = parsed[1]
    assert flag.line is None and flag.error.code == "summary_mismatch"
    assert "总交易单数 stated 4, found 1" in flag.error.message and "退款总金额 stated 2.02" in flag.error.message


def test_real_bill_landed_under_another_day_is_rejected_row_by_row() -> None:
    """The real 2021-01-28 ALL bill dropped into a 2026 folder: every row is in the wrong statement, and so is
    its summary; the REFUND bill's row is of its 退款申请时间's day."""
    moved = parse((WX / ALL_V3).read_bytes(), "settlements/wechatpay/2026-11-26/gunsluo.csv", dt.date(2026, 11, 26))
    assert [p.line for p in moved] == [None] * 4
    assert {p.error.code for p in moved} == {"wrong_statement_date"}
    assert "交易时间 2021-01-28 does not match the statement's day 2026-11-26" in moved[0].error.message
    refund = parse((WX / "wxjava_bill_REFUND_masked.csv").read_bytes(), day=dt.date(2019, 7, 24))[0]
    assert refund.error.code == "wrong_statement_date" and "退款申请时间 2019-07-23" in refund.error.message


def test_legacy_24_column_doc_sample_with_full_width_colons() -> None:
    parsed = parse((WX / "wxjava_bill_ALL_legacy_docsample.csv").read_bytes(), day=LEGACY_DAY)
    assert [p.error for p in parsed] == [None] * 3
    first, second, summary = (p.line for p in parsed)
    assert (first.channel_order_id, first.transaction_id, first.gross_amount) == (
        "1415640626",
        "1001690740201411100005734289",
        D("0.01"),
    )
    assert first.settled_at == dt.datetime(2014, 11, 10, 8, 33, 45)
    assert second.channel_order_id == "1415635270"
    assert (summary.txn_count, summary.gross_amount) == (2, D("0.02"))


def test_fund_flow_bill_is_rejected_as_not_a_trade_bill() -> None:
    with pytest.raises(FileError) as err:
        parse((WX / "gunsluo_wechatpay-go_fundflowbill_BASIC_v3.csv.gz").read_bytes(), "ff.csv.gz")
    assert err.value.code == "not_a_trade_bill" and "资金账单" in err.value.message


@pytest.mark.parametrize("name", sorted(p.name for p in ALI.glob("*.csv")) if ALI.is_dir() else [])
def test_alipay_personal_exports_are_named_for_what_they_are(name: str) -> None:
    """GBK consumer exports are not merchant bills: rejected with that reason, not as an encoding error."""
    with pytest.raises(FileError) as err:
        settlements.parse("alipay", (ALI / name).read_bytes(), name, DAY)
    assert err.value.code == "not_a_merchant_bill"


def test_success_bill_with_the_documented_four_column_summary() -> None:
    """WeChat's format page gives the SUCCESS bill the summary 总交易单数,应结订单总金额,手续费总金额,订单总金额 (no
    退款总金额); such a bill loads whole instead of being rejected as an unreadable summary."""
    refund_cols = {"微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "申请退款金额"}
    lines = (WX / ALL_V3).read_text("utf-8").splitlines()
    keep = [i for i, name in enumerate(lines[0].split(",")) if name not in refund_cols]
    body = [",".join(line.split(",")[i] for i in keep) for line in lines[:4]]
    summary = ["总交易单数,应结订单总金额,手续费总金额,订单总金额", "`3,`0.03,`0.00000,`0.03"]
    parsed = parse(("\n".join(body + summary) + "\n").encode())
    check_all_v3(parsed)
    assert parsed[-1].line.refund_amount == D("0")
    short = parse(("\n".join(body[:3] + summary) + "\n").encode())
    assert short[-1].error.code == "summary_mismatch" and "总交易单数 stated 3, found 2" in short[-1].error.message


def test_revoked_row_is_money_going_back() -> None:
    """WeChat lists REVOKED (已撤销) among a bill's 交易状态: a reversed payment, read like a refund; without a
    退款金额 the reversed amount is not in the row, so that row alone is rejected."""
    raw = (WX / "wxjava_bill_REFUND_masked.csv").read_text("utf-8").replace("`JSAPI,`REFUND,", "`MICROPAY,`REVOKED,")
    revoked = parse(raw.encode(), day=REFUND_DAY)[0]
    assert revoked.error is None
    assert (revoked.line.line_type, revoked.line.refund_amount, revoked.line.net_amount) == (
        "refund",
        D("0.01"),
        D("-0.01"),
    )
    empty = parse(raw.replace("`0.01,`0.00,`ORIGINAL", "`0.00,`0.00,`ORIGINAL").encode(), day=REFUND_DAY)[0]
    assert empty.line is None and empty.error.code == "bad_value" and "REVOKED" in empty.error.message


# Alipay 业务明细 in the layout of the 2019 JUnit fixture cited in docs/channel-semantics.md ([AJ]): GBK, `#` lines,
# TAB-suffixed ids, refunds as 退款 rows. Values are ours; the discount and sign variants are the point.
ALI_HEAD = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def ali_row(txn: str, order: str, kind: str, amounts: tuple[str, str, str, str], fee: str, batch: str = "") -> str:
    ordered, received, alipay_discount, merchant_discount = amounts
    return (
        f"{txn}\t,{order}\t,{kind}\t,鲜食订单,2021-01-28 10:55:16,2021-01-28 10:55:23,SH001\t,张江店\t,\t,\t,"
        f"*三(138***78)\t,{ordered},{received},0.00,0.00,{alipay_discount},{merchant_discount},0.00,,0.00\t,0.00,"
        f"{batch}\t,{fee},0.00,"
    )


def ali_bill(rows: list[str], trades: str, refunds: str) -> bytes:
    return "\n".join(
        [
            "#支付宝业务明细查询",
            "#账号：[20880211096256330156]",
            "#起始日期：[2021年01月28日 00:00:00]   终止日期：[2021年01月29日 00:00:00]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            ALI_HEAD,
            *rows,
            "#-----------------------------------------业务明细列表结束------------------------------------",
            trades,
            refunds,
            "#导出时间：[2021年01月29日 05:46:49]",
            "",
        ]
    ).encode("gbk")


def test_alipay_merchant_discount_is_outside_gross_and_refund_signs_are_by_type() -> None:
    """商家实收 = 订单金额 − 商家优惠 (what the merchant funded); 支付宝优惠 does not reduce it. gross is 商家实收, so
    net = gross − fee holds on a discounted order; a refund reads the same whether its amounts are written
    negative (the real fixture) or positive."""
    rows = [
        ali_row(
            "2021012822001400000000000001", "MP2021012800001", "交易", ("100.00", "90.00", "5.00", "10.00"), "0.54"
        ),
        ali_row("2021012822001400000000000002", "MP2021012800002", "交易", ("20.00", "20.00", "0.00", "0.00"), "0.12"),
        ali_row(
            "2021012822001400000000000002",
            "MP2021012800002",
            "退款",
            ("-20.00", "-20.00", "0.00", "0.00"),
            "0.12",
            "RF1",
        ),
        ali_row(
            "2021012822001400000000000001",
            "MP2021012800001",
            "退款",
            ("30.00", "30.00", "0.00", "0.00"),
            "-0.18",
            "RF2",
        ),
    ]
    parsed = settlements.parse(
        "alipay",
        ali_bill(
            rows,
            "#交易合计：2笔，商家实收共110.00元，商家优惠共10.00元",
            "#退款合计：2笔，商家实收退款共-50.00元，商家优惠退款共0.00元",
        ),
        "a.csv",
        DAY,
    )
    assert [p.error for p in parsed] == [None] * 6
    discounted, _, negative, positive, trades, refunds = (p.line for p in parsed)
    assert (discounted.gross_amount, discounted.fee_amount, discounted.net_amount) == (
        D("90.00"),
        D("0.54"),
        D("89.46"),
    )
    for refund, amount, fee in ((negative, D("20.00"), D("-0.12")), (positive, D("30.00"), D("-0.18"))):
        assert (refund.line_type, refund.refund_amount, refund.fee_amount, refund.net_amount) == (
            "refund",
            amount,
            fee,
            -amount - fee,
        )
    assert (trades.gross_amount, refunds.refund_amount) == (D("110.00"), D("50.00"))
