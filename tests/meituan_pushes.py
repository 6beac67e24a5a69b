"""Hand-written Meituan order pushes for tests that need exact versions of one order (a changed re-push, an old
push delivered late), with the store and products they refer to. tests/ is on the test path (its conftest.py),
so any test folder imports this module by name."""

from __future__ import annotations

import json
from pathlib import Path

DAY = "2026-11-26"
CTIME = 1795664525  # 2026-11-26 03:42:05 UTC, 11:42:05 in Shanghai
STORE = {
    "store_id": "SH001",
    "name": "张江店",
    "kind": "dark_store",
    "city": "上海市",
    "district": "浦东新区",
    "address": "上海市浦东新区碧波路500号",
    "lat": 31.2021,
    "lng": 121.5897,
}
PRODUCTS = [
    {"sku_id": "SKU0001", "name": "菠菜", "category": "veg", "unit_price": 10.0, "weight_g": 300, "volume_ml": 1200,
     "temp_zone": "chilled"},
    {"sku_id": "SKU0002", "name": "五常大米 1kg", "category": "grain", "unit_price": 20.0, "weight_g": 1000,
     "volume_ml": 1400, "temp_zone": "ambient"},
]  # fmt: skip
SPINACH = {"app_food_code": "SKU0001", "food_name": "菠菜", "quantity": 2, "price": 10.0, "original_price": 10.0}
RICE = {"app_food_code": "SKU0002", "food_name": "五常大米 1kg", "quantity": 1, "price": 20.0, "original_price": 20.0}


def meituan_push(order_id: str, items: list[dict], utime: int, status: str = "2", ctime: int = CTIME) -> dict[str, str]:
    """A Meituan order push as the platform posts it (every value a string, JSON fields as text)."""
    goods = sum(i["price"] * i["quantity"] for i in items)
    receive = {
        "wmPoiReceiveCent": round(goods * 90),
        "onlinePayment": round(goods * 100),
        "foodShareFeeChargeByPoi": round(goods * 10),
    }
    return {
        "order_id": order_id,
        "wm_order_id_view": order_id,
        "app_poi_code": "SH001",
        "recipient_name": "张(先生)",
        "recipient_phone": "13812345678",
        "recipient_address": "上海市浦东新区碧波路690号3号楼501室@#上海市浦东新区碧波路690号",
        "latitude": "31203520",
        "longitude": "121590290",
        "ctime": str(ctime),
        "utime": str(utime),
        "delivery_time": "0",
        "status": status,
        "pay_type": "2",
        "pick_type": "0",
        "shipping_fee": "0",
        "total": f"{goods:.2f}",
        "original_price": f"{goods:.2f}",
        "package_bag_money": "0",
        "detail": json.dumps(items, ensure_ascii=False),
        "extras": "[]",
        "poi_receive_detail": json.dumps(receive),
    }


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Land a file as the landing contract wants: a temporary name, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    temporary.rename(path)


def write_reference(landing: Path) -> None:
    write_jsonl(landing / "reference" / "stores" / DAY / "stores.jsonl", [STORE])
    write_jsonl(landing / "reference" / "products" / DAY / "products.jsonl", PRODUCTS)
