"""Eleme order push: an OMessage envelope whose `message` is the OOrder as JSON text (camelCase).

What each field means, with sources, is in docs/channel-semantics.md ("Eleme"). In short: `originalPrice`
is the order before discounts and includes the delivery fee and the packaging (the `extra` group's 餐盒,
also stated as `packageFee`); `totalPrice` is what the customer paid; `shopPart` / `elemePart` are the
merchant's and the platform's shares of the activities (negative), `hongbao` a platform red packet
(negative) outside them; `income` is what Eleme says the shop receives.

An order may hold several `normal` baskets (one per person in a group order): every one of them is goods.
Packaging becomes `packaging_fee`, never a product line, whether it comes as the `extra` group or as an item
named like a box or bag that carries no merchant item code.

Who delivers (`delivered_by`) stays null: the order push (OOrder in github.com/dllen/eleme-openapi-java-sdk,
commit 8f7ef6c, `entity/order/OOrder.java`; both real pushes in ../shared/real-samples/eleme) carries no
delivery-type field. Eleme states it only after the fact, as `actualDeliveryType` on the settlement line
(`entity/finance/FinanceOrder.java`, ../shared/channel-formats.md §2b), too late for dispatch. Dispatch treats
an unstated party as the merchant's (orderhub would rather plan a parcel a platform rider takes than leave one
of its own waiting).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ingestion.adapters.base import ChannelSpec, Extracted, money_text, require_objects, text
from ingestion.adapters.free_text import cleaned
from ingestion.adapters.json_lines import embedded, record_object
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.records import RawRecord, RecordError

_LOCAL = ZoneInfo(LOCAL_TIMEZONE)
# Names a merchant gives packaging sold as an item: 餐盒, 打包袋, 包装费 …, optionally "× 2".
_PACKAGING_NAME = re.compile(r"^(?:餐盒|打包盒|包装盒|打包袋|包装袋|打包|包装)费?(?:\s*[x×*]\s*\d+)?$")
_CENT = 0.005


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def _local_from_epoch_ms(value: object) -> str | None:
    try:
        moment = datetime.fromtimestamp(int(value) / 1000, tz=_LOCAL)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _item_total(item: dict[str, Any]) -> float:
    total = _number(item.get("total"))
    if total is None:
        total = (_number(item.get("price")) or 0.0) * (_number(item.get("quantity")) or 0.0)
    return total


def _order_object(envelope: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(OOrder, envelope push time); a line holding the bare OOrder (no envelope) is read as the order."""
    if "message" not in envelope and "groups" in envelope:
        return envelope, None
    order_obj = embedded(envelope.get("message"), "message", default=None)
    if not isinstance(order_obj, dict):
        raise RecordError("broken_json", "message is not the JSON text of an order")
    return order_obj, _local_from_epoch_ms(envelope.get("timestamp"))


def _platform_reductions(order_obj: dict[str, Any], merchant: float, platform: float) -> float:
    """Platform-borne reductions outside the activities (red packet, member delivery discount), as positive yuan.

    hongbao is taken off the bill on top of activityTotal in the real pushes; whether the member delivery
    discount is, no source says: each is counted when it is what makes originalPrice − discounts = totalPrice.
    """
    hongbao = -(_number(order_obj.get("hongbao")) or 0.0)
    vip = abs(_number(order_obj.get("vipDeliveryFeeDiscount")) or 0.0)
    original, paid = _number(order_obj.get("originalPrice")), _number(order_obj.get("totalPrice"))
    if original is None or paid is None:
        return hongbao
    gap = original - merchant - platform - paid
    for extra in (hongbao, hongbao + vip, vip, 0.0):
        if abs(gap - extra) < _CENT:
            return extra
    return hongbao


def _phone(order_obj: dict[str, Any]) -> str | None:
    for field in ("phoneList", "consigneePhones"):
        phones = order_obj.get(field)
        if isinstance(phones, list):
            for phone in phones:
                if text(phone):
                    return text(phone)
        elif isinstance(phones, str) and text(phones):
            return text(phones)
    return None


def extract(record: RawRecord) -> Extracted:
    order_obj, pushed_at = _order_object(record_object(record))

    lines: list[dict[str, str | None]] = []
    normal_total = extra_packaging = item_packaging = 0.0
    groups = order_obj.get("groups") if isinstance(order_obj.get("groups"), list) else []
    for group in require_objects(groups, "group"):
        group_type = group.get("type", "normal")
        group_items = group.get("items") or []
        items = require_objects(group_items if isinstance(group_items, list) else [group_items], "item")
        if group_type == "extra":
            # The platform's 其它费用 basket: packaging (餐盒, negative id), already in the order's fees.
            extra_packaging += sum(_item_total(item) for item in items if not text(item.get("extendCode")))
            continue
        if group_type != "normal":
            continue  # discount groups repeat what shopPart / elemePart already say
        for item in items:
            code, name = text(item.get("extendCode")), text(item.get("name"))
            # Packaging sold as an item: named like a box or bag, and no merchant item code.
            if not code and _PACKAGING_NAME.match(name or ""):
                item_packaging += _item_total(item)
                continue
            normal_total += _item_total(item)
            price = text(item.get("price"))
            lines.append(
                {
                    "sku_id": code,
                    "channel_sku": text(item.get("skuId")),
                    "name": cleaned(name),
                    "quantity": text(item.get("quantity")),
                    "unit_price": price,
                    "original_price": price,
                    "paid_amount": text(item.get("total")),
                }
            )

    package_fee = _number(order_obj.get("packageFee")) or 0.0
    packaging = (package_fee if package_fee > 0 else extra_packaging) + item_packaging
    deliver_fee = _number(order_obj.get("deliverFee"))
    original = _number(order_obj.get("originalPrice"))
    goods = original - (deliver_fee or 0.0) - packaging if original is not None else normal_total
    # Shares come negative; a positive one is left to fail the negative-amount check rather than be guessed.
    merchant = -(_number(order_obj.get("shopPart")) or 0.0)
    platform = -(_number(order_obj.get("elemePart")) or 0.0)
    platform += _platform_reductions(order_obj, merchant, platform)

    lng, lat = (None, None)
    geo = text(order_obj.get("deliveryGeo"))
    if geo and "," in geo:
        lng, lat = (part.strip() for part in geo.split(",", 1))
    online = order_obj.get("onlinePaid") is True
    description = cleaned(text(order_obj.get("description")))
    self_pickup = "到店自取" in (description or "")
    order = {
        "channel_order_id": text(order_obj.get("id")) or text(order_obj.get("orderId")),
        "store_id": text(order_obj.get("openId")),
        "channel_user_id": text(order_obj.get("userIdStr")) or text(order_obj.get("userId")),
        "recipient_name": cleaned(text(order_obj.get("consignee"))),
        "phone": _phone(order_obj),
        "phone_hint": description,
        "address_raw": cleaned(text(order_obj.get("address"))),
        "lat": lat,
        "lng": lng,
        "created_at": text(order_obj.get("createdAt")),
        "paid_at": text(order_obj.get("activeAt")) if online else None,
        "promised_to": text(order_obj.get("deliverTime")),
        "status_time": pushed_at,
        "status": text(order_obj.get("status")),
        "goods_amount": money_text(goods),
        "merchant_discount": money_text(merchant),
        "platform_discount": money_text(platform),
        "delivery_fee": money_text(deliver_fee),
        "packaging_fee": money_text(packaging),
        "paid_amount": text(order_obj.get("totalPrice")),
        "merchant_receivable": money_text(_number(order_obj.get("income"))),
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
        "pending": "created",
        "unprocessed": "paid",
        "valid": "paid",
        "refunding": "paid",
        "settled": "delivered",
        "invalid": "cancelled",
    },
    fulfilment_map={"delivery": "delivery", "self_pickup": "self_pickup"},
)
