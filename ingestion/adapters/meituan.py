"""Meituan paid-order push: form fields as strings, with detail / extras / poi_receive_detail as JSON text.

What each field means, with sources, is in docs/channel-semantics.md ("Meituan"). In short:
`original_price` is the order before every discount and includes packaging (box fees, bag) and delivery;
`total` is what the customer paid; every discount is an `extras` entry whose `reduce_fee` is split into
`mt_charge` (platform) and `poi_charge` (merchant); `poi_receive_detail.wmPoiReceiveCent` is what Meituan says
the merchant receives, in fen.

`logistics_code` says who carries a delivery order (`delivered_by`): "0000" is 商家自配 (the merchant's own
riders, which orderhub dispatches); every other code is one of Meituan's own delivery products — 1001 美团专送
(加盟), 1002 美团专送 (自建), 1004 城市代理, 1007 新快送, 2002 快送, 2010 全城送, 3001 混合送 (专送+快送) — whose
riders Meituan dispatches. Source: the carrier table of ShopeX's open-source OMS, github.com/willio1690/OMS,
`app/ome/resource/carriers/tongcheng.php` ("美团外卖配送方式配置": 0000 商家自配, model 'seller'; the others
'instatnt'), and go-meituan's field list (../shared/channel-formats.md §1a; `order/arrived` is "自配订单已送达",
for merchants whose 配送方式 is 自配送 only). A push without the field says nothing: null.

Accepted as they really arrive: values still URL-encoded (integrations that store the raw form), values
already decoded, JSON fields as text or as JSON, and the ERP (聚宝盆) dialect in camelCase (`orderIdView`,
`ePoiId`, `poiReceiveDetail`) with typed values.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

import orjson

from ingestion import addresses
from ingestion.adapters.base import ChannelSpec, Extracted, money_text, require_objects, text
from ingestion.adapters.free_text import cleaned, form_decoded
from ingestion.adapters.json_lines import embedded, record_object
from ingestion.records import RawRecord, RecordError

# ERP names that do not follow from camelCase → snake_case (ePoiId is the ERP's own store code).
_ERP_ALIASES = {
    "e_poi_id": "app_poi_code",
    "order_id_view": "wm_order_id_view",
    "c_time": "ctime",
    "u_time": "utime",
}
_JSON_FIELDS = (
    "detail",
    "extras",
    "poi_receive_detail",
    "poi_receive_detail_yuan",
    "sku_benefit_detail",
    "backup_recipient_phone",
)
# Gifts (满赠, 买赠) carry the gift's cost in poi_charge but take nothing off the customer's bill.
_GIFT_TYPES = {"5", "23"}
_CENT = 0.005


@lru_cache(maxsize=4096)  # a push has ~30 keys and every push has the same ones
def _snake(key: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()
    return _ERP_ALIASES.get(snake, snake)


@lru_cache(maxsize=256)  # pushes of one integration all carry the same keys in the same order
def _spelling(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(field, key of the push it is read from): snake_case keys, and snake_case wins over camelCase."""
    source: dict[str, str] = {}
    for key in keys:
        source.setdefault(_snake(key), key)
    for key in keys:
        if "_" in key or key.islower():
            source[key] = key
    return tuple(source.items())


def _fields(push: dict[str, Any]) -> dict[str, Any]:
    """One spelling of the push: snake_case keys, form values decoded; snake_case wins over camelCase."""
    out: dict[str, Any] = {}
    for name, key in _spelling(tuple(push)):
        value = push[key]
        out[name] = form_decoded(value) if isinstance(value, str) and "%" in value else value
    return out


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def _degrees(value: object) -> str | None:
    """Meituan documents coordinates × 1e6, but pushes and the ERP send plain degrees: accept both."""
    number = _number(value)
    if number is None:
        return text(value)
    return text(round(number / 1_000_000, 7) if abs(number) > 1000 else number)


def _json(fields: dict[str, Any], name: str, default: Any) -> Any:
    return embedded(fields.get(name), name, default=default)


def _receivable(fields: dict[str, Any]) -> float | None:
    """wmPoiReceiveCent: in poi_receive_detail (fen), poi_receive_detail_yuan (yuan) or top level (fen)."""
    detail = _json(fields, "poi_receive_detail", default=None)
    if isinstance(detail, dict) and _number(detail.get("wmPoiReceiveCent")) is not None:
        return _number(detail.get("wmPoiReceiveCent")) / 100  # type: ignore[operator]
    detail_yuan = _json(fields, "poi_receive_detail_yuan", default=None)
    if isinstance(detail_yuan, dict) and _number(detail_yuan.get("wmPoiReceiveCent")) is not None:
        return _number(detail_yuan.get("wmPoiReceiveCent"))
    top = _number(fields.get("wm_poi_receive_cent"))
    return top / 100 if top is not None else None


def _discounts(extras: list[Any]) -> tuple[float, float]:
    """(merchant, platform) shares of what the extras take off the bill."""
    merchant = platform = 0.0
    for extra in extras:
        if not isinstance(extra, dict) or text(extra.get("type")) in _GIFT_TYPES:
            continue
        reduce = _number(extra.get("reduce_fee")) or 0.0
        mt_share = min(max(_number(extra.get("mt_charge")) or 0.0, 0.0), reduce)
        platform += mt_share
        merchant += reduce - mt_share
    return merchant, platform


def _delivered_by(code: str | None) -> str | None:
    """'merchant' for 商家自配 (0000, or 0 from typed ERP values), 'platform' for any other numeric logistics
    code, None when the push does not say or says something that is not a code."""
    if code is None or not code.isdigit():
        return None
    return "merchant" if int(code) == 0 else "platform"


def _phone(fields: dict[str, Any]) -> str | None:
    phone = text(fields.get("recipient_phone"))
    if phone:
        return phone
    backups = _json(fields, "backup_recipient_phone", default=[])
    if isinstance(backups, list) and backups:
        return text(backups[0])
    return text(backups) if isinstance(backups, str) else None


# The push's system parameters: when the request was sent, by which app, and its signature over every
# parameter [KC]. A retry of an unanswered push is a new request with new ones and the same order.
_REQUEST_PARAMETERS = frozenset({"timestamp", "sig", "app_id"})


def _version_hash(push: dict[str, Any]) -> str:
    """The order's content without the request's parameters, whether or not this push has them: a push stored
    without them (as some integrations keep the form) and its retry with them are still one version."""
    content = {key: value for key, value in push.items() if key not in _REQUEST_PARAMETERS}
    return hashlib.blake2b(orjson.dumps(content, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


def extract(record: RawRecord) -> Extracted:
    push = record_object(record)
    fields = _fields(push)
    if "reason_code" in fields and "detail" not in fields:
        # Meituan's cancel push names the order and a reason, nothing else; the gateway turns it into the order
        # pushed again with status 9 (ingestion/gateway/cancellations.py). Landed as a file, it would otherwise
        # read as an order push with no store.
        raise RecordError(
            "not_an_order",
            f"a Meituan cancellation notice for order {text(fields.get('order_id'))} (reason_code "
            f"{text(fields.get('reason_code'))} {text(fields.get('reason')) or ''}), not an order push: send it to "
            "the gateway's /push/meituan/cancel, which lands the order again as cancelled; the order is unchanged",
        )
    detail = _json(fields, "detail", default=[])
    extras = _json(fields, "extras", default=[])
    if not isinstance(detail, list) or not isinstance(extras, list):
        raise RecordError("broken_json", "detail / extras are not JSON lists")

    lines = []
    list_total = discounted_total = box_total = 0.0
    for item in require_objects(detail, "detail item"):
        price, quantity = _number(item.get("price")), _number(item.get("quantity"))
        original = _number(item.get("original_price"))
        if original is None:
            original = price
        line_discount = None
        if price is not None and original is not None and quantity is not None:
            list_total += original * quantity
            discounted_total += price * quantity
            line_discount = (original - price) * quantity
        # box_num is the line's number of boxes already (per-unit boxes × quantity).
        box_total += (_number(item.get("box_num")) or 0.0) * (_number(item.get("box_price")) or 0.0)
        lines.append(
            {
                "sku_id": text(item.get("app_food_code")) or text(item.get("app_medicine_code")),
                "channel_sku": text(item.get("sku_id")),
                "name": cleaned(text(item.get("food_name"))),
                "quantity": text(item.get("quantity")),
                "unit_price": text(item.get("price")),
                "original_price": money_text(original),
                "line_discount": money_text(line_discount),
            }
        )

    bag_fen = _number(fields.get("package_bag_money"))
    bag = bag_fen / 100 if bag_fen is not None else (_number(fields.get("package_bag_money_yuan")) or 0.0)
    packaging = box_total + bag
    shipping = _number(fields.get("shipping_fee"))
    order_original = _number(fields.get("original_price"))
    total = _number(fields.get("total"))
    goods = order_original - (shipping or 0.0) - packaging if order_original is not None else list_total

    merchant, platform = _discounts(extras)
    item_discounts = round(list_total - discounted_total, 2)
    if order_original is not None and total is not None and item_discounts > 0:
        # Item prices are discounted by default; when the extras do not list that discount, the gap between
        # original_price − extras and total is exactly it, and it is the merchant's.
        unexplained = order_original - merchant - platform - total
        if abs(unexplained - item_discounts) < _CENT:
            merchant += item_discounts

    status = text(fields.get("status"))
    caution = cleaned(text(fields.get("caution")))
    online = text(fields.get("pay_type")) != "1"
    delivery_time = text(fields.get("delivery_time"))
    pick_type = text(fields.get("pick_type"))
    if pick_type is None:
        # pick_type is only pushed when subscribed; the caution then still says 到店自取.
        pick_type = "1" if caution and "到店自取" in caution else "0"
    paid_at = text(fields.get("order_send_time")) or text(fields.get("ctime"))
    typed, reverse = addresses.split_reverse_geocoded(text(fields.get("recipient_address")) or "")
    order = {
        "channel_order_id": text(fields.get("order_id")) or text(fields.get("wm_order_id_view")),
        "store_id": text(fields.get("app_poi_code")),
        "channel_user_id": text(fields.get("user_id")),
        "recipient_name": cleaned(text(fields.get("recipient_name"))),
        "phone": _phone(fields),
        "phone_hint": caution,
        "address_raw": cleaned(typed) or cleaned(reverse),
        "address_fallback": cleaned(reverse),
        "lat": _degrees(fields.get("latitude")),
        "lng": _degrees(fields.get("longitude")),
        "created_at": text(fields.get("ctime")),
        "paid_at": paid_at if online and status != "1" else None,
        "promised_to": delivery_time if delivery_time not in (None, "0") else text(fields.get("estimate_arrival_time")),
        "status_time": text(fields.get("utime")),
        "status": status,
        "goods_amount": money_text(goods),
        "merchant_discount": money_text(merchant),
        "platform_discount": money_text(platform),
        "delivery_fee": money_text(shipping),
        "packaging_fee": money_text(packaging),
        "paid_amount": text(fields.get("total")),
        "merchant_receivable": money_text(_receivable(fields)),
        "payment_method": text(fields.get("pay_type")),
        "fulfilment": pick_type,
        "delivered_by": _delivered_by(text(fields.get("logistics_code"))),
    }
    return Extracted(order, lines, _version_hash(push))


MEITUAN = ChannelSpec(
    channel="meituan",
    file_format="jsonl",
    extract=extract,
    time_format="epoch_s",
    address_fallback=True,
    money_unit="yuan",
    status_map={"1": "created", "2": "paid", "4": "picking", "8": "delivered", "9": "cancelled"},
    fulfilment_map={"0": "delivery", "1": "self_pickup"},
    payment_map={"1": "cash_on_delivery", "2": "meituan_pay"},
    # Degrees already: extraction reads both plain degrees and the documented × 1e6 integers.
    coordinate_scale=1.0,
)
