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


def parse(data: bytes, name: str = "wx.csv") -> list:
    return settlements.parse("wechatpay", data, name, DAY)


def check_all_v3(parsed: list) -> None:
    assert [p.error for p in parsed] == [None] * 4
    *pays, summary = (p.line for p in parsed)
    assert [p.channel_order_id for p in pays] == ALL_IDS
    assert pays[0].transaction_id == "4200000925202101284997714292" and pays[0].account_id == "1601959334"
    assert {(p.line_type, p.gross_amount, p.fee_amount, p.net_amount) for p in pays} == {("payment", D("0.01"), D("0"), D("0.01"))}
    assert pays[0].settled_at == dt.datetime(2021, 1, 28, 9, 7, 11)  # 17:07:11 Shanghai
    assert (summary.line_type, summary.txn_count, summary.gross_amount) == ("summary", 3, D("0.03"))


def test_all_v3_plain_and_gzip() -> None:
    check_all_v3(parse((WX / ALL_V3).read_bytes()))
    check_all_v3(parse((WX / (ALL_V3 + ".gz")).read_bytes(), "wx.csv.gz"))


def test_variants_of_a_real_bill_bom_mangled_bom_crlf_gzip() -> None:
    raw = (WX / ALL_V3).read_bytes()
    for variant in (b"\xef\xbb\xbf" + raw, b"?" + raw, raw.replace(b"\n", b"\r\n"),
                    gzip.compress(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))):
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
    parsed = parse((WX / "wxjava_bill_REFUND_masked.csv").read_bytes())
    refund = parsed[0].line
    assert (refund.line_type, refund.refund_amount, refund.net_amount, refund.refund_id) == ("refund", D("0.01"), D("-0.01"), "xxxx")
    assert refund.settled_at == dt.datetime(2019, 7, 23, 12, 53, 40)  # 退款成功时间 20:53:40 Shanghai
    flag = parsed[1]
    assert flag.line is None and flag.error.code == "summary_mismatch"
    assert "总交易单数 stated 4, found 1" in flag.error.message and "退款总金额 stated 2.02" in flag.error.message


def test_legacy_24_column_doc_sample_with_full_width_colons() -> None:
    parsed = parse((WX / "wxjava_bill_ALL_legacy_docsample.csv").read_bytes())
    assert [p.error for p in parsed] == [None] * 3
    first, second, summary = (p.line for p in parsed)
    assert (first.channel_order_id, first.transaction_id, first.gross_amount) == ("1415640626", "1001690740201411100005734289", D("0.01"))
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
