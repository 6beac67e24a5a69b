"""Settlement statement files in each channel's real layout: where they go, what they are named, and the
bytes of each layout (Meituan and Eleme per-order JSON Lines, the WeChat Pay bill with its back-ticked cells
and summary, the GBK Alipay export with its # header and totals, a group-buy leader's sheet, a store's POS
end-of-day tender totals).

settlements.py decides which lines a day's statements carry and which discrepancies they hide; this module
only lays those lines out, so a change to one channel's format stays here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .clock import naive_local, next_day
from .writers import atomic_write

if TYPE_CHECKING:
    from .settlements import Entry, PosTotal

STATEMENT_CHANNELS: tuple[str, ...] = ("meituan", "eleme", "wechatpay", "alipay", "pos", "groupbuy")
PER_ORDER_CHANNELS: tuple[str, ...] = ("meituan", "eleme", "wechatpay", "alipay", "groupbuy")
WECHAT_MCH_ID = "1601959334"
ALIPAY_ACCOUNT = "20880211096256330156"
_NAME_RE = re.compile(
    r"^(meituan-settlement|eleme-finance|wechatpay-bill|alipay-trade|pos-eod-.+|groupbuy-leader-.+)"
    r"-\d{8}\.(?:jsonl|csv)(?:\.tmp)?$"
)


def yuan(fen: int) -> str:
    return str(Decimal(fen).scaleb(-2))


def clear_settlements(out: Path, date_str: str) -> None:
    """Remove the day's statement files a previous run wrote (only names this module writes), so a re-run
    replaces them instead of mixing two runs under one truth."""
    for channel in STATEMENT_CHANNELS:
        folder = out / "settlements" / channel / date_str
        if folder.is_dir():
            for entry in folder.iterdir():
                if _NAME_RE.match(entry.name):
                    entry.unlink()


def write_statements(out: Path, date: dt.date, entries: list[Entry], pos: list[PosTotal]) -> list[Path]:
    """Write `date`'s statement files from its lines and POS totals; returns the paths written."""
    ymd = date.strftime("%Y%m%d")
    base = out / "settlements"
    by_channel: dict[str, list[Entry]] = {c: [] for c in PER_ORDER_CHANNELS}
    for e in sorted(entries, key=lambda e: (e.when, e.txn_id, e.kind)):
        by_channel[e.channel].append(e)
    day = date.isoformat()
    written: list[tuple[Path, bytes]] = []
    if by_channel["meituan"]:
        written.append(
            (base / "meituan" / day / f"meituan-settlement-{ymd}.jsonl", _meituan(by_channel["meituan"], day))
        )
    if by_channel["eleme"]:
        written.append((base / "eleme" / day / f"eleme-finance-{ymd}.jsonl", _eleme(by_channel["eleme"], day)))
    # Payment bills exist every day, with only the summary when nothing was paid.
    written.append((base / "wechatpay" / day / f"wechatpay-bill-{ymd}.csv", _wechatpay(by_channel["wechatpay"])))
    written.append((base / "alipay" / day / f"alipay-trade-{ymd}.csv", _alipay(by_channel["alipay"], date)))
    leaders: dict[str, list[Entry]] = {}
    for e in by_channel["groupbuy"]:
        leaders.setdefault(e.leader_code, []).append(e)
    for code, rows in sorted(leaders.items()):
        written.append((base / "groupbuy" / day / f"groupbuy-leader-{code}-{ymd}.csv", _groupbuy(rows, day)))
    stores: dict[str, list[PosTotal]] = {}
    for t in pos:
        stores.setdefault(t.store_id, []).append(t)
    for store, totals in sorted(stores.items()):
        written.append((base / "pos" / day / f"pos-eod-{store}-{ymd}.csv", _pos(totals, day)))
    for path, data in written:
        atomic_write(path, data)
    return [p for p, _ in written]


def _csv(rows: list[list[str]], line_end: str = "\n") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=line_end)
    writer.writerows(rows)
    return buf.getvalue()


def _meituan(entries: list[Entry], day: str) -> bytes:
    lines = []
    for e in entries:
        refund = e.kind == "refund"
        receive = {
            "wmPoiReceiveCent": e.net,
            "onlinePayment": -e.refund if refund else e.gross,
            "foodShareFeeChargeByPoi": e.fee,
            "logisticsFee": 0 if refund else e.delivery,
            "actOrderChargeByMt": [],
            "actOrderChargeByPoi": [],
            "reconciliationExtras": {"chargeMode": 1, "technicalServiceFee": e.fee / 100, "performanceServiceFee": 0.0},
        }
        lines.append(
            orjson.dumps(
                {
                    "bill_date": day,
                    "settle_bill_id": e.txn_id,
                    "order_id": e.order_id,
                    "wm_order_id_view": e.order_id,
                    "app_poi_code": e.store_id,
                    "settle_type": "2" if refund else "1",
                    "order_time": str(e.created),
                    "settle_time": str(e.when),
                    "poi_receive_detail": orjson.dumps(receive).decode(),
                }
            )
        )
    return b"\n".join(lines) + b"\n"


def _eleme(entries: list[Entry], day: str) -> bytes:
    def y(fen: int) -> float:
        return fen / 100  # FinanceOrder amounts are JSON numbers in yuan

    lines = []
    for e in entries:
        refund = e.kind == "refund"
        lines.append(
            orjson.dumps(
                {
                    "shopId": e.shop_id,
                    "orderId": e.order_id,
                    "billDate": day,
                    "checkoutDate": next_day(day),
                    "transNo": e.txn_id,
                    "detailType": "REFUND" if refund else "ORDER",
                    "orderType": "NORMAL",
                    "createAt": naive_local(e.created, "T"),
                    "completeAt": naive_local(e.when, "T"),
                    "checkoutAmount": y(e.net),
                    "foodAmount": 0.0 if refund else y(e.goods),
                    "packingFee": 0.0 if refund else y(e.packaging),
                    "merchantSubsidyAmount": 0.0 if refund else y(e.merchant_disc),
                    "userPaidDeliveryFee": 0.0 if refund else y(e.delivery),
                    "elemeSubsidyAmount": 0.0 if refund else y(e.platform_disc),
                    "commissionRate": float(e.rate),
                    "commissionFee": y(e.fee),
                    "refundAmount": y(e.refund),
                    "comment": "售后退款" if refund else "",
                }
            )
        )
    return b"\n".join(lines) + b"\n"


WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,"
    "代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,"
    "申请退款金额,费率备注"
)
WECHAT_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def _fee5(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.5f}"


def _wechatpay(entries: list[Entry]) -> bytes:
    lines = [WECHAT_HEADER]
    settle = refund = fee = 0
    for e in entries:
        is_refund = e.kind == "refund"
        cells = [
            naive_local(e.when),
            "wx8c2a5b1e3f4d6a70" if e.trade_type == "JSAPI" else "wx5f1e9d3c7b2a4e60",
            WECHAT_MCH_ID,
            "0",
            "",
            e.txn_id,
            e.order_id,
            e.buyer if e.trade_type == "JSAPI" else f"oAPP{e.order_id[-8:]}",
            e.trade_type,
            "REFUND" if is_refund else "SUCCESS",
            "OTHERS",
            "CNY",
            yuan(0 if is_refund else e.gross),
            "0.00",
            e.refund_id if is_refund else "",
            f"RF{e.order_id}" if is_refund else "",
            yuan(e.refund),
            "0.00",
            "ORIGINAL" if is_refund else "",
            "SUCCESS" if is_refund else "",
            f"{e.store_name}鲜食订单",
            "",
            _fee5(e.fee),
            f"{Decimal(e.rate) * 100:.2f}%",
            yuan(0 if is_refund else e.gross),
            yuan(e.refund),
            "",
        ]
        lines.append(",".join("`" + c for c in cells))
        settle += 0 if is_refund else e.gross
        refund += e.refund
        fee += e.fee
    lines.append(WECHAT_SUMMARY)
    summary = [str(len(entries)), yuan(settle), yuan(refund), "0.00", _fee5(fee), yuan(settle), yuan(refund)]
    lines.append(",".join("`" + c for c in summary))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,"
    "卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)
_RULE = "-" * 41


def _alipay(entries: list[Entry], date: dt.date) -> bytes:
    nxt = date + dt.timedelta(days=1)
    cn = lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日"  # noqa: E731
    lines = [
        "#支付宝业务明细查询",
        f"#账号：[{ALIPAY_ACCOUNT}]",
        f"#起始日期：[{cn(date)} 00:00:00]   终止日期：[{cn(nxt)} 00:00:00]",
        f"#{_RULE}业务明细列表{'-' * 40}",
        ALIPAY_HEADER,
    ]
    trades = refunds = 0
    traded = refunded = 0
    for e in entries:
        is_refund = e.kind == "refund"
        amount = -e.refund if is_refund else e.gross
        received = amount  # no Alipay-funded discounts in our bills: the merchant receives the order amount
        service = -e.fee  # a fee charged shows negative, a fee given back positive
        cells = [
            f"{e.txn_id}\t",
            f"{e.order_id}\t",
            ("退款" if is_refund else "交易") + "\t",
            f"{e.store_name}鲜食订单",
            naive_local(e.created),
            naive_local(e.when),
            f"{e.store_id}\t",
            f"{e.store_name}\t",
            "orderhub\t",
            "\t",
            f"{e.buyer}\t",
            yuan(amount),
            yuan(received),
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0.00\t",
            "0.00",
            f"{e.refund_id}\t" if is_refund else "\t",
            yuan(service),
            "0.00",
            "",
        ]
        lines.append(_csv([cells], "").rstrip("\r\n"))
        if is_refund:
            refunds += 1
            refunded += received
        else:
            trades += 1
            traded += received
    lines += [
        f"#{_RULE}业务明细列表结束{'-' * 36}",
        f"#交易合计：{trades}笔，商家实收共{yuan(traded)}元，商家优惠共0.00元",
        f"#退款合计：{refunds}笔，商家实收退款共{yuan(refunded)}元，商家优惠退款共0.00元",
        f"#导出时间：[{cn(nxt)} 05:46:49]",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def _groupbuy(entries: list[Entry], day: str) -> bytes:
    header = [
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
    ]
    rows = [header]
    for e in entries:
        is_refund = e.kind == "refund"
        rows.append(
            [
                day,
                e.leader_code,
                e.leader_name,
                e.pickup_point,
                e.store_id,
                e.order_id,
                e.member,
                yuan(-e.refund if is_refund else e.gross),
                f"{Decimal(e.rate) * 100:.2f}%",
                yuan(e.fee),
                yuan(e.net),
                "退款" if is_refund else "结算",
            ]
        )
    first = entries[0]
    rows.append(
        [
            "合计",
            first.leader_code,
            first.leader_name,
            "",
            "",
            f"{len(entries)}笔",
            "",
            yuan(sum(-e.refund if e.kind == "refund" else e.gross for e in entries)),
            "",
            yuan(sum(e.fee for e in entries)),
            yuan(sum(e.net for e in entries)),
            "",
        ]
    )
    return _csv(rows).encode("utf-8")


def _pos(totals: list[PosTotal], day: str) -> bytes:
    rows = [["营业日期", "门店编码", "支付方式", "笔数", "金额", "手续费", "实收金额"]]
    for t in totals:
        rows.append([day, t.store_id, t.tender, str(t.count), yuan(t.gross), yuan(t.fee), yuan(t.net)])
    rows.append(
        [
            "合计",
            totals[0].store_id,
            "",
            str(sum(t.count for t in totals)),
            yuan(sum(t.gross for t in totals)),
            yuan(sum(t.fee for t in totals)),
            yuan(sum(t.net for t in totals)),
        ]
    )
    return _csv(rows).encode("utf-8")
