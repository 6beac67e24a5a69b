"""A small world for the gateway tests: one store, two SKUs with three units each, and signed pushes."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient

from ingestion.gateway.app import GatewaySettings, create_app
from ingestion.gateway.signatures import meituan_form_body, sign_meituan, sign_own
from ingestion.gateway.wire import Credentials

STORE = "SH001"
SECRETS = {
    "app": Credentials(None, "app-secret"),
    "miniprogram": Credentials(None, "mp-secret"),
    "meituan": Credentials("mt-app", "mt-secret"),
    "eleme": Credentials("12345", "el-secret"),
}
BASE = "http://testserver"


def write_reference(landing: Path, units: int = 3) -> None:
    def table(name: str, rows: list[dict]) -> None:
        folder = landing / "reference" / name / "2026-11-26"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}-000000-00001.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    table("stores", [{"store_id": STORE, "name": "张江店", "kind": "dark_store", "city": "上海市", "district": "浦东新区",
                      "address": "上海市浦东新区碧波路690号", "lat": 31.2035, "lng": 121.5903}])  # fmt: skip
    table("products", [
        {"sku_id": sku, "name": name, "category": "蔬菜", "unit_price": 6.9, "weight_g": 300, "volume_ml": 900,
         "temp_zone": "chilled"}
        for sku, name in (("SKU0001", "有机菠菜 300g"), ("SKU0002", "鲜牛奶 1L"))
    ])  # fmt: skip
    table("stock_snapshots", [
        {"snapshot_at": "2026-11-26T06:00:00+08:00", "store_id": STORE, "sku_id": sku, "on_hand": units}
        for sku in ("SKU0001", "SKU0002")
    ])  # fmt: skip


def app_order(order_no: str, items: dict[str, int], status: str = "paid") -> bytes:
    lines = [
        {"sku": sku, "name": sku, "qty": qty, "unit_price": 6.9, "original_price": 6.9, "discount": 0}
        for sku, qty in items.items()
    ]
    goods = round(sum(6.9 * qty for qty in items.values()), 2)
    order = {
        "order_no": order_no, "member_id": "M0000123", "store_code": STORE, "status": status,
        "fulfilment": "delivery", "created_at": "2026-11-26T11:32:05+08:00", "paid_at": "2026-11-26T11:32:30+08:00",
        "updated_at": "2026-11-26T11:32:30+08:00",
        "receiver": {"name": "张伟", "phone": "13812345678", "address": "上海市浦东新区张江镇碧波路690号3号楼2单元501室",
                     "lat": 31.2035, "lng": 121.5903},
        "delivery_window": None, "items": lines,
        "amounts": {"goods": goods, "merchant_discount": 0, "platform_discount": 0, "delivery_fee": 3.0,
                    "packaging_fee": 0, "paid": round(goods + 3.0, 2)},
        "payment_method": "wechat",
    }  # fmt: skip
    return json.dumps(order, ensure_ascii=False).encode()


def post_app(client: TestClient, body: bytes, channel: str = "app", at: float | None = None, secret: str | None = None):
    headers = sign_own(secret or SECRETS[channel].secret, body, int(at if at is not None else time.time()))
    return client.post(f"/push/{channel}", content=body, headers={**headers, "content-type": "application/json"})


def post_meituan(client: TestClient, path: str, fields: dict[str, str], at: float | None = None):
    url = BASE + path
    params = sign_meituan(url, fields, "mt-app", "mt-secret", int(at if at is not None else time.time()))
    return client.post(
        path, content=meituan_form_body(params), headers={"content-type": "application/x-www-form-urlencoded"}
    )


def gateway(intake, **settings) -> TestClient:
    return TestClient(create_app(GatewaySettings(credentials=SECRETS, public_base_url=BASE, **settings), intake))


def meituan_order(order_id: str, items: dict[str, int], status: str = "2") -> dict[str, str]:
    """A paid-order push's fields as Meituan posts them (strings; detail and extras JSON text)."""
    detail = [
        {"app_food_code": sku, "food_name": sku, "quantity": qty, "price": 6.9, "original_price": 6.9,
         "box_num": 0, "box_price": 0, "unit": "份"}
        for sku, qty in items.items()
    ]  # fmt: skip
    goods = round(sum(6.9 * qty for qty in items.values()), 2)
    return {
        "order_id": order_id, "wm_order_id_view": order_id, "app_poi_code": STORE, "recipient_name": "张伟",
        "recipient_phone": "13812345678", "recipient_address": "上海市浦东新区张江镇碧波路690号3号楼2单元501室",
        "latitude": "31.2035", "longitude": "121.5903", "ctime": "1795657925", "utime": "1795657925",
        "delivery_time": "0", "status": status, "pick_type": "0", "pay_type": "2", "shipping_fee": "3.0",
        "total": f"{goods + 3.0:.2f}", "original_price": f"{goods + 3.0:.2f}",
        "detail": json.dumps(detail, ensure_ascii=False), "extras": "[]",
    }  # fmt: skip


def miniprogram_order(order_no: str, items: dict[str, int]) -> bytes:
    """The mini-program's shape: money in fen, times in epoch seconds, openid for the member."""
    order = json.loads(app_order(order_no, items))
    order.pop("member_id")
    order["openid"] = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    for key in ("created_at", "paid_at", "updated_at"):
        order[key] = 1795657925
    for item in order["items"]:
        for key in ("unit_price", "original_price", "discount"):
            item[key] = round(item[key] * 100)
    order["amounts"] = {k: round(v * 100) for k, v in order["amounts"].items()}
    return json.dumps(order, ensure_ascii=False).encode()
