"""JSON-lines channels (app, miniprogram, meituan, eleme), exactly as docs/landing-formats.md lays them out.

Each renderer returns the record's text line (without newline). A `Fault`, if given, breaks exactly one
thing; everything else stays as it would be on a good record.
"""

from __future__ import annotations

import zlib
from itertools import accumulate
from typing import Any, Callable

import orjson

from .clock import iso_local, naive_local
from .faults import Fault
from .orders import AppliedPromo, Order
from .platform_fees import TARIFFS, platform_charges, platform_receivable
from .shape import MEITUAN_LOGISTICS_CODES

_LOGISTICS_CUTS = list(zip(accumulate(MEITUAN_LOGISTICS_CODES.values()), MEITUAN_LOGISTICS_CODES))


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _cut(text: str, fault: Fault) -> str:
    # Any proper prefix of a JSON object or array is invalid JSON, so this is always unparseable.
    return text[: max(1, min(len(text) - 1, int(len(text) * fault.cut)))]


def _yuan(fen: int) -> float:
    return fen / 100


def _yuan_str(fen: int) -> str:
    return str(fen / 100)


def _broken(fault: Fault | None, variant: str) -> bool:
    return fault is not None and fault.variant == variant


def _line_fault(fault: Fault | None, code: str, i: int) -> bool:
    return fault is not None and fault.code == code and fault.line == i


def app_like(o: Order, fault: Fault | None, mini: bool) -> str:
    """app (yuan, ISO times) and miniprogram (fen, epoch seconds) share one shape."""
    money: Callable[[int], float | int] = (lambda f: f) if mini else _yuan
    when: Callable[[int], str | int] = (lambda t: t) if mini else iso_local
    delivery = o.fulfilment == "delivery"
    items = []
    for i, ln in enumerate(o.lines):
        items.append(
            {
                "sku": fault.value if _line_fault(fault, "unknown_sku", i) else ln.sku_id,
                "name": ln.product.name,
                "qty": int(fault.value) if _line_fault(fault, "bad_quantity", i) else ln.qty,
                "unit_price": money(ln.unit_fen),
                "original_price": money(ln.orig_fen),
                "discount": money(ln.disc_share_fen),
            }
        )
    rec: dict[str, Any] = {"order_no": "" if _broken(fault, "order_id") else o.order_id}
    if mini:
        rec["openid"] = o.customer.openid
    else:
        rec["member_id"] = o.customer.member_id
    rec.update(
        {
            "store_code": "" if _broken(fault, "store") else o.store.store_id,
            "status": o.status,
            "fulfilment": o.fulfilment,
            "created_at": when(o.created),
            "paid_at": when(o.paid_at),
            "updated_at": when(o.updated_at),  # when the status was set (status pushes carry the new time)
            "receiver": {
                "name": o.recipient_name,
                "phone": fault.value if _broken(fault, "phone") else o.phone,
                # A pickup customer gives no address; a delivery with none is the missing_field fault.
                "address": o.address.text if delivery and not _broken(fault, "address") else "",
                "lat": o.address.lat if delivery else None,
                "lng": o.address.lng if delivery else None,
            },
            "delivery_window": {"from": when(o.window[0]), "to": when(o.window[1])} if o.window else None,
            "items": [] if _broken(fault, "items") else items,
            "amounts": {
                "goods": money(o.goods_fen),
                "merchant_discount": money(o.merchant_disc_fen),
                "platform_discount": money(o.platform_disc_fen),
                "delivery_fee": money(o.delivery_fee_fen),
                "packaging_fee": money(o.packaging_fee_fen),
                "paid": money(o.paid_fen),
            },
            "payment_method": o.payment,
        }
    )
    text = _dumps(rec)
    return _cut(text, fault) if _broken(fault, "line") else text


# Platform-run promotions are stated as Meituan states every activity: an extras entry whose mt_charge is
# the whole reduction (type 2 满减, type 9 a platform coupon / red packet), poi_charge 0.
_MEITUAN_ACT_TYPE = {
    "full_reduction": 2,
    "coupon": 9,
    "delivery_fee": 25,
    "platform_full_reduction": 2,
    "platform_red_packet": 9,
}
_ELEME_ACT_NAME = {
    "full_reduction": "店铺满减",
    "coupon": "平台红包",
    "delivery_fee": "减配送费",
    "platform_full_reduction": "平台满减",
}
# Eleme states a platform red packet in `hongbao`, outside the activities and activityTotal.
_ELEME_HONGBAO = "platform_red_packet"


def _meituan_remark(p: AppliedPromo) -> str:
    if p.promo.kind == "delivery_fee":
        return f"减配送费{p.reduce_fen / 100:g}元"
    if p.promo.kind == "platform_red_packet":
        return f"美团红包减{p.reduce_fen / 100:g}元"
    return f"满{p.promo.threshold_fen / 100:g}元减{p.reduce_fen / 100:g}元"


def logistics_code(order_id: str) -> str:
    """The order's Meituan logistics_code, drawn from the order id so every push of one order says the same
    and no other random stream of the day moves."""
    u = zlib.crc32(f"logistics|{order_id}".encode()) / 2**32
    return next((code for cut, code in _LOGISTICS_CUTS if u < cut), _LOGISTICS_CUTS[-1][1])


def meituan(o: Order, fault: Fault | None) -> str:
    """A paid-order push: every form value is a string; detail/extras/poi_receive_detail are JSON text."""
    detail = []
    for i, ln in enumerate(o.lines):
        sku = fault.value if _line_fault(fault, "unknown_sku", i) else ln.sku_id
        detail.append(
            {
                "app_food_code": sku,
                "food_name": ln.product.name,
                "sku_id": sku,
                "quantity": int(fault.value) if _line_fault(fault, "bad_quantity", i) else ln.qty,
                "price": _yuan(ln.unit_fen),
                "original_price": _yuan(ln.orig_fen),
                "unit": ln.product.unit,
                "weight": ln.product.weight_g,
                "box_num": 0,
                "box_price": 0,
                "cart_id": 0,
            }
        )
    extras = [
        {
            "act_detail_id": 880000 + int(p.promo.promo_id[3:]),
            "reduce_fee": _yuan(p.reduce_fen),
            "mt_charge": _yuan(p.platform_fen),
            "poi_charge": _yuan(p.merchant_fen),
            "remark": _meituan_remark(p),
            "type": _MEITUAN_ACT_TYPE[p.promo.kind],
        }
        for p in o.promos
    ]
    commission, service = platform_charges("meituan", o.goods_fen, o.merchant_disc_fen)
    receive = {
        "wmPoiReceiveCent": platform_receivable("meituan", o.goods_fen, o.merchant_disc_fen, o.packaging_fee_fen),
        "onlinePayment": o.paid_fen,
        "foodShareFeeChargeByPoi": commission,
        "logisticsFee": o.delivery_fee_fen,
        "performanceServiceFee": service,
        "actOrderChargeByMt": [
            {"comment": e["remark"], "feeTypeDesc": "活动款", "feeTypeId": 10019, "moneyCent": p.platform_fen}
            for e, p in zip(extras, o.promos)
        ],
        "actOrderChargeByPoi": [
            {"comment": e["remark"], "feeTypeDesc": "活动款", "feeTypeId": 10019, "moneyCent": p.merchant_fen}
            for e, p in zip(extras, o.promos)
        ],
    }
    detail_text = "[]" if _broken(fault, "items") else _dumps(detail)
    if _broken(fault, "detail"):
        detail_text = _cut(detail_text, fault)
    order_id = "" if _broken(fault, "order_id") else o.order_id
    delivery_time = o.window[0] if o.window else 0
    rec = {
        "order_id": order_id,
        "wm_order_id_view": order_id,
        "app_poi_code": "" if _broken(fault, "store") else o.store.store_id,
        "wm_poi_name": o.store.name,
        "wm_poi_address": o.store.address,
        "recipient_name": o.recipient_name,
        "recipient_phone": fault.value if _broken(fault, "phone") else o.phone,
        "recipient_address": "" if _broken(fault, "address") else f"{o.typed_address}@#{o.address.street_no}",
        "latitude": str(round(o.address.lat * 1_000_000)),
        "longitude": str(round(o.address.lng * 1_000_000)),
        "shipping_fee": _yuan_str(o.delivery_fee_fen),
        "total": _yuan_str(o.paid_fen),
        # Meituan's original_price is the whole bill before discounts: goods, packaging and delivery.
        "original_price": _yuan_str(o.goods_fen + o.packaging_fee_fen + o.delivery_fee_fen),
        "package_bag_money": str(o.packaging_fee_fen),
        "caution": o.remark,
        "status": o.status,
        "city_id": "310100",
        "ctime": str(o.created),
        "utime": str(o.updated_at),
        "delivery_time": str(delivery_time),
        "estimate_arrival_time": str(o.window[1] if o.window else o.paid_at + 35 * 60),
        "pick_type": "1" if o.fulfilment == "self_pickup" else "0",
        "pay_type": o.payment,
        "day_seq": str(o.day_seq),
        "is_pre_sale_order": "0",
        "logistics_code": logistics_code(o.order_id),
        "total_weight": str(sum(ln.product.weight_g * ln.qty for ln in o.lines)),
        "detail": detail_text,
        "extras": _dumps(extras),
        "poi_receive_detail": _dumps(receive),
    }
    text = _dumps(rec)
    return _cut(text, fault) if _broken(fault, "line") else text


def eleme(o: Order, fault: Fault | None, request_id: str, ts_ms: int) -> str:
    """A push envelope whose `message` is the OOrder as JSON text."""
    items = []
    for i, ln in enumerate(o.lines):
        qty = int(fault.value) if _line_fault(fault, "bad_quantity", i) else ln.qty
        items.append(
            {
                "id": 100_000_001 + ln.product.index,
                "skuId": 200_000_001 + ln.product.index,
                "name": ln.product.name,
                "categoryId": 1,
                "price": _yuan(ln.orig_fen),
                "quantity": qty,
                "total": _yuan(ln.orig_fen * qty),
                "extendCode": fault.value if _line_fault(fault, "unknown_sku", i) else ln.sku_id,
                "barCode": "",
                "weight": ln.product.weight_g,
                "userPrice": _yuan(ln.unit_fen),
                "shopPrice": _yuan(ln.unit_fen),
                "newSpecs": [],
                "attributes": [],
            }
        )
    order_id = "" if _broken(fault, "order_id") else o.order_id
    commission, service = platform_charges("eleme", o.goods_fen, o.merchant_disc_fen)
    hongbao = sum(p.reduce_fen for p in o.promos if p.promo.kind == _ELEME_HONGBAO)
    activities = [p for p in o.promos if p.promo.kind != _ELEME_HONGBAO]
    message = {
        "id": order_id,
        "address": "" if _broken(fault, "address") else o.typed_address,
        "createdAt": naive_local(o.created, "T"),
        "activeAt": naive_local(o.paid_at, "T"),
        "deliverFee": _yuan(o.delivery_fee_fen),
        "vipDeliveryFeeDiscount": 0.0,
        "deliverTime": naive_local(o.window[0], "T") if o.window else None,
        "description": o.remark,
        "groups": [{"name": "1号篮子", "type": "normal", "items": [] if _broken(fault, "items") else items}],
        "invoice": None,
        "book": o.window is not None,
        "onlinePaid": True,
        "phoneList": [fault.value if _broken(fault, "phone") else o.phone],
        "shopId": o.store.eleme_shop_id,
        "openId": "" if _broken(fault, "store") else o.store.store_id,
        "shopName": o.store.name,
        "daySn": o.day_seq,
        "status": o.status,
        "refundStatus": "noRefund",
        "userId": o.customer.eleme_user_id,
        "totalPrice": _yuan(o.paid_fen),
        # Eleme's originalPrice includes the delivery fee and the packaging (packageFee).
        "originalPrice": _yuan(o.goods_fen + o.packaging_fee_fen + o.delivery_fee_fen),
        "consignee": o.recipient_name,
        "deliveryGeo": f"{o.address.lng:.6f},{o.address.lat:.6f}",
        "deliveryPoiAddress": o.address.street_no,
        "invoiced": False,
        # What the platform pays: goods after the shop's own discounts and packaging, less commission and
        # delivery service; the platform bears its own subsidies and keeps the delivery fee.
        "income": _yuan(platform_receivable("eleme", o.goods_fen, o.merchant_disc_fen, o.packaging_fee_fen)),
        "serviceRate": float(TARIFFS["eleme"].commission_rate),
        "serviceFee": -_yuan(commission + service),
        "hongbao": -_yuan(hongbao) if hongbao else 0.0,
        "packageFee": _yuan(o.packaging_fee_fen),
        "activityTotal": -_yuan(o.merchant_disc_fen + o.platform_disc_fen - hongbao),
        "shopPart": -_yuan(o.merchant_disc_fen),
        "elemePart": -_yuan(o.platform_disc_fen - hongbao),
        "downgraded": False,
        "orderActivities": [
            {
                "id": 700000 + int(p.promo.promo_id[3:]),
                "name": _ELEME_ACT_NAME[p.promo.kind],
                "categoryId": 12,
                "elemePart": -_yuan(p.platform_fen),
                "restaurantPart": -_yuan(p.merchant_fen),
                "amount": -_yuan(p.reduce_fen),
            }
            for p in activities
        ],
        "taxpayerId": "",
        "coldBoxFee": 0.0,
    }
    message_text = _dumps(message)
    if _broken(fault, "message"):
        message_text = _cut(message_text, fault)
    envelope = {
        "requestId": request_id,
        "type": 10,
        "message": message_text,
        "shopId": o.store.eleme_shop_id,
        "userId": o.customer.eleme_user_id,
        "timestamp": ts_ms,
        "orderId": order_id,
    }
    text = _dumps(envelope)
    return _cut(text, fault) if _broken(fault, "line") else text
