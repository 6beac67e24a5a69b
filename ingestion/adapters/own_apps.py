"""Our own app and WeChat mini-program: one order JSON, differing only in ids, units and time format."""

from __future__ import annotations

from ingestion.adapters.base import ChannelSpec, Extracted, pick, require_list, text
from ingestion.adapters.json_lines import record_object
from ingestion.records import RawRecord

OWN_STATUSES = {s: s for s in ("paid", "picking", "dispatched", "delivered", "cancelled")}
OWN_FULFILMENT = {"delivery": "delivery", "self_pickup": "self_pickup"}


def _extractor(user_id_field: str):
    def extract(record: RawRecord) -> Extracted:
        obj = record_object(record)
        amounts = obj.get("amounts") if isinstance(obj.get("amounts"), dict) else {}
        order = {
            "channel_order_id": pick(obj, "order_no"),
            "store_id": pick(obj, "store_code"),
            "channel_user_id": pick(obj, user_id_field),
            "recipient_name": pick(obj, "receiver", "name"),
            "phone": pick(obj, "receiver", "phone"),
            "address_raw": pick(obj, "receiver", "address"),
            "lat": pick(obj, "receiver", "lat"),
            "lng": pick(obj, "receiver", "lng"),
            "created_at": pick(obj, "created_at"),
            "paid_at": pick(obj, "paid_at"),
            "promised_from": pick(obj, "delivery_window", "from"),
            "promised_to": pick(obj, "delivery_window", "to"),
            "status_time": pick(obj, "updated_at"),
            "status": pick(obj, "status"),
            "goods_amount": text(amounts.get("goods")),
            "merchant_discount": text(amounts.get("merchant_discount")),
            "platform_discount": text(amounts.get("platform_discount")),
            "delivery_fee": text(amounts.get("delivery_fee")),
            "packaging_fee": text(amounts.get("packaging_fee")),
            "paid_amount": text(amounts.get("paid")),
            "payment_method": pick(obj, "payment_method"),
            "fulfilment": pick(obj, "fulfilment"),
        }
        lines = [
            {
                "sku_id": pick(item, "sku"),
                "name": pick(item, "name"),
                "quantity": pick(item, "qty"),
                "unit_price": pick(item, "unit_price"),
                "original_price": pick(item, "original_price"),
                "line_discount": pick(item, "discount"),
            }
            for item in require_list(obj.get("items"), "items")
            if isinstance(item, dict)
        ]
        return Extracted(order, lines)

    return extract


APP = ChannelSpec(
    channel="app",
    file_format="jsonl",
    extract=_extractor("member_id"),
    time_format="iso",
    money_unit="yuan",
    status_map=OWN_STATUSES,
    fulfilment_map=OWN_FULFILMENT,
)

MINIPROGRAM = ChannelSpec(
    channel="miniprogram",
    file_format="jsonl",
    extract=_extractor("openid"),
    time_format="epoch_s",
    money_unit="fen",
    status_map=OWN_STATUSES,
    fulfilment_map=OWN_FULFILMENT,
)
