"""Eleme order push: an OMessage envelope whose `message` is the OOrder as JSON text (camelCase)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ingestion.adapters.base import ChannelSpec, Extracted, pick, text
from ingestion.adapters.json_lines import embedded, record_object
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.records import RawRecord, RecordError

_LOCAL = ZoneInfo(LOCAL_TIMEZONE)


def _negated(value: object) -> str | None:
    """Eleme reports discount shares as negative amounts; the contract stores them positive."""
    try:
        return text(round(-float(value), 2))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return text(value)


def _local_from_epoch_ms(value: object) -> str | None:
    try:
        moment = datetime.fromtimestamp(int(value) / 1000, tz=_LOCAL)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def extract(record: RawRecord) -> Extracted:
    envelope = record_object(record)
    order_obj = embedded(envelope.get("message"), "message", default=None)
    if not isinstance(order_obj, dict):
        raise RecordError("broken_json", "message is not the JSON text of an order")

    lines = []
    groups = order_obj.get("groups") if isinstance(order_obj.get("groups"), list) else []
    for group in groups:
        if not isinstance(group, dict) or group.get("type", "normal") != "normal":
            continue  # extra groups carry fees already counted at order level
        for item in group.get("items") or []:
            if isinstance(item, dict):
                lines.append(
                    {
                        "sku_id": pick(item, "extendCode"),
                        "channel_sku": pick(item, "skuId"),
                        "name": pick(item, "name"),
                        "quantity": pick(item, "quantity"),
                        "unit_price": pick(item, "price"),
                        "original_price": pick(item, "price"),
                        "paid_amount": pick(item, "total"),
                    }
                )

    phone_list = order_obj.get("phoneList")
    phone = text(phone_list[0]) if isinstance(phone_list, list) and phone_list else None
    lng, lat = (None, None)
    geo = pick(order_obj, "deliveryGeo")
    if geo and "," in geo:
        lng, lat = (part.strip() for part in geo.split(",", 1))
    online = order_obj.get("onlinePaid") is True
    self_pickup = "到店自取" in (pick(order_obj, "description") or "")
    order = {
        "channel_order_id": pick(order_obj, "id"),
        "store_id": pick(order_obj, "openId"),
        "channel_user_id": pick(order_obj, "userId"),
        "recipient_name": pick(order_obj, "consignee"),
        "phone": phone,
        "address_raw": pick(order_obj, "address"),
        "lat": lat,
        "lng": lng,
        "created_at": pick(order_obj, "createdAt"),
        "paid_at": pick(order_obj, "activeAt") if online else None,
        "promised_to": pick(order_obj, "deliverTime"),
        "status_time": _local_from_epoch_ms(envelope.get("timestamp")),
        "status": pick(order_obj, "status"),
        "goods_amount": pick(order_obj, "originalPrice"),
        "merchant_discount": _negated(order_obj.get("shopPart") or 0),
        "platform_discount": _negated(order_obj.get("elemePart") or 0),
        "delivery_fee": pick(order_obj, "deliverFee"),
        "packaging_fee": pick(order_obj, "packageFee"),
        "paid_amount": pick(order_obj, "totalPrice"),
        "payment_method": "eleme_pay" if online else "cash_on_delivery",
        "fulfilment": "self_pickup" if self_pickup else "delivery",
    }
    return Extracted(order, lines)


ELEME = ChannelSpec(
    channel="eleme",
    file_format="jsonl",
    extract=extract,
    time_format="local",
    money_unit="yuan",
    status_map={
        "pending": "created", "unprocessed": "paid", "valid": "paid", "refunding": "paid",
        "settled": "delivered", "invalid": "cancelled",
    },
    fulfilment_map={"delivery": "delivery", "self_pickup": "self_pickup"},
)
