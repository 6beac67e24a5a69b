"""Our own app and WeChat mini-program: one order JSON, differing only in ids, units and time format."""

from __future__ import annotations

from ingestion.adapters.base import ChannelSpec, Extracted, require_list, require_objects, text
from ingestion.adapters.json_lines import record_object
from ingestion.records import RawRecord

OWN_STATUSES = {s: s for s in ("paid", "picking", "dispatched", "delivered", "cancelled")}
OWN_FULFILMENT = {"delivery": "delivery", "self_pickup": "self_pickup"}


def _extractor(user_id_field: str):
    def extract(record: RawRecord) -> Extracted:
        obj = record_object(record)
        # Decoded JSON holds plain dicts only: a missing or non-object part reads as empty, as `pick` reads it.
        amounts = obj.get("amounts") if isinstance(obj.get("amounts"), dict) else {}
        receiver = obj.get("receiver") if isinstance(obj.get("receiver"), dict) else {}
        window = obj.get("delivery_window") if isinstance(obj.get("delivery_window"), dict) else {}
        order = {
            "channel_order_id": text(obj.get("order_no")),
            "store_id": text(obj.get("store_code")),
            "channel_user_id": text(obj.get(user_id_field)),
            "recipient_name": text(receiver.get("name")),
            "phone": text(receiver.get("phone")),
            "address_raw": text(receiver.get("address")),
            "lat": text(receiver.get("lat")),
            "lng": text(receiver.get("lng")),
            "created_at": text(obj.get("created_at")),
            "paid_at": text(obj.get("paid_at")),
            "promised_from": text(window.get("from")),
            "promised_to": text(window.get("to")),
            "status_time": text(obj.get("updated_at")),
            "status": text(obj.get("status")),
            "goods_amount": text(amounts.get("goods")),
            "merchant_discount": text(amounts.get("merchant_discount")),
            "platform_discount": text(amounts.get("platform_discount")),
            "delivery_fee": text(amounts.get("delivery_fee")),
            "packaging_fee": text(amounts.get("packaging_fee")),
            "paid_amount": text(amounts.get("paid")),
            "payment_method": text(obj.get("payment_method")),
            "fulfilment": text(obj.get("fulfilment")),
        }
        lines = [
            {
                "sku_id": text(item.get("sku")),
                "name": text(item.get("name")),
                "quantity": text(item.get("qty")),
                "unit_price": text(item.get("unit_price")),
                "original_price": text(item.get("original_price")),
                "line_discount": text(item.get("discount")),
            }
            for item in require_objects(require_list(obj.get("items"), "items"), "item")
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
