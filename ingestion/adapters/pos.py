"""Store till export: one CSV row per line item, a ticket spanning consecutive rows."""

from __future__ import annotations

from ingestion.adapters.base import ChannelSpec, Extracted
from ingestion.adapters.csv_sheets import difference, named_rows, yuan_sum
from ingestion.records import RawRecord

HEADER = (
    "小票号",
    "门店编码",
    "收银机号",
    "收银员",
    "交易时间",
    "会员手机",
    "商品编码",
    "商品名称",
    "数量",
    "单价",
    "原价",
    "折扣金额",
    "行实收",
    "支付方式",
    "状态",
)


def extract(record: RawRecord) -> Extracted:
    rows = named_rows(record, HEADER)
    head = rows[0]
    goods = yuan_sum(rows, "原价", times="数量")
    paid = yuan_sum(rows, "行实收")
    order = {
        "channel_order_id": head["小票号"],
        "store_id": head["门店编码"],
        "phone": head["会员手机"],
        "created_at": head["交易时间"],
        "paid_at": head["交易时间"] if head["状态"] == "成交" else None,
        "status_time": head["交易时间"],
        "status": head["状态"],
        "goods_amount": goods,
        "merchant_discount": difference(goods, paid),
        "platform_discount": "0",
        "delivery_fee": "0",
        "packaging_fee": "0",
        "paid_amount": paid,
        "payment_method": head["支付方式"],
        "fulfilment": "in_store",
    }
    lines = [
        {
            "sku_id": row["商品编码"],
            "name": row["商品名称"],
            "quantity": row["数量"],
            "unit_price": row["单价"],
            "original_price": row["原价"],
            "line_discount": row["折扣金额"],
            "paid_amount": row["行实收"],
        }
        for row in rows
    ]
    return Extracted(order, lines)


POS = ChannelSpec(
    channel="pos",
    file_format="csv",
    extract=extract,
    time_format="local",
    money_unit="yuan",
    status_map={"成交": "delivered", "作废": "cancelled"},
    fulfilment_map={"in_store": "in_store"},
    payment_map={"现金": "cash", "微信": "wechat", "支付宝": "alipay", "银行卡": "card"},
    csv_header=HEADER,
    csv_key_column="小票号",
    versions="accumulate",
    csv_status_column="状态",
)
