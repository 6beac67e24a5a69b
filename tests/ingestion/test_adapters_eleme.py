"""Eleme's adapter, fed envelopes with the platform's real field names (see test_adapters.py for the shared
harness): several baskets, packaging as an extra group, red packets, phone forms, local times, cancellations
and a broken message."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from test_adapters import ADDRESS, only_order, run


def test_eleme_several_baskets_extra_group_packaging_and_red_packet():
    """Two normal baskets are all goods; the extra group's 餐盒 (negative id) and a 打包袋 item sold in a basket
    without an item code are packaging, not lines; hongbao is a platform reduction outside the activities."""
    item = {
        "id": 1,
        "skuId": 55501,
        "name": "有机菠菜",
        "price": 7.9,
        "quantity": 1,
        "total": 7.9,
        "extendCode": "SKU0001",
    }
    groups = [
        {"name": "用户 发起人1号... 的篮子", "type": "normal", "items": [item]},
        {
            "name": "用户 发起人2号... 的篮子",
            "type": "normal",
            "items": [
                {**item, "quantity": 2, "total": 15.8},
                {"id": 9, "skuId": 9, "name": "打包袋", "price": 0.5, "quantity": 1, "total": 0.5, "extendCode": ""},
            ],
        },
        {
            "name": "其它费用",
            "type": "extra",
            "items": [
                {
                    "id": -70000,
                    "skuId": -1,
                    "name": "餐盒",
                    "categoryId": 102,
                    "price": 2.0,
                    "quantity": 1,
                    "total": 2.0,
                }
            ],
        },
    ]
    # 23.7 goods + 2.5 packaging + 4 delivery = 30.2; paid 30.2 − 4 (shop) − 2 (eleme) − 1.6 (hongbao) = 22.6
    batch = run(
        "eleme", eleme_envelope(groups=groups, originalPrice=30.2, totalPrice=22.6, packageFee=2.0, hongbao=-1.6)
    )
    order = only_order(batch)
    assert (order["goods_amount"], order["packaging_fee"]) == (Decimal("23.70"), Decimal("2.50"))
    assert (order["merchant_discount"], order["platform_discount"]) == (Decimal("4.00"), Decimal("3.60"))
    assert batch.lines["quantity"].to_list() == [1, 2]


@pytest.mark.parametrize(
    ("phone_list", "kind"),
    [
        (["13020146407,227"], "privacy"),
        (["13812345678#12"], "privacy"),
        (["13812345678转123"], "privacy"),
        (["138****5678"], "masked"),
        ([""], "missing"),
    ],
)
def test_eleme_phone_forms(phone_list, kind):
    """Eleme's relay numbers carry the extension after a comma (also # or 转); none is bad_phone."""
    envelope = eleme_envelope(phoneList=phone_list, consigneePhones=[])
    batch = run("eleme", envelope)
    if kind == "missing":
        assert batch.quarantine["error_code"].to_list() == ["missing_field"]
        return
    assert only_order(batch)["phone_kind"] == kind


def test_eleme_consignee_phones_when_phone_list_is_empty():
    order = only_order(run("eleme", eleme_envelope(phoneList=[], consigneePhones=["13912345678,2345"])))
    assert (order["phone"], order["phone_kind"]) == ("13912345678,2345", "privacy")


def eleme_envelope(**overrides) -> str:
    order = {
        "id": "3012345678901",
        "openId": "SH001",
        "shopId": 170001,
        "consignee": "李娜",
        "userId": 9000123,
        "phoneList": ["13912345678,2345"],
        "address": ADDRESS,
        "deliveryGeo": "121.5903,31.2035",
        "createdAt": "2026-11-26T18:05:00",
        "activeAt": "2026-11-26T18:05:20",
        "deliverTime": "2026-11-26T18:45:00",
        "status": "valid",
        "book": False,
        "onlinePaid": True,
        "description": "",
        "groups": [
            {
                "name": "1号篮子",
                "type": "normal",
                "items": [
                    {
                        "id": 1,
                        "skuId": 55501,
                        "name": "有机菠菜",
                        "price": 7.9,
                        "quantity": 3,
                        "total": 23.7,
                        "extendCode": "SKU0001",
                        "weight": 300,
                        "userPrice": 7.9,
                        "shopPrice": 7.9,
                    }
                ],
            },
            {"name": "其它费用", "type": "extra", "items": [{"name": "餐盒", "price": 1, "quantity": 1, "total": 1}]},
        ],
        "originalPrice": 28.7,
        "totalPrice": 22.7,
        "deliverFee": 4.0,
        "packageFee": 1.0,
        "income": 15.2,
        "shopPart": -4.0,
        "elemePart": -2.0,
    }
    order.update(overrides)
    return json.dumps(
        {
            "requestId": "r1",
            "type": 10,
            "message": json.dumps(order, ensure_ascii=False),
            "shopId": 170001,
            "userId": 9000123,
            "timestamp": 1795689920000,
            "orderId": order["id"],
        },
        ensure_ascii=False,
    )


def test_eleme_envelope_local_times_geo_and_negative_shares():
    """Eleme's OOrder is JSON text inside the envelope; its local times become UTC; deliveryGeo is "lng,lat";
    shopPart/elemePart are negative and stored positive; only `normal` groups are goods lines; originalPrice
    (28.7) includes delivery (4) and the extra group's 餐盒 (1), so goods are 23.7; income is what the shop gets."""
    batch = run("eleme", eleme_envelope())
    order = only_order(batch)
    assert (order["goods_amount"], order["packaging_fee"]) == (Decimal("23.70"), Decimal("1.00"))
    assert order["merchant_receivable"] == Decimal("15.20")
    assert order["created_at"] == dt.datetime(2026, 11, 26, 10, 5)
    assert order["promised_to"] == dt.datetime(2026, 11, 26, 10, 45)
    assert (order["lat"], order["lng"]) == (31.2035, 121.5903)
    assert (order["merchant_discount"], order["platform_discount"]) == (Decimal("4.00"), Decimal("2.00"))
    assert (order["phone_kind"], order["phone_last4"]) == ("privacy", None)
    assert order["status"] == "paid"
    assert batch.lines.height == 1 and batch.lines["quantity"][0] == 3


def test_eleme_cancelled_and_self_pickup():
    """status invalid is a cancellation (an event at the push time); 到店自取 in the remark is self pickup."""
    batch = run("eleme", eleme_envelope(status="invalid", description="到店自取 谢谢"))
    order = only_order(batch)
    assert (order["status"], order["fulfilment_type"]) == ("cancelled", "self_pickup")
    events = {e["status"]: e["event_time"] for e in batch.events.to_dicts()}
    assert events["cancelled"] == dt.datetime(2026, 11, 26, 10, 45, 20)


def test_eleme_broken_message_text():
    """A truncated `message` (the order JSON text inside the envelope) is broken_json, not a crash."""
    broken = json.dumps({"requestId": "r2", "type": 10, "message": '{"id": "30123', "timestamp": 1})
    batch = run("eleme", broken)
    assert batch.quarantine["error_code"].to_list() == ["broken_json"]
