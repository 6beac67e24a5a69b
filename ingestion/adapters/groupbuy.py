"""Community group-buy leader sheet: one CSV row per member per item."""

from __future__ import annotations

from ingestion.adapters.base import ChannelSpec, Extracted
from ingestion.adapters.csv_sheets import difference, named_rows, yuan_sum
from ingestion.records import RawRecord

HEADER = (
    "订单号",
    "团号",
    "团长",
    "自提点",
    "门店编码",
    "成员昵称",
    "成员手机",
    "收货地址",
    "商品编码",
    "商品名称",
    "数量",
    "团购价",
    "原价",
    "小计",
    "下单时间",
    "支付时间",
    "提货方式",
    "订单状态",
)


def extract(record: RawRecord) -> Extracted:
    rows = named_rows(record, HEADER)
    head = rows[0]
    goods = yuan_sum(rows, "原价", times="数量")
    paid = yuan_sum(rows, "小计")
    member = head["成员昵称"]
    order = {
        "channel_order_id": head["订单号"],
        "store_id": head["门店编码"],
        # A member is only known by nickname within their leader's group.
        "channel_user_id": f"{head['团长']}/{member}" if member and head["团长"] else member,
        "recipient_name": member,
        "phone": head["成员手机"],
        "address_raw": head["收货地址"] if head["提货方式"] == "送货上门" else None,
        "created_at": head["下单时间"],
        "paid_at": head["支付时间"],
        "status_time": head["支付时间"] or head["下单时间"],
        "status": head["订单状态"],
        "goods_amount": goods,
        "merchant_discount": difference(goods, paid),
        "platform_discount": "0",
        "delivery_fee": "0",
        "packaging_fee": "0",
        "paid_amount": paid,
        "payment_method": "wechat",
        "fulfilment": head["提货方式"],
    }
    lines = [
        {
            "sku_id": row["商品编码"],
            "name": row["商品名称"],
            "quantity": row["数量"],
            "unit_price": row["团购价"],
            "original_price": row["原价"],
            "line_discount": difference(yuan_sum([row], "原价", times="数量"), row["小计"]),
            "paid_amount": row["小计"],
        }
        for row in rows
    ]
    return Extracted(order, lines)


GROUPBUY = ChannelSpec(
    channel="groupbuy",
    file_format="csv",
    extract=extract,
    time_format="local",
    money_unit="yuan",
    status_map={"已支付": "paid", "已取消": "cancelled"},
    fulfilment_map={"自提": "self_pickup", "送货上门": "delivery"},
    csv_header=HEADER,
    csv_key_column="订单号",
)
