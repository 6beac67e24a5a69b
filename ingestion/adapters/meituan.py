"""Meituan paid-order push: form fields as strings, with detail / extras as JSON text."""

from __future__ import annotations

from ingestion.adapters.base import ChannelSpec, Extracted, pick, text
from ingestion.adapters.json_lines import embedded, record_object
from ingestion.records import RawRecord, RecordError


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _sum(items: list, key: str) -> float:
    return sum(_number(item.get(key)) or 0.0 for item in items if isinstance(item, dict))


def extract(record: RawRecord) -> Extracted:
    push = record_object(record)
    detail = embedded(push.get("detail"), "detail", default=[])
    extras = embedded(push.get("extras"), "extras", default=[])
    if not isinstance(detail, list) or not isinstance(extras, list):
        raise RecordError("broken_json", "detail / extras are not JSON lists")

    item_discounts = 0.0
    lines = []
    for item in detail:
        if not isinstance(item, dict):
            continue
        price, original, quantity = (_number(item.get(k)) for k in ("price", "original_price", "quantity"))
        line_discount = None
        if price is not None and original is not None and quantity is not None:
            line_discount = round((original - price) * quantity, 2)
            item_discounts += line_discount
        lines.append(
            {
                "sku_id": pick(item, "app_food_code"),
                "channel_sku": pick(item, "sku_id"),
                "name": pick(item, "food_name"),
                "quantity": pick(item, "quantity"),
                "unit_price": pick(item, "price"),
                "original_price": pick(item, "original_price"),
                "line_discount": text(line_discount),
            }
        )

    status = pick(push, "status")
    online = pick(push, "pay_type") == "2"
    delivery_time = pick(push, "delivery_time")
    package_fen = _number(push.get("package_bag_money"))
    # The user typed the part before "@#"; after it is Meituan's reverse-geocoded guess.
    address = (pick(push, "recipient_address") or "").split("@#")[0].strip() or None
    order = {
        "channel_order_id": pick(push, "order_id"),
        "store_id": pick(push, "app_poi_code"),
        "channel_user_id": pick(push, "user_id"),
        "recipient_name": pick(push, "recipient_name"),
        "phone": pick(push, "recipient_phone"),
        "address_raw": address,
        "lat": pick(push, "latitude"),
        "lng": pick(push, "longitude"),
        "created_at": pick(push, "ctime"),
        "paid_at": pick(push, "ctime") if online and status != "1" else None,
        "promised_to": delivery_time if delivery_time not in (None, "0") else pick(push, "estimate_arrival_time"),
        "status_time": pick(push, "utime"),
        "status": status,
        "goods_amount": pick(push, "original_price"),
        "merchant_discount": text(round(_sum(extras, "poi_charge") + item_discounts, 2)),
        "platform_discount": text(round(_sum(extras, "mt_charge"), 2)),
        "delivery_fee": pick(push, "shipping_fee"),
        "packaging_fee": text(round(package_fen / 100, 2)) if package_fen is not None else None,
        "paid_amount": pick(push, "total"),
        "payment_method": pick(push, "pay_type"),
        "fulfilment": pick(push, "pick_type"),
    }
    return Extracted(order, lines)


MEITUAN = ChannelSpec(
    channel="meituan",
    file_format="jsonl",
    extract=extract,
    time_format="epoch_s",
    money_unit="yuan",
    status_map={"1": "created", "2": "paid", "4": "picking", "8": "delivered", "9": "cancelled"},
    fulfilment_map={"0": "delivery", "1": "self_pickup"},
    payment_map={"1": "cash_on_delivery", "2": "meituan_pay"},
    coordinate_scale=1_000_000,
)
