"""The till (POS) and group-buy adapters, fed CSV exports with their real column names (see test_adapters.py
for the shared harness): a ticket spanning rows, a malformed row, member orders for pickup and delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from test_adapters import ADDRESS, only_order, run_csv

POS_HEADER = (
    "小票号,门店编码,收银机号,收银员,交易时间,会员手机,商品编码,商品名称,数量,单价,原价,折扣金额,行实收,支付方式,状态"
)


def test_pos_ticket_spans_rows_and_sums_amounts():
    """Rows sharing a 小票号 are one in-store order; local till time becomes UTC; 微信 maps to wechat."""
    text = "\n".join(
        [
            POS_HEADER,
            "T001,SH001,01,王芳,2026-11-26 09:15:00,,SKU0001,菠菜,2,7.90,7.90,0.00,15.80,微信,成交",
            "T001,SH001,01,王芳,2026-11-26 09:15:00,,SKU0002,水饺,1,25.00,25.00,2.00,23.00,微信,成交",
        ]
    )
    batch = run_csv("pos", text)
    order = only_order(batch)
    assert order["order_key"] == "pos:T001"
    assert order["created_at"] == dt.datetime(2026, 11, 26, 1, 15)
    assert (order["goods_amount"], order["merchant_discount"], order["paid_amount"]) == (
        Decimal("40.80"),
        Decimal("2.00"),
        Decimal("38.80"),
    )
    assert (order["fulfilment_type"], order["payment_method"], order["status"]) == ("in_store", "wechat", "delivered")
    assert batch.lines.height == 2 and order["source_line"] == 2


def test_pos_malformed_row_quarantines_the_whole_ticket():
    """A ticket with one short row is quarantined whole: never loaded with a line missing."""
    text = "\n".join(
        [
            POS_HEADER,
            "T002,SH001,01,王芳,2026-11-26 09:16:00,,SKU0001,菠菜,1,7.90,7.90,0.00,7.90,现金,成交",
            "T002,SH001,01,王芳,2026-11-26 09:16:00,,SKU0002,水饺",
        ]
    )
    batch = run_csv("pos", text)
    assert batch.orders.height == 0
    assert batch.quarantine["error_code"].to_list() == ["malformed_row"]


GROUPBUY_HEADER = (
    "订单号,团号,团长,自提点,门店编码,成员昵称,成员手机,收货地址,商品编码,"
    "商品名称,数量,团购价,原价,小计,下单时间,支付时间,提货方式,订单状态"
)


def test_groupbuy_member_order_self_pickup_and_delivery():
    """A member's rows form one order; 自提 is self pickup (no address needed), 送货上门 is delivery."""
    text = "\n".join(
        [
            GROUPBUY_HEADER,
            "G1,T9,陈团长,碧波路自提点,SH001,小美,13700001111,,SKU0001,菠菜,2,6.00,7.90,12.00,"
            "2026-11-26 08:00:00,2026-11-26 08:00:30,自提,已支付",
            f"G2,T9,陈团长,碧波路自提点,SH001,阿强,13700002222,{ADDRESS},SKU0002,水饺,1,20.00,25.00,20.00,"
            "2026-11-26 08:01:00,2026-11-26 08:01:10,送货上门,已支付",
        ]
    )
    batch = run_csv("groupbuy", text)
    orders = {o["order_key"]: o for o in batch.orders.to_dicts()}
    assert batch.quarantine.height == 0
    assert orders["groupbuy:G1"]["fulfilment_type"] == "self_pickup"
    assert orders["groupbuy:G1"]["merchant_discount"] == Decimal("3.80")
    assert orders["groupbuy:G2"]["fulfilment_type"] == "delivery"
    assert orders["groupbuy:G2"]["district"] == "浦东新区"
    assert orders["groupbuy:G1"]["channel_user_id"] == "陈团长/小美"
