"""The seed's example, end to end through `orderhub run`: user A orders on the app and, ten minutes later,
on Meituan, to the same address written differently on each channel; the system delivers one parcel."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from pipeline_days import orderhub

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DAY = "2026-11-26"
STORE = {
    "store_id": "SH001",
    "name": "张江前置仓",
    "kind": "dark_store",
    "city": "上海市",
    "district": "浦东新区",
    "address": "上海市浦东新区碧波路500号",
    "lat": 31.2021,
    "lng": 121.5897,
}
PRODUCTS = [
    {
        "sku_id": "SKU0001",
        "name": "海天生抽 500ml",
        "category": "调味",
        "unit_price": 7.9,
        "weight_g": 600,
        "volume_ml": 550,
        "temp_zone": "ambient",
    },
    {
        "sku_id": "SKU0002",
        "name": "五常大米 1kg",
        "category": "粮油",
        "unit_price": 12.5,
        "weight_g": 1000,
        "volume_ml": 1400,
        "temp_zone": "ambient",
    },
]
APP_ORDER = {
    "order_no": "APP20261126A",
    "member_id": "M0000123",
    "store_code": "SH001",
    "status": "paid",
    "fulfilment": "delivery",
    "created_at": f"{DAY}T11:32:05+08:00",
    "paid_at": f"{DAY}T11:32:30+08:00",
    "receiver": {
        "name": "张伟",
        "phone": "13812345678",
        "address": "上海市浦东新区张江镇碧波路690号3号楼2单元501室",
        "lat": 31.2035,
        "lng": 121.5903,
    },
    "delivery_window": {"from": f"{DAY}T12:00:00+08:00", "to": f"{DAY}T12:30:00+08:00"},
    "items": [
        {"sku": "SKU0002", "name": "五常大米 1kg", "qty": 2, "unit_price": 12.5, "original_price": 12.5, "discount": 0}
    ],
    "amounts": {
        "goods": 25.0,
        "merchant_discount": 0,
        "platform_discount": 0,
        "delivery_fee": 3.0,
        "packaging_fee": 0,
        "paid": 28.0,
    },
    "payment_method": "wechat",
}


def meituan_push() -> dict[str, str]:
    detail = [
        {
            "app_food_code": "SKU0001",
            "food_name": "海天生抽 500ml",
            "sku_id": "88001",
            "quantity": 1,
            "price": 7.9,
            "original_price": 7.9,
            "unit": "瓶",
            "weight": 600,
        }
    ]
    push = {
        "order_id": "27012611260000777",
        "wm_order_id_view": "27012611260000777",
        "app_poi_code": "SH001",
        "recipient_name": "张(先生)",
        "recipient_phone": "138****5678",
        # Typed without the city or the township, with spaces: the same flat as the app order.
        "recipient_address": "浦东新区碧波路690号 3号楼 2单元 501室@#上海市浦东新区碧波路690号",
        "latitude": "31203520",
        "longitude": "121590290",
        # 11:42:05 local = 03:42:05 UTC: ten minutes after the app order.
        "ctime": "1795664525",
        "utime": "1795664525",
        "delivery_time": "0",
        "estimate_arrival_time": "1795667525",
        "status": "2",
        "pick_type": "0",
        # original_price is the whole bill before discounts, delivery included (docs/channel-semantics.md).
        "pay_type": "2",
        "shipping_fee": "3.0",
        "total": "10.9",
        "original_price": "10.9",
        "package_bag_money": "0",
        "detail": json.dumps(detail, ensure_ascii=False),
        "extras": "[]",
    }
    return push


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_app_then_meituan_ten_minutes_later_is_one_parcel(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "reference" / "stores" / DAY / "stores.jsonl", [STORE])
    write(landing / "reference" / "products" / DAY / "products.jsonl", PRODUCTS)
    write(landing / "orders" / "app" / DAY / "app-113500-00001.jsonl", [APP_ORDER])
    write(landing / "orders" / "meituan" / DAY / "meituan-114500-00001.jsonl", [meituan_push()])

    warehouse = tmp_path / "orderhub.duckdb"
    run = orderhub("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        keys = con.execute("select order_key, address_key from raw.orders order by order_key").fetchall()
        parcels = con.execute(
            "select parcel_id, order_count, order_keys, merge_reason from marts.fct_parcels"
        ).fetchall()
        identities = dict(
            con.execute("select order_key, evidence from intermediate.int_merging__customer_identities").fetchall()
        )
    finally:
        con.close()

    assert [k for k, _ in keys] == ["app:APP20261126A", "meituan:27012611260000777"]
    assert keys[0][1] == keys[1][1], "the two spellings of the address must normalise to one key"
    assert identities["meituan:27012611260000777"] == "masked_phone_match"
    assert len(parcels) == 1, f"expected one parcel, got {parcels}"
    _, order_count, order_keys, merge_reason = parcels[0]
    assert order_count == 2
    assert set(order_keys.split(",")) == {"app:APP20261126A", "meituan:27012611260000777"}
    assert "same customer" in merge_reason


def eleme_envelope() -> dict:
    """Eleme's push as it arrives: the OOrder as JSON text in `message`; deliveryGeo is "lng,lat" (GCJ-02)."""
    order = {
        "id": "3012611260000555",
        "openId": "SH001",
        "shopId": 170001,
        "consignee": "张伟",
        "userId": 9000123,
        "phoneList": ["13812345678"],
        "deliveryGeo": "121.590310,31.203490",
        # Typed with the province, the town, a landmark in full-width brackets, 幢 for the building.
        "address": "上海市浦东新区张江镇碧波路690号（东门）3幢2单元501室",
        "createdAt": f"{DAY}T11:32:05",
        "activeAt": f"{DAY}T11:32:20",
        "deliverTime": None,
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
                        "name": "五常大米 1kg",
                        "price": 12.5,
                        "quantity": 2,
                        "total": 25.0,
                        "extendCode": "SKU0002",
                        "weight": 1000,
                        "userPrice": 12.5,
                        "shopPrice": 12.5,
                    }
                ],
            }
        ],
        # originalPrice is the items plus the delivery fee, as on every real Eleme sample.
        "originalPrice": 28.0,
        "totalPrice": 28.0,
        "deliverFee": 3.0,
        "packageFee": 0.0,
        "income": 24.0,
        "shopPart": 0.0,
        "elemePart": 0.0,
    }
    return {
        "requestId": "r1",
        "type": 10,
        "message": json.dumps(order, ensure_ascii=False),
        "shopId": 170001,
        "userId": 9000123,
        "timestamp": 1795663940000,
    }


def test_eleme_then_meituan_with_the_door_written_two_ways_is_one_parcel(tmp_path):
    """The seed's example in the platforms' own formats: Eleme gets the full address with the town, a landmark
    and 3幢; ten minutes later Meituan gets a map-picked POI with the door in brackets, a Chinese room number
    and no district (only the reverse geocode after @# names it). One door, one key, one parcel."""
    landing = tmp_path / "landing"
    write(landing / "reference" / "stores" / DAY / "stores.jsonl", [STORE])
    write(landing / "reference" / "products" / DAY / "products.jsonl", PRODUCTS)
    write(landing / "orders" / "eleme" / DAY / "eleme-113500-00001.jsonl", [eleme_envelope()])
    push = meituan_push() | {"recipient_address": "碧波路690号 (3号楼2单元五零一)@#上海市浦东新区碧波路690号"}
    write(landing / "orders" / "meituan" / DAY / "meituan-114500-00001.jsonl", [push])

    warehouse = tmp_path / "orderhub.duckdb"
    run = orderhub("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        keys = con.execute("select order_key, address_raw, address_key from raw.orders order by order_key").fetchall()
        parcels = con.execute("select order_count, order_keys from marts.fct_parcels").fetchall()
    finally:
        con.close()

    assert [k for k, _, _ in keys] == ["eleme:3012611260000555", "meituan:27012611260000777"]
    assert keys[0][1] != keys[1][1], "the test needs two different spellings"
    assert keys[0][2] == keys[1][2] == "310115|碧波路690号3栋2单元501"
    assert len(parcels) == 1, f"expected one parcel, got {parcels}"
    assert parcels[0][0] == 2
